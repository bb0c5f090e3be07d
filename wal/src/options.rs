//! How a log is opened: segment size, when appends are synced, how damage is handled.

use crate::error::{Error, Result};
use crate::format::{RECORD_HEADER_LEN, SEGMENT_HEADER_LEN};
use std::time::Duration;

/// When appended records are made durable. Every policy hands a record to the operating system
/// (one `write` per batch) before `append` returns, so a process crash loses nothing that was
/// acknowledged; the policies differ on power loss. See `docs/format/wal.md`, "Sync policies".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `append` returns after an fsync covering the record. Concurrent appenders share fsyncs.
    Always,
    /// A background thread fsyncs every interval; on power loss at most the records of the last
    /// interval plus one fsync's duration are lost.
    Interval(Duration),
    /// The operating system writes back when it likes (only segment rotation and `sync` fsync).
    Never,
}

/// What `open` does with damage that a crash cannot explain (see `docs/format/wal.md`,
/// "Recovery rules"). A torn or garbage tail is truncated in both modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryMode {
    /// Fail with [`Error::Corruption`] and leave the files untouched.
    #[default]
    Strict,
    /// Cover each damaged range with a skip record, keep everything after it, and list the
    /// ranges in the [`crate::RecoveryReport`].
    Salvage,
}

/// Options for [`crate::Wal::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// A new segment starts when the next record would take the current one past this size. A
    /// record larger than a whole segment gets a segment of its own.
    pub segment_size_bytes: u64,
    pub sync: SyncPolicy,
    pub recovery: RecoveryMode,
    /// The id a new log gets, and the id an existing log must have (a segment with another id
    /// is refused). `None`: a new log gets a random id, an existing one keeps its own.
    pub log_id: Option<u64>,
}

impl Options {
    pub const DEFAULT_SEGMENT_SIZE_BYTES: u64 = 64 << 20;
    /// Offsets are 32-bit in the format; a segment may exceed its size by one record.
    pub const MAX_SEGMENT_SIZE_BYTES: u64 = 1 << 30;
    pub const MIN_SEGMENT_SIZE_BYTES: u64 = (SEGMENT_HEADER_LEN + RECORD_HEADER_LEN) as u64;

    pub(crate) fn validate(&self) -> Result<()> {
        let size = self.segment_size_bytes;
        if !(Self::MIN_SEGMENT_SIZE_BYTES..=Self::MAX_SEGMENT_SIZE_BYTES).contains(&size) {
            return Err(Error::InvalidOptions {
                detail: format!(
                    "segment_size_bytes {size} outside {}..={}",
                    Self::MIN_SEGMENT_SIZE_BYTES,
                    Self::MAX_SEGMENT_SIZE_BYTES
                ),
            });
        }
        if matches!(self.sync, SyncPolicy::Interval(d) if d.is_zero()) {
            return Err(Error::InvalidOptions {
                detail: "SyncPolicy::Interval needs a non-zero interval (use Always)".into(),
            });
        }
        Ok(())
    }
}

impl Default for Options {
    /// 64 MiB segments, `Always`, `Strict`.
    fn default() -> Self {
        Options {
            segment_size_bytes: Self::DEFAULT_SEGMENT_SIZE_BYTES,
            sync: SyncPolicy::Always,
            recovery: RecoveryMode::Strict,
            log_id: None,
        }
    }
}
