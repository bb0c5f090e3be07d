//! The head: every series the database knows, with its recent samples in memory.
//!
//! Series ids come from a [`MemIndex`] (label set → id, roaring postings for matchers). Each
//! series sits behind its own mutex, so writers to different series never contend; the
//! registry's locks are taken briefly (read to find a series, write only to create one).

pub mod series;

use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use strata_index::{LabelIndex, Matcher, MemIndex, RoaringBitmap, SeriesId};

pub use series::{MemSeries, Placement};

use crate::{Error, Result};

#[derive(Debug)]
pub struct Head {
    index: RwLock<MemIndex>,
    series: RwLock<Vec<Arc<Mutex<MemSeries>>>>,
    /// No sample older than this is accepted (older time ranges are in blocks).
    min_valid_ms: AtomicI64,
    /// Oldest and newest sample timestamps ever applied to the head since the last cut.
    min_time_ms: AtomicI64,
    max_time_ms: AtomicI64,
}

impl Default for Head {
    fn default() -> Self {
        Head::new()
    }
}

impl Head {
    pub fn new() -> Self {
        Head {
            index: RwLock::new(MemIndex::new()),
            series: RwLock::new(Vec::new()),
            min_valid_ms: AtomicI64::new(i64::MIN),
            min_time_ms: AtomicI64::new(i64::MAX),
            max_time_ms: AtomicI64::new(i64::MIN),
        }
    }

    /// Finds or creates a series. `on_create` runs under the registry's write lock before the new
    /// id is visible to others, so the engine can log the definition ahead of any sample.
    pub fn get_or_create<N: AsRef<[u8]>, V: AsRef<[u8]>, E: From<strata_index::Error>>(
        &self,
        labels: &[(N, V)],
        on_create: impl FnOnce(SeriesId, &MemIndex) -> std::result::Result<(), E>,
    ) -> std::result::Result<(SeriesId, bool), E> {
        if let Some(id) = self.index.read().get(labels)? {
            return Ok((id, false));
        }
        let mut index = self.index.write();
        let before = index.len();
        let id = index.get_or_insert(labels)?;
        if index.len() == before {
            return Ok((id, false));
        }
        let mut series = self.series.write();
        debug_assert_eq!(id as usize, series.len());
        series.push(Arc::new(Mutex::new(MemSeries::new())));
        drop(series);
        // On error the id stays (the index cannot forget it) but without a logged definition;
        // the caller gets the error and nothing referencing it was acknowledged.
        on_create(id, &index)?;
        Ok((id, true))
    }

    /// The id of an existing series with these labels.
    pub fn lookup<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        labels: &[(N, V)],
    ) -> Result<Option<SeriesId>> {
        Ok(self.index.read().get(labels)?)
    }

    /// Re-creates a series with a known id during replay.
    pub fn restore(&self, id: u64, labels: &[(String, String)]) -> Result<()> {
        let mut index = self.index.write();
        let got = index.get_or_insert(labels)?;
        if got as u64 != id {
            return Err(Error::Internal(format!(
                "replayed series id {id} was assigned {got}: WAL series records applied out of sequence"
            )));
        }
        let mut series = self.series.write();
        while series.len() <= got as usize {
            series.push(Arc::new(Mutex::new(MemSeries::new())));
        }
        Ok(())
    }

    pub fn series(&self, id: SeriesId) -> Option<Arc<Mutex<MemSeries>>> {
        self.series.read().get(id as usize).cloned()
    }

    /// Runs `f` with the registry's series list (read-locked), for batch work.
    pub fn with_series<R>(&self, f: impl FnOnce(&[Arc<Mutex<MemSeries>>]) -> R) -> R {
        f(&self.series.read())
    }

    pub fn is_empty(&self) -> bool {
        self.series.read().is_empty()
    }

    /// Series in the registry (ids are `0..len`).
    pub fn len(&self) -> usize {
        self.series.read().len()
    }

    /// Samples in the head (a histogram sample counts once). Counts by decoding: exact, and
    /// cheap next to a stats call's other I/O.
    pub fn sample_count(&self) -> u64 {
        self.with_series(|all| {
            all.iter()
                .map(|series| {
                    let g = series.lock();
                    let (mut ts, mut vs) = (Vec::new(), Vec::new());
                    let floats = g
                        .read_floats(i64::MIN, i64::MAX, &mut ts, &mut vs)
                        .map(|_| ts.len() as u64);
                    let histograms = g
                        .read_histograms(i64::MIN, i64::MAX)
                        .map(|cols| cols.iter().map(|c| c.len() as u64).sum::<u64>());
                    floats.unwrap_or(0) + histograms.unwrap_or(0) + g.native_len().unwrap_or(0)
                })
                .sum()
        })
    }

    /// A printable `name{labels}` for error messages.
    pub fn describe(&self, id: SeriesId) -> String {
        let index = self.index.read();
        match index.labels(id) {
            Some(labels) => {
                let mut name = String::new();
                let mut rest = Vec::new();
                for (n, v) in labels {
                    if n == strata_index::METRIC_NAME {
                        name = v.to_owned();
                    } else {
                        rest.push(format!("{n}={v:?}"));
                    }
                }
                format!("{name}{{{}}}", rest.join(","))
            }
            None => format!("series #{id}"),
        }
    }

    pub fn labels(&self, id: SeriesId) -> Option<Vec<(String, String)>> {
        let index = self.index.read();
        index
            .labels(id)
            .map(|it| it.map(|(n, v)| (n.to_owned(), v.to_owned())).collect())
    }

    pub fn select(&self, matchers: &[Matcher]) -> Result<RoaringBitmap> {
        Ok(self.index.read().select(matchers)?)
    }

    pub fn min_valid_ms(&self) -> i64 {
        self.min_valid_ms.load(Ordering::Acquire)
    }

    pub fn set_min_valid_ms(&self, t: i64) {
        self.min_valid_ms.fetch_max(t, Ordering::AcqRel);
    }

    pub fn note_times(&self, min_t: i64, max_t: i64) {
        self.min_time_ms.fetch_min(min_t, Ordering::AcqRel);
        self.max_time_ms.fetch_max(max_t, Ordering::AcqRel);
    }

    /// `(oldest, newest)` timestamps applied since the last cut, if any.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let (lo, hi) = (
            self.min_time_ms.load(Ordering::Acquire),
            self.max_time_ms.load(Ordering::Acquire),
        );
        (lo <= hi).then_some((lo, hi))
    }

    pub fn reset_min_time(&self, t: i64) {
        self.min_time_ms.store(t, Ordering::Release);
    }
}
