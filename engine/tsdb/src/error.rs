//! The metrics storage's error type. The engine's `Error` converts each variant into its own
//! variant of the same name.

use std::fmt;
use std::path::PathBuf;
pub use strata_storage::Corruption;

/// What went wrong in the head or a block.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Index(strata_index::Error),
    Codec(strata_codec::Error),
    /// A float sample for a histogram series or the other way round (`series` is filled in
    /// by the caller, which knows the labels).
    KindMismatch {
        series: String,
        detail: &'static str,
    },
    /// A bound was hit: `actual` of `what` where at most `limit` fit.
    Limit {
        what: &'static str,
        limit: u64,
        actual: u64,
    },
    /// A block, meta file or WAL record is malformed.
    Corrupt(Corruption),
    /// The head or a block writer broke one of its own invariants (a bug: please report it).
    Internal(String),
}

/// The metrics storage's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn corrupt(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        Error::Corrupt(Corruption::new(path, detail))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Index(e) => write!(f, "index: {e}"),
            Error::Codec(e) => write!(f, "codec: {e}"),
            Error::KindMismatch { series, detail } => write!(f, "{series}: {detail}"),
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
            Error::Index(e) => e.source(),
            Error::Codec(e) => e.source(),
            _ => None,
        }
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
