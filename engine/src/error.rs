//! The engine's error type. Lower layers' errors are wrapped, not flattened, so a caller can
//! still tell a WAL corruption from an index corruption.

use std::fmt;
use std::path::PathBuf;
pub use strata_storage::Corruption;

/// What went wrong in the engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Another process (or another `Db` in this one) holds the directory.
    Locked {
        path: PathBuf,
    },
    Wal(strata_wal::Error),
    /// An OTLP payload was refused: malformed, a field out of range, or over a limit.
    Otlp {
        /// The signal: "traces", "metrics" or "logs".
        signal: &'static str,
        source: crate::otlp::OtlpError,
    },
    Index(strata_index::Error),
    Codec(strata_codec::Error),
    /// A sample older than the newest sample of its series, beyond the out-of-order window.
    OutOfOrder {
        series: String,
        timestamp_ms: i64,
        newest_ms: i64,
        window_ms: i64,
    },
    /// A sample at an already used timestamp with a different value.
    DuplicateTimestamp {
        series: String,
        timestamp_ms: i64,
    },
    /// A sample older than what the head still accepts (its time range is already in a block).
    TooOld {
        series: String,
        timestamp_ms: i64,
        min_valid_ms: i64,
    },
    /// A sample or span stamped further ahead of the clock than `Options::future_tolerance_ms`
    /// (a nanosecond timestamp passed as milliseconds, a client with a broken clock).
    TooFarInFuture {
        what: String,
        timestamp_ms: i64,
        max_ms: i64,
    },
    /// A sample or span older than its bucket's retention, refused because
    /// `Options::reject_outside_retention` is set.
    OutsideRetention {
        what: String,
        timestamp_ms: i64,
        cutoff_ms: i64,
        bucket: String,
    },
    /// A float sample for a histogram series or the other way round.
    KindMismatch {
        series: String,
        detail: &'static str,
    },
    /// A series reference this database never handed out.
    UnknownSeriesRef(u64),
    /// An option (of `Options` or the span configuration) is unusable.
    InvalidOptions {
        option: &'static str,
        detail: String,
    },
    /// The three slices of an `append_batch` differ in length.
    BatchMismatch {
        refs: usize,
        timestamps: usize,
        values: usize,
    },
    /// Span `index` of a batch is unusable (zero ids, end before start, …).
    InvalidSpan {
        index: usize,
        detail: String,
    },
    /// Event `index` of a batch is unusable (no time at all, too many attributes, …).
    InvalidEvent {
        index: usize,
        detail: String,
    },
    /// A bound was hit: `actual` of `what` where at most `limit` fit.
    Limit {
        what: &'static str,
        limit: u64,
        actual: u64,
    },
    /// A block, partition, meta file or WAL record of the engine's own is malformed: where,
    /// down to the column, row group and byte offset when known.
    Corrupt(Corruption),
    /// The engine broke one of its own invariants (a bug: please report it).
    Internal(String),
    /// The database was closed.
    Closed,
    /// No database at this path, and `Options::create_if_missing` is off.
    NoDatabase {
        path: PathBuf,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Error::Corrupt(Corruption::new(path, detail))
    }

    /// Whether the error is about one sample (the rest of a batch was still applied).
    pub fn is_sample_error(&self) -> bool {
        matches!(
            self,
            Error::OutOfOrder { .. }
                | Error::DuplicateTimestamp { .. }
                | Error::TooOld { .. }
                | Error::TooFarInFuture { .. }
                | Error::OutsideRetention { .. }
                | Error::KindMismatch { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Locked { path } => write!(
                f,
                "{}: the database is open in another process or handle",
                path.display()
            ),
            Error::Wal(e) => write!(f, "{e}"),
            Error::Otlp { signal, source } => write!(f, "OTLP {signal}: {source}"),
            Error::Index(e) => write!(f, "index: {e}"),
            Error::Codec(e) => write!(f, "codec: {e}"),
            Error::OutOfOrder {
                series,
                timestamp_ms,
                newest_ms,
                window_ms,
            } => write!(
                f,
                "{series}: sample at {timestamp_ms} ms is out of order (newest {newest_ms} ms, window {window_ms} ms)"
            ),
            Error::DuplicateTimestamp {
                series,
                timestamp_ms,
            } => write!(
                f,
                "{series}: a different value already exists at {timestamp_ms} ms"
            ),
            Error::TooOld {
                series,
                timestamp_ms,
                min_valid_ms,
            } => write!(
                f,
                "{series}: sample at {timestamp_ms} ms is older than the head accepts ({min_valid_ms} ms)"
            ),
            Error::TooFarInFuture {
                what,
                timestamp_ms,
                max_ms,
            } => write!(
                f,
                "{what}: timestamp {timestamp_ms} ms is too far in the future (the clock allows up to {max_ms} ms; milliseconds expected)"
            ),
            Error::OutsideRetention {
                what,
                timestamp_ms,
                cutoff_ms,
                bucket,
            } => write!(
                f,
                "{what}: timestamp {timestamp_ms} ms is older than bucket {bucket}'s retention keeps (cutoff {cutoff_ms} ms)"
            ),
            Error::KindMismatch { series, detail } => write!(f, "{series}: {detail}"),
            Error::UnknownSeriesRef(r) => write!(f, "unknown series reference {r}"),
            Error::InvalidOptions { option, detail } => write!(f, "option {option}: {detail}"),
            Error::BatchMismatch {
                refs,
                timestamps,
                values,
            } => write!(
                f,
                "batch lengths differ: {refs} refs, {timestamps} timestamps, {values} values"
            ),
            Error::InvalidSpan { index, detail } => write!(f, "span {index}: {detail}"),
            Error::InvalidEvent { index, detail } => write!(f, "event {index}: {detail}"),
            Error::Limit {
                what,
                limit,
                actual,
            } => write!(f, "{actual} {what}, over the limit of {limit}"),
            Error::Corrupt(c) => write!(f, "{c}"),
            Error::Internal(s) => write!(f, "internal error: {s}"),
            Error::Closed => write!(f, "the database is closed"),
            Error::NoDatabase { path } => write!(f, "no Strata database at {}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Wrappers display their inner error, so they return its source, not it (an error
            // chain printer would otherwise show the same message twice).
            Error::Io { source, .. } => source.source(),
            Error::Wal(e) => e.source(),
            Error::Index(e) => e.source(),
            Error::Codec(e) => e.source(),
            Error::Otlp { source, .. } => source.source(),
            _ => None,
        }
    }
}

impl From<strata_wal::Error> for Error {
    fn from(e: strata_wal::Error) -> Self {
        Error::Wal(e)
    }
}

impl From<strata_index::Error> for Error {
    fn from(e: strata_index::Error) -> Self {
        Error::Index(e)
    }
}

/// The metrics storage's errors become the engine's variants of the same name.
impl From<strata_tsdb::Error> for Error {
    fn from(e: strata_tsdb::Error) -> Self {
        use strata_tsdb::Error as T;
        match e {
            T::Io { path, source } => Error::Io { path, source },
            T::Index(e) => Error::Index(e),
            T::Codec(e) => Error::Codec(e),
            T::KindMismatch { series, detail } => Error::KindMismatch { series, detail },
            T::Limit {
                what,
                limit,
                actual,
            } => Error::Limit {
                what,
                limit,
                actual,
            },
            T::Corrupt(c) => Error::Corrupt(c),
            T::Internal(s) => Error::Internal(s),
            other => Error::Internal(format!("unmapped storage error: {other}")),
        }
    }
}

/// The span store's errors become the engine's variants of the same name.
impl From<strata_spans::Error> for Error {
    fn from(e: strata_spans::Error) -> Self {
        use strata_spans::Error as S;
        match e {
            S::Io { path, source } => Error::Io { path, source },
            S::Wal(e) => Error::Wal(e),
            S::Index(e) => Error::Index(e),
            S::Codec(e) => Error::Codec(e),
            S::TooFarInFuture {
                what,
                timestamp_ms,
                max_ms,
            } => Error::TooFarInFuture {
                what,
                timestamp_ms,
                max_ms,
            },
            S::OutsideRetention {
                what,
                timestamp_ms,
                cutoff_ms,
                bucket,
            } => Error::OutsideRetention {
                what,
                timestamp_ms,
                cutoff_ms,
                bucket,
            },
            S::InvalidOptions { option, detail } => Error::InvalidOptions { option, detail },
            S::InvalidSpan { index, detail } => Error::InvalidSpan { index, detail },
            S::InvalidEvent { index, detail } => Error::InvalidEvent { index, detail },
            S::Limit {
                what,
                limit,
                actual,
            } => Error::Limit {
                what,
                limit,
                actual,
            },
            S::Corrupt(c) => Error::Corrupt(c),
            S::Internal(s) => Error::Internal(s),
            other => Error::Internal(format!("unmapped span store error: {other}")),
        }
    }
}

impl From<strata_codec::Error> for Error {
    fn from(e: strata_codec::Error) -> Self {
        Error::Codec(e)
    }
}
