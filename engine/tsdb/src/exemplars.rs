//! Exemplars in memory: per series, the newest few in time order (a bounded ring), and their
//! WAL record (`EXEMPLARS`, layout in `docs/format/block.md`, "WAL records").
//!
//! Memory is bounded per series: at most `per_series` exemplars each; appending past that
//! evicts the oldest, and evictions are counted. Exemplars are kept across head cuts (they
//! are few) and re-logged by every checkpoint, so the WAL always holds them; retention drops
//! those older than the metrics retention.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use strata_codec::bytes::{ByteReader, put_uvarint, put_varint};
use strata_model::Exemplar;

use crate::records::{RECORD_VERSION, string, version};

/// What happened to one appended exemplar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Stored (maybe evicting the series' oldest).
    Stored,
    /// The series holds this exemplar (same time and labels) already: nothing stored
    /// (scrapes and cumulative OTLP points repeat them).
    Duplicate,
    /// Older than the series' newest exemplar: refused (exemplars are kept in time order).
    OutOfOrder { newest_ms: i64 },
}

/// What [`ExemplarStore::append_logged`] did with each exemplar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExemplarOutcome {
    pub stored: usize,
    /// Held already (scrapes and cumulative OTLP points repeat them): not stored again.
    pub duplicates: usize,
    /// Older than the series' newest exemplar, malformed, or for an unknown series.
    pub refused: usize,
    /// Why the first refused exemplar was refused.
    pub first_refusal: Option<String>,
}

impl ExemplarOutcome {
    fn refuse(&mut self, why: String) {
        self.refused += 1;
        self.first_refusal.get_or_insert(why);
    }
}

/// One series' exemplars (Prometheus' `/api/v1/query_exemplars` shape).
#[derive(Debug, Clone, PartialEq)]
pub struct ExemplarSeries {
    /// The series' labels, sorted by name.
    pub labels: Vec<(String, String)>,
    /// Oldest first.
    pub exemplars: Vec<Exemplar>,
}

/// The exemplars of every series, newest `per_series` each.
#[derive(Debug)]
pub struct ExemplarStore {
    series: Mutex<HashMap<u64, VecDeque<Exemplar>>>,
    per_series: usize,
    evicted: AtomicU64,
    expired: AtomicU64,
}

impl ExemplarStore {
    /// A store keeping at most `per_series` exemplars per series (at least one).
    pub fn new(per_series: usize) -> ExemplarStore {
        ExemplarStore {
            series: Mutex::new(HashMap::new()),
            per_series: per_series.max(1),
            evicted: AtomicU64::new(0),
            expired: AtomicU64::new(0),
        }
    }

    /// Adds `e` to series `id`. Replay uses it too: a duplicate or an older exemplar there
    /// is one the store already has or has evicted.
    pub fn add(&self, id: u64, e: Exemplar) -> Added {
        let mut all = self.series.lock();
        let ring = all.entry(id).or_default();
        // Exporters resend what they sent (OTLP cumulative points repeat their reservoir).
        if ring
            .iter()
            .any(|x| x.t_ms == e.t_ms && x.labels == e.labels)
        {
            return Added::Duplicate;
        }
        if let Some(newest) = ring.back()
            && e.t_ms < newest.t_ms
        {
            return Added::OutOfOrder {
                newest_ms: newest.t_ms,
            };
        }
        if ring.len() == self.per_series {
            ring.pop_front();
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        ring.push_back(e);
        Added::Stored
    }

    /// Appends exemplars: those of series `known` accepts, stamped at most `max_t_ms`, with
    /// valid labels are handed
    /// to `log` as one `EXEMPLARS` payload, then kept (duplicates and out-of-order ones are
    /// counted, not kept). Refusals are in the outcome; only `log`'s error is an error.
    pub fn append_logged<E>(
        &self,
        exemplars: &[(u64, Exemplar)],
        (known, max_t_ms): (impl Fn(u64) -> bool, i64),
        log: impl FnOnce(&[u8]) -> Result<(), E>,
    ) -> Result<ExemplarOutcome, E> {
        let mut out = ExemplarOutcome::default();
        let mut accepted: Vec<(u64, &Exemplar)> = Vec::with_capacity(exemplars.len());
        for (id, e) in exemplars {
            if !known(*id) {
                out.refuse(format!("unknown series reference {id}"));
            } else if e.t_ms > max_t_ms {
                out.refuse(format!(
                    "exemplar at {} ms is too far in the future (the clock allows up to {max_t_ms} ms)",
                    e.t_ms
                ));
            } else if let Err(why) = e.validate() {
                out.refuse(why);
            } else {
                accepted.push((*id, e));
            }
        }
        if accepted.is_empty() {
            return Ok(out);
        }
        let mut payload = Vec::new();
        encode_exemplars(&accepted, &mut payload);
        log(&payload)?;
        for (id, e) in accepted {
            match self.add(id, e.clone()) {
                Added::Stored => out.stored += 1,
                Added::Duplicate => out.duplicates += 1,
                Added::OutOfOrder { newest_ms } => out.refuse(format!(
                    "exemplar at {} ms is older than its series' newest ({newest_ms} ms)",
                    e.t_ms
                )),
            }
        }
        Ok(out)
    }

    /// Hands every exemplar held to `log` as `EXEMPLARS` payloads (a checkpoint re-logs them).
    pub fn relog<E>(&self, mut log: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let all = self.snapshot();
        for chunk in all.chunks(4096) {
            let refs: Vec<(u64, &Exemplar)> = chunk.iter().map(|(id, e)| (*id, e)).collect();
            let mut payload = Vec::new();
            encode_exemplars(&refs, &mut payload);
            log(&payload)?;
        }
        Ok(())
    }

    /// The exemplars of each series of `ids` within `[start_ms, end_ms]`, oldest first;
    /// series without any are left out.
    pub fn select(&self, ids: &[u64], start_ms: i64, end_ms: i64) -> Vec<(u64, Vec<Exemplar>)> {
        let all = self.series.lock();
        ids.iter()
            .filter_map(|id| {
                let found: Vec<Exemplar> = all
                    .get(id)?
                    .iter()
                    .filter(|e| (start_ms..=end_ms).contains(&e.t_ms))
                    .cloned()
                    .collect();
                (!found.is_empty()).then_some((*id, found))
            })
            .collect()
    }

    /// The exemplars within `[start_ms, end_ms]` of every head series matching `matchers`,
    /// sorted by label set.
    pub fn select_series(
        &self,
        head: &crate::head::Head,
        matchers: &[strata_index::Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> crate::Result<Vec<ExemplarSeries>> {
        let ids: Vec<u64> = head.select(matchers)?.iter().map(u64::from).collect();
        let mut out: Vec<ExemplarSeries> = self
            .select(&ids, start_ms, end_ms)
            .into_iter()
            .filter_map(|(id, exemplars)| {
                let labels = head.labels(u32::try_from(id).ok()?)?;
                Some(ExemplarSeries { labels, exemplars })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    /// Every exemplar held, by series (what a checkpoint re-logs).
    pub fn snapshot(&self) -> Vec<(u64, Exemplar)> {
        let all = self.series.lock();
        let mut out: Vec<(u64, Exemplar)> = all
            .iter()
            .flat_map(|(id, ring)| ring.iter().map(|e| (*id, e.clone())))
            .collect();
        out.sort_by_key(|(id, e)| (*id, e.t_ms));
        out
    }

    /// Drops exemplars older than `cutoff_ms`; returns how many.
    pub fn expire_before(&self, cutoff_ms: i64) -> u64 {
        let mut all = self.series.lock();
        let mut dropped = 0u64;
        all.retain(|_, ring| {
            while ring.front().is_some_and(|e| e.t_ms < cutoff_ms) {
                ring.pop_front();
                dropped += 1;
            }
            !ring.is_empty()
        });
        self.expired.fetch_add(dropped, Ordering::Relaxed);
        dropped
    }

    /// Exemplars held now.
    pub fn len(&self) -> usize {
        self.series.lock().values().map(VecDeque::len).sum()
    }

    /// Whether no exemplar is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Exemplars evicted by newer ones of the same series, and expired by retention, since
    /// the store was made.
    pub fn dropped(&self) -> (u64, u64) {
        (
            self.evicted.load(Ordering::Relaxed),
            self.expired.load(Ordering::Relaxed),
        )
    }
}

/// Encodes an `EXEMPLARS` record: version, count, then per exemplar its series id, time,
/// value bits and labels.
pub fn encode_exemplars(exemplars: &[(u64, &Exemplar)], out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    put_uvarint(out, exemplars.len() as u64);
    for (id, e) in exemplars {
        put_uvarint(out, *id);
        put_varint(out, e.t_ms);
        out.extend_from_slice(&e.value.to_bits().to_le_bytes());
        put_uvarint(out, e.labels.len() as u64);
        for (n, v) in &e.labels {
            put_uvarint(out, n.len() as u64);
            out.extend_from_slice(n.as_bytes());
            put_uvarint(out, v.len() as u64);
            out.extend_from_slice(v.as_bytes());
        }
    }
}

/// Decodes an `EXEMPLARS` record (never panics; counts are bounded by the payload).
pub fn decode_exemplars(payload: &[u8]) -> strata_codec::Result<Vec<(u64, Exemplar)>> {
    let mut r = ByteReader::new(payload, "exemplars record");
    version(&mut r)?;
    // An exemplar takes at least 11 bytes (id, time, 8 value bytes, label count).
    let n = r.len_at_most(r.remaining() / 11, "exemplar count")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.uvarint()?;
        let t_ms = r.varint()?;
        let value = f64::from_bits(r.u64()?);
        let k = r.len_at_most(r.remaining() / 2, "exemplar label count")?;
        let mut labels = Vec::with_capacity(k);
        for _ in 0..k {
            labels.push((string(&mut r)?, string(&mut r)?));
        }
        out.push((
            id,
            Exemplar {
                labels,
                value,
                t_ms,
            },
        ));
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(t_ms: i64, trace: &str) -> Exemplar {
        Exemplar {
            labels: vec![("trace_id".into(), trace.into())],
            value: 0.5,
            t_ms,
        }
    }

    #[test]
    fn rings_keep_the_newest_in_order_and_count_evictions() {
        let s = ExemplarStore::new(2);
        assert_eq!(s.add(1, ex(10, "a")), Added::Stored);
        assert_eq!(s.add(1, ex(10, "a")), Added::Duplicate);
        assert_eq!(s.add(1, ex(5, "b")), Added::OutOfOrder { newest_ms: 10 });
        assert_eq!(s.add(1, ex(20, "b")), Added::Stored);
        assert_eq!(s.add(1, ex(30, "c")), Added::Stored);
        assert_eq!(s.dropped(), (1, 0));
        let got = s.select(&[1, 2], 0, 100);
        assert_eq!(got.len(), 1);
        let ts: Vec<i64> = got[0].1.iter().map(|e| e.t_ms).collect();
        assert_eq!(ts, [20, 30]);
        assert_eq!(s.select(&[1], 25, 100)[0].1.len(), 1);
        assert_eq!(s.expire_before(25), 1);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn records_round_trip_and_damage_is_an_error() {
        let (a, b) = (
            ex(-5, "abc"),
            ex(1_700_000_000_000, "0af7651916cd43dd8448eb211c80319c"),
        );
        let mut buf = Vec::new();
        encode_exemplars(&[(3, &a), (u64::MAX, &b)], &mut buf);
        let back = decode_exemplars(&buf).expect("decodes");
        assert_eq!(back, vec![(3, a), (u64::MAX, b)]);
        for cut in 0..buf.len() {
            assert!(decode_exemplars(&buf[..cut]).is_err(), "cut at {cut}");
        }
        buf.push(0);
        assert!(decode_exemplars(&buf).is_err());
    }
}
