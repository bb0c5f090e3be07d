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
        let mut block_samples = 0;
        for b in self.core.blocks.read().iter() {
            s.blocks += 1;
            block_samples += b.meta.stats.samples;
            s.block_chunk_bytes += b.meta.stats.chunk_bytes;
            s.block_index_bytes += b.meta.stats.index_bytes;
            s.block_meta_bytes += self
                .core
                .options
                .fs
                .file_len(&b.dir.join("meta.json"))
                .unwrap_or(0);
            s.min_time_ms = Some(
                s.min_time_ms
                    .map_or(b.meta.min_time_ms, |t| t.min(b.meta.min_time_ms)),
            );
            s.max_time_ms = Some(
                s.max_time_ms
                    .map_or(b.meta.max_time_ms, |t| t.max(b.meta.max_time_ms)),
            );
        }
        let head_samples: u64 = self.core.head.with_series(|all| {
            all.iter()
                .map(|series| {
                    let g = series.lock();
                    let (mut ts, mut vs) = (Vec::new(), Vec::new());
                    // Counting by decoding is exact and cheap next to a stats call's other I/O.
                    let floats = g
                        .read_floats(i64::MIN, i64::MAX, &mut ts, &mut vs)
                        .map(|_| ts.len() as u64);
                    let histograms = g
                        .read_histograms(i64::MIN, i64::MAX)
                        .map(|cols| cols.iter().map(|c| c.len() as u64).sum::<u64>());
                    floats.unwrap_or(0) + histograms.unwrap_or(0)
                })
                .sum()
        });
        if let Some((lo, hi)) = self.core.head.time_range() {
            s.min_time_ms = Some(s.min_time_ms.map_or(lo, |t| t.min(lo)));
            s.max_time_ms = Some(s.max_time_ms.map_or(hi, |t| t.max(hi)));
        }
        s.head_samples = head_samples;
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
