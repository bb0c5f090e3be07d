//! Opening: blocks on disk (dropping leftovers of interrupted writes and compactions) and WAL
//! replay into the head.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::DbCore;
use crate::block::Block;
use crate::error::{Error, Result};
use crate::records::{self, FloatSample, Marker, SamplesRecord, SeriesRecord};

/// Opens every block under `dir`, sorted by min time. Temporary directories (a block write that
/// never finished) are deleted, and so are blocks that a finished compaction replaced (their id
/// is in another block's `sources`).
pub(super) fn open_blocks(dir: &Path) -> Result<Vec<Arc<Block>>> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut blocks = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") || name.ends_with(".deleting") {
            fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            continue;
        }
        if path.is_dir() {
            blocks.push(Block::open(&path)?);
        }
    }
    let replaced: HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta.sources.iter().cloned())
        .collect();
    let mut kept = Vec::new();
    for b in blocks {
        if replaced.contains(&b.meta.id) {
            fs::remove_dir_all(&b.dir).map_err(|e| Error::io(&b.dir, e))?;
        } else {
            kept.push(Arc::new(b));
        }
    }
    kept.sort_by_key(|b| (b.meta.min_time_ms, b.meta.max_time_ms));
    Ok(kept)
}

/// What replay found beyond the WAL's own report: samples it could not attribute and batches
/// that never committed. Returned by [`crate::Db::recovery_report`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplayReport {
    /// Samples skipped because no series definition for them survives — only in salvage
    /// mode (a strict open fails instead). Each is listed by where its record was.
    pub unattributable_samples: u64,
    /// The WAL positions (`segment:offset`) of the first records holding such samples (at
    /// most 16), and the series refs they named (at most 16).
    pub unattributable_records: Vec<String>,
    pub unattributable_series: Vec<u64>,
    /// Samples that preceded a checkpoint and named series defined only in segments the
    /// checkpoint truncated: the checkpoint holds them again, so nothing is lost.
    pub superseded_samples: u64,
    /// Batches written as several records whose last part never reached the log (the
    /// process died mid-call: the batch was not acknowledged) and their samples, dropped.
    pub torn_batches: u64,
    pub torn_batch_samples: u64,
}

impl ReplayReport {
    /// True when replay applied every record it met.
    pub fn is_clean(&self) -> bool {
        self.unattributable_samples == 0 && self.torn_batches == 0
    }
}

/// Samples met before any series definition covers them, waiting for a checkpoint.
#[derive(Default)]
struct Unresolved {
    samples: u64,
    records: Vec<strata_wal::Position>,
    series: Vec<u64>,
}

impl Unresolved {
    fn note(&mut self, pos: strata_wal::Position, series_ref: u64) {
        self.samples += 1;
        self.note_definition(pos, series_ref);
    }

    fn note_definition(&mut self, pos: strata_wal::Position, series_ref: u64) {
        if self.records.last() != Some(&pos) && self.records.len() < 16 {
            self.records.push(pos);
        }
        if self.series.len() < 16 && !self.series.contains(&series_ref) {
            self.series.push(series_ref);
        }
    }
}

/// Replay's running state.
struct Replayer<'a> {
    db: &'a DbCore,
    limits: strata_codec::gorilla::ChunkLimits,
    hist_limits: strata_codec::histogram::HistogramLimits,
    lo: i64,
    hi: i64,
    /// Samples and definitions naming series no surviving definition covers. The WAL
    /// invariant (`docs/format/wal.md`, "Checkpoints"): segments are truncated only after a
    /// complete checkpoint, which re-logs every live series definition and every head sample;
    /// so such records always precede a checkpoint that supersedes them.
    unresolved: Unresolved,
    report: ReplayReport,
    /// Definitions ahead of the ids known so far, by id (see `apply_series`).
    pending_defs: BTreeMap<u64, (strata_wal::Position, Vec<(String, String)>)>,
    /// Parts of multi-record batches, by the position of their first part.
    open_batches: BTreeMap<strata_wal::Position, Vec<FloatSample>>,
}

impl Replayer<'_> {
    fn apply_floats(&mut self, pos: strata_wal::Position, samples: &[FloatSample]) -> Result<()> {
        let min_valid = self.db.head.min_valid_ms();
        for s in samples.iter().filter(|s| s.timestamp_ms >= min_valid) {
            let Some(series) = self.db.head.series(s.series_ref as u32) else {
                self.unresolved.note(pos, s.series_ref);
                continue;
            };
            series
                .lock()
                .apply_float(s.timestamp_ms, s.value, self.limits)?;
            self.lo = self.lo.min(s.timestamp_ms);
            self.hi = self.hi.max(s.timestamp_ms);
        }
        Ok(())
    }

    fn apply_series(&mut self, pos: strata_wal::Position, defs: &[SeriesRecord]) -> Result<()> {
        for s in defs {
            let known = self.db.head.len() as u64;
            if s.series_ref > known {
                // Ahead of sequence: either defined before segments a checkpoint truncated
                // (the checkpoint defines it again, and the marker clears it), or — in logs
                // written before series creation waited for checkpoints — created while a
                // checkpoint was being written, after its marker but before the definitions
                // it re-logged. It is applied once the ids before it are known.
                self.pending_defs
                    .insert(s.series_ref, (pos, s.labels.clone()));
                continue;
            }
            self.db.head.restore(s.series_ref, &s.labels)?;
        }
        self.apply_pending_defs()
    }

    /// Restores the pending definitions that are now in sequence.
    fn apply_pending_defs(&mut self) -> Result<()> {
        loop {
            let next = self.db.head.len() as u64;
            let Some((_, labels)) = self.pending_defs.remove(&next) else {
                return Ok(());
            };
            self.db.head.restore(next, &labels)?;
        }
    }

    /// A checkpoint begins: everything unresolved so far is in it.
    fn checkpoint_begins(&mut self) {
        self.pending_defs.clear();
        self.report.superseded_samples += self.unresolved.samples;
        self.unresolved = Unresolved::default();
    }

    /// The end of the log: unresolved samples are damage (strict) or skipped and reported.
    fn finish(&mut self, wal_path: &Path) -> Result<()> {
        for samples in std::mem::take(&mut self.open_batches).into_values() {
            self.report.torn_batches += 1;
            self.report.torn_batch_samples += samples.len() as u64;
        }
        let mut u = std::mem::take(&mut self.unresolved);
        for (series_ref, (pos, _)) in std::mem::take(&mut self.pending_defs) {
            u.note_definition(pos, series_ref);
        }
        if u.samples == 0 && u.records.is_empty() {
            return Ok(());
        }
        let first = u.records.first().map_or(String::new(), |p| p.to_string());
        if !self.db.options.wal_salvage {
            return Err(Error::corrupt(
                wal_path,
                format!(
                    "record at {first}: {} samples for series {:?}… that no surviving record defines (open with wal_salvage to skip them)",
                    u.samples, u.series
                ),
            ));
        }
        self.report.unattributable_samples += u.samples;
        self.report.unattributable_records = u.records.iter().map(|p| p.to_string()).collect();
        self.report.unattributable_series = u.series;
        Ok(())
    }
}

/// Replays the WAL into the head. Samples older than the head's minimum valid time are in
/// blocks already and are skipped; everything else is applied permissively (nothing that was
/// acknowledged is refused for its order).
pub(super) fn replay_wal(db: &DbCore) -> Result<ReplayReport> {
    let wal_path = db.dir.join("wal");
    let corrupt = |pos: strata_wal::Position, e: strata_codec::Error| {
        Error::corrupt(&wal_path, format!("record at {pos}: {e}"))
    };
    let mut rp = Replayer {
        db,
        limits: db.chunk_limits(),
        hist_limits: db.histogram_limits(),
        lo: i64::MAX,
        hi: i64::MIN,
        unresolved: Unresolved::default(),
        report: ReplayReport::default(),
        pending_defs: BTreeMap::new(),
        open_batches: BTreeMap::new(),
    };
    let mut replay = db.wal.replay(strata_wal::Position::ZERO);
    while let Some(record) = replay.next_record() {
        let record = record?;
        let pos = record.position;
        match record.record_type {
            t if t == strata_wal::RecordType::SERIES => {
                let defs = records::decode_series(record.payload).map_err(|e| corrupt(pos, e))?;
                rp.apply_series(pos, &defs)?;
            }
            t if t == strata_wal::RecordType::METRICS => {
                match records::decode_samples(record.payload).map_err(|e| corrupt(pos, e))? {
                    SamplesRecord::Float(samples) => rp.apply_floats(pos, &samples)?,
                    SamplesRecord::FloatPart {
                        first,
                        last,
                        samples,
                    } => {
                        let key = first.unwrap_or(pos);
                        let mut batch = rp.open_batches.remove(&key).unwrap_or_default();
                        if first.is_some() && batch.is_empty() {
                            // Its first part is gone (salvage skipped it): the batch cannot be
                            // whole, so none of it is applied.
                            rp.report.torn_batches += 1;
                            rp.report.torn_batch_samples += samples.len() as u64;
                            continue;
                        }
                        batch.extend_from_slice(&samples);
                        if last {
                            rp.apply_floats(key, &batch)?;
                        } else {
                            rp.open_batches.insert(key, batch);
                        }
                    }
                    SamplesRecord::Histogram(samples) => {
                        let min_valid = db.head.min_valid_ms();
                        for (r, t, h) in samples.iter().filter(|s| s.1 >= min_valid) {
                            let Some(series) = db.head.series(*r as u32) else {
                                rp.unresolved.note(pos, *r);
                                continue;
                            };
                            series.lock().apply_histogram(*t, h, rp.hist_limits)?;
                            rp.lo = rp.lo.min(*t);
                            rp.hi = rp.hi.max(*t);
                        }
                    }
                }
            }
            t if t == strata_wal::RecordType::MARKERS => {
                match records::decode_marker(record.payload).map_err(|e| corrupt(pos, e))? {
                    Some(Marker::HeadMinValid(t)) => {
                        // Written first by every checkpoint (and only there).
                        rp.checkpoint_begins();
                        db.head.set_min_valid_ms(t)
                    }
                    Some(Marker::SpansSealedThrough(t)) => db.spans.forget_unsealed_through(t),
                    Some(Marker::SpansSealing {
                        through_ms,
                        first_seq,
                    }) => db.spans.forget_sealed_since(through_ms, first_seq),
                    Some(Marker::SpansCheckpointBegin { typed_copies }) => {
                        db.spans.replay_checkpoint_begin(typed_copies)
                    }
                    Some(Marker::SpansCheckpointEnd) => db.spans.replay_checkpoint_end(),
                    Some(Marker::SpansCheckpointAbort) => {
                        db.spans.replay_checkpoint_abort();
                    }
                    None => {}
                }
            }
            t if t == strata_wal::RecordType::SPANS => db.spans.replay_record(record.payload)?,
            _ => {} // exemplars: not stored yet
        }
    }
    db.spans.replay_finish();
    rp.finish(&wal_path)?;
    let (lo, hi) = (rp.lo, rp.hi);
    if lo <= hi {
        db.head.note_times(lo, hi);
    }
    // A checkpoint that never ended: its partial copies are dropped, and an abort marker
    // tells later replays so (records appended from now on follow it).
    if db.spans.replay_checkpoint_abort() {
        let mut payload = Vec::new();
        records::encode_marker(Marker::SpansCheckpointAbort, &mut payload);
        db.wal.append(strata_wal::RecordType::MARKERS, &payload)?;
        db.wal.sync()?;
    }
    Ok(rp.report)
}

#[cfg(test)]
mod tests {
    use crate::records::{self, FloatSample, Marker, SeriesRecord};
    use crate::{Db, Fsync, Matcher, Options};
    use strata_wal::RecordType;

    fn def(id: u64) -> SeriesRecord {
        SeriesRecord {
            series_ref: id,
            labels: vec![
                ("__name__".to_owned(), "m".to_owned()),
                ("i".to_owned(), id.to_string()),
            ],
        }
    }

    /// The layout an engine before the fix could write when a series was created while a
    /// checkpoint was being written: after the checkpoint's marker, the new series'
    /// definitions come before the checkpoint's own (which stop short of them).
    #[test]
    fn definitions_logged_inside_a_checkpoint_are_applied_in_sequence() {
        let dir = std::env::temp_dir().join(format!("strata-recover-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let wal =
                strata_wal::Wal::open_dir(dir.join("wal"), strata_wal::Options::default()).unwrap();
            let mut p = Vec::new();
            let put = |t: RecordType, p: &Vec<u8>| {
                wal.append(t, p).unwrap();
            };
            records::encode_marker(Marker::HeadMinValid(0), &mut p);
            put(RecordType::MARKERS, &p);
            for id in [2, 3] {
                p.clear();
                records::encode_series(&[def(id)], &mut p);
                put(RecordType::SERIES, &p);
            }
            p.clear();
            records::encode_series(&[def(0), def(1)], &mut p);
            put(RecordType::SERIES, &p);
            p.clear();
            let samples: Vec<FloatSample> = (0..4)
                .map(|id| FloatSample {
                    series_ref: id,
                    timestamp_ms: 1000,
                    value: id as f64,
                })
                .collect();
            records::encode_float_samples(&samples, &mut p);
            put(RecordType::METRICS, &p);
            wal.sync().unwrap();
        }
        let opts = Options {
            fsync: Fsync::Never,
            ..Options::default()
        };
        let db = Db::open(&dir, opts).unwrap();
        assert!(db.replay_report().is_clean(), "{:?}", db.replay_report());
        let got = db
            .select(&[Matcher::equal("__name__", "m")], 0, 2000)
            .unwrap();
        assert_eq!(got.len(), 4);
        for s in &got {
            let i: f64 = s
                .labels
                .iter()
                .find(|l| l.0 == "i")
                .unwrap()
                .1
                .parse()
                .unwrap();
            assert_eq!(s.values, vec![i]);
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod span_checkpoint_tests {
    use crate::records::{self, Marker};
    use crate::spans::{Span, StatusCode, encode_payload};
    use crate::{Clock, Db, Fsync, Options};
    use strata_wal::RecordType;

    const NOW_MS: i64 = 1_795_000_000_000;

    fn span(id: u8) -> Span {
        Span {
            trace_id: [id; 16],
            span_id: [id; 8],
            parent_span_id: None,
            name: format!("op{id}"),
            kind: 1,
            start_ns: (NOW_MS - 60_000) * 1_000_000,
            end_ns: (NOW_MS - 59_000) * 1_000_000,
            status_code: StatusCode::Unset,
            status_message: String::new(),
            resource: Vec::new(),
            scope: String::new(),
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    /// Writes `records` as a WAL and opens a database on it; returns its open span count.
    fn open_spans_after(name: &str, records: &[(RecordType, Vec<u8>)]) -> u64 {
        let dir = std::env::temp_dir().join(format!("strata-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let wal =
                strata_wal::Wal::open_dir(dir.join("wal"), strata_wal::Options::default()).unwrap();
            for (t, p) in records {
                wal.append(*t, p).unwrap();
            }
            wal.sync().unwrap();
        }
        let opts = Options {
            fsync: Fsync::Never,
            clock: Clock::fixed(NOW_MS),
            ..Options::default()
        };
        let db = Db::open(&dir, opts).unwrap();
        let n = db.spans().stats().open_spans;
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
        n
    }

    fn marker(m: Marker) -> (RecordType, Vec<u8>) {
        let mut p = Vec::new();
        records::encode_marker(m, &mut p);
        (RecordType::MARKERS, p)
    }

    fn spans(ids: &[u8]) -> (RecordType, Vec<u8>) {
        let v: Vec<Span> = ids.iter().map(|&i| span(i)).collect();
        (RecordType::SPANS, encode_payload(&v))
    }

    fn copies(ids: &[u8]) -> (RecordType, Vec<u8>) {
        let v: Vec<Span> = ids.iter().map(|&i| span(i)).collect();
        (RecordType::SPANS, crate::spans::encode_copy_payload(&v))
    }

    /// Spans 1 and 2 logged; a checkpoint copies them while span 3 is appended.
    #[test]
    fn spans_appended_during_a_checkpoint_survive_with_or_without_its_end() {
        let begin = marker(Marker::SpansCheckpointBegin { typed_copies: true });
        let done = [
            spans(&[1, 2]),
            begin.clone(),
            copies(&[1]),
            spans(&[3]),
            copies(&[2]),
            marker(Marker::SpansCheckpointEnd),
        ];
        assert_eq!(open_spans_after("ckpt-done", &done), 3);
        // Died before the end marker: the copies are dropped, span 3 stays.
        let torn = [spans(&[1, 2]), begin, copies(&[1]), spans(&[3])];
        assert_eq!(open_spans_after("ckpt-torn", &torn), 3);
    }

    /// Logs from before typed copies: every span record inside the checkpoint is a copy.
    #[test]
    fn untyped_checkpoints_replay_as_before() {
        let begin = marker(Marker::SpansCheckpointBegin {
            typed_copies: false,
        });
        let done = [
            spans(&[1, 2]),
            begin.clone(),
            spans(&[1, 2]),
            marker(Marker::SpansCheckpointEnd),
        ];
        assert_eq!(open_spans_after("ckpt-old-done", &done), 2);
        let torn = [spans(&[1, 2]), begin, spans(&[1])];
        assert_eq!(open_spans_after("ckpt-old-torn", &torn), 2);
    }
}
