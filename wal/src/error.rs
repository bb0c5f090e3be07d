//! The one error type of the WAL. Every reader path returns it instead of panicking, and every
//! error names where it happened: the file for I/O, the segment and byte offset for damage.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call failed. `op` is what the WAL was doing ("write", "sync", …).
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// Bytes in a segment are not a valid record or header. `offset` is the byte offset inside
    /// the segment file where the damaged record (or the header, offset 0) starts.
    Corruption {
        segment: u64,
        offset: u64,
        kind: CorruptionKind,
    },
    /// The segment numbers are not contiguous: `expected` is missing, the next one is `found`.
    MissingSegment { expected: u64, found: u64 },
    /// A segment whose header carries another log's id.
    ForeignSegment {
        segment: u64,
        log_id: u64,
        expected_log_id: u64,
    },
    /// A segment written in a format version this build cannot read.
    UnsupportedVersion {
        segment: u64,
        version: u8,
        supported: u8,
    },
    /// A segment file whose header names another segment number than its file name does.
    MisnamedSegment {
        file_segment: u64,
        header_segment: u64,
    },
    /// An append larger than [`crate::MAX_RECORD_LEN`]; records are never split.
    RecordTooLarge { len: usize, max: usize },
    /// An append with a record type this log may not write (zero, the internal skip type, or an
    /// unknown kind without the safe-to-ignore bit).
    InvalidRecordType { byte: u8 },
    /// Options out of range.
    InvalidOptions { detail: String },
    /// An earlier write or sync failed, so nothing more is appended through this handle: what
    /// reached the file before the failure stays readable; reopen the log to go on.
    Poisoned { cause: String },
}

/// Why a record or segment header was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptionKind {
    /// The segment header is shorter than its fixed size, or does not start with the magic.
    BadSegmentHeader { detail: &'static str },
    /// The segment header's CRC does not match its bytes.
    SegmentHeaderChecksum { expected: u32, actual: u32 },
    /// The record header's CRC (which covers the log id, segment, offset, length, type, sync
    /// mark and payload CRC) does not match.
    HeaderChecksum { expected: u32, actual: u32 },
    /// The payload's CRC does not match.
    PayloadChecksum { expected: u32, actual: u32 },
    /// The segment ends before the record does (`needed` bytes from the record start, `available`
    /// left in the file).
    Truncated { needed: u64, available: u64 },
    /// A header field has a value the format forbids (type 0, a sync mark past the record…).
    BadField { field: &'static str, value: u64 },
    /// A record type this build does not know and that is not marked safe to ignore.
    UnknownType { byte: u8 },
}

/// Result alias for the WAL crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(op: &'static str, path: PathBuf, source: io::Error) -> Self {
        Error::Io { op, path, source }
    }

    /// Whether this is damage to the log's bytes (as opposed to I/O, misuse or configuration).
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => write!(f, "wal: {op} {}: {source}", path.display()),
            Error::Corruption {
                segment,
                offset,
                kind,
            } => write!(f, "wal: corrupt: segment {segment} offset {offset}: {kind}"),
            Error::MissingSegment { expected, found } => write!(
                f,
                "wal: segment {expected} is missing (the next one present is {found})"
            ),
            Error::ForeignSegment {
                segment,
                log_id,
                expected_log_id,
            } => write!(
                f,
                "wal: segment {segment} belongs to log {log_id:#018x}, not {expected_log_id:#018x}"
            ),
            Error::UnsupportedVersion {
                segment,
                version,
                supported,
            } => write!(
                f,
                "wal: segment {segment} has format version {version}; this build reads {supported}"
            ),
            Error::MisnamedSegment {
                file_segment,
                header_segment,
            } => write!(
                f,
                "wal: file of segment {file_segment} holds segment {header_segment}"
            ),
            Error::RecordTooLarge { len, max } => {
                write!(f, "wal: record of {len} bytes exceeds the maximum of {max}")
            }
            Error::InvalidRecordType { byte } => {
                write!(f, "wal: record type {byte:#04x} may not be appended")
            }
            Error::InvalidOptions { detail } => write!(f, "wal: invalid options: {detail}"),
            Error::Poisoned { cause } => write!(
                f,
                "wal: an earlier write or sync failed ({cause}); reopen the log"
            ),
        }
    }
}

impl fmt::Display for CorruptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptionKind::BadSegmentHeader { detail } => {
                write!(f, "bad segment header: {detail}")
            }
            CorruptionKind::SegmentHeaderChecksum { expected, actual } => write!(
                f,
                "segment header checksum: stored {expected:#010x}, computed {actual:#010x}"
            ),
            CorruptionKind::HeaderChecksum { expected, actual } => write!(
                f,
                "record header checksum: stored {expected:#010x}, computed {actual:#010x}"
            ),
            CorruptionKind::PayloadChecksum { expected, actual } => write!(
                f,
                "payload checksum: stored {expected:#010x}, computed {actual:#010x}"
            ),
            CorruptionKind::Truncated { needed, available } => write!(
                f,
                "record needs {needed} bytes, the segment has {available} left"
            ),
            CorruptionKind::BadField { field, value } => write!(f, "bad {field}: {value}"),
            CorruptionKind::UnknownType { byte } => {
                write!(
                    f,
                    "unknown record type {byte:#04x} without the safe-to-ignore bit"
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
