//! Metric metadata (type, unit, help per metric name) in memory, and its WAL record
//! (`METADATA`, layout in `docs/format/block.md`, "WAL records").
//!
//! One entry per metric name, the last one given. Setting what is already held is a no-op
//! (scrapes repeat `# TYPE` and `# HELP` every time), so only changes reach the WAL; every
//! checkpoint re-logs the whole table.

use parking_lot::RwLock;
use std::collections::BTreeMap;
use strata_codec::bytes::{ByteReader, put_uvarint};
use strata_model::{MetricKind, MetricMetadata};

use crate::records::{RECORD_VERSION, string, version};
use crate::{Error, Result};

/// Metric names longer than this, or help texts longer than [`MAX_HELP_BYTES`], are refused.
pub const MAX_METRIC_NAME_BYTES: usize = 1024;
/// The longest help text kept.
pub const MAX_HELP_BYTES: usize = 16 * 1024;
/// At most this many metric names have metadata (what a scrape of a broken exporter could
/// otherwise grow without bound).
pub const MAX_METRICS: usize = 1_000_000;

/// Metadata per metric name.
#[derive(Debug, Default)]
pub struct MetadataStore {
    by_name: RwLock<BTreeMap<String, MetricMetadata>>,
}

impl MetadataStore {
    pub fn new() -> MetadataStore {
        MetadataStore::default()
    }

    /// Whether setting `meta` for `name` would change the table (only then is it logged).
    pub fn changes(&self, name: &str, meta: &MetricMetadata) -> bool {
        self.by_name.read().get(name) != Some(meta)
    }

    /// Checks the limits for `name` and `meta`: [`Error::Limit`] if one is over.
    pub fn check(&self, name: &str, meta: &MetricMetadata) -> Result<()> {
        let over = |what, limit: usize, actual: usize| {
            (actual > limit).then_some(Error::Limit {
                what,
                limit: limit as u64,
                actual: actual as u64,
            })
        };
        let full = {
            let t = self.by_name.read();
            if t.contains_key(name) { 0 } else { t.len() + 1 }
        };
        match over("bytes of metric name", MAX_METRIC_NAME_BYTES, name.len())
            .or_else(|| over("bytes of help text", MAX_HELP_BYTES, meta.help.len()))
            .or_else(|| over("bytes of unit", MAX_METRIC_NAME_BYTES, meta.unit.len()))
            .or_else(|| over("metric names with metadata", MAX_METRICS, full))
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Sets metadata: entries equal to what is held are skipped; the changes are checked
    /// ([`Self::check`]: over a limit, nothing of the call is kept), handed to `log` as one
    /// `METADATA` payload, and kept once `log` succeeds.
    pub fn set_logged<E: From<Error>>(
        &self,
        entries: &[(&str, MetricMetadata)],
        log: impl FnOnce(&[u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let changed: Vec<(&str, &MetricMetadata)> = entries
            .iter()
            .filter(|(n, m)| self.changes(n, m))
            .map(|(n, m)| (*n, m))
            .collect();
        for (n, m) in &changed {
            self.check(n, m)?;
        }
        if changed.is_empty() {
            return Ok(());
        }
        let mut payload = Vec::new();
        encode_metadata(&changed, &mut payload);
        log(&payload)?;
        for (n, m) in changed {
            self.set(n, m.clone());
        }
        Ok(())
    }

    /// Hands the whole table to `log` as `METADATA` payloads (a checkpoint re-logs it).
    pub fn relog<E>(
        &self,
        mut log: impl FnMut(&[u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let all = self.list(None, usize::MAX);
        for chunk in all.chunks(4096) {
            let refs: Vec<(&str, &MetricMetadata)> =
                chunk.iter().map(|(n, m)| (n.as_str(), m)).collect();
            let mut payload = Vec::new();
            encode_metadata(&refs, &mut payload);
            log(&payload)?;
        }
        Ok(())
    }

    /// Sets `name`'s metadata (replay and appends, after [`Self::check`]).
    pub fn set(&self, name: &str, meta: MetricMetadata) {
        self.by_name.write().insert(name.to_owned(), meta);
    }

    /// The metadata of `name`, or of every metric when `None`, in name order, at most
    /// `limit` metrics.
    pub fn list(&self, name: Option<&str>, limit: usize) -> Vec<(String, MetricMetadata)> {
        let t = self.by_name.read();
        match name {
            Some(n) => t
                .get(n)
                .map(|m| vec![(n.to_owned(), m.clone())])
                .unwrap_or_default(),
            None => t
                .iter()
                .take(limit)
                .map(|(n, m)| (n.clone(), m.clone()))
                .collect(),
        }
    }

    /// Number of metric names with metadata.
    pub fn len(&self) -> usize {
        self.by_name.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Encodes a `METADATA` record: version, count, then per entry name, kind, unit and help.
pub fn encode_metadata(entries: &[(&str, &MetricMetadata)], out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    put_uvarint(out, entries.len() as u64);
    for (name, m) in entries {
        for s in [*name, m.unit.as_str(), m.help.as_str()] {
            put_uvarint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        out.push(m.kind.as_u8());
    }
}

/// Decodes a `METADATA` record (never panics; counts are bounded by the payload).
pub fn decode_metadata(payload: &[u8]) -> strata_codec::Result<Vec<(String, MetricMetadata)>> {
    let mut r = ByteReader::new(payload, "metadata record");
    version(&mut r)?;
    // An entry takes at least 4 bytes (three lengths and the kind).
    let n = r.len_at_most(r.remaining() / 4, "metadata count")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let name = string(&mut r)?;
        let unit = string(&mut r)?;
        let help = string(&mut r)?;
        let kind = MetricKind::from_u8(r.u8()?);
        out.push((name, MetricMetadata { kind, unit, help }));
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(help: &str) -> MetricMetadata {
        MetricMetadata {
            kind: MetricKind::Counter,
            unit: "seconds".into(),
            help: help.into(),
        }
    }

    #[test]
    fn only_changes_change_the_table() {
        let s = MetadataStore::new();
        assert!(s.changes("a", &counter("x")));
        s.set("a", counter("x"));
        assert!(!s.changes("a", &counter("x")));
        assert!(s.changes("a", &counter("y")));
        assert_eq!(s.list(None, 10), vec![("a".into(), counter("x"))]);
        assert_eq!(s.list(Some("b"), 10), vec![]);
        let long = "h".repeat(MAX_HELP_BYTES + 1);
        assert!(matches!(
            s.check("a", &counter(&long)),
            Err(Error::Limit { .. })
        ));
    }

    #[test]
    fn records_round_trip_and_damage_is_an_error() {
        let (a, b) = (
            counter("Total requests.\nSecond line"),
            MetricMetadata::default(),
        );
        let mut buf = Vec::new();
        encode_metadata(&[("http_requests_total", &a), ("up", &b)], &mut buf);
        let back = decode_metadata(&buf).expect("decodes");
        assert_eq!(
            back,
            vec![("http_requests_total".into(), a), ("up".into(), b)]
        );
        for cut in 0..buf.len() {
            assert!(decode_metadata(&buf[..cut]).is_err(), "cut at {cut}");
        }
    }
}
