//! Events (OTLP log records, GenAI events): `strata_db_import_otlp_logs` takes a raw
//! OTLP/HTTP `ExportLogsServiceRequest` body; `strata_db_trace_events_json` answers a trace's
//! events as the JSON document `strata events --trace ID --json` prints (shape in
//! `ffi/README.md`). `strata_db_trace_json` also carries each span's events.

use std::ffi::c_char;

use strata_engine::spans::events_json::events_json;

use crate::db::{db_ref, strata_db};
use crate::error::{strata_error, strata_status};
use crate::guard::{call, write_out};
use crate::spans::{hand_out_json, payload, trace_id_arg};

/// Imports one OTLP `ExportLogsServiceRequest` (the protobuf body of an OTLP/HTTP
/// `POST /v1/logs`): decodes it and appends its log records as events (one WAL commit per
/// batch, durable per the fsync policy before the call returns; then queryable).
///
/// - `bytes`, `len`: the request body, as in `strata_db_import_otlp_traces`.
/// - `out_events`: NULL, or receives the number of events stored (0 on failure).
///
/// A payload that is not a valid `ExportLogsServiceRequest` (or nests values deeper than the
/// decoder's limit) fails with `STRATA_ERR_INVALID_ARGUMENT` and the decoder's message;
/// nothing of it is stored. Events too far ahead of the clock are not stored and not an error.
///
/// # Safety
/// `db` is NULL or a live handle; `bytes` points to `len` readable bytes (may be NULL when
/// `len` is 0); `out_events` is NULL or writable; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_import_otlp_logs(
    db: *const strata_db,
    bytes: *const u8,
    len: usize,
    out_events: *mut u64,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        if !out_events.is_null() {
            // SAFETY: non-NULL out_events is writable (contract); zeroed first.
            unsafe { write_out(out_events, "out_events", 0)? };
        }
        // SAFETY: per this function's contract.
        let (handle, payload) = unsafe { (db_ref(db)?, payload(bytes, len)?) };
        let outcome = handle.with(|db| Ok(db.import_otlp_logs(payload)?))?;
        if out_events.is_null() {
            return Ok(());
        }
        // SAFETY: as above.
        unsafe { write_out(out_events, "out_events", outcome.events as u64) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Every event of one trace, oldest first, with its stored content, as a JSON array of
/// event objects (`[]` when the trace has none).
///
/// - `trace_id_hex`: 32 hexadecimal digits (either case), NUL-terminated; anything else fails
///   with `STRATA_ERR_INVALID_ARGUMENT`.
/// - `out_json`: receives a NUL-terminated UTF-8 string owned by the caller, freed with
///   `strata_string_free`; NULL on failure.
///
/// # Safety
/// `db` is NULL or a live handle; `trace_id_hex` is NULL or NUL-terminated; `out_json` is NULL
/// or valid for a pointer write; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_trace_events_json(
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
        let events = handle.with(|db| Ok(db.trace_events(&id)?))?;
        // SAFETY: checked by the first write_out.
        unsafe { hand_out_json(out_json, &events_json(&events)) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}
