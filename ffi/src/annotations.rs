//! Exemplars and metric metadata: `strata_db_append_exemplar`, `strata_db_exemplars_json`,
//! `strata_db_set_metadata`, `strata_db_metadata_json`. Queries answer with the JSON of
//! Prometheus' `/api/v1/query_exemplars` and `/api/v1/metadata` (the same bytes as `strata
//! exemplars` / `strata metadata`), owned by the caller and freed with `strata_string_free`.

use std::ffi::{CString, c_char};

use strata_engine::api::{exemplars_json, metadata_json};
use strata_engine::{Exemplar, MetricKind, MetricMetadata, SeriesRef};

use crate::args;
use crate::cursor::{matchers_of, strata_matcher};
use crate::db::{db_ref, strata_db};
use crate::error::{Failure, strata_error, strata_status};
use crate::guard::{call, write_out};

fn json_string(v: &serde_json::Value) -> Result<*mut c_char, Failure> {
    let c = CString::new(v.to_string())
        .map_err(|e| Failure::new(strata_status::STRATA_ERR_INTERNAL, e.to_string()))?;
    Ok(c.into_raw())
}

/// Appends one exemplar (e.g. `trace_id`, `span_id` labels) to the series `series_ref`:
/// logged to the WAL, then kept (the newest `exemplars_per_series` per series). A repeat of
/// an exemplar the series holds is accepted and not stored again.
///
/// Fails with `STRATA_ERR_INVALID_ARGUMENT` when the exemplar is refused (unknown series,
/// labels over 128 characters, too far in the future, older than the series' newest).
///
/// # Safety
/// `db` is NULL or a live handle; `names`/`values` point to `label_count` NUL-terminated
/// strings each (may be NULL when `label_count` is 0); `err` is NULL or valid for a pointer
/// write.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn strata_db_append_exemplar(
    db: *const strata_db,
    series_ref: u64,
    names: *const *const c_char,
    values: *const *const c_char,
    label_count: usize,
    value: f64,
    timestamp_ms: i64,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let (handle, labels) = unsafe { (db_ref(db)?, args::labels(names, values, label_count)?) };
        let labels = labels
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        let e = Exemplar {
            labels,
            value,
            t_ms: timestamp_ms,
        };
        let out = handle.with(|db| Ok(db.append_exemplars(&[(SeriesRef(series_ref), e)])?))?;
        match out.first_refusal {
            Some(why) => Err(Failure::invalid(why)),
            None => Ok(()),
        }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// The exemplars of every series matching all `matchers` within `[start_ms, end_ms]`, as
/// `/api/v1/query_exemplars` JSON in `*out_json` (NULL on failure).
///
/// # Safety
/// `db` is NULL or a live handle; `matchers` points to `matcher_count` matchers with
/// NUL-terminated strings; `out_json` is NULL or valid for a pointer write; `err` is NULL or
/// valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_exemplars_json(
    db: *const strata_db,
    matchers: *const strata_matcher,
    matcher_count: usize,
    start_ms: i64,
    end_ms: i64,
    out_json: *mut *mut c_char,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_json, "out_json", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let (handle, ms) = unsafe { (db_ref(db)?, matchers_of(matchers, matcher_count)?) };
        let found = handle.with(|db| Ok(db.exemplars(&ms, start_ms, end_ms)?))?;
        // SAFETY: checked by the first write; the caller owns the string now.
        unsafe { write_out(out_json, "out_json", json_string(&exemplars_json(&found))?) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Sets a metric's type (`counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`,
/// `info`, `stateset`, `unknown`), unit and help. Only changes are logged. Over a limit
/// (help over 16 KiB, names over 1 KiB): `STRATA_ERR_LIMIT`.
///
/// # Safety
/// `db` is NULL or a live handle; `metric`, `kind`, `unit`, `help` are NUL-terminated; `err`
/// is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_set_metadata(
    db: *const strata_db,
    metric: *const c_char,
    kind: *const c_char,
    unit: *const c_char,
    help: *const c_char,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        let (handle, metric, kind, unit, help) = unsafe {
            (
                db_ref(db)?,
                args::c_str(metric, || "metric".into())?,
                args::c_str(kind, || "kind".into())?,
                args::c_str(unit, || "unit".into())?,
                args::c_str(help, || "help".into())?,
            )
        };
        let kind = MetricKind::parse(kind)
            .ok_or_else(|| Failure::invalid(format!("kind {kind:?} is not a metric type")))?;
        let meta = MetricMetadata {
            kind,
            unit: unit.into(),
            help: help.into(),
        };
        handle.with(|db| Ok(db.set_metadata(&[(metric, meta)])?))
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// The metadata of `metric` (NULL: of every metric), as `/api/v1/metadata` JSON in
/// `*out_json` (NULL on failure).
///
/// # Safety
/// `db` is NULL or a live handle; `metric` is NULL or NUL-terminated; `out_json` is NULL or
/// valid for a pointer write; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_metadata_json(
    db: *const strata_db,
    metric: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_json, "out_json", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        let metric = match metric.is_null() {
            true => None,
            // SAFETY: non-NULL and NUL-terminated (contract).
            false => Some(unsafe { args::c_str(metric, || "metric".into())? }),
        };
        let entries = handle.with(|db| Ok(db.metadata(metric, usize::MAX)))?;
        // SAFETY: checked by the first write; the caller owns the string now.
        unsafe { write_out(out_json, "out_json", json_string(&metadata_json(&entries))?) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}
