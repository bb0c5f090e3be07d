//! Native histograms (Prometheus' sparse histograms: exponential schemas −4…8 and custom
//! buckets): `strata_db_append_native_histogram`. Query them with PromQL
//! (`strata_db_query_range`): `histogram_count`, `histogram_quantile`, … return floats.

use strata_engine::{BucketSpan, CounterResetHint, NativeHistogram, SeriesRef};

use crate::args::{check_len, slice};
use crate::db::{db_ref, strata_db};
use crate::error::{Failure, strata_error, strata_status};
use crate::guard::call;

/// Most spans per side and most buckets (positive plus negative) or custom bounds in one native
/// histogram.
pub const STRATA_MAX_NATIVE_BUCKETS: usize = 4096;

/// A run of `length` present buckets, `offset` buckets after the previous run (the first run:
/// starting at bucket index `offset`).
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_bucket_span {
    pub offset: i32,
    pub length: u32,
}

/// One native histogram sample, borrowed for the call. Bucket counts are absolute (not
/// deltas), one per present bucket in index order.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_native_histogram {
    /// -4 to 8, or -53 for custom buckets (`custom_values` are then the upper bounds).
    pub schema: i32,
    /// 0 unknown, 1 counter reset, 2 no counter reset, 3 gauge (as Prometheus numbers them).
    pub counter_reset_hint: u8,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: *const strata_bucket_span,
    pub positive_span_count: usize,
    pub positive_buckets: *const f64,
    pub positive_bucket_count: usize,
    pub negative_spans: *const strata_bucket_span,
    pub negative_span_count: usize,
    pub negative_buckets: *const f64,
    pub negative_bucket_count: usize,
    pub custom_values: *const f64,
    pub custom_value_count: usize,
}

/// Appends a native histogram sample to `series_ref` (a series that holds native
/// histograms: the first sample decides a series' kind). Native series take in-order samples
/// only. A histogram whose shape is wrong (spans that do not cover the buckets, negative
/// counts, a schema out of range, …) is `STRATA_ERR_INVALID_ARGUMENT` with what is wrong.
///
/// # Safety
/// `db` is NULL or a live handle; `histogram` is NULL or points to a `strata_native_histogram`
/// whose arrays hold their stated number of readable elements; `err` is NULL or valid for a
/// pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_append_native_histogram(
    db: *const strata_db,
    series_ref: u64,
    timestamp_ms: i64,
    histogram: *const strata_native_histogram,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        if histogram.is_null() {
            return Err(Failure::null("histogram"));
        }
        if !histogram.is_aligned() {
            return Err(Failure::invalid("histogram is misaligned"));
        }
        // SAFETY: non-NULL, aligned, points to a strata_native_histogram (contract).
        let h = unsafe { histogram.read() };
        // SAFETY: the arrays hold the stated counts (contract), each bounded by the check.
        let native = unsafe { to_native(&h)? };
        handle.with(|db| {
            Ok(db.append_native_histogram(SeriesRef(series_ref), timestamp_ms, &native)?)
        })
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Copies the borrowed arrays into a [`NativeHistogram`].
///
/// # Safety
/// The arrays of `h` hold their stated number of readable elements.
unsafe fn to_native(h: &strata_native_histogram) -> Result<NativeHistogram, Failure> {
    const MAX: usize = STRATA_MAX_NATIVE_BUCKETS;
    check_len(h.positive_span_count, MAX, "positive_span_count")?;
    check_len(h.negative_span_count, MAX, "negative_span_count")?;
    check_len(h.positive_bucket_count, MAX, "positive_bucket_count")?;
    check_len(h.negative_bucket_count, MAX, "negative_bucket_count")?;
    check_len(h.custom_value_count, MAX, "custom_value_count")?;
    let hint = CounterResetHint::from_u8(h.counter_reset_hint).ok_or_else(|| {
        Failure::invalid(format!(
            "counter_reset_hint {} is not 0…3",
            h.counter_reset_hint
        ))
    })?;
    let spans = |s: &[strata_bucket_span]| -> Vec<BucketSpan> {
        s.iter()
            .map(|s| BucketSpan {
                offset: s.offset,
                length: s.length,
            })
            .collect()
    };
    // SAFETY: each pointer holds its count of elements (contract), counts bounded above.
    let (ps, pb, ns, nb, cv) = unsafe {
        (
            slice(h.positive_spans, h.positive_span_count, "positive_spans")?,
            slice(
                h.positive_buckets,
                h.positive_bucket_count,
                "positive_buckets",
            )?,
            slice(h.negative_spans, h.negative_span_count, "negative_spans")?,
            slice(
                h.negative_buckets,
                h.negative_bucket_count,
                "negative_buckets",
            )?,
            slice(h.custom_values, h.custom_value_count, "custom_values")?,
        )
    };
    Ok(NativeHistogram {
        counter_reset_hint: hint,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count,
        count: h.count,
        sum: h.sum,
        positive_spans: spans(ps),
        positive_buckets: pb.to_vec(),
        negative_spans: spans(ns),
        negative_buckets: nb.to_vec(),
        custom_values: cv.to_vec(),
    })
}
