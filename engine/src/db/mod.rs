//! `Db`: the database a server embeds. Open, append, select, compact, close.
//!
//! ```text
//! DIR/LOCK                         exclusive lock (one process, one handle)
//! DIR/wal/                         write-ahead log segments (strata-wal)
//! DIR/blocks/<bucket>/<block id>/  immutable blocks: chunks, index, meta.json
//! ```

mod append;
pub(crate) mod compact;
mod querier;
mod read;
mod recover;
mod stats;

use parking_lot::{Mutex, RwLock};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use strata_codec::gorilla::ChunkLimits;
use strata_codec::histogram::HistogramLimits;
use strata_wal::Wal;

pub use append::BatchOutcome;
pub use read::{HistogramSeries, SeriesSamples};
pub use stats::Stats;

use crate::block::Block;
use crate::error::{Error, Result};
use crate::head::Head;
use crate::options::Options;

/// A reference to a series, returned by [`Db::series_ref`]; valid for the life of the database
/// directory (references survive restarts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// An open database. `Send + Sync`: share it (`Arc<Db>` or `&Db`) across threads.
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    options: Options,
    _lock: File,
    wal: Wal,
    head: Head,
    /// Blocks of the metrics bucket, sorted by min time.
    blocks: RwLock<Vec<Arc<Block>>>,
    /// Appends hold it shared from validation to head apply; a WAL checkpoint holds it
    /// exclusively, so no acknowledged sample can fall between a snapshot and a truncation.
    append_gate: RwLock<()>,
    /// One cut or compaction at a time.
    maintenance: Mutex<()>,
    closed: AtomicBool,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`, replaying its WAL.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Db> {
        options.validate()?;
        let dir = dir.as_ref().to_owned();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked { path: dir }),
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
        let blocks = recover::open_blocks(&dir.join("blocks").join(&options.metrics_bucket))?;
        let wal_options = strata_wal::Options {
            segment_size_bytes: options.wal_segment_bytes,
            sync: options.fsync.to_wal(),
            recovery: if options.wal_salvage {
                strata_wal::RecoveryMode::Salvage
            } else {
                strata_wal::RecoveryMode::Strict
            },
            log_id: None,
        };
        let wal = Wal::open_dir(dir.join("wal"), wal_options)?;
        let db = Db {
            dir,
            options,
            _lock: lock,
            wal,
            head: Head::new(),
            blocks: RwLock::new(blocks),
            append_gate: RwLock::new(()),
            maintenance: Mutex::new(()),
            closed: AtomicBool::new(false),
        };
        if let Some(newest) = db.blocks.read().iter().map(|b| b.meta.max_time_ms).max() {
            db.head.set_min_valid_ms(newest.saturating_add(1));
        }
        recover::replay_wal(&db)?;
        Ok(db)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// What WAL recovery found on open (torn tails truncated, ranges skipped in salvage mode).
    pub fn wal_recovery_report(&self) -> &strata_wal::RecoveryReport {
        self.wal.recovery_report()
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    fn chunk_limits(&self) -> ChunkLimits {
        ChunkLimits {
            max_samples: self.options.chunk_samples,
            max_bytes: ChunkLimits::default().max_bytes,
        }
    }

    fn histogram_limits(&self) -> HistogramLimits {
        HistogramLimits::default()
    }

    fn blocks_dir(&self) -> PathBuf {
        self.dir.join("blocks").join(&self.options.metrics_bucket)
    }

    /// Makes everything appended so far durable, whatever the sync policy.
    pub fn sync(&self) -> Result<()> {
        self.check_open()?;
        self.wal.sync()?;
        Ok(())
    }

    /// Syncs the WAL and closes the database. Later calls on this handle return `Closed`.
    pub fn close(self) -> Result<()> {
        self.closed.store(true, Ordering::Release);
        let _gate = self.append_gate.write();
        self.wal.sync()?;
        Ok(())
    }
}
