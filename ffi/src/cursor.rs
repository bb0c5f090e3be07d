//! Reads: `strata_db_select` (raw samples) and `strata_db_query_range` (the PromQL subset at a
//! step) both return a `strata_series_cursor` that yields one series at a time.
//!
//! Ownership model of `strata_series_cursor`: owned by the caller, freed with
//! `strata_series_cursor_free(&cursor)` (which nulls the pointer). It holds the whole result
//! and does not borrow the database: it stays valid after `strata_db_close`. The views that
//! `strata_series_cursor_next` fills borrow from the cursor and stay valid until the next call
//! to `strata_series_cursor_next` on it or its free. One thread at a time per cursor; a cursor
//! may move between threads.

use std::ffi::{CString, c_char};

use strata_engine::query::{self, MatrixSeries};
use strata_engine::{MatchOp, Matcher, SeriesSamples};

use crate::args::{self, check_len, slice};
use crate::error::{Failure, strata_error, strata_status};
use crate::guard::{call, check_out, free_handle, write_out};
use crate::{STRATA_MAX_MATCHERS, db::strata_db};

/// How a matcher compares a label's value (`strata_matcher.op`).
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub enum strata_match_op {
    /// `name="value"`
    STRATA_MATCH_EQUAL = 0,
    /// `name!="value"`
    STRATA_MATCH_NOT_EQUAL = 1,
    /// `name=~"regex"` (anchored, RE2 syntax)
    STRATA_MATCH_REGEX = 2,
    /// `name!~"regex"`
    STRATA_MATCH_NOT_REGEX = 3,
}

/// One label matcher, borrowed for the call. Prometheus semantics: a matcher that accepts the
/// empty string also selects series without the label.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_matcher {
    /// One of `strata_match_op`.
    pub op: u32,
    /// NUL-terminated UTF-8 label name.
    pub name: *const c_char,
    /// NUL-terminated UTF-8 value or regex.
    pub value: *const c_char,
}

/// One label of a result series: views into the cursor. `name` and `value` are NUL-terminated;
/// the lengths (bytes, without the NUL) are given too.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_label_view {
    pub name: *const c_char,
    pub name_len: usize,
    pub value: *const c_char,
    pub value_len: usize,
}

/// One result series, filled by `strata_series_cursor_next`: labels sorted by name
/// (`__name__` included when the result keeps it) and `sample_count` points in time order.
/// Every pointer borrows from the cursor (valid until its next `next` or its free); the
/// arrays may be NULL when their count is 0.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct strata_series_view {
    pub labels: *const strata_label_view,
    pub label_count: usize,
    pub timestamps_ms: *const i64,
    pub values: *const f64,
    pub sample_count: usize,
}

impl strata_series_view {
    /// cbindgen:ignore
    const EMPTY: strata_series_view = strata_series_view {
        labels: std::ptr::null(),
        label_count: 0,
        timestamps_ms: std::ptr::null(),
        values: std::ptr::null(),
        sample_count: 0,
    };
}

enum Source {
    Select(std::vec::IntoIter<SeriesSamples>),
    Query(std::vec::IntoIter<MatrixSeries>),
}

/// The series the views currently point into.
#[derive(Default)]
struct Current {
    strings: Vec<CString>,
    labels: Vec<strata_label_view>,
    timestamps_ms: Vec<i64>,
    values: Vec<f64>,
}

/// A result: series yielded one at a time. Opaque.
#[allow(non_camel_case_types)]
pub struct strata_series_cursor {
    source: Source,
    current: Current,
}

impl std::fmt::Debug for strata_series_cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("strata_series_cursor")
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl strata_series_cursor {
    fn remaining(&self) -> usize {
        match &self.source {
            Source::Select(it) => it.len(),
            Source::Query(it) => it.len(),
        }
    }

    /// Moves to the next series; false at the end.
    fn advance(&mut self) -> bool {
        let (labels, timestamps_ms, values): (Vec<(String, String)>, _, _) = match &mut self.source
        {
            Source::Select(it) => match it.next() {
                Some(s) => (s.labels, s.timestamps_ms, s.values),
                None => return false,
            },
            Source::Query(it) => match it.next() {
                Some(s) => (
                    s.labels
                        .iter()
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect(),
                    s.points.iter().map(|p| p.0).collect(),
                    s.points.iter().map(|p| p.1).collect(),
                ),
                None => return false,
            },
        };
        let mut cur = Current {
            strings: Vec::with_capacity(labels.len() * 2),
            labels: Vec::with_capacity(labels.len()),
            timestamps_ms,
            values,
        };
        let c = |s: String| {
            // Labels never contain NUL (they come from C strings or validated input); if one
            // did, the view's length still tells the full length up to the cut.
            CString::new(s).unwrap_or_else(|e| {
                let pos = e.nul_position();
                let mut bytes = e.into_vec();
                bytes.truncate(pos);
                CString::new(bytes).unwrap_or_default()
            })
        };
        for (n, v) in labels {
            let (n, v) = (c(n), c(v));
            cur.labels.push(strata_label_view {
                name: n.as_ptr(),
                name_len: n.as_bytes().len(),
                value: v.as_ptr(),
                value_len: v.as_bytes().len(),
            });
            // Moving a CString moves its pointer, not its heap bytes: the views stay valid.
            cur.strings.push(n);
            cur.strings.push(v);
        }
        self.current = cur;
        true
    }

    fn view(&self) -> strata_series_view {
        let c = &self.current;
        strata_series_view {
            labels: c.labels.as_ptr(),
            label_count: c.labels.len(),
            timestamps_ms: c.timestamps_ms.as_ptr(),
            values: c.values.as_ptr(),
            sample_count: c.timestamps_ms.len(),
        }
    }
}

/// The matchers of a C array of `count` `strata_matcher`s (at most `STRATA_MAX_MATCHERS`).
///
/// # Safety
/// `matchers` points to `count` matchers whose strings are NUL-terminated (or `count` is 0).
pub(crate) unsafe fn matchers_of(
    matchers: *const strata_matcher,
    count: usize,
) -> Result<Vec<Matcher>, Failure> {
    check_len(count, STRATA_MAX_MATCHERS, "matcher_count")?;
    // SAFETY: `count` readable matchers (contract); bounded above.
    let raw = unsafe { slice(matchers, count, "matchers")? };
    let mut ms = Vec::with_capacity(raw.len());
    for (i, m) in raw.iter().enumerate() {
        let op = match m.op {
            0 => MatchOp::Equal,
            1 => MatchOp::NotEqual,
            2 => MatchOp::RegexMatch,
            3 => MatchOp::RegexNoMatch,
            other => {
                return Err(Failure::invalid(format!(
                    "matcher {i}: op {other} is not a strata_match_op value (0-3)"
                )));
            }
        };
        // SAFETY: NUL-terminated strings (contract).
        let (name, value) = unsafe {
            (
                args::c_str(m.name, || format!("matcher {i} name"))?,
                args::c_str(m.value, || format!("matcher {i} value"))?,
            )
        };
        ms.push(Matcher::new(op, name, value).map_err(strata_engine::Error::from)?);
    }
    Ok(ms)
}

fn new_cursor(source: Source) -> *mut strata_series_cursor {
    Box::into_raw(Box::new(strata_series_cursor {
        source,
        current: Current::default(),
    }))
}

/// Every float series matching all `matchers`, with its samples in `[start_ms, end_ms]`,
/// sorted by label set; series without samples in the range are left out.
///
/// - `matchers`: `matcher_count` matchers (≤ `STRATA_MAX_MATCHERS`), borrowed for the call.
/// - `out_cursor`: receives a new cursor owned by the caller (`strata_series_cursor_free`);
///   NULL on failure.
///
/// # Safety
/// `db` is NULL or a live handle; `matchers` points to `matcher_count` matchers whose strings
/// are NUL-terminated; `out_cursor` is NULL or valid for a pointer write; `err` is NULL or
/// valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_select(
    db: *const strata_db,
    matchers: *const strata_matcher,
    matcher_count: usize,
    start_ms: i64,
    end_ms: i64,
    out_cursor: *mut *mut strata_series_cursor,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_cursor, "out_cursor", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let handle = unsafe { crate::db::db_ref(db)? };
        // SAFETY: `matcher_count` readable matchers with NUL-terminated strings (contract).
        let ms = unsafe { matchers_of(matchers, matcher_count)? };
        let series = handle.with(|db| Ok(db.select(&ms, start_ms, end_ms)?))?;
        // SAFETY: checked by the first write_out; the caller now owns the cursor.
        unsafe {
            write_out(
                out_cursor,
                "out_cursor",
                new_cursor(Source::Select(series.into_iter())),
            )
        }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Evaluates `expr` (Strata's PromQL subset) at `start_ms`, `start_ms + step_ms`, … up to
/// `end_ms`. Each result series carries its points (step timestamps and values; steps without
/// a value are absent).
///
/// Fails with `STRATA_ERR_QUERY_PARSE`, `STRATA_ERR_QUERY_UNSUPPORTED` (naming the construct),
/// `STRATA_ERR_LIMIT`, or `STRATA_ERR_INVALID_ARGUMENT` (e.g. a step of 0).
///
/// # Safety
/// `db` is NULL or a live handle; `expr` is NULL or NUL-terminated; `out_cursor` is NULL or
/// valid for a pointer write; `err` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_db_query_range(
    db: *const strata_db,
    expr: *const c_char,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    out_cursor: *mut *mut strata_series_cursor,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: per this function's contract.
        unsafe { write_out(out_cursor, "out_cursor", std::ptr::null_mut())? };
        // SAFETY: per this function's contract.
        let handle = unsafe { crate::db::db_ref(db)? };
        // SAFETY: NULL or NUL-terminated (contract).
        let expr = unsafe { args::c_str(expr, || "expr".to_owned())? };
        let matrix =
            handle.with(|db| Ok(query::eval_range(db, expr, start_ms, end_ms, step_ms)?))?;
        // SAFETY: checked by the first write_out; the caller now owns the cursor.
        unsafe {
            write_out(
                out_cursor,
                "out_cursor",
                new_cursor(Source::Query(matrix.into_iter())),
            )
        }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Number of series the cursor has not yet yielded.
///
/// # Safety
/// `cursor` is NULL or a live cursor; `out_count` is NULL or writable; `err` is NULL or valid
/// for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_series_cursor_remaining(
    cursor: *const strata_series_cursor,
    out_count: *mut usize,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        // SAFETY: NULL or a live cursor (contract).
        let cur = unsafe { cursor.as_ref() }.ok_or_else(|| Failure::null("cursor"))?;
        // SAFETY: per contract.
        unsafe { write_out(out_count, "out_count", cur.remaining()) }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Advances to the next series. On success `*out_has_series` is 1 and `*out_series` describes
/// the series (views valid until the next call on this cursor or its free), or
/// `*out_has_series` is 0 and `*out_series` is zeroed at the end of the result.
///
/// # Safety
/// `cursor` is NULL or a live cursor not used by another thread during the call;
/// `out_series` and `out_has_series` are NULL or writable; `err` is NULL or valid for a pointer
/// write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_series_cursor_next(
    cursor: *mut strata_series_cursor,
    out_series: *mut strata_series_view,
    out_has_series: *mut u32,
    err: *mut *mut strata_error,
) -> strata_status {
    let body = || {
        check_out(out_series, "out_series")?;
        check_out(out_has_series, "out_has_series")?;
        // SAFETY: NULL or a live cursor used by this thread only (contract).
        let cur = unsafe { cursor.as_mut() }.ok_or_else(|| Failure::null("cursor"))?;
        let (view, has) = if cur.advance() {
            (cur.view(), 1)
        } else {
            cur.current = Current::default();
            (strata_series_view::EMPTY, 0)
        };
        // SAFETY: both checked above; writable (contract).
        unsafe {
            write_out(out_series, "out_series", view)?;
            write_out(out_has_series, "out_has_series", has)
        }
    };
    // SAFETY: `err` per this function's contract.
    unsafe { call(err, body) }
}

/// Frees a cursor (and every view it lent) and sets `*cursor` to NULL. NULL, or a pointer to
/// NULL, is a no-op.
///
/// # Safety
/// `cursor` is NULL or points to NULL or to a cursor from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_series_cursor_free(cursor: *mut *mut strata_series_cursor) {
    // SAFETY: forwarded contract.
    unsafe { free_handle(cursor) }
}
