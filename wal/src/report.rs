//! What `open` found and did: the caller logs it (`Display` prints a summary and one line per
//! finding), the tests check it.

use crate::error::CorruptionKind;
use std::fmt;

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
    /// The log (after any cut) ends with a sync record, or holds no record in its last segment:
    /// the last records were proven durable, so damage to them would have been reported as
    /// corruption. `false` when the last writer stopped while appending (a crash), under
    /// `SyncPolicy::Never` without a `sync`, or for a log written before sync records existed:
    /// then damage to the last batch cannot be told from a torn write and is cut as a torn tail.
    pub tail_proven_durable: bool,
}

impl RecoveryReport {
    /// True when the log was exactly as the last writer left it after a clean stop.
    pub fn is_clean(&self) -> bool {
        self.truncated_tail.is_none()
            && self.skipped.is_empty()
            && self.repaired_headers.is_empty()
            && self.removed_files.is_empty()
    }

    /// Bytes of the log that recovery dropped or covered: the cut tail and the skipped ranges.
    pub fn lost_bytes(&self) -> u64 {
        self.truncated_tail.as_ref().map_or(0, |t| t.dropped_bytes)
            + self.skipped.iter().map(|s| s.len_bytes).sum::<u64>()
    }
}

/// A cut tail: everything from `offset` to the end of the last segment was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailTruncation {
    pub segment: u64,
    pub offset: u64,
    pub dropped_bytes: u64,
    /// Intact data records found after the damage and dropped with it: a crash left them behind
    /// a hole in data that had not been synced, so they were never durable. (The damaged
    /// record itself, if the damage is one, is not counted: its length cannot be trusted.)
    pub discarded_records: u64,
    /// What was wrong at `offset`.
    pub kind: CorruptionKind,
}

/// A damaged range that `Salvage` covered with skip records (or cut, at a segment's end). It
/// held at least one record; how many cannot be known (their lengths are damaged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRange {
    pub segment: u64,
    pub offset: u64,
    pub len_bytes: u64,
    /// The range ran to the end of its segment and was cut off the file instead of being
    /// covered with skip records.
    pub cut: bool,
    /// What was wrong at `offset`.
    pub kind: CorruptionKind,
}

/// `recovered segments 1..=3: 1042 records; …` then one indented line per finding.
impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "recovered segments {}..={}: {} records",
            self.first_segment, self.last_segment, self.records
        )?;
        if self.ignored_records > 0 {
            write!(
                f,
                ", {} of unknown types skipped as safe to ignore",
                self.ignored_records
            )?;
        }
        if self.is_clean() {
            f.write_str("; clean")?;
        } else {
            let mut findings = Vec::new();
            if self.truncated_tail.is_some() {
                findings.push("torn tail cut".to_owned());
            }
            if !self.skipped.is_empty() {
                findings.push(format!(
                    "{} damaged range(s) skipped ({} bytes)",
                    self.skipped.len(),
                    self.skipped.iter().map(|s| s.len_bytes).sum::<u64>()
                ));
            }
            if !self.repaired_headers.is_empty() {
                findings.push(format!(
                    "{} segment header(s) rewritten",
                    self.repaired_headers.len()
                ));
            }
            if !self.removed_files.is_empty() {
                findings.push(format!("{} file(s) removed", self.removed_files.len()));
            }
            write!(f, "; {}", findings.join(", "))?;
        }
        if !self.tail_proven_durable {
            f.write_str(
                "; no sync record at the end (the writer stopped mid-write, or predates them): \
                 damage to the last batch could not be told from a torn write",
            )?;
        }
        if let Some(t) = &self.truncated_tail {
            write!(f, "\n  {t}")?;
        }
        for s in &self.skipped {
            write!(f, "\n  {s}")?;
        }
        for n in &self.repaired_headers {
            write!(f, "\n  segment {n}: damaged header rewritten")?;
        }
        for name in &self.removed_files {
            write!(f, "\n  removed {name}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TailTruncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "segment {} offset {}: torn tail cut, {} bytes dropped",
            self.segment, self.offset, self.dropped_bytes
        )?;
        if self.discarded_records > 0 {
            write!(
                f,
                " with {} intact unsynced record(s) after a hole",
                self.discarded_records
            )?;
        }
        write!(f, " ({})", self.kind)
    }
}

impl fmt::Display for SkippedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done = if self.cut {
            "cut off the end of the segment"
        } else {
            "covered with skip records"
        };
        write!(
            f,
            "segment {} offset {}: {} damaged bytes {done} ({})",
            self.segment, self.offset, self.len_bytes, self.kind
        )
    }
}
