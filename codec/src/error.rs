//! The one error type of the codec crate. Every decoder returns it instead of panicking.

use std::fmt;

/// What went wrong while encoding or decoding. Variants carry the structure being read (`what`)
/// and, where known, the byte offset inside the encoded input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the structure did.
    Truncated {
        what: &'static str,
        /// Bytes (or bits, for bit streams: see `what`) the decoder needed.
        needed: u64,
        /// Bytes (or bits) that were there.
        available: u64,
    },
    /// The bytes are not a valid encoding: a bad tag, a length that contradicts the input, a
    /// checksum mismatch, a value out of the range the format allows.
    Corrupt {
        what: &'static str,
        offset: usize,
        detail: String,
    },
    /// A format version or encoding id this build does not know.
    UnsupportedVersion { what: &'static str, version: u8 },
    /// A bound of the format was hit (samples per chunk, bytes per chunk, buckets, …).
    LimitExceeded {
        what: &'static str,
        value: u64,
        max: u64,
    },
    /// The caller passed something the encoder refuses (out-of-order timestamp, empty input, …).
    InvalidInput { what: &'static str, detail: String },
}

/// Result alias for the codec crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn corrupt(what: &'static str, offset: usize, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            what,
            offset,
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Error::InvalidInput {
            what,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "{what}: truncated input (needed {needed}, have {available})"
            ),
            Error::Corrupt {
                what,
                offset,
                detail,
            } => write!(f, "{what}: corrupt at offset {offset}: {detail}"),
            Error::UnsupportedVersion { what, version } => {
                write!(f, "{what}: unsupported version/encoding {version}")
            }
            Error::LimitExceeded { what, value, max } => {
                write!(f, "{what}: {value} exceeds the limit of {max}")
            }
            Error::InvalidInput { what, detail } => write!(f, "{what}: invalid input: {detail}"),
        }
    }
}

impl std::error::Error for Error {}
