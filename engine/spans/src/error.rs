//! The span store's error type. The engine's `Error` converts each variant into its own
//! variant of the same name, so callers of `Db` see one error type.

use std::fmt;
use std::path::PathBuf;
pub use strata_storage::Corruption;

/// What went wrong in the span store.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Wal(strata_wal::Error),
    Index(strata_index::Error),
    Codec(strata_codec::Error),
    /// A span stamped further ahead of the clock than the store allows.
    TooFarInFuture {
        what: String,
        timestamp_ms: i64,
        max_ms: i64,
    },
    /// A span older than its bucket's retention, refused because the owner asked for that.
    OutsideRetention {
        what: String,
        timestamp_ms: i64,
        cutoff_ms: i64,
        bucket: String,
    },
    /// An option or the span configuration (buckets, rules, content policy) is unusable.
    InvalidOptions {
        option: &'static str,
        detail: String,
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
    /// A bound of the store was hit: `actual` of `what` where at most `limit` fit.
    Limit {
        what: &'static str,
        limit: u64,
        actual: u64,
    },
    /// A partition, config file or WAL payload of the store's own is malformed.
    Corrupt(Corruption),
    /// The store broke one of its own invariants (a bug: please report it).
    Internal(String),
}

/// The span store's result type.
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

    pub(crate) fn options(option: &'static str, detail: impl Into<String>) -> Self {
        Error::InvalidOptions {
            option,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Wal(e) => write!(f, "{e}"),
            Error::Index(e) => write!(f, "index: {e}"),
            Error::Codec(e) => write!(f, "codec: {e}"),
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
            Error::InvalidOptions { option, detail } => write!(f, "{option}: {detail}"),
            Error::InvalidSpan { index, detail } => write!(f, "span {index}: {detail}"),
            Error::InvalidEvent { index, detail } => write!(f, "event {index}: {detail}"),
            Error::Limit {
                what,
                limit,
                actual,
            } => write!(f, "{actual} {what}, over the limit of {limit}"),
            Error::Corrupt(c) => write!(f, "{c}"),
            Error::Internal(s) => write!(f, "internal error: {s}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Wrappers display their inner error, so they return its source, not it.
        match self {
            Error::Io { source, .. } => source.source(),
            Error::Wal(e) => e.source(),
            Error::Index(e) => e.source(),
            Error::Codec(e) => e.source(),
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

impl From<strata_codec::Error> for Error {
    fn from(e: strata_codec::Error) -> Self {
        Error::Codec(e)
    }
}
