//! Reads: `select` merges blocks and the head into one sample stream per label set.

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use strata_codec::histogram::HistogramColumns;
use strata_index::Matcher;

use super::Db;
use crate::error::{Error, Result};

/// One series' samples from a select, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSamples {
    /// Sorted by name; `__name__` included.
    pub labels: Vec<(String, String)>,
    pub timestamps_ms: Vec<i64>,
    pub values: Vec<f64>,
}

fn normalize(s: &mut SeriesSamples) {
    crate::samples::sort_dedup(&mut s.timestamps_ms, &mut s.values);
}

/// A histogram series from [`Db::select_histograms`]: its labels and decoded chunks.
pub type HistogramSeries = (Vec<(String, String)>, Vec<HistogramColumns>);

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
        let blocks: Vec<_> = self
            .core
            .blocks
            .read()
            .iter()
            .filter(|b| b.meta.max_time_ms >= start_ms && b.meta.min_time_ms <= end_ms)
            .cloned()
            .collect();
        // Label set → samples, and whether more than one source contributed (only then can
        // the samples be out of order or duplicated).
        let mut merged: BTreeMap<Vec<(String, String)>, (SeriesSamples, bool)> = BTreeMap::new();
        let mut add = |s: SeriesSamples| {
            if s.timestamps_ms.is_empty() {
                return;
            }
            match merged.get_mut(&s.labels) {
                Some((m, several)) => {
                    m.timestamps_ms.extend_from_slice(&s.timestamps_ms);
                    m.values.extend_from_slice(&s.values);
                    *several = true;
                }
                None => {
                    merged.insert(s.labels.clone(), (s, false));
                }
            }
        };
        for block in &blocks {
            let ids: Vec<u32> = block.select(matchers)?.iter().collect();
            let parts: Vec<SeriesSamples> = ids
                .par_iter()
                .map(|&id| {
                    let mut s = SeriesSamples {
                        labels: block.labels(id)?,
                        timestamps_ms: Vec::new(),
                        values: Vec::new(),
                    };
                    block.read_floats(id, start_ms, end_ms, &mut s.timestamps_ms, &mut s.values)?;
                    Ok(s)
                })
                .collect::<Result<_>>()?;
            parts.into_iter().for_each(&mut add);
        }
        let ids: Vec<u32> = self.core.head.select(matchers)?.iter().collect();
        let head_parts: Vec<SeriesSamples> = ids
            .par_iter()
            .filter_map(|&id| {
                let series = self.core.head.series(id)?;
                let labels = self.core.head.labels(id)?;
                let mut s = SeriesSamples {
                    labels,
                    timestamps_ms: Vec::new(),
                    values: Vec::new(),
                };
                let read = series.lock().read_floats(
                    start_ms,
                    end_ms,
                    &mut s.timestamps_ms,
                    &mut s.values,
                );
                Some(read.map(|_| s).map_err(Error::from))
            })
            .collect::<Result<_>>()?;
        head_parts.into_iter().for_each(&mut add);
        let mut out: Vec<(SeriesSamples, bool)> = merged.into_values().collect();
        out.par_iter_mut()
            .filter(|(_, several)| *several)
            .for_each(|(s, _)| normalize(s));
        Ok(out.into_iter().map(|(s, _)| s).collect())
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
        let blocks: Vec<Arc<_>> = self.core.blocks.read().clone();
        let mut merged: BTreeMap<Vec<(String, String)>, Vec<HistogramColumns>> = BTreeMap::new();
        for block in blocks
            .iter()
            .filter(|b| b.meta.max_time_ms >= start_ms && b.meta.min_time_ms <= end_ms)
        {
            for id in block.select(matchers)?.iter() {
                let chunks = block.read_histograms(id, start_ms, end_ms)?;
                if !chunks.is_empty() {
                    merged.entry(block.labels(id)?).or_default().extend(chunks);
                }
            }
        }
        for id in self.core.head.select(matchers)?.iter() {
            let (Some(series), Some(labels)) =
                (self.core.head.series(id), self.core.head.labels(id))
            else {
                continue;
            };
            let chunks = series.lock().read_histograms(start_ms, end_ms)?;
            if !chunks.is_empty() {
                merged.entry(labels).or_default().extend(chunks);
            }
        }
        Ok(merged.into_iter().collect())
    }
}
