//! `stats`: what the database holds and what it costs on disk.

use serde::Serialize;

use super::Db;
use crate::error::{Error, Result};
pub use strata_tsdb::replay::WalRecovery;

/// Sizes and counts, as `strata stats --json` prints them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    pub series: u64,
    /// Samples in blocks plus samples in the head (a histogram sample counts once).
    pub samples: u64,
    pub head_samples: u64,
    pub blocks: u64,
    pub block_chunk_bytes: u64,
    pub block_index_bytes: u64,
    pub block_meta_bytes: u64,
    pub wal_bytes: u64,
    /// Bytes of all block files per sample in blocks (0 when there are no blocks).
    pub block_bytes_per_sample: f64,
    pub min_time_ms: Option<i64>,
    pub max_time_ms: Option<i64>,
    /// What retention deleted since the database was opened.
    pub expired: super::compact::ExpiredTotals,
    /// What opening found: replay's report (unattributable samples skipped in salvage mode,
    /// torn batches dropped) and the WAL's (torn tail cut, damaged ranges skipped).
    pub replay: super::ReplayReport,
    pub wal_recovery: WalRecovery,
    /// Exemplars held, and those dropped since open: evicted by newer ones of their series
    /// (`Options::exemplars_per_series`) and expired by retention.
    pub exemplars: u64,
    pub exemplars_evicted: u64,
    pub exemplars_expired: u64,
    /// Metric names with metadata.
    pub metadata_metrics: u64,
}

impl Db {
    /// The metadata of every block, oldest first: time range, compaction level (0 = cut from
    /// the head), the blocks it replaced, sizes. Cheap (copies of small structs).
    pub fn block_metas(&self) -> Vec<crate::BlockMeta> {
        self.core
            .blocks
            .read()
            .iter()
            .map(|b| b.meta.clone())
            .collect()
    }

    pub fn stats(&self) -> Result<Stats> {
        self.check_open()?;
        let _view = self.core.view.read();
        let mut s = Stats {
            series: self.core.head.len() as u64,
            ..Stats::default()
        };
        let t = strata_tsdb::block::totals(&self.core.blocks.read(), &*self.core.options.fs);
        let block_samples = t.samples;
        (s.blocks, s.block_chunk_bytes, s.block_index_bytes) =
            (t.blocks, t.chunk_bytes, t.index_bytes);
        (s.block_meta_bytes, s.min_time_ms, s.max_time_ms) =
            (t.meta_bytes, t.min_time_ms, t.max_time_ms);
        let head_samples = self.core.head.sample_count();
        if let Some((lo, hi)) = self.core.head.time_range() {
            s.min_time_ms = Some(s.min_time_ms.map_or(lo, |t| t.min(lo)));
            s.max_time_ms = Some(s.max_time_ms.map_or(hi, |t| t.max(hi)));
        }
        s.head_samples = head_samples;
        s.exemplars = self.core.exemplars.len() as u64;
        (s.exemplars_evicted, s.exemplars_expired) = self.core.exemplars.dropped();
        s.metadata_metrics = self.core.metadata.len() as u64;
        s.samples = block_samples + head_samples;
        let wal_dir = self.core.dir.join("wal");
        s.wal_bytes = self
            .core
            .options
            .fs
            .dir_bytes(&wal_dir)
            .map_err(|e| Error::io(&wal_dir, e))?;
        let block_bytes = s.block_chunk_bytes + s.block_index_bytes + s.block_meta_bytes;
        if block_samples > 0 {
            s.block_bytes_per_sample = block_bytes as f64 / block_samples as f64;
        }
        s.expired = self.expired_totals();
        s.replay = self.replay_report();
        s.wal_recovery = WalRecovery::of(self.core.wal.recovery_report());
        Ok(s)
    }
}
