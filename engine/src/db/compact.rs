//! Head → blocks, block compaction, retention, and the WAL checkpoint that follows a cut.

use std::sync::Arc;

use super::Db;
use crate::block::Block;
use crate::error::{Error, Result};
use crate::head::MemSeries;
use crate::records;
use strata_tsdb::{checkpoint, compaction};

/// WAL segments after which a span seal also checkpoints the WAL.
const SEAL_CHECKPOINT_SEGMENTS: u64 = 4;

pub use strata_tsdb::report::{CompactReport, Expired, ExpiredTotals};

/// Where a checkpoint's first record is, the series it covers and the span windows it copies.
type CheckpointStart = (
    strata_wal::Position,
    Vec<Arc<parking_lot::Mutex<MemSeries>>>,
    crate::spans::CheckpointMarks,
);

impl Db {
    /// Called after appends: wakes the background thread once the head spans more than 1.5
    /// block durations (when `auto_cut` is on). Cheap: two atomic loads.
    pub(super) fn maybe_cut(&self) -> Result<()> {
        if self.cut_point().is_some() {
            self.wake_maintenance();
        }
        Ok(())
    }

    /// Where the head should be cut now, if anywhere: keep the newest half block in the head.
    fn cut_point(&self) -> Option<i64> {
        if !self.core.options.auto_cut {
            return None;
        }
        let (lo, hi) = self.core.head.time_range()?;
        let dur = self.core.options.block_duration_ms;
        (hi.saturating_sub(lo) > dur + dur / 2)
            .then(|| compaction::floor_to(hi.saturating_sub(dur / 2), dur))
    }

    /// One pass of background maintenance: cut the head if it is due, merge blocks, apply
    /// retention. Runs on the background thread; callable directly (tests, tools).
    pub fn maintain(&self) -> Result<CompactReport> {
        self.check_open()?;
        let _m = self.core.maintenance.lock();
        let mut report = CompactReport::default();
        if let Some(upto) = self.cut_point() {
            report.blocks_written += self.cut_head_locked(upto)?;
        }
        report.blocks_merged += self.compact_blocks_locked()?;
        self.apply_retention_locked(&mut report)?;
        // Span windows are sealed once a whole window has passed since they ended (late spans
        // of an older window get a partition of their own at the next pass).
        let now = self.core.options.clock.now_ms();
        if self.core.spans.has_open_rows() {
            let n = self.seal_spans(now.saturating_sub(self.core.spans.partition_ms()))?;
            report.span_partitions_written += n;
            self.checkpoint_after_seal(false)?;
        }
        self.apply_span_retention(now, &mut report)?;
        Ok(report)
    }

    /// Cuts everything in the head into blocks, merges blocks and applies retention.
    pub fn compact(&self) -> Result<super::compact::CompactReport> {
        self.check_open()?;
        let _m = self.core.maintenance.lock();
        let mut report = CompactReport::default();
        if let Some((_, hi)) = self.core.head.time_range() {
            report.blocks_written += self.cut_head_locked(hi.saturating_add(1))?;
        }
        report.blocks_merged += self.compact_blocks_locked()?;
        self.apply_retention_locked(&mut report)?;
        let sealed = self.seal_spans(i64::MAX)?;
        report.span_partitions_written += sealed;
        if sealed > 0 {
            self.checkpoint_after_seal(true)?;
        }
        self.apply_span_retention(self.core.options.clock.now_ms(), &mut report)?;
        Ok(report)
    }

    /// Seals the span windows ending at or before `upto_ms` now, instead of waiting for the
    /// background thread (which seals a window once a whole window has passed since its end).
    /// Returns the number of partitions written.
    pub fn seal_spans_through(&self, upto_ms: i64) -> Result<usize> {
        self.check_open()?;
        let _m = self.core.maintenance.lock();
        let n = self.seal_spans(upto_ms)?;
        if n > 0 {
            self.checkpoint_after_seal(false)?;
        }
        Ok(n)
    }

    /// After span seals, a checkpoint drops the WAL records of sealed spans — when forced,
    /// or once [`SEAL_CHECKPOINT_SEGMENTS`] segments were written since the last checkpoint
    /// (a database holding only spans never cuts its head, the other occasion for one).
    fn checkpoint_after_seal(&self, force: bool) -> Result<()> {
        let since = self.core.wal.end().segment
            - (*self.core.checkpoint_segment.lock()).max(self.core.wal.start().segment);
        if force || since >= SEAL_CHECKPOINT_SEGMENTS {
            self.checkpoint(self.core.head.min_valid_ms())?;
        }
        Ok(())
    }

    /// Moves every head sample older than `upto` into blocks (one per aligned partition), then
    /// checkpoints the WAL. Returns the number of blocks written.
    fn cut_head_locked(&self, upto: i64) -> Result<usize> {
        // From now on nothing older than `upto` is accepted. Taken under the append gate so no
        // append validated against the old bound is still on its way into the head.
        {
            let _gate = self.core.append_gate.write();
            self.core.head.set_min_valid_ms(upto);
        }
        let dur = self.core.options.block_duration_ms;
        let limits = self.core.chunk_limits();
        let series = self.core.head.with_series(|all| all.to_vec());
        // Copy first and write the blocks; then, with readers held off, publish them and drop
        // their samples from the head: a reader sees every sample exactly once.
        let partitions = compaction::head_partitions(&self.core.head, &series, upto, dur)?;
        let written = partitions.len();
        let (fs, bucket) = (&*self.core.options.fs, &self.core.options.metrics_bucket);
        let new_blocks = compaction::write_head_blocks(fs, &self.blocks_dir(), bucket, partitions)?;
        // Publish the blocks and drop their samples from the head in one step for readers.
        {
            let _view = self.core.view.write();
            let mut blocks = self.core.blocks.write();
            blocks.extend(new_blocks);
            compaction::sort_blocks(&mut blocks);
            drop(blocks);
            compaction::drain_head_before(&series, upto, limits)?;
        }
        self.core.head.reset_min_time(upto);
        self.checkpoint(upto)?;
        Ok(written)
    }

    /// Rewrites what replay needs (the min-valid marker, series definitions, samples still in
    /// the head, unsealed spans) at the end of the WAL, then drops the segments before it.
    ///
    /// Appends pause only while the marker, the definitions, the histogram samples and the
    /// span copies are logged: so every sample acknowledged before the marker is in the head
    /// when the float samples are read, and everything acknowledged after it is logged after
    /// it. The float samples — the bulk — are re-logged with appends going on: replay applies
    /// them permissively (out of order into the series' out-of-order buffer; a sample also
    /// logged after the marker is a duplicate, and the first value stays). Histogram samples
    /// must replay in order, so they are logged before any append that follows the marker.
    fn checkpoint(&self, min_valid: i64) -> Result<()> {
        let (start, series, marks) = {
            let _gate = self.core.append_gate.write();
            self.log_checkpoint_start(min_valid)?
        };
        let mut append = |t, p: &[u8]| self.core.wal.append(t, p).map(drop).map_err(Error::from);
        checkpoint::relog_floats(&series, &mut append)?;
        self.finish_span_checkpoint(&marks)?;
        self.core.wal.sync()?;
        self.core.wal.truncate_before(start)?;
        *self.core.checkpoint_segment.lock() = self.core.wal.end().segment;
        Ok(())
    }

    /// The part of a checkpoint that runs with appends paused (see [`Self::checkpoint`]).
    /// Returns the position of its first record and the series it covers.
    fn log_checkpoint_start(&self, min_valid: i64) -> Result<CheckpointStart> {
        // The checkpoint starts a segment of its own: once it is durable every older segment
        // goes, and the WAL is no larger than what the head still needs.
        self.core.wal.start_segment();
        let start = self
            .core
            .log_marker(records::Marker::HeadMinValid(min_valid))?;
        let mut append = |t, p: &[u8]| self.core.wal.append(t, p).map(drop).map_err(Error::from);
        let series = checkpoint::log_definitions_and_histograms(&self.core.head, &mut append)?;
        self.log_annotations()?;
        let marks = self.begin_span_checkpoint()?;
        Ok((start, series, marks))
    }

    /// Merges blocks that fall in the same aligned window of each compaction level.
    fn compact_blocks_locked(&self) -> Result<usize> {
        let mut merged = 0;
        for (level, factor) in compaction::COMPACTION_FACTORS.iter().enumerate() {
            let window = self.core.options.block_duration_ms.saturating_mul(*factor);
            // As Prometheus does: no block longer than a tenth of the retention, so expiry can
            // still drop data close to its age.
            if window > self.core.options.metrics_retention_ms / 10 {
                break;
            }
            let blocks = self.core.blocks.read().clone();
            for group in compaction::merge_groups(&blocks, window, level as u32) {
                self.merge_blocks(&group, level as u32 + 1)?;
                merged += group.len();
            }
        }
        Ok(merged)
    }

    fn merge_blocks(&self, group: &[Arc<Block>], level: u32) -> Result<()> {
        let (fs, bucket) = (&*self.core.options.fs, &self.core.options.metrics_bucket);
        let new_block = compaction::merge_into_block(fs, &self.blocks_dir(), bucket, group, level)?;
        {
            let mut blocks = self.core.blocks.write();
            blocks.retain(|b| !group.iter().any(|g| Arc::ptr_eq(b, g)));
            blocks.push(new_block);
            compaction::sort_blocks(&mut blocks);
        }
        for b in group {
            compaction::remove_block_dir(fs, b)?;
        }
        Ok(())
    }

    /// Drops whole blocks older than the bucket's retention, measured from the clock
    /// (`Options::clock`) — never from the newest sample, so one mistyped future timestamp
    /// cannot expire real data. What it drops is added to `report` and to the totals.
    fn apply_retention_locked(&self, report: &mut CompactReport) -> Result<()> {
        let cutoff = self.time_bounds().1;
        self.core.exemplars.expire_before(cutoff);
        let expired: Vec<Arc<Block>> = self
            .core
            .blocks
            .read()
            .iter()
            .filter(|b| b.meta.max_time_ms < cutoff)
            .cloned()
            .collect();
        if expired.is_empty() {
            return Ok(());
        }
        self.core
            .blocks
            .write()
            .retain(|b| !expired.iter().any(|e| Arc::ptr_eq(b, e)));
        let (samples, bytes) = compaction::remove_expired(&*self.core.options.fs, &expired)?;
        report.note_blocks(
            &self.core.options.metrics_bucket,
            expired.len(),
            samples,
            bytes,
        );
        let mut t = self.core.expired.lock();
        t.metric_blocks += expired.len() as u64;
        t.samples += samples;
        Ok(())
    }

    fn apply_span_retention(&self, now_ms: i64, report: &mut CompactReport) -> Result<()> {
        let expired = self.core.spans.apply_retention(now_ms)?;
        let mut t = self.core.expired.lock();
        for x in expired {
            (t.span_partitions, t.spans) =
                (t.span_partitions + x.partitions as u64, t.spans + x.spans);
            t.content_bytes += x.content_bytes;
            (t.event_partitions, t.events) = (
                t.event_partitions + x.event_partitions as u64,
                t.events + x.events,
            );
            report.span_partitions_expired += x.partitions;
            let e = report.bucket(&x.bucket);
            e.span_partitions += x.partitions;
            (e.event_partitions, e.events) =
                (e.event_partitions + x.event_partitions, e.events + x.events);
            (e.spans, e.content_rows) = (e.spans + x.spans, e.content_rows + x.content_rows);
            (e.content_bytes, e.bytes) = (e.content_bytes + x.content_bytes, e.bytes + x.bytes);
        }
        Ok(())
    }

    /// Applies retention now (it also runs as part of [`Db::compact`]): metric blocks and
    /// span partitions older than their bucket keeps, measured from `Options::clock`.
    pub fn apply_retention(&self) -> Result<CompactReport> {
        self.check_open()?;
        let _m = self.core.maintenance.lock();
        let mut report = CompactReport::default();
        self.apply_retention_locked(&mut report)?;
        self.apply_span_retention(self.core.options.clock.now_ms(), &mut report)?;
        Ok(report)
    }

    /// What retention deleted since the database was opened.
    pub fn expired_totals(&self) -> ExpiredTotals {
        self.core.expired.lock().clone()
    }
}
