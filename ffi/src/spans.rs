//! Spans and OTLP: `strata_db_import_otlp_traces` / `_metrics` take raw OTLP/HTTP protobuf
//! bodies; `strata_db_find_spans_json`, `strata_db_trace_json` and `strata_db_genai_json`
//! answer span queries as JSON documents (the same ones `strata spans|trace|genai --json`
//! prints: `strata_engine::spans::json` renders both; shapes in `ffi/README.md`).
//!
//! Query results are JSON strings rather than cursors of C structs: a span carries nested,
//! typed attributes, events, links and content whose C form would need a view type per level;
//! every caller we have (Go, scripts, dashboards) parses JSON anyway. The strings are owned by
//! the caller and freed with `strata_string_free`.

use std::ffi::{CString, c_char};

use strata_engine::spans::events_json::trace_json;
use strata_engine::spans::json::{hits_json, rows_json};
use strata_engine::spans::{AggQuery, GroupBy, Order, SpanFilter, StatusCode, parse_trace_id};

use crate::STRATA_MAX_OTLP_BYTES;
use crate::args::{self, check_len, slice};
use crate::db::{db_ref, strata_db};
use crate::error::{Failure, strata_error, strata_status};
use crate::guard::{call, write_out};

/// Which spans a span filter keeps by status (`strata_span_filter.status`).
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub enum strata_span_status {
    /// Any status.
    STRATA_SPAN_STATUS_ANY = 0,
    /// Spans whose OTLP status is unset.
    STRATA_SPAN_STATUS_UNSET = 1,
    /// Spans whose OTLP status is ok.
    STRATA_SPAN_STATUS_OK = 2,
    /// Spans whose OTLP status is error.
    STRATA_SPAN_STATUS_ERROR = 3,
}

/// The order of `strata_db_find_spans_json`'s result (`strata_span_filter.order`).
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub enum strata_span_order {
    /// Latest start first.
    STRATA_SPAN_ORDER_NEWEST = 0,
    /// Longest duration first (ties: latest start first).
    STRATA_SPAN_ORDER_SLOWEST = 1,
    /// Failed spans (status error or an `error.type`) first, each part slowest first.
    STRATA_SPAN_ORDER_FAILED_FIRST = 2,
}

/// Which spans to find or aggregate. Fill with `strata_span_filter_default`, then change
/// fields. Plain data owned by the caller; the library only reads it (and the strings it
/// points to) during the call.
///
/// A span matches when every set condition holds. The string conditions compare exactly
/// against the span's GenAI columns; NULL or `""` means "any".
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_span_filter {
    /// Spans starting in `[start_ns, end_ns)`, Unix nanoseconds. Default: `INT64_MIN`,
    /// `INT64_MAX` (every span).
    pub start_ns: i64,
    pub end_ns: i64,
    /// `service.name` of the span's resource.
    pub service: *const c_char,
    /// The request model, else the response model (`gen_ai.request.model` / `.response.model`).
    pub model: *const c_char,
    /// `gen_ai.provider.name`, else `gen_ai.system`.
    pub provider: *const c_char,
    /// `gen_ai.operation.name`, else `llm.request.type`.
    pub operation: *const c_char,
    /// `error.type` (`"error"` for a span with status error and no `error.type`).
    pub error_type: *const c_char,
    /// One of `strata_span_status` (a `uint32_t` so any value can be checked). Default
    /// `STRATA_SPAN_STATUS_ANY`.
    pub status: u32,
    /// Spans lasting at least this long; negative (the default, -1) for no minimum.
    pub min_duration_ns: i64,
    /// One of `strata_span_order` (`strata_db_genai_json` checks it, then ignores it). Default
    /// `STRATA_SPAN_ORDER_NEWEST`.
    pub order: u32,
    /// At most this many spans; ignored by `strata_db_genai_json`. Default 100.
    pub limit: usize,
}

impl strata_span_filter {
    fn defaults() -> Self {
        let d = SpanFilter::default();
        strata_span_filter {
            start_ns: d.start_ns,
            end_ns: d.end_ns,
            service: std::ptr::null(),
            model: std::ptr::null(),
            provider: std::ptr::null(),
            operation: std::ptr::null(),
            error_type: std::ptr::null(),
            status: strata_span_status::STRATA_SPAN_STATUS_ANY as u32,
            min_duration_ns: -1,
            order: strata_span_order::STRATA_SPAN_ORDER_NEWEST as u32,
            limit: d.limit,
        }
    }

    /// The engine's filter.
    ///
    /// # Safety
    /// Each string field is NULL or a NUL-terminated string valid for the call.
    unsafe fn to_engine(self) -> Result<SpanFilter, Failure> {
        let text = |p: *const c_char, what: &str| -> Result<Option<String>, Failure> {
            if p.is_null() {
                return Ok(None);
            }
            // SAFETY: non-NULL, NUL-terminated (this function's contract).
            let s = unsafe { args::c_str(p, || format!("filter {what}"))? };
            Ok((!s.is_empty()).then(|| s.to_owned()))
        };
        let status = match self.status {
            0 => None,
            1 => Some(StatusCode::Unset),
            2 => Some(StatusCode::Ok),
            3 => Some(StatusCode::Error),
            other => {
                return Err(Failure::invalid(format!(
                    "filter status is {other}, not a strata_span_status value (0-3)"
                )));
            }
        };
        let order = match self.order {
            0 => Order::Newest,
            1 => Order::Slowest,
            2 => Order::FailedFirst,
            other => {
                return Err(Failure::invalid(format!(
                    "filter order is {other}, not a strata_span_order value (0-2)"
                )));
            }
        };
        #[allow(
            clippy::needless_update,
            reason = "SpanFilter gains fields (attribute matchers): new ones keep their defaults"
        )]
        let filter = SpanFilter {
            start_ns: self.start_ns,
            end_ns: self.end_ns,
            service: text(self.service, "service")?,
            model: text(self.model, "model")?,
            provider: text(self.provider, "provider")?,
            operation: text(self.operation, "operation")?,
            error_type: text(self.error_type, "error_type")?,
            status,
            min_duration_ns: (self.min_duration_ns >= 0).then_some(self.min_duration_ns),
            order,
            limit: self.limit,
            ..SpanFilter::default()
        };
        Ok(filter)
    }
}

/// Reads an optional filter: NULL means the defaults.
///
/// # Safety
/// `filter` is NULL or points to a `strata_span_filter` whose strings are NULL or
/// NUL-terminated, valid for the call.
unsafe fn read_filter(filter: *const strata_span_filter) -> Result<SpanFilter, Failure> {
    let f = if filter.is_null() {
        strata_span_filter::defaults()
    } else if !filter.is_aligned() {
        return Err(Failure::invalid("filter is misaligned"));
    } else {
        // SAFETY: non-NULL, aligned, points to a strata_span_filter (contract). Its integer
        // fields accept any bit pattern (each is checked); its pointers are checked when read.
        unsafe { filter.read() }
    };
    // SAFETY: the strings are NULL or NUL-terminated (contract).
    unsafe { f.to_engine() }
}

/// Hands a JSON document to the caller as a string it owns.
///
/// # Safety
/// `out_json` is valid for a pointer write (checked by the caller's first `write_out`).
pub(crate) unsafe fn hand_out_json(
    out_json: *mut *mut c_char,
    v: &serde_json::Value,
) -> Result<(), Failure> {
    let json = serde_json::to_string(v)
        .map_err(|e| Failure::new(strata_status::STRATA_ERR_INTERNAL, e.to_string()))?;
    let c = CString::new(json)
        .map_err(|e| Failure::new(strata_status::STRATA_ERR_INTERNAL, e.to_string()))?;
    // SAFETY: per this function's contract; the caller now owns the string.
    unsafe { write_out(out_json, "out_json", c.into_raw()) }
}

/// Fills `*out` with the default span filter: every span, any status, no minimum duration,
/// newest first, at most 100.
///
/// # Safety
/// `out` is NULL (reported as an error) or valid for a write of `strata_span_filter`; `err`
/// is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_span_filter_default(
    out: *mut strata_span_filter,
    err: *mut *mut strata_error,
) -> strata_status {
    // SAFETY: `err` and `out` per this function's contract.
    unsafe {
        call(err, || {
            write_out(out, "out", strata_span_filter::defaults())
        })
    }
}

/// The payload bytes of an import: `len == 0` is an empty request whatever `bytes` is.
///
/// # Safety
/// When `len > 0` and `bytes` is non-NULL, `bytes` points to `len` readable bytes.
pub(crate) unsafe fn payload<'a>(bytes: *const u8, len: usize) -> Result<&'a [u8], Failure> {
    check_len(len, STRATA_MAX_OTLP_BYTES, "len")?;
    // SAFETY: `len` readable bytes (contract); bounded above.
    unsafe { slice(bytes, len, "bytes") }
}

/// Imports one OTLP `ExportTraceServiceRequest` (the protobuf body of an OTLP/HTTP
/// `POST /v1/traces`): decodes it and appends its spans (one WAL commit per batch of spans,
/// durable per the fsync policy before the call returns; then queryable).
///
/// - `bytes`, `len`: the request body, borrowed for the call; at most `STRATA_MAX_OTLP_BYTES`.
///   `len == 0` (with `bytes` NULL or not) is an empty request: nothing is stored.
/// - `out_spans`: NULL, or receives the number of spans stored (0 on failure).
///
/// A payload that is not a valid `ExportTraceServiceRequest` fails with
/// `STRATA_ERR_INVALID_ARGUMENT` and the decoder's message (what and at which byte offset);
/// nothing of it is stored. Spans the store refuses (too many attributes, …) also fail the
/// whole request with `STRATA_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `db` is NULL or a live handle; `bytes` points to `len` readable bytes (may be NULL when
/// `len` is 0); `out_spans` is NULL or writable; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_import_otlp_traces(
    db: *const strata_db,
    bytes: *const u8,
    len: usize,
    out_spans: *mut u64,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        if !out_spans.is_null() {
            // SAFETY: non-NULL out_spans is writable (contract); zeroed first so a failure
            // leaves a defined count.
            unsafe { write_out(out_spans, "out_spans", 0)? };
        }
        // SAFETY: per this function's contract.
        let (handle, payload) = unsafe { (db_ref(db)?, payload(bytes, len)?) };
        let outcome = handle.with(|db| Ok(db.import_otlp_traces(payload)?))?;
        if out_spans.is_null() {
            return Ok(());
        }
        // SAFETY: as above.
        unsafe { write_out(out_spans, "out_spans", outcome.spans as u64) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// What `strata_db_import_otlp_metrics` stored. Plain data owned by the caller.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_otlp_metrics_result {
    /// Float samples stored (gauges, sums; delta sums accumulated into cumulative series).
    pub samples: u64,
    /// Histogram points stored (explicit-bucket histogram series).
    pub histograms: u64,
    /// Samples and histogram points refused (out of order, duplicate timestamp, too old):
    /// usual when an exporter resends cumulative points. Not an error.
    pub rejected: u64,
}

/// Imports one OTLP `ExportMetricsServiceRequest` (the body of `POST /v1/metrics`): each point
/// becomes a sample of a metric series named and labelled as Prometheus' OTLP receiver names
/// them (delta sums accumulated into cumulative series, histograms as histogram series).
///
/// - `bytes`, `len`: the request body, as in `strata_db_import_otlp_traces`.
/// - `out`: NULL, or receives the counts (zeroed on failure).
///
/// Refused points (out of order, duplicates) are counted in `out->rejected` and are not an
/// error. A payload that is not a valid `ExportMetricsServiceRequest` fails with
/// `STRATA_ERR_INVALID_ARGUMENT` and the decoder's message; nothing of it is stored. Other
/// failures (`STRATA_ERR_IO`, `STRATA_ERR_CLOSED`, …) may come after part of the points were
/// stored.
///
/// # Safety
/// `db` is NULL or a live handle; `bytes` points to `len` readable bytes (may be NULL when
/// `len` is 0); `out` is NULL or writable; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_import_otlp_metrics(
    db: *const strata_db,
    bytes: *const u8,
    len: usize,
    out: *mut strata_otlp_metrics_result,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        let mut result = strata_otlp_metrics_result {
            samples: 0,
            histograms: 0,
            rejected: 0,
        };
        if !out.is_null() {
            // SAFETY: non-NULL out is writable (contract); zeroed first.
            unsafe { write_out(out, "out", result)? };
        }
        // SAFETY: per this function's contract.
        let (handle, payload) = unsafe { (db_ref(db)?, payload(bytes, len)?) };
        let o = handle.with(|db| Ok(db.import_otlp_metrics(payload)?))?;
        if out.is_null() {
            return Ok(());
        }
        result.samples = o.samples as u64;
        result.histograms = o.histograms as u64;
        result.rejected = o.rejected as u64;
        // SAFETY: as above.
        unsafe { write_out(out, "out", result) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// The spans matching `filter`, in its order, at most `filter->limit`, as a JSON array of
/// span objects (the hot columns: identity, times, status, bucket, GenAI columns; no
/// attributes, events, links or content — `strata_db_trace_json` has those). The shape is in
/// `ffi/README.md` ("JSON documents").
///
/// - `filter`: NULL for the defaults (`strata_span_filter_default`), else borrowed for the
///   call.
/// - `out_json`: receives a NUL-terminated UTF-8 string owned by the caller, freed with
///   `strata_string_free`; NULL on failure. No match is `[]`.
///
/// # Safety
/// `db` is NULL or a live handle; `filter` is NULL or points to a `strata_span_filter` whose
/// strings are NULL or NUL-terminated; `out_json` is NULL or valid for a pointer write; `err`
/// is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_find_spans_json(
    db: *const strata_db,
    filter: *const strata_span_filter,
    out_json: *mut *mut c_char,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_json, "out_json", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let (handle, filter) = unsafe { (db_ref(db)?, read_filter(filter)?) };
        let hits = handle.with(|db| Ok(db.spans().find(&filter)?))?;
        // SAFETY: checked by the first write_out.
        unsafe { hand_out_json(out_json, &hits_json(&hits, false)) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Every span of one trace, whole (attributes, resource, events, links and stored content
/// besides the hot columns, and `log_events`: the OTLP log records / GenAI events naming the
/// span), ordered by start time, as a JSON array (`[]` when the trace is unknown).
///
/// - `trace_id_hex`: 32 hexadecimal digits (either case), NUL-terminated; anything else fails
///   with `STRATA_ERR_INVALID_ARGUMENT`.
/// - `out_json`: as in `strata_db_find_spans_json`.
///
/// # Safety
/// `db` is NULL or a live handle; `trace_id_hex` is NULL or NUL-terminated; `out_json` is NULL
/// or valid for a pointer write; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_trace_json(
    db: *const strata_db,
    trace_id_hex: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_json, "out_json", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let handle = unsafe { db_ref(db)? };
        // SAFETY: NULL or NUL-terminated (contract).
        let id = unsafe { trace_id_arg(trace_id_hex)? };
        let (hits, events) =
            handle.with(|db| Ok((db.spans().trace(&id)?, db.trace_events(&id)?)))?;
        // SAFETY: checked by the first write_out.
        unsafe { hand_out_json(out_json, &trace_json(&hits, &events)) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// A trace id argument: 32 hexadecimal digits (either case), NUL-terminated.
///
/// # Safety
/// `trace_id_hex` is NULL or NUL-terminated.
pub(crate) unsafe fn trace_id_arg(trace_id_hex: *const c_char) -> Result<[u8; 16], Failure> {
    // SAFETY: NULL or NUL-terminated (contract).
    let hex = unsafe { args::c_str(trace_id_hex, || "trace_id_hex".to_owned())? };
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| parse_trace_id(hex))
        .flatten()
        .ok_or_else(|| {
            Failure::invalid(format!(
                "trace_id_hex {hex:?} is not a trace id (32 hexadecimal digits)"
            ))
        })
}

/// Parses a comma-separated group-by list (`"model,provider"`; blanks around names ignored).
fn group_by(list: &str) -> Result<Vec<GroupBy>, Failure> {
    let mut by = Vec::new();
    for name in list.split(',').map(str::trim) {
        let g = GroupBy::parse(name).ok_or_else(|| {
            Failure::invalid(format!(
                "group_by {name:?}: expected model, provider, service, operation, agent or tool"
            ))
        })?;
        by.push(g);
    }
    Ok(by)
}

/// GenAI aggregates of the LLM calls (spans with a model) among the spans matching `filter`
/// (its `order` and `limit` are ignored): per group, count, errors, error rate, tokens, cost,
/// and latency and time-to-first-token percentiles, as a JSON array of rows sorted by group,
/// then step (shape in `ffi/README.md`). No LLM call matching is `[]`.
///
/// - `filter`: NULL for the defaults, else borrowed for the call.
/// - `group_by`: comma-separated names among `model`, `provider`, `service`, `operation`,
///   `agent`, `tool` (at least one; an unknown or empty name fails with
///   `STRATA_ERR_INVALID_ARGUMENT`). A row's `group` object has one key per name.
/// - `step_ns`: > 0 to split each group further by span start time into steps of this width
///   (aligned to the Unix epoch); ≤ 0 for one row per group.
/// - `out_json`: as in `strata_db_find_spans_json`.
///
/// # Safety
/// `db` is NULL or a live handle; `filter` is NULL or points to a `strata_span_filter` whose
/// strings are NULL or NUL-terminated; `group_by` is NULL or NUL-terminated; `out_json` is
/// NULL or valid for a pointer write; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_genai_json(
    db: *const strata_db,
    filter: *const strata_span_filter,
    group_by: *const c_char,
    step_ns: i64,
    out_json: *mut *mut c_char,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_json, "out_json", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let (handle, filter, list) = unsafe {
            (
                db_ref(db)?,
                read_filter(filter)?,
                args::c_str(group_by, || "group_by".to_owned())?,
            )
        };
        let by = self::group_by(list)?;
        let q = AggQuery {
            filter,
            by,
            step_ns: (step_ns > 0).then_some(step_ns),
            only_llm_calls: true,
        };
        let rows = handle.with(|db| Ok(db.spans().aggregate(&q)?))?;
        // SAFETY: checked by the first write_out.
        unsafe { hand_out_json(out_json, &rows_json(&q.by, &rows)) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_lists() {
        assert_eq!(
            group_by(" model , tool").unwrap(),
            vec![GroupBy::Model, GroupBy::Tool]
        );
        for bad in ["", "model,", "models", "model,,tool"] {
            let e = group_by(bad).unwrap_err();
            assert_eq!(
                e.code,
                strata_status::STRATA_ERR_INVALID_ARGUMENT,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_default_filter_is_the_engines() {
        // SAFETY: the default filter's strings are NULL.
        let f = unsafe { strata_span_filter::defaults().to_engine() }.unwrap();
        assert_eq!(f, SpanFilter::default());
        let mut bad = strata_span_filter::defaults();
        bad.status = 4;
        // SAFETY: as above.
        assert!(unsafe { bad.to_engine() }.is_err());
        let mut bad = strata_span_filter::defaults();
        bad.order = 3;
        // SAFETY: as above.
        assert!(unsafe { bad.to_engine() }.is_err());
    }
}
