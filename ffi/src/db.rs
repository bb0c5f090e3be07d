//! The database handle: open, close, free, series references, appends, sync, compact, stats.
//!
//! Ownership model of `strata_db`: `strata_db_open` hands the caller a handle it owns;
//! `strata_db_close` closes the database (syncs the WAL, releases the directory lock) but keeps
//! the handle's memory, so any later call on it returns `STRATA_ERR_CLOSED` instead of
//! touching freed memory; `strata_db_free(&db)` closes if needed, frees the handle and sets the
//! caller's pointer to NULL. Every function but `strata_db_free` may be called on one handle
//! from many threads at once.

use std::ffi::{CString, c_char};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use parking_lot::RwLock;
use strata_engine::{Db, Fsync, Histogram, Options, SeriesRef};

use crate::args::{self, check_len, slice};
use crate::error::{Failure, strata_error, strata_status};
use crate::guard::{call, check_out, free_handle, write_out};
use crate::{STRATA_MAX_BATCH_SAMPLES, STRATA_MAX_HISTOGRAM_BOUNDS};

/// An open (or closed, not yet freed) database. Opaque.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct strata_db {
    /// `None` once closed. Calls hold the read lock for their duration; `close` takes the
    /// write lock, so it waits for calls in flight and no call sees a half-closed database.
    db: RwLock<Option<Db>>,
}

impl strata_db {
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Db) -> Result<R, Failure>) -> Result<R, Failure> {
        let guard = self.db.read();
        match guard.as_ref() {
            Some(db) => f(db),
            None => Err(strata_engine::Error::Closed.into()),
        }
    }
}

/// # Safety
/// `db` is NULL or a handle from `strata_db_open` not yet freed.
pub(crate) unsafe fn db_ref<'a>(db: *const strata_db) -> Result<&'a strata_db, Failure> {
    // SAFETY: NULL or a live handle (contract); live handles are only freed by strata_db_free,
    // which must not run concurrently with other calls on the handle.
    unsafe { db.as_ref() }.ok_or_else(|| Failure::null("db"))
}

/// When a commit is acknowledged relative to fsync (`strata_options.fsync`).
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub enum strata_fsync {
    /// The operating system decides when to write back; a process crash loses nothing
    /// acknowledged, a power loss may.
    STRATA_FSYNC_NEVER = 0,
    /// Every commit returns after an fsync covering it (concurrent commits share fsyncs):
    /// nothing acknowledged is lost, even on power loss.
    STRATA_FSYNC_ALWAYS = 1,
    /// A background fsync every `fsync_interval_ms`: a power loss loses at most that window.
    STRATA_FSYNC_INTERVAL = 2,
}

/// Options for `strata_db_open`. Fill with `strata_options_default`, then change fields.
/// Plain data, owned by the caller; the library only reads it during `strata_db_open`.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_options {
    /// One of `strata_fsync` (a `uint32_t` so any value can be checked). Default
    /// `STRATA_FSYNC_INTERVAL`.
    pub fsync: u32,
    /// Interval for `STRATA_FSYNC_INTERVAL`, ≥ 1. Default 1000.
    pub fsync_interval_ms: u64,
    /// Length of the time partitions the head is cut into blocks at, ≥ 1000. Default 2 h.
    pub block_duration_ms: i64,
    /// Blocks whose newest sample is older than this are deleted, > 0. Default 15 months.
    pub retention_ms: i64,
    /// Samples up to this much older than their series' newest are accepted, ≥ 0. Default 0.
    pub out_of_order_window_ms: i64,
    /// 1: open a damaged WAL by skipping damaged records; 0 (default): fail with
    /// `STRATA_ERR_CORRUPT`.
    pub wal_salvage: u32,
    /// "Now" for retention, the future bound and span sealing, in ms since the epoch: 0
    /// (default) reads the system clock; any other value pins the clock there (tests,
    /// replays of old data).
    pub clock_fixed_ms: i64,
    /// Samples and spans more than this far ahead of the clock are refused with
    /// `STRATA_ERR_TOO_NEW`, ≥ 0. Default 10 minutes.
    pub future_tolerance_ms: i64,
    /// 1: refuse samples and spans older than their bucket's retention with
    /// `STRATA_ERR_OUTSIDE_RETENTION`; 0 (default): store them, count them, and let the next
    /// retention pass drop them.
    pub reject_outside_retention: u32,
}

impl strata_options {
    fn defaults() -> Self {
        let o = Options::default();
        strata_options {
            fsync: strata_fsync::STRATA_FSYNC_INTERVAL as u32,
            fsync_interval_ms: match o.fsync {
                Fsync::IntervalMs(ms) => ms,
                _ => 1000,
            },
            block_duration_ms: o.block_duration_ms,
            retention_ms: o.metrics_retention_ms,
            out_of_order_window_ms: o.out_of_order_window_ms,
            wal_salvage: 0,
            clock_fixed_ms: 0,
            future_tolerance_ms: o.future_tolerance_ms,
            reject_outside_retention: 0,
        }
    }

    fn to_engine(self) -> Result<Options, Failure> {
        let fsync = match self.fsync {
            0 => Fsync::Never,
            1 => Fsync::Always,
            2 if self.fsync_interval_ms >= 1 => Fsync::IntervalMs(self.fsync_interval_ms),
            2 => return Err(Failure::invalid("fsync_interval_ms must be at least 1")),
            other => {
                return Err(Failure::invalid(format!(
                    "fsync is {other}, not a strata_fsync value (0, 1 or 2)"
                )));
            }
        };
        let wal_salvage = match self.wal_salvage {
            0 => false,
            1 => true,
            other => {
                return Err(Failure::invalid(format!(
                    "wal_salvage is {other}, not 0 or 1"
                )));
            }
        };
        let reject_outside_retention = match self.reject_outside_retention {
            0 => false,
            1 => true,
            other => {
                return Err(Failure::invalid(format!(
                    "reject_outside_retention is {other}, not 0 or 1"
                )));
            }
        };
        let clock = match self.clock_fixed_ms {
            0 => strata_engine::Clock::system(),
            t => strata_engine::Clock::fixed(t),
        };
        Ok(Options {
            fsync,
            block_duration_ms: self.block_duration_ms,
            out_of_order_window_ms: self.out_of_order_window_ms,
            metrics_retention_ms: self.retention_ms,
            wal_salvage,
            clock,
            future_tolerance_ms: self.future_tolerance_ms,
            reject_outside_retention,
            ..Options::default()
        })
    }
}

/// Fills `*out` with the default options.
///
/// # Safety
/// `out` is NULL (reported as an error) or valid for a write of `strata_options`; `err` is
/// NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_options_default(
    out: *mut strata_options,
    err: *mut *mut strata_error,
) -> strata_status {
    // SAFETY: `err` and `out` per this function's contract.
    unsafe { call(err, || write_out(out, "out", strata_options::defaults())) }
}

/// Opens (creating if needed) the database in directory `dir` and replays its WAL.
///
/// - `dir`: NUL-terminated path (any bytes but NUL; need not be UTF-8), borrowed for the call.
/// - `options`: NULL for the defaults, else borrowed for the call.
/// - `out_db`: receives a new handle owned by the caller (release with `strata_db_free`); set
///   to NULL on failure.
///
/// Fails with `STRATA_ERR_LOCKED` if the directory is open in another handle or process,
/// `STRATA_ERR_IO` if it cannot be created or read, `STRATA_ERR_CORRUPT` if its files are
/// damaged, `STRATA_ERR_INVALID_ARGUMENT` for bad options.
///
/// # Safety
/// `dir` is NULL or a NUL-terminated string; `options` is NULL or points to a
/// `strata_options`; `out_db` is NULL or valid for a pointer write; `err` is NULL or valid for
/// a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_open(
    dir: *const c_char,
    options: *const strata_options,
    out_db: *mut *mut strata_db,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        check_out(out_db, "out_db")?;
        // SAFETY: checked non-NULL and aligned above; writable per contract.
        unsafe { out_db.write(std::ptr::null_mut()) };
        if dir.is_null() {
            return Err(Failure::null("dir"));
        }
        // Paths need not be UTF-8: read the bytes with the same bounded scan, then check
        // only that the string is non-empty.
        let mut len = 0usize;
        // SAFETY: `dir` is a NUL-terminated string (contract); the scan stops at the NUL.
        while unsafe { *dir.add(len) } != 0 {
            len += 1;
            check_len(len, crate::STRATA_MAX_STRING_BYTES, "dir length")?;
        }
        if len == 0 {
            return Err(Failure::invalid("dir is empty"));
        }
        // SAFETY: the `len` bytes before the NUL were just read.
        let bytes = unsafe { std::slice::from_raw_parts(dir.cast::<u8>(), len) };
        let path = Path::new(std::ffi::OsStr::from_bytes(bytes));
        let opts = if options.is_null() {
            strata_options::defaults()
        } else if !options.is_aligned() {
            return Err(Failure::invalid("options is misaligned"));
        } else {
            // SAFETY: non-NULL, aligned, points to a strata_options (contract). Every field is
            // an integer, so any bit pattern is a valid value; each is checked below.
            unsafe { options.read() }
        };
        let db = Db::open(path, opts.to_engine()?)?;
        let handle = Box::into_raw(Box::new(strata_db {
            db: RwLock::new(Some(db)),
        }));
        // SAFETY: checked above; the caller now owns `handle`.
        unsafe { out_db.write(handle) };
        Ok(())
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Closes the database: syncs the WAL and releases the directory lock (the same directory may
/// be opened again at once). Waits for calls in flight on other threads. The handle stays
/// allocated: later calls on it return `STRATA_ERR_CLOSED`; free it with `strata_db_free`.
/// Closing a closed handle, or NULL, does nothing and returns `STRATA_OK`.
///
/// # Safety
/// `db` is NULL or a handle not yet freed; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_close(
    db: *const strata_db,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: NULL or a live handle (contract).
        let Some(handle) = (unsafe { db.as_ref() }) else {
            return Ok(());
        };
        let taken = handle.db.write().take();
        match taken {
            Some(db) => db.close().map_err(Failure::from),
            None => Ok(()),
        }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Closes the database if still open (errors are dropped: call `strata_db_close` first to see
/// them), frees the handle and sets `*db` to NULL. NULL, or a pointer to NULL, is a no-op.
///
/// # Safety
/// `db` is NULL or points to NULL or to a handle from `strata_db_open` not yet freed, and no
/// other thread uses that handle during or after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_free(db: *mut *mut strata_db) {
    // SAFETY: forwarded contract; `free_handle` drops the Box, whose Db's Drop closes it.
    unsafe {
        if !db.is_null() && db.is_aligned() && !(*db).is_null() {
            strata_db_close(*db, std::ptr::null_mut());
        }
        free_handle(db);
    }
}

/// The reference of the series with these labels, creating the series if it is new (its
/// definition is durable per the fsync policy before the reference is returned). References
/// are stable for the life of the directory, across restarts.
///
/// - `names`, `values`: `label_count` NUL-terminated UTF-8 strings each, borrowed for the
///   call; label `i` is `names[i]="values[i]"`. A `__name__` label is required; an empty value
///   means the label is absent. At most `STRATA_MAX_LABELS` labels.
/// - `out_ref`: receives the reference.
///
/// # Safety
/// `db` is NULL or a live handle; `names`/`values` point to `label_count` string pointers
/// each (may be NULL when `label_count` is 0); `out_ref` is NULL or writable; `err` is NULL or
/// valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_series_ref(
    db: *const strata_db,
    names: *const *const c_char,
    values: *const *const c_char,
    label_count: usize,
    out_ref: *mut u64,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let (handle, labels) = unsafe { (db_ref(db)?, args::labels(names, values, label_count)?) };
        check_out(out_ref, "out_ref")?;
        let r = handle.with(|db| Ok(db.series_ref(&labels)?))?;
        // SAFETY: checked above; writable per contract.
        unsafe { write_out(out_ref, "out_ref", r.0) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Appends one sample to the series with these labels (created if new). Convenient, slower
/// than `strata_db_append_batch`: the label set is looked up on every call. Arguments as in
/// `strata_db_series_ref`.
///
/// # Safety
/// As `strata_db_series_ref`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_append(
    db: *const strata_db,
    names: *const *const c_char,
    values: *const *const c_char,
    label_count: usize,
    timestamp_ms: i64,
    value: f64,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let (handle, labels) = unsafe { (db_ref(db)?, args::labels(names, values, label_count)?) };
        handle.with(|db| Ok(db.append(&labels, timestamp_ms, value)?))
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Appends one sample to the series `series_ref`.
///
/// # Safety
/// `db` is NULL or a live handle; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_append_ref(
    db: *const strata_db,
    series_ref: u64,
    timestamp_ms: i64,
    value: f64,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        handle.with(|db| Ok(db.append_ref(SeriesRef(series_ref), timestamp_ms, value)?))
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// What happened to a batch (`strata_db_append_batch`). Plain data owned by the caller.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_batch_result {
    /// Samples stored (a sample identical to a stored one counts as stored).
    pub accepted: usize,
    /// Samples refused (out of order, duplicate timestamp, too old, unknown series, kind).
    pub rejected: usize,
    /// Index in the batch of the first refused sample (meaningful when `rejected > 0`).
    pub first_rejected_index: usize,
    /// Why the first refused sample was refused; `STRATA_OK` when none was.
    pub first_rejected_status: strata_status,
}

/// Appends a columnar batch — the fast path: sample `i` is `(timestamps_ms[i], values[i])` for
/// series `refs[i]`. All accepted samples are committed together: one WAL record, made durable
/// per the fsync policy before the call returns.
///
/// Returns `STRATA_OK` when every sample was accepted. When some samples are refused the others
/// are still stored, and the call returns the first refused sample's status (e.g.
/// `STRATA_ERR_OUT_OF_ORDER`) with `*err` naming its index; `*result` (if not NULL) tells how
/// many were accepted and refused. Any other failure (`STRATA_ERR_CLOSED`, `STRATA_ERR_IO`, …)
/// means nothing of the batch was acknowledged.
///
/// - `refs`, `timestamps_ms`, `values`: `count` elements each, borrowed for the call (may be
///   NULL when `count` is 0). `count` ≤ `STRATA_MAX_BATCH_SAMPLES`.
/// - `result`: NULL, or receives the outcome.
///
/// # Safety
/// `db` is NULL or a live handle; the three arrays hold `count` readable elements each;
/// `result` is NULL or writable; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_append_batch(
    db: *const strata_db,
    refs: *const u64,
    timestamps_ms: *const i64,
    values: *const f64,
    count: usize,
    result: *mut strata_batch_result,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        let mut outcome = strata_batch_result {
            accepted: 0,
            rejected: 0,
            first_rejected_index: 0,
            first_rejected_status: strata_status::STRATA_OK,
        };
        if !result.is_null() {
            // SAFETY: non-NULL result is writable (contract); zeroed first so a failure
            // leaves a defined outcome.
            unsafe { write_out(result, "result", outcome)? };
        }
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        check_len(count, STRATA_MAX_BATCH_SAMPLES, "count")?;
        // SAFETY: `count` readable elements each (contract); count bounded above.
        let (refs, ts, vs) = unsafe {
            (
                slice(refs, count, "refs")?,
                slice(timestamps_ms, count, "timestamps_ms")?,
                slice(values, count, "values")?,
            )
        };
        if count == 0 {
            return handle.with(|_| Ok(()));
        }
        // SeriesRef is a plain tuple struct without a layout guarantee: copy, never transmute.
        let refs: Vec<SeriesRef> = refs.iter().map(|&r| SeriesRef(r)).collect();
        let done = handle.with(|db| Ok(db.append_batch(&refs, ts, vs)?))?;
        outcome.accepted = done.accepted;
        outcome.rejected = done.rejected.len();
        let first = done.rejected.into_iter().min_by_key(|(i, _)| *i);
        if let Some((i, _)) = &first {
            outcome.first_rejected_index = *i;
        }
        let failure = first.map(|(i, e)| {
            let mut f = Failure::from(e);
            outcome.first_rejected_status = f.code;
            f.message = format!(
                "{} of {count} samples refused; the first, sample {i}: {}",
                outcome.rejected, f.message
            );
            f
        });
        if !result.is_null() {
            // SAFETY: as above.
            unsafe { write_out(result, "result", outcome)? };
        }
        failure.map_or(Ok(()), Err)
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// One explicit-bucket histogram sample, borrowed for the call.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_histogram {
    /// Finite upper bounds, strictly ascending, no NaN, no +Inf (the +Inf bucket is
    /// implicit); at most `STRATA_MAX_HISTOGRAM_BOUNDS`.
    pub bounds: *const f64,
    pub bound_count: usize,
    /// Per-bucket (not cumulative) counts, `bound_count + 1` of them: `counts[i]` counts values
    /// in `(bounds[i-1], bounds[i]]`, the last one those above the last bound.
    pub counts: *const u64,
    pub bucket_count: usize,
    /// Total number of observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
    /// Smallest and largest observation; NaN when unknown.
    pub min: f64,
    pub max: f64,
}

/// Appends a histogram sample to `series_ref` (a series that holds histograms: the first
/// sample decides a series' kind). Histogram series take in-order samples only.
///
/// # Safety
/// `db` is NULL or a live handle; `histogram` is NULL or points to a `strata_histogram` whose
/// arrays hold `bound_count` / `bucket_count` readable elements; `err` is NULL or valid for a
/// pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_append_histogram(
    db: *const strata_db,
    series_ref: u64,
    timestamp_ms: i64,
    histogram: *const strata_histogram,
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
        // SAFETY: non-NULL, aligned, points to a strata_histogram (contract).
        let h = unsafe { histogram.read() };
        check_len(h.bound_count, STRATA_MAX_HISTOGRAM_BOUNDS, "bound_count")?;
        check_len(
            h.bucket_count,
            STRATA_MAX_HISTOGRAM_BOUNDS + 1,
            "bucket_count",
        )?;
        // SAFETY: the arrays hold the stated counts (contract); counts bounded above.
        let (bounds, counts) = unsafe {
            (
                slice(h.bounds, h.bound_count, "histogram bounds")?,
                slice(h.counts, h.bucket_count, "histogram counts")?,
            )
        };
        let some = |x: f64| (!x.is_nan()).then_some(x);
        let hist = Histogram {
            bounds: bounds.to_vec(),
            counts: counts.to_vec(),
            count: h.count,
            sum: h.sum,
            min: some(h.min),
            max: some(h.max),
        };
        handle.with(|db| Ok(db.append_histogram(SeriesRef(series_ref), timestamp_ms, &hist)?))
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Makes everything appended so far durable, whatever the fsync policy.
///
/// # Safety
/// `db` is NULL or a live handle; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_sync(
    db: *const strata_db,
    err: *mut *mut strata_error,
) -> strata_status {
    // SAFETY: per this function's contract.
    unsafe { call(err, || db_ref(db)?.with(|db| Ok(db.sync()?))) }
}

/// What `strata_db_compact` did. Plain data owned by the caller.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_compact_report {
    pub blocks_written: usize,
    pub blocks_merged: usize,
    /// Metric blocks retention deleted, and their samples.
    pub blocks_expired: usize,
    pub samples_expired: u64,
    pub span_partitions_written: usize,
    /// Span partitions retention deleted, and their spans.
    pub span_partitions_expired: usize,
    pub spans_expired: u64,
}

/// Cuts the head into blocks, merges small blocks and applies retention. May take seconds;
/// appends on other threads continue meanwhile.
///
/// # Safety
/// `db` is NULL or a live handle; `report` is NULL or writable; `err` is NULL or valid for a
/// pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_compact(
    db: *const strata_db,
    report: *mut strata_compact_report,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        let r = handle.with(|db| Ok(db.compact()?))?;
        if report.is_null() {
            return Ok(());
        }
        let out = strata_compact_report {
            blocks_written: r.blocks_written,
            blocks_merged: r.blocks_merged,
            blocks_expired: r.blocks_expired,
            samples_expired: r.expired.iter().map(|e| e.samples).sum(),
            span_partitions_written: r.span_partitions_written,
            span_partitions_expired: r.span_partitions_expired,
            spans_expired: r.expired.iter().map(|e| e.spans).sum(),
        };
        // SAFETY: non-NULL, writable (contract).
        unsafe { write_out(report, "report", out) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Sizes and counts (`strata_db_stats`). Plain data owned by the caller.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_stats {
    pub series: u64,
    /// Samples in blocks plus samples in the head.
    pub samples: u64,
    pub head_samples: u64,
    pub blocks: u64,
    pub block_chunk_bytes: u64,
    pub block_index_bytes: u64,
    pub block_meta_bytes: u64,
    pub wal_bytes: u64,
    /// Bytes of block files per sample in blocks (0 when there are no blocks).
    pub block_bytes_per_sample: f64,
    /// 1 when `min_time_ms` / `max_time_ms` are set (the database holds a sample), else 0.
    pub has_time_range: u32,
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    /// What retention deleted since the database was opened.
    pub expired_samples: u64,
    pub expired_spans: u64,
    /// What opening found: 1 when the WAL was exactly as a clean stop left it.
    pub wal_clean: u32,
    /// Bytes of a torn WAL tail cut at open, and of damaged ranges salvage mode skipped.
    pub wal_truncated_bytes: u64,
    pub wal_skipped_bytes: u64,
    /// Samples salvage mode skipped because no surviving record defines their series.
    pub unattributable_samples: u64,
    /// Multi-record batches whose last part never reached the log (never acknowledged).
    pub torn_batches: u64,
}

/// Fills `*out` with the database's statistics.
///
/// # Safety
/// `db` is NULL or a live handle; `out` is NULL or writable; `err` is NULL or valid for a
/// pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_stats(
    db: *const strata_db,
    out: *mut strata_stats,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        check_out(out, "out")?;
        let s = handle.with(|db| Ok(db.stats()?))?;
        let stats = strata_stats {
            series: s.series,
            samples: s.samples,
            head_samples: s.head_samples,
            blocks: s.blocks,
            block_chunk_bytes: s.block_chunk_bytes,
            block_index_bytes: s.block_index_bytes,
            block_meta_bytes: s.block_meta_bytes,
            wal_bytes: s.wal_bytes,
            block_bytes_per_sample: s.block_bytes_per_sample,
            has_time_range: u32::from(s.min_time_ms.is_some()),
            min_time_ms: s.min_time_ms.unwrap_or(0),
            max_time_ms: s.max_time_ms.unwrap_or(0),
            expired_samples: s.expired.samples,
            expired_spans: s.expired.spans,
            wal_clean: u32::from(s.wal_recovery.clean),
            wal_truncated_bytes: s.wal_recovery.truncated_tail_bytes,
            wal_skipped_bytes: s.wal_recovery.skipped_bytes,
            unattributable_samples: s.replay.unattributable_samples,
            torn_batches: s.replay.torn_batches,
        };
        // SAFETY: checked above; writable (contract).
        unsafe { write_out(out, "out", stats) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// The database's statistics as a JSON object (the fields of `strata stats --json`).
/// `*out_json` receives a NUL-terminated string owned by the caller, freed with
/// `strata_string_free`; NULL on failure.
///
/// # Safety
/// `db` is NULL or a live handle; `out_json` is NULL or valid for a pointer write; `err` is
/// NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_stats_json(
    db: *const strata_db,
    out_json: *mut *mut c_char,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_json, "out_json", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        let s = handle.with(|db| Ok(db.stats()?))?;
        let json = serde_json::to_string(&s)
            .map_err(|e| Failure::new(strata_status::STRATA_ERR_INTERNAL, e.to_string()))?;
        let c = CString::new(json)
            .map_err(|e| Failure::new(strata_status::STRATA_ERR_INTERNAL, e.to_string()))?;
        // SAFETY: checked by the first write_out; the caller now owns the string.
        unsafe { write_out(out_json, "out_json", c.into_raw()) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Frees a string returned by this library (`strata_db_stats_json`, the span `*_json` calls)
/// and sets `*s` to NULL.
/// NULL, or a pointer to NULL, is a no-op.
///
/// # Safety
/// `s` is NULL or points to NULL or to a string from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_string_free(s: *mut *mut c_char) {
    let _ = std::panic::catch_unwind(|| {
        if s.is_null() {
            return;
        }
        // SAFETY: non-NULL and pointing to a pointer (contract).
        let raw = unsafe { s.replace(std::ptr::null_mut()) };
        if !raw.is_null() {
            // SAFETY: `raw` came from CString::into_raw in this library; freed once (the
            // caller's copy was nulled).
            drop(unsafe { CString::from_raw(raw) });
        }
    });
}
