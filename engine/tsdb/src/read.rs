//! Reading series out of blocks and the head by matchers, and merging the parts of one label
//! set that several sources hold. The engine takes its read view, picks the blocks that
//! overlap the range and calls these.

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use strata_codec::histogram::HistogramColumns;
use strata_index::Matcher;
use strata_model::NativeHistogram;

use crate::Result;
use crate::block::Block;
use crate::head::Head;

/// One series' samples from a select, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSamples {
    /// Sorted by name; `__name__` included.
    pub labels: Vec<(String, String)>,
    pub timestamps_ms: Vec<i64>,
    pub values: Vec<f64>,
}

/// A histogram series: its labels and decoded chunks.
pub type HistogramSeries = (Vec<(String, String)>, Vec<HistogramColumns>);

impl SeriesSamples {
    fn new(labels: Vec<(String, String)>) -> SeriesSamples {
        SeriesSamples {
            labels,
            timestamps_ms: Vec::new(),
            values: Vec::new(),
        }
    }
}

/// The float samples in `[start_ms, end_ms]` of every series of `block` matching `matchers`.
pub fn block_floats(
    block: &Block,
    matchers: &[Matcher],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<SeriesSamples>> {
    let ids: Vec<u32> = block.select(matchers)?.iter().collect();
    ids.par_iter()
        .map(|&id| {
            let mut s = SeriesSamples::new(block.labels(id)?);
            block.read_floats(id, start_ms, end_ms, &mut s.timestamps_ms, &mut s.values)?;
            Ok(s)
        })
        .collect()
}

/// The float samples in `[start_ms, end_ms]` of every head series matching `matchers`.
pub fn head_floats(
    head: &Head,
    matchers: &[Matcher],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<SeriesSamples>> {
    let ids: Vec<u32> = head.select(matchers)?.iter().collect();
    ids.par_iter()
        .filter_map(|&id| {
            let series = head.series(id)?;
            let mut s = SeriesSamples::new(head.labels(id)?);
            let read =
                series
                    .lock()
                    .read_floats(start_ms, end_ms, &mut s.timestamps_ms, &mut s.values);
            Some(read.map(|_| s))
        })
        .collect()
}

/// One series per label set of `parts`, sorted by label set; parts with no sample are left
/// out. Samples of a label set from several parts are sorted, the first value kept on equal
/// timestamps.
pub fn merge_series(parts: impl IntoIterator<Item = SeriesSamples>) -> Vec<SeriesSamples> {
    // Label set → samples, and whether more than one part contributed (only then can the
    // samples be out of order or duplicated).
    let mut merged: BTreeMap<Vec<(String, String)>, (SeriesSamples, bool)> = BTreeMap::new();
    for s in parts {
        if s.timestamps_ms.is_empty() {
            continue;
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
    }
    let mut out: Vec<(SeriesSamples, bool)> = merged.into_values().collect();
    out.par_iter_mut()
        .filter(|(_, several)| *several)
        .for_each(|(s, _)| crate::samples::sort_dedup(&mut s.timestamps_ms, &mut s.values));
    out.into_iter().map(|(s, _)| s).collect()
}

/// Every explicit-bucket histogram series of `blocks` and `head` matching `matchers`, with
/// its decoded chunks overlapping `[start_ms, end_ms]` (whole chunks), by label set.
pub fn histograms(
    blocks: &[Arc<Block>],
    head: &Head,
    matchers: &[Matcher],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<HistogramSeries>> {
    let mut merged: BTreeMap<Vec<(String, String)>, Vec<HistogramColumns>> = BTreeMap::new();
    for block in blocks {
        for id in block.select(matchers)?.iter() {
            let chunks = block.read_histograms(id, start_ms, end_ms)?;
            if !chunks.is_empty() {
                merged.entry(block.labels(id)?).or_default().extend(chunks);
            }
        }
    }
    for id in head.select(matchers)?.iter() {
        let (Some(series), Some(labels)) = (head.series(id), head.labels(id)) else {
            continue;
        };
        let chunks = series.lock().read_histograms(start_ms, end_ms)?;
        if !chunks.is_empty() {
            merged.entry(labels).or_default().extend(chunks);
        }
    }
    Ok(merged.into_iter().collect())
}

/// Native histogram samples in time order.
pub type NativeSamples = Vec<(i64, NativeHistogram)>;

/// A native histogram series: its labels and samples in time order.
pub type NativeSeries = (Vec<(String, String)>, NativeSamples);

/// Every native histogram series of `blocks` and `head` matching `matchers`, with its samples
/// in `[start_ms, end_ms]`, by label set (blocks first: they hold the older samples).
pub fn native_histograms(
    blocks: &[Arc<Block>],
    head: &Head,
    matchers: &[Matcher],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<NativeSeries>> {
    let mut merged: BTreeMap<Vec<(String, String)>, NativeSamples> = BTreeMap::new();
    for block in blocks {
        for id in block.select(matchers)?.iter() {
            let samples = block.read_natives(id, start_ms, end_ms)?;
            if !samples.is_empty() {
                merged.entry(block.labels(id)?).or_default().extend(samples);
            }
        }
    }
    for id in head.select(matchers)?.iter() {
        let (Some(series), Some(labels)) = (head.series(id), head.labels(id)) else {
            continue;
        };
        let samples = series.lock().read_natives(start_ms, end_ms)?;
        if !samples.is_empty() {
            merged.entry(labels).or_default().extend(samples);
        }
    }
    for samples in merged.values_mut() {
        samples.sort_by_key(|s| s.0);
        samples.dedup_by_key(|s| s.0);
    }
    Ok(merged.into_iter().collect())
}
