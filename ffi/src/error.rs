//! Status codes and per-call error objects.
//!
//! Every function that can fail returns a [`strata_status`]; when its `strata_error **err`
//! argument is non-NULL it also hands out a [`strata_error`] describing the failure. The error
//! object belongs to the caller and is freed with [`strata_error_free`]. Nothing is stored in
//! a global or thread-local "last error".

use std::ffi::{CString, c_char};

use strata_engine::Error as EngineError;
use strata_engine::query::QueryError;

/// What a call did. The numeric values are stable: new codes are only ever added at the end.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub enum strata_status {
    /// Success.
    STRATA_OK = 0,
    /// A NULL pointer, a length over its documented maximum, a string that is not UTF-8, an
    /// invalid label set, option, matcher or histogram.
    STRATA_ERR_INVALID_ARGUMENT = 1,
    /// A file operation failed (including a previous fsync failure the WAL remembers).
    STRATA_ERR_IO = 2,
    /// The directory is open in another handle or process.
    STRATA_ERR_LOCKED = 3,
    /// The database handle was closed with `strata_db_close`.
    STRATA_ERR_CLOSED = 4,
    /// A file of the database is damaged (WAL, block, index).
    STRATA_ERR_CORRUPT = 5,
    /// A sample is older than its series' newest sample, beyond the out-of-order window.
    STRATA_ERR_OUT_OF_ORDER = 6,
    /// A different value already exists at this timestamp.
    STRATA_ERR_DUPLICATE_TIMESTAMP = 7,
    /// A sample is older than what the database still accepts (its range is in a block).
    STRATA_ERR_TOO_OLD = 8,
    /// A float sample for a histogram series or the other way round.
    STRATA_ERR_KIND_MISMATCH = 9,
    /// A series reference this database never handed out.
    STRATA_ERR_UNKNOWN_SERIES = 10,
    /// The query is not valid PromQL.
    STRATA_ERR_QUERY_PARSE = 11,
    /// Valid PromQL outside the subset Strata evaluates.
    STRATA_ERR_QUERY_UNSUPPORTED = 12,
    /// A limit would be exceeded (query points, index capacity, record size, …).
    STRATA_ERR_LIMIT = 13,
    /// A bug: Rust code panicked. The call had no effect or an unknown part of it happened;
    /// the handle stays usable.
    STRATA_ERR_PANIC = 14,
    /// An engine error this version of the C API has no specific code for.
    STRATA_ERR_INTERNAL = 15,
    /// A sample or span is stamped further ahead of the clock than
    /// `strata_options.future_tolerance_ms` (nanoseconds passed as milliseconds?).
    STRATA_ERR_TOO_NEW = 16,
    /// A sample or span is older than its bucket's retention and
    /// `strata_options.reject_outside_retention` is set.
    STRATA_ERR_OUTSIDE_RETENTION = 17,
}

use strata_status::*;

impl strata_status {
    fn name(self) -> &'static std::ffi::CStr {
        match self {
            STRATA_OK => c"STRATA_OK",
            STRATA_ERR_INVALID_ARGUMENT => c"STRATA_ERR_INVALID_ARGUMENT",
            STRATA_ERR_IO => c"STRATA_ERR_IO",
            STRATA_ERR_LOCKED => c"STRATA_ERR_LOCKED",
            STRATA_ERR_CLOSED => c"STRATA_ERR_CLOSED",
            STRATA_ERR_CORRUPT => c"STRATA_ERR_CORRUPT",
            STRATA_ERR_OUT_OF_ORDER => c"STRATA_ERR_OUT_OF_ORDER",
            STRATA_ERR_DUPLICATE_TIMESTAMP => c"STRATA_ERR_DUPLICATE_TIMESTAMP",
            STRATA_ERR_TOO_OLD => c"STRATA_ERR_TOO_OLD",
            STRATA_ERR_KIND_MISMATCH => c"STRATA_ERR_KIND_MISMATCH",
            STRATA_ERR_UNKNOWN_SERIES => c"STRATA_ERR_UNKNOWN_SERIES",
            STRATA_ERR_QUERY_PARSE => c"STRATA_ERR_QUERY_PARSE",
            STRATA_ERR_QUERY_UNSUPPORTED => c"STRATA_ERR_QUERY_UNSUPPORTED",
            STRATA_ERR_LIMIT => c"STRATA_ERR_LIMIT",
            STRATA_ERR_PANIC => c"STRATA_ERR_PANIC",
            STRATA_ERR_INTERNAL => c"STRATA_ERR_INTERNAL",
            STRATA_ERR_TOO_NEW => c"STRATA_ERR_TOO_NEW",
            STRATA_ERR_OUTSIDE_RETENTION => c"STRATA_ERR_OUTSIDE_RETENTION",
        }
    }

    fn from_code(code: i32) -> Option<strata_status> {
        const ALL: [strata_status; 18] = [
            STRATA_OK,
            STRATA_ERR_INVALID_ARGUMENT,
            STRATA_ERR_IO,
            STRATA_ERR_LOCKED,
            STRATA_ERR_CLOSED,
            STRATA_ERR_CORRUPT,
            STRATA_ERR_OUT_OF_ORDER,
            STRATA_ERR_DUPLICATE_TIMESTAMP,
            STRATA_ERR_TOO_OLD,
            STRATA_ERR_KIND_MISMATCH,
            STRATA_ERR_UNKNOWN_SERIES,
            STRATA_ERR_QUERY_PARSE,
            STRATA_ERR_QUERY_UNSUPPORTED,
            STRATA_ERR_LIMIT,
            STRATA_ERR_PANIC,
            STRATA_ERR_INTERNAL,
            STRATA_ERR_TOO_NEW,
            STRATA_ERR_OUTSIDE_RETENTION,
        ];
        ALL.iter().copied().find(|s| *s as i32 == code)
    }
}

/// An error object: a status code and a message. Created by a failing call, owned by the
/// caller, immutable (any thread may read it), freed once with `strata_error_free`.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct strata_error {
    code: strata_status,
    message: CString,
}

/// A failure inside the crate, before it becomes a [`strata_error`].
#[derive(Debug)]
pub struct Failure {
    pub code: strata_status,
    pub message: String,
}

impl Failure {
    pub fn new(code: strata_status, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new(STRATA_ERR_INVALID_ARGUMENT, message)
    }

    pub fn null(what: &str) -> Self {
        Failure::invalid(format!("{what} is NULL"))
    }

    pub(crate) fn into_error(self) -> strata_error {
        // A message never contains NUL in practice; if one does, keep the rest visible.
        let message = CString::new(self.message.replace('\0', "\\0"))
            .unwrap_or_else(|_| CString::from(c"(unprintable message)"));
        strata_error {
            code: self.code,
            message,
        }
    }
}

/// The status code for an engine error.
pub fn engine_code(e: &EngineError) -> strata_status {
    match e {
        EngineError::Io { .. } => STRATA_ERR_IO,
        EngineError::Locked { .. } => STRATA_ERR_LOCKED,
        EngineError::Closed => STRATA_ERR_CLOSED,
        EngineError::Corrupt(_) => STRATA_ERR_CORRUPT,
        EngineError::OutOfOrder { .. } => STRATA_ERR_OUT_OF_ORDER,
        EngineError::DuplicateTimestamp { .. } => STRATA_ERR_DUPLICATE_TIMESTAMP,
        EngineError::TooOld { .. } => STRATA_ERR_TOO_OLD,
        EngineError::TooFarInFuture { .. } => STRATA_ERR_TOO_NEW,
        EngineError::OutsideRetention { .. } => STRATA_ERR_OUTSIDE_RETENTION,
        EngineError::KindMismatch { .. } => STRATA_ERR_KIND_MISMATCH,
        EngineError::UnknownSeriesRef(_) => STRATA_ERR_UNKNOWN_SERIES,
        EngineError::InvalidOptions { .. }
        | EngineError::BatchMismatch { .. }
        | EngineError::InvalidSpan { .. }
        | EngineError::InvalidEvent { .. } => STRATA_ERR_INVALID_ARGUMENT,
        EngineError::Limit { .. } => STRATA_ERR_LIMIT,
        EngineError::Internal(_) => STRATA_ERR_INTERNAL,
        EngineError::Otlp { source, .. } => match source {
            strata_engine::otlp::OtlpError::LimitExceeded { .. } => STRATA_ERR_LIMIT,
            _ => STRATA_ERR_INVALID_ARGUMENT,
        },
        EngineError::Wal(w) => wal_code(w),
        EngineError::Index(i) => index_code(i),
        EngineError::Codec(c) => codec_code(c),
        _ => STRATA_ERR_INTERNAL,
    }
}

fn wal_code(e: &strata_wal::Error) -> strata_status {
    use strata_wal::Error as W;
    match e {
        W::Io { .. } | W::Poisoned { .. } => STRATA_ERR_IO,
        W::Corruption { .. }
        | W::MissingSegment { .. }
        | W::ForeignSegment { .. }
        | W::UnsupportedVersion { .. }
        | W::MisnamedSegment { .. } => STRATA_ERR_CORRUPT,
        W::RecordTooLarge { .. } => STRATA_ERR_LIMIT,
        W::InvalidOptions { .. } => STRATA_ERR_INVALID_ARGUMENT,
        _ => STRATA_ERR_INTERNAL,
    }
}

fn index_code(e: &strata_index::Error) -> strata_status {
    use strata_index::Error as I;
    match e {
        I::EmptyMetricName
        | I::EmptyLabelName { .. }
        | I::InvalidUtf8 { .. }
        | I::DuplicateLabelName { .. }
        | I::TooManyLabels { .. }
        | I::LabelTooLong { .. }
        | I::InvalidRegex { .. } => STRATA_ERR_INVALID_ARGUMENT,
        I::LimitExceeded { .. } => STRATA_ERR_LIMIT,
        I::Io(_) => STRATA_ERR_IO,
        _ => STRATA_ERR_CORRUPT,
    }
}

fn codec_code(e: &strata_codec::Error) -> strata_status {
    use strata_codec::Error as C;
    match e {
        C::InvalidInput { .. } => STRATA_ERR_INVALID_ARGUMENT,
        C::LimitExceeded { .. } => STRATA_ERR_LIMIT,
        _ => STRATA_ERR_CORRUPT,
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::new(engine_code(&e), e.to_string())
    }
}

/// Span store errors get the codes of the engine errors they become.
impl From<strata_engine::spans::Error> for Failure {
    fn from(e: strata_engine::spans::Error) -> Self {
        Failure::from(EngineError::from(e))
    }
}

impl From<QueryError> for Failure {
    fn from(e: QueryError) -> Self {
        let code = match &e {
            QueryError::Parse { .. } => STRATA_ERR_QUERY_PARSE,
            QueryError::Unsupported { .. } => STRATA_ERR_QUERY_UNSUPPORTED,
            QueryError::Limit { .. } => STRATA_ERR_LIMIT,
            QueryError::Invalid { .. } => STRATA_ERR_INVALID_ARGUMENT,
            QueryError::Storage(inner) => inner
                .downcast_ref::<EngineError>()
                .map_or(STRATA_ERR_INTERNAL, engine_code),
            _ => STRATA_ERR_INTERNAL,
        };
        Failure::new(code, e.to_string())
    }
}

/// The code of an error object; `STRATA_ERR_INVALID_ARGUMENT` when `err` is NULL.
///
/// # Safety
/// `err` is NULL or an error object not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_error_code(err: *const strata_error) -> strata_status {
    // SAFETY: the caller passes NULL or a live error object (see `# Safety`).
    match unsafe { err.as_ref() } {
        Some(e) => e.code,
        None => STRATA_ERR_INVALID_ARGUMENT,
    }
}

/// The message of an error object: a NUL-terminated UTF-8 string owned by the error object,
/// valid until `strata_error_free`. Never NULL (a NULL `err` yields a static message).
///
/// # Safety
/// `err` is NULL or an error object not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_error_message(err: *const strata_error) -> *const c_char {
    // SAFETY: the caller passes NULL or a live error object (see `# Safety`).
    match unsafe { err.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"(no error object)".as_ptr(),
    }
}

/// Frees an error object and sets `*err` to NULL. `strata_error_free(NULL)` and a pointer to
/// a NULL handle are no-ops.
///
/// # Safety
/// `err` is NULL or points to NULL or to an error object returned by this library and not
/// yet freed; no other thread reads that error object during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_error_free(err: *mut *mut strata_error) {
    // SAFETY: forwarded contract.
    unsafe { crate::guard::free_handle(err) }
}

/// The name of a status code (`"STRATA_ERR_IO"`, …) as a static string, or
/// `"STRATA_UNKNOWN_STATUS"` for a value this library does not define. Takes an `int` so any
/// value may be passed.
#[unsafe(no_mangle)]
pub extern "C" fn strata_status_name(code: i32) -> *const c_char {
    strata_status::from_code(code)
        .map_or(c"STRATA_UNKNOWN_STATUS", strata_status::name)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn otlp_limits_are_limits_and_malformed_payloads_invalid() {
        use strata_engine::otlp::OtlpError;
        let limit = EngineError::Otlp {
            signal: "traces",
            source: OtlpError::LimitExceeded {
                what: "attribute nesting",
                value: 33,
                max: 32,
            },
        };
        assert_eq!(engine_code(&limit), STRATA_ERR_LIMIT);
        let bad = EngineError::Otlp {
            signal: "metrics",
            source: OtlpError::Malformed {
                offset: 3,
                detail: "truncated varint".into(),
            },
        };
        assert_eq!(engine_code(&bad), STRATA_ERR_INVALID_ARGUMENT);
        assert!(
            bad.to_string().starts_with("OTLP metrics: malformed"),
            "{bad}"
        );
    }

    #[test]
    fn every_status_has_a_stable_value_and_name() {
        for code in 0..18 {
            let s = strata_status::from_code(code).unwrap();
            assert_eq!(s as i32, code);
            // SAFETY: strata_status_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(strata_status_name(code)) };
            assert!(name.to_str().unwrap().starts_with("STRATA_"));
        }
        assert_eq!(STRATA_ERR_INTERNAL as i32, 15);
        assert_eq!(STRATA_ERR_OUTSIDE_RETENTION as i32, 17);
        assert!(strata_status::from_code(18).is_none());
        assert!(strata_status::from_code(-1).is_none());
    }

    #[test]
    fn messages_with_nul_survive() {
        let e = Failure::invalid("a\0b").into_error();
        assert_eq!(e.message.to_str().unwrap(), "a\\0b");
    }
}
