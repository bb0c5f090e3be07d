//! What `open` found and did: the caller logs it, the tests check it.

use crate::error::CorruptionKind;

/// The outcome of recovery at open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub first_segment: u64,
    pub last_segment: u64,
    /// Records of known types that replay will return.
    pub records: u64,
    /// Records of unknown types marked safe to ignore (replay skips them).
    pub ignored_records: u64,
    /// The torn, zeroed or garbage tail cut off the last segment, if any.
    pub truncated_tail: Option<TailTruncation>,
    /// Damaged ranges `Salvage` mode skipped (always empty in `Strict` mode, which fails instead).
    pub skipped: Vec<SkippedRange>,
    /// Segments whose damaged header `Salvage` mode rewrote.
    pub repaired_headers: Vec<u64>,
    /// Files removed: leftovers of an interrupted segment creation, or a last segment shorter
    /// than its header.
    pub removed_files: Vec<String>,
}

impl RecoveryReport {
    /// True when the log was exactly as the last writer left it after a clean stop.
    pub fn is_clean(&self) -> bool {
        self.truncated_tail.is_none()
            && self.skipped.is_empty()
            && self.repaired_headers.is_empty()
            && self.removed_files.is_empty()
    }
}

/// A cut tail: everything from `offset` to the end of the last segment was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailTruncation {
    pub segment: u64,
    pub offset: u64,
    pub dropped_bytes: u64,
    /// Intact records found after the damage and dropped with it: a crash left them behind a
    /// hole in data that had not been synced, so they were never durable.
    pub discarded_records: u64,
    /// What was wrong at `offset`.
    pub kind: CorruptionKind,
}

/// A damaged range that `Salvage` covered with skip records (or cut, at a segment's end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRange {
    pub segment: u64,
    pub offset: u64,
    pub len_bytes: u64,
    pub kind: CorruptionKind,
}
