//! Strata's write-ahead log: segmented, CRC-checked, group-committed, with replay and repair.
//!
//! The log moves opaque typed records; the engine decides what is inside them.
//!
//! - [`Wal`]: open (with recovery), [`Wal::append`] from many threads, [`Wal::sync`],
//!   [`Wal::replay`], [`Wal::truncate_before`].
//! - [`Options`]: segment size, [`SyncPolicy`] (`Always`, `Interval`, `Never`) and
//!   [`RecoveryMode`] (`Strict`, `Salvage`).
//! - [`RecordType`]: the reserved kinds (metrics, series, spans, exemplars, markers) and the
//!   safe-to-ignore bit.
//! - [`storage`]: the I/O seam — the real filesystem and a fault-injecting, crash-simulating
//!   in-memory directory.
//! - [`mod@format`]: the byte layout, documented in `docs/format/wal.md` with the recovery rules,
//!   the sync policies' loss windows and the assumptions about the disk.
//!
//! Reading never panics on bad bytes and never allocates more than one record
//! ([`MAX_RECORD_LEN`]) plus a fixed read buffer, whatever a length field says.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

mod error;
pub mod format;
mod options;
mod reader;
mod record;
mod recovery;
mod repair;
mod replay;
mod report;
/// The I/O seam the WAL writes through (the `strata-storage` crate).
pub use strata_storage as storage;
mod wal;
mod writer;

pub use error::{CorruptionKind, Error, Result};
pub use format::MAX_RECORD_LEN;
pub use options::{Options, RecoveryMode, SyncPolicy};
pub use record::{OwnedRecord, Record, RecordType};
pub use replay::Replay;
pub use report::{RecoveryReport, SkippedRange, TailTruncation};
pub use wal::Wal;

/// Where a record starts: segment number and byte offset inside the segment file. Positions
/// order like the log: a later record has a larger position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

impl Position {
    /// Before every record of every log: `replay(Position::ZERO)` replays everything.
    pub const ZERO: Position = Position {
        segment: 0,
        offset: 0,
    };

    pub const fn new(segment: u64, offset: u64) -> Position {
        Position { segment, offset }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.segment, self.offset)
    }
}

/// Counters since open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Records appended, and their bytes including record headers.
    pub records: u64,
    pub bytes: u64,
    /// Write calls (one per batch and segment) and fsyncs (of segments; not the directory).
    pub writes: u64,
    pub syncs: u64,
    pub segments_created: u64,
    /// Sync records written: the WAL's own empty records that prove the records before them
    /// durable to recovery (counted in `writes`, not in `records`; see `docs/format/wal.md`).
    pub sync_records: u64,
}
