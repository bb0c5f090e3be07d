//! WAL replay of the metric records into a head: series definitions (also those ahead of
//! sequence), float samples, batch parts committed by their last part, histogram samples —
//! and what could not be attributed (`docs/format/block.md`, "Checkpoints and the series
//! invariant").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_codec::gorilla::ChunkLimits;
use strata_codec::histogram::{Histogram, HistogramLimits};
use strata_codec::native::NativeLimits;
use strata_model::NativeHistogram;
use strata_wal::Position;

use crate::head::Head;
use crate::records::{self, FloatSample, SamplesRecord, SeriesRecord};
use crate::{Error, Result};

/// What replay found beyond the WAL's own report: samples it could not attribute and batches
/// that never committed. Returned by the engine's `Db::replay_report`.
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
#[derive(Debug, Default)]
struct Unresolved {
    samples: u64,
    records: Vec<Position>,
    series: Vec<u64>,
}

impl Unresolved {
    fn note(&mut self, pos: Position, series_ref: u64) {
        self.samples += 1;
        self.note_definition(pos, series_ref);
    }

    fn note_definition(&mut self, pos: Position, series_ref: u64) {
        if self.records.last() != Some(&pos) && self.records.len() < 16 {
            self.records.push(pos);
        }
        if self.series.len() < 16 && !self.series.contains(&series_ref) {
            self.series.push(series_ref);
        }
    }
}

/// Replay of the metric records into a head: series definitions and samples, in log order.
/// The engine drives it record by record (it also replays the span records and markers).
#[derive(Debug)]
pub struct MetricReplay<'a> {
    head: &'a Head,
    wal_path: PathBuf,
    limits: ChunkLimits,
    hist_limits: HistogramLimits,
    lo: i64,
    hi: i64,
    /// Samples and definitions naming series no surviving definition covers. The WAL
    /// invariant (`docs/format/wal.md`, "Checkpoints"): segments are truncated only after a
    /// complete checkpoint, which re-logs every live series definition and every head sample;
    /// so such records always precede a checkpoint that supersedes them.
    unresolved: Unresolved,
    report: ReplayReport,
    /// Definitions ahead of the ids known so far, by id (see `apply_series`).
    pending_defs: BTreeMap<u64, (Position, Vec<(String, String)>)>,
    /// Parts of multi-record batches, by the position of their first part.
    open_batches: BTreeMap<Position, Vec<FloatSample>>,
}

impl<'a> MetricReplay<'a> {
    /// Replay into `head` with these chunk limits, of the log at `wal_path` (for errors).
    pub fn new(
        head: &'a Head,
        wal_path: &Path,
        limits: ChunkLimits,
        hist_limits: HistogramLimits,
    ) -> Self {
        MetricReplay {
            head,
            wal_path: wal_path.to_owned(),
            limits,
            hist_limits,
            lo: i64::MAX,
            hi: i64::MIN,
            unresolved: Unresolved::default(),
            report: ReplayReport::default(),
            pending_defs: BTreeMap::new(),
            open_batches: BTreeMap::new(),
        }
    }

    /// Applies a `SERIES` record.
    pub fn apply_series_record(&mut self, pos: Position, payload: &[u8]) -> Result<()> {
        let defs = records::decode_series(payload).map_err(|e| self.corrupt(pos, e))?;
        self.apply_series(pos, &defs)
    }

    /// Applies an `EXEMPLARS` record to `store` (a duplicate or older exemplar — a checkpoint's
    /// copy of one replayed already — is skipped by the store).
    pub fn apply_exemplars_record(
        &mut self,
        pos: Position,
        payload: &[u8],
        store: &crate::exemplars::ExemplarStore,
    ) -> Result<()> {
        let exemplars =
            crate::exemplars::decode_exemplars(payload).map_err(|e| self.corrupt(pos, e))?;
        for (id, e) in exemplars {
            let _ = store.add(id, e);
        }
        Ok(())
    }

    /// Applies a `METADATA` record to `store` (the last entry of a metric wins).
    pub fn apply_metadata_record(
        &mut self,
        pos: Position,
        payload: &[u8],
        store: &crate::metadata::MetadataStore,
    ) -> Result<()> {
        let entries =
            crate::metadata::decode_metadata(payload).map_err(|e| self.corrupt(pos, e))?;
        for (name, m) in entries {
            store.set(&name, m);
        }
        Ok(())
    }

    /// Applies a `METRICS` record: floats, a batch part, or histograms.
    pub fn apply_samples_record(&mut self, pos: Position, payload: &[u8]) -> Result<()> {
        match records::decode_samples(payload).map_err(|e| self.corrupt(pos, e))? {
            SamplesRecord::Float(samples) => self.apply_floats(pos, &samples),
            SamplesRecord::FloatPart {
                first,
                last,
                samples,
            } => self.apply_batch_part(pos, first, last, samples),
            SamplesRecord::Histogram(samples) => self.apply_histograms(pos, &samples),
            SamplesRecord::Native(samples) => self.apply_natives(pos, &samples),
        }
    }

    /// Keeps a batch's parts aside by its first part's position; applies the batch at its
    /// last part.
    fn apply_batch_part(
        &mut self,
        pos: Position,
        first: Option<Position>,
        last: bool,
        samples: Vec<FloatSample>,
    ) -> Result<()> {
        let key = first.unwrap_or(pos);
        let mut batch = self.open_batches.remove(&key).unwrap_or_default();
        if first.is_some() && batch.is_empty() {
            // Its first part is gone (salvage skipped it): the batch cannot be whole, so
            // none of it is applied.
            self.report.torn_batches += 1;
            self.report.torn_batch_samples += samples.len() as u64;
            return Ok(());
        }
        batch.extend_from_slice(&samples);
        if last {
            self.apply_floats(key, &batch)
        } else {
            self.open_batches.insert(key, batch);
            Ok(())
        }
    }

    fn apply_natives(
        &mut self,
        pos: Position,
        samples: &[(u64, i64, NativeHistogram)],
    ) -> Result<()> {
        let min_valid = self.head.min_valid_ms();
        for (r, t, h) in samples.iter().filter(|s| s.1 >= min_valid) {
            let Some(series) = self.head.series(*r as u32) else {
                self.unresolved.note(pos, *r);
                continue;
            };
            series.lock().apply_native(*t, h, NativeLimits::default())?;
            self.lo = self.lo.min(*t);
            self.hi = self.hi.max(*t);
        }
        Ok(())
    }

    fn apply_histograms(&mut self, pos: Position, samples: &[(u64, i64, Histogram)]) -> Result<()> {
        let min_valid = self.head.min_valid_ms();
        for (r, t, h) in samples.iter().filter(|s| s.1 >= min_valid) {
            let Some(series) = self.head.series(*r as u32) else {
                self.unresolved.note(pos, *r);
                continue;
            };
            series.lock().apply_histogram(*t, h, self.hist_limits)?;
            self.lo = self.lo.min(*t);
            self.hi = self.hi.max(*t);
        }
        Ok(())
    }

    fn corrupt(&self, pos: Position, e: strata_codec::Error) -> Error {
        Error::corrupt(&self.wal_path, format!("record at {pos}: {e}"))
    }

    fn apply_floats(&mut self, pos: Position, samples: &[FloatSample]) -> Result<()> {
        let min_valid = self.head.min_valid_ms();
        for s in samples.iter().filter(|s| s.timestamp_ms >= min_valid) {
            let Some(series) = self.head.series(s.series_ref as u32) else {
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

    fn apply_series(&mut self, pos: Position, defs: &[SeriesRecord]) -> Result<()> {
        for s in defs {
            let known = self.head.len() as u64;
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
            self.head.restore(s.series_ref, &s.labels)?;
        }
        self.apply_pending_defs()
    }

    /// Restores the pending definitions that are now in sequence.
    fn apply_pending_defs(&mut self) -> Result<()> {
        loop {
            let next = self.head.len() as u64;
            let Some((_, labels)) = self.pending_defs.remove(&next) else {
                return Ok(());
            };
            self.head.restore(next, &labels)?;
        }
    }

    /// A checkpoint begins: everything unresolved so far is in it.
    pub fn checkpoint_begins(&mut self) {
        self.pending_defs.clear();
        self.report.superseded_samples += self.unresolved.samples;
        self.unresolved = Unresolved::default();
    }

    /// The end of the log: unresolved samples are damage (strict) or, with `salvage`, skipped
    /// and reported. Returns the report and the time range replayed (if any sample was).
    pub fn finish(mut self, salvage: bool) -> Result<(ReplayReport, Option<(i64, i64)>)> {
        for samples in std::mem::take(&mut self.open_batches).into_values() {
            self.report.torn_batches += 1;
            self.report.torn_batch_samples += samples.len() as u64;
        }
        let mut u = std::mem::take(&mut self.unresolved);
        for (series_ref, (pos, _)) in std::mem::take(&mut self.pending_defs) {
            u.note_definition(pos, series_ref);
        }
        let range = (self.lo <= self.hi).then_some((self.lo, self.hi));
        if u.samples == 0 && u.records.is_empty() {
            return Ok((self.report, range));
        }
        let first = u.records.first().map_or(String::new(), |p| p.to_string());
        if !salvage {
            return Err(Error::corrupt(
                &self.wal_path,
                format!(
                    "record at {first}: {} samples for series {:?}… that no surviving record defines (open with wal_salvage to skip them)",
                    u.samples, u.series
                ),
            ));
        }
        self.report.unattributable_samples += u.samples;
        self.report.unattributable_records = u.records.iter().map(|p| p.to_string()).collect();
        self.report.unattributable_series = u.series;
        Ok((self.report, range))
    }
}

/// The WAL's recovery report at open, as numbers.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct WalRecovery {
    pub clean: bool,
    /// `segment:offset` and bytes of the torn tail cut, if any.
    pub truncated_tail: Option<String>,
    pub truncated_tail_bytes: u64,
    /// Damaged ranges skipped in salvage mode: `segment:offset+len`.
    pub skipped_ranges: Vec<String>,
    pub skipped_bytes: u64,
    pub repaired_headers: Vec<u64>,
}

impl WalRecovery {
    pub fn of(r: &strata_wal::RecoveryReport) -> WalRecovery {
        WalRecovery {
            clean: r.is_clean(),
            truncated_tail: r
                .truncated_tail
                .as_ref()
                .map(|t| format!("{}:{}", t.segment, t.offset)),
            truncated_tail_bytes: r.truncated_tail.as_ref().map_or(0, |t| t.dropped_bytes),
            skipped_ranges: r
                .skipped
                .iter()
                .map(|s| format!("{}:{}+{}", s.segment, s.offset, s.len_bytes))
                .collect(),
            skipped_bytes: r.skipped.iter().map(|s| s.len_bytes).sum(),
            repaired_headers: r.repaired_headers.clone(),
        }
    }
}
