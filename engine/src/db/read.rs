//! Reads: `select` merges blocks and the head into one sample stream per label set
//! (`strata_tsdb::read` does the reading; this takes the view and picks the blocks).

use std::sync::Arc;
use strata_index::Matcher;
pub use strata_tsdb::read::{HistogramSeries, NativeSeries, SeriesSamples};
use strata_tsdb::read::{block_floats, head_floats, histograms, merge_series, native_histograms};

use super::Db;
use crate::block::Block;
use crate::error::Result;

impl Db {
    /// Every float series matching all `matchers` (Prometheus semantics), with its samples in
    /// `[start_ms, end_ms]`, sorted by label set. Series with no sample in the range are left out.
    pub fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<SeriesSamples>> {
        self.check_open()?;
        let _view = self.core.view.read();
        let mut parts = Vec::new();
        for block in self.blocks_overlapping(start_ms, end_ms) {
            parts.extend(block_floats(&block, matchers, start_ms, end_ms)?);
        }
        parts.extend(head_floats(&self.core.head, matchers, start_ms, end_ms)?);
        Ok(merge_series(parts))
    }

    /// Every explicit-bucket histogram series matching `matchers`, with its decoded chunks
    /// overlapping `[start_ms, end_ms]` (whole chunks; filter by timestamp as needed).
    pub fn select_histograms(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<HistogramSeries>> {
        self.check_open()?;
        let _view = self.core.view.read();
        let blocks = self.blocks_overlapping(start_ms, end_ms);
        Ok(histograms(
            &blocks,
            &self.core.head,
            matchers,
            start_ms,
            end_ms,
        )?)
    }

    /// Every native histogram series matching `matchers`, with its samples in
    /// `[start_ms, end_ms]`, sorted by label set.
    pub fn select_native_histograms(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<NativeSeries>> {
        self.check_open()?;
        let _view = self.core.view.read();
        let blocks = self.blocks_overlapping(start_ms, end_ms);
        Ok(native_histograms(
            &blocks,
            &self.core.head,
            matchers,
            start_ms,
            end_ms,
        )?)
    }

    fn blocks_overlapping(&self, start_ms: i64, end_ms: i64) -> Vec<Arc<Block>> {
        let blocks = self.core.blocks.read();
        let overlaps =
            |b: &&Arc<Block>| b.meta.max_time_ms >= start_ms && b.meta.min_time_ms <= end_ms;
        blocks.iter().filter(overlaps).cloned().collect()
    }
}
