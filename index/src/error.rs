//! The one error type of the index crate. Label sets and matchers that break a rule, and index
//! files that are damaged, come back as values of [`Error`]; nothing here panics on input.

use std::fmt;

/// Which half of a label a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelPart {
    Name,
    Value,
}

/// A region of an index file, named in corruption errors (`docs/format/index.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Section {
    Header,
    Footer,
    Toc,
    Symbols,
    Series,
    Postings,
    LabelIndex,
    Ids,
}

/// What went wrong. Validation variants come from label sets and matchers supplied by callers;
/// file variants come from index files, which the reader treats as untrusted bytes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `__name__` is missing or empty (an empty value is the same as an absent label).
    EmptyMetricName,
    /// A label name is the empty string. `index` is the label's position in the caller's input.
    EmptyLabelName { index: usize },
    /// A label name or value is not valid UTF-8; `valid_up_to` is the length of its valid prefix.
    InvalidUtf8 {
        index: usize,
        part: LabelPart,
        valid_up_to: usize,
    },
    /// Two labels share a name (whatever their values).
    DuplicateLabelName { name: String },
    /// More labels than [`crate::Limits::max_labels`].
    TooManyLabels { count: usize, max: usize },
    /// A name or value longer (in bytes) than the limit. `name` is the label's name, cut to 64
    /// bytes so an error never carries an oversized string.
    LabelTooLong {
        name: String,
        part: LabelPart,
        len: usize,
        max: usize,
    },
    /// A regex matcher whose pattern does not compile.
    InvalidRegex { pattern: String, detail: String },
    /// A capacity of the in-memory index ran out (u32 ids, 4 GiB of symbol bytes, …).
    LimitExceeded { what: &'static str, max: u64 },
    /// Reading or writing an index file failed.
    Io(std::io::Error),
    /// The file does not start (or end) with the index magic.
    BadMagic { section: Section, found: [u8; 4] },
    /// A format version this build does not read.
    UnsupportedVersion { version: u8 },
    /// A structure runs past the end of its section or file.
    Truncated {
        section: Section,
        offset: u64,
        needed: u64,
        available: u64,
    },
    /// A CRC32 (IEEE polynomial, as `crc32fast` computes it) differs from the stored one.
    /// `offset` is the file offset of the first checksummed byte.
    ChecksumMismatch {
        section: Section,
        offset: u64,
        expected: u32,
        actual: u32,
    },
    /// The bytes are checksummed correctly but say something impossible.
    Corrupt {
        section: Section,
        offset: u64,
        detail: String,
    },
}

/// Result alias for the index crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn corrupt(section: Section, offset: u64, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            section,
            offset,
            detail: detail.into(),
        }
    }

    /// True for the variants that mean "this file is damaged" (as opposed to I/O or bad input).
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            Error::BadMagic { .. }
                | Error::UnsupportedVersion { .. }
                | Error::Truncated { .. }
                | Error::ChecksumMismatch { .. }
                | Error::Corrupt { .. }
        )
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary, for strings carried inside errors.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyMetricName => write!(f, "label set has no metric name (__name__)"),
            Error::EmptyLabelName { index } => write!(f, "label {index} has an empty name"),
            Error::InvalidUtf8 {
                index,
                part,
                valid_up_to,
            } => write!(
                f,
                "label {index}: {part:?} is not valid UTF-8 after byte {valid_up_to}"
            ),
            Error::DuplicateLabelName { name } => write!(f, "duplicate label name {name:?}"),
            Error::TooManyLabels { count, max } => {
                write!(f, "{count} labels exceed the limit of {max}")
            }
            Error::LabelTooLong {
                name,
                part,
                len,
                max,
            } => write!(
                f,
                "label {name:?}: {part:?} of {len} bytes exceeds the limit of {max}"
            ),
            Error::InvalidRegex { pattern, detail } => {
                write!(f, "invalid regex {pattern:?}: {detail}")
            }
            Error::LimitExceeded { what, max } => write!(f, "{what}: limit of {max} reached"),
            Error::Io(e) => write!(f, "index file I/O: {e}"),
            Error::BadMagic { section, found } => {
                write!(f, "index file {section:?}: bad magic {found:02x?}")
            }
            Error::UnsupportedVersion { version } => {
                write!(f, "index file: unsupported format version {version}")
            }
            Error::Truncated {
                section,
                offset,
                needed,
                available,
            } => write!(
                f,
                "index file {section:?} at offset {offset}: truncated (needed {needed} bytes, have {available})"
            ),
            Error::ChecksumMismatch {
                section,
                offset,
                expected,
                actual,
            } => write!(
                f,
                "index file {section:?} at offset {offset}: CRC32 {actual:#010x}, expected {expected:#010x}"
            ),
            Error::Corrupt {
                section,
                offset,
                detail,
            } => write!(f, "index file {section:?} at offset {offset}: {detail}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
