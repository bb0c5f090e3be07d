//! Ingest: series references, float samples one at a time or as columnar batches, histograms.
//!
//! A commit validates every sample against its series (order, duplicates, kind), writes the
//! accepted ones to the WAL as one record (acknowledged per the sync policy), then applies them
//! to the head. Rejected samples are reported one by one; the rest of the batch still lands.

use strata_codec::histogram::Histogram;
use strata_codec::histogram::HistogramLimits;

use super::{Db, SeriesRef};
use crate::error::{Error, Result};
use crate::head::Placement;
use crate::head::series::{Kind, MemSeries};
use crate::records::{self, FloatSample, SeriesRecord};
use strata_codec::native::NativeLimits;
use strata_model::NativeHistogram;

/// What happened to a batch.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Samples stored (duplicates of existing samples count as stored).
    pub accepted: usize,
    /// Index in the batch and the reason, for each refused sample.
    pub rejected: Vec<(usize, Error)>,
    /// Accepted samples already older than the bucket's retention (`now − retention` by
    /// [`crate::Options::clock`]): stored, but the next retention pass drops them. With
    /// [`crate::Options::reject_outside_retention`] they are refused instead.
    pub outside_retention: usize,
}

impl Db {
    /// The reference of a label set, creating the series if it is new (its definition is
    /// written to the WAL before the reference is returned). Labels are validated: a metric
    /// name, valid names, no duplicates, within the index's limits.
    pub fn series_ref<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        labels: &[(N, V)],
    ) -> Result<SeriesRef> {
        self.check_open()?;
        if let Some(id) = self.core.head.lookup(labels)? {
            return Ok(SeriesRef(id as u64));
        }
        // A new series' definition must not fall inside a checkpoint (between its first record
        // and the definitions it re-logs): the checkpoint would truncate the segments before it
        // without defining the series again.
        let _gate = self.core.append_gate.read();
        let (id, _) = self.core.head.get_or_create(labels, |id, index| {
            let labels = index
                .labels(id)
                .map(|it| it.map(|(n, v)| (n.to_owned(), v.to_owned())).collect())
                .unwrap_or_default();
            let mut payload = Vec::new();
            records::encode_series(
                &[SeriesRecord {
                    series_ref: id as u64,
                    labels,
                }],
                &mut payload,
            );
            self.core
                .wal
                .append(strata_wal::RecordType::SERIES, &payload)?;
            Ok::<(), Error>(())
        })?;
        Ok(SeriesRef(id as u64))
    }

    /// Appends one sample to the series with these labels.
    pub fn append<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        labels: &[(N, V)],
        t_ms: i64,
        value: f64,
    ) -> Result<()> {
        let r = self.series_ref(labels)?;
        self.append_ref(r, t_ms, value)
    }

    /// Appends one sample by reference.
    pub fn append_ref(&self, series: SeriesRef, t_ms: i64, value: f64) -> Result<()> {
        let mut out = self.append_batch(&[series], &[t_ms], &[value])?;
        match out.rejected.pop() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// Appends a columnar batch: `refs[i]` gets `(timestamps_ms[i], values[i])`, checked in
    /// order (a batch may hold several samples of one series). Errors only if the batch could
    /// not be made durable (WAL failure, closed database, mismatched lengths); refused samples
    /// are listed in the outcome. On an error nothing of the batch is acknowledged — samples
    /// already applied to the head may be visible until the database is reopened.
    pub fn append_batch(
        &self,
        refs: &[SeriesRef],
        timestamps_ms: &[i64],
        values: &[f64],
    ) -> Result<BatchOutcome> {
        self.check_open()?;
        if refs.len() != timestamps_ms.len() || refs.len() != values.len() {
            return Err(Error::BatchMismatch {
                refs: refs.len(),
                timestamps: timestamps_ms.len(),
                values: values.len(),
            });
        }
        // Held from validation to the WAL write: a checkpoint cannot fall in between.
        let _gate = self.core.append_gate.read();
        let min_valid = self.core.head.min_valid_ms();
        let window = self.core.options.out_of_order_window_ms;
        let limits = self.core.chunk_limits();
        let (max_t, retention_cutoff) = self.time_bounds();
        let reject_old = self.core.options.reject_outside_retention;
        let mut outcome = BatchOutcome::default();
        let mut accepted = Vec::with_capacity(refs.len());
        // Refusals are turned into errors after the registry lock is released: naming the
        // series takes the index lock, which series creation takes before the registry's.
        let mut refused: Vec<(usize, SeriesRef, i64, &'static str, i64)> = Vec::new();
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        // Validate and apply under one lock per sample, so later samples of the batch see the
        // earlier ones. The WAL record follows; nothing is acknowledged before it is written.
        self.core.head.with_series(|all| -> Result<()> {
            for (i, ((&r, &t), &v)) in refs.iter().zip(timestamps_ms).zip(values).enumerate() {
                let Some(series) = all.get(r.0 as usize) else {
                    refused.push((i, r, t, "unknown", 0));
                    continue;
                };
                if t < min_valid {
                    refused.push((i, r, t, "old", min_valid));
                    continue;
                }
                if t > max_t {
                    refused.push((i, r, t, "future", max_t));
                    continue;
                }
                if t < retention_cutoff {
                    if reject_old {
                        refused.push((i, r, t, "retention", retention_cutoff));
                        continue;
                    }
                    outcome.outside_retention += 1;
                }
                let mut guard = series.lock();
                match guard.check_float(t, v, window) {
                    Ok(Placement::Duplicate) => outcome.accepted += 1,
                    Ok(_) => {
                        guard.apply_float(t, v, limits)?;
                        accepted.push(FloatSample {
                            series_ref: r.0,
                            timestamp_ms: t,
                            value: v,
                        });
                        lo = lo.min(t);
                        hi = hi.max(t);
                    }
                    Err(why) => refused.push((i, r, t, why, guard.newest_t)),
                }
            }
            Ok(())
        })?;
        for (i, r, t, why, newest) in refused {
            outcome
                .rejected
                .push((i, self.sample_error(r, t, why, newest)));
        }
        if accepted.is_empty() {
            return Ok(outcome);
        }
        self.log_float_samples(&accepted)?;
        outcome.accepted += accepted.len();
        self.core.head.note_times(lo, hi);
        drop(_gate);
        self.maybe_cut()?;
        Ok(outcome)
    }

    /// Appends an explicit-bucket histogram sample. Histogram series take in-order samples only.
    pub fn append_histogram(
        &self,
        series: SeriesRef,
        t_ms: i64,
        histogram: &Histogram,
    ) -> Result<()> {
        histogram.validate()?;
        let mut payload = Vec::new();
        records::encode_histogram_samples(&[(series.0, t_ms, histogram)], &mut payload);
        let apply =
            |g: &mut MemSeries| g.apply_histogram(t_ms, histogram, HistogramLimits::default());
        self.append_one(series, t_ms, (Kind::Histogram, &payload), apply)
    }

    /// Appends a native histogram sample (validated: [`NativeHistogram::validate`]). Native
    /// histogram series take in-order samples only.
    pub fn append_native_histogram(
        &self,
        series: SeriesRef,
        t_ms: i64,
        h: &NativeHistogram,
    ) -> Result<()> {
        let mut payload = Vec::new();
        records::encode_native_samples(&[(series.0, t_ms, h)], &mut payload)?;
        let apply = |g: &mut MemSeries| g.apply_native(t_ms, h, NativeLimits::default());
        self.append_one(series, t_ms, (Kind::Native, &payload), apply)
    }

    /// One histogram sample of `kind` whose WAL payload is `payload`: time and order checks,
    /// the WAL write, then `apply` under the series' lock (held across the write, so two
    /// writers of one series stay in order).
    fn append_one(
        &self,
        series: SeriesRef,
        t_ms: i64,
        (kind, payload): (Kind, &[u8]),
        apply: impl FnOnce(&mut MemSeries) -> strata_tsdb::Result<()>,
    ) -> Result<()> {
        self.check_open()?;
        let _gate = self.core.append_gate.read();
        let id = series.0 as u32;
        let s = self
            .core
            .head
            .series(id)
            .ok_or(Error::UnknownSeriesRef(series.0))?;
        let min_valid = self.core.head.min_valid_ms();
        let (max_t, retention_cutoff) = self.time_bounds();
        if t_ms < min_valid {
            return Err(self.sample_error(series, t_ms, "old", min_valid));
        }
        if t_ms > max_t {
            return Err(self.sample_error(series, t_ms, "future", max_t));
        }
        if t_ms < retention_cutoff && self.core.options.reject_outside_retention {
            return Err(self.sample_error(series, t_ms, "retention", retention_cutoff));
        }
        let mut guard = s.lock();
        if guard.kind != kind && guard.kind != Kind::Empty {
            let detail = "histogram sample for a series of another kind";
            return Err(Error::KindMismatch {
                series: self.core.head.describe(id),
                detail,
            });
        }
        if guard.newest_t != i64::MIN && t_ms <= guard.newest_t {
            let newest = guard.newest_t;
            return Err(self.sample_error(series, t_ms, "order", newest));
        }
        self.core
            .wal
            .append(strata_wal::RecordType::METRICS, payload)?;
        apply(&mut guard)?;
        drop(guard);
        self.core.head.note_times(t_ms, t_ms);
        drop(_gate);
        self.maybe_cut()
    }

    /// Writes accepted samples to the WAL (as parts when larger than a record).
    fn log_float_samples(&self, samples: &[FloatSample]) -> Result<()> {
        records::log_float_samples(samples, |p| {
            (self.core.wal)
                .append(strata_wal::RecordType::METRICS, p)
                .map_err(Error::from)
        })
    }

    /// The newest timestamp accepted now, and the oldest the metrics bucket's retention keeps.
    pub(super) fn time_bounds(&self) -> (i64, i64) {
        let now = self.core.options.clock.now_ms();
        (
            now.saturating_add(self.core.options.future_tolerance_ms),
            now.saturating_sub(self.core.options.metrics_retention_ms),
        )
    }

    fn sample_error(&self, r: SeriesRef, t: i64, why: &'static str, newest_or_min: i64) -> Error {
        if why == "unknown" {
            return Error::UnknownSeriesRef(r.0);
        }
        let series = self.core.head.describe(r.0 as u32);
        match why {
            "old" => Error::TooOld {
                series,
                timestamp_ms: t,
                min_valid_ms: newest_or_min,
            },
            "future" => Error::TooFarInFuture {
                what: series,
                timestamp_ms: t,
                max_ms: newest_or_min,
            },
            "retention" => Error::OutsideRetention {
                what: series,
                timestamp_ms: t,
                cutoff_ms: newest_or_min,
                bucket: self.core.options.metrics_bucket.clone(),
            },
            "duplicate" => Error::DuplicateTimestamp {
                series,
                timestamp_ms: t,
            },
            "kind" => Error::KindMismatch {
                series,
                detail: "float sample for a histogram series",
            },
            _ => Error::OutOfOrder {
                series,
                timestamp_ms: t,
                newest_ms: newest_or_min,
                window_ms: self.core.options.out_of_order_window_ms,
            },
        }
    }
}
