//! `Db`: the database a server embeds. Open, append, select, compact, close.
//!
//! ```text
//! DIR/LOCK                         exclusive lock (one process, one handle)
//! DIR/wal/                         write-ahead log segments (strata-wal)
//! DIR/blocks/<bucket>/<block id>/  immutable blocks: chunks, index, meta.json
//! ```

mod append;
pub(crate) mod compact;
mod events;
mod exemplars;
mod querier;
mod read;
mod recover;
mod spans;
mod stats;

use parking_lot::{Condvar, Mutex, RwLock};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;
use strata_codec::gorilla::ChunkLimits;
use strata_storage::{DirLock, FileSystem};
use strata_wal::Wal;

pub use append::BatchOutcome;
pub use exemplars::{ExemplarOutcome, ExemplarSeries};
pub use read::{HistogramSeries, NativeSeries, SeriesSamples};
pub use recover::ReplayReport;
pub use spans::OtlpMetricsOutcome;
pub use stats::{Stats, WalRecovery};

use crate::block::Block;
use crate::error::{Error, Result};
use crate::head::Head;
use crate::options::Options;
use crate::spans::{SpanStore, SpanStoreOptions};

/// A reference to a series, returned by [`Db::series_ref`]; valid for the life of the database
/// directory (references survive restarts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// An open database: a cheap handle (`Clone` shares it). `Send + Sync`: use it from many
/// threads at once. A background thread cuts the head into blocks, merges blocks and applies
/// retention; [`Db::close`] (or dropping the last handle) stops it.
#[derive(Debug, Clone)]
pub struct Db {
    core: Arc<DbCore>,
    /// Empty in the handle the background thread makes for one pass.
    maintenance_thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// The state every handle shares.
#[derive(Debug)]
struct DbCore {
    dir: PathBuf,
    options: Options,
    _lock: DirLock,
    wal: Wal,
    head: Head,
    /// Blocks of the metrics bucket, sorted by min time.
    blocks: RwLock<Vec<Arc<Block>>>,
    /// Span tables, in their own buckets under `DIR/spans/`.
    spans: SpanStore,
    /// Running totals of OTLP delta-temporality series (in memory: a restart starts them over).
    otlp_delta: Mutex<crate::otlp::DeltaState>,
    /// Appends hold it shared from validation to head apply; a WAL checkpoint and the move of
    /// the head's lower bound hold it exclusively, so no acknowledged sample can fall between a
    /// snapshot and a truncation, or below a bound after it moved.
    append_gate: RwLock<()>,
    /// One cut or compaction at a time.
    maintenance: Mutex<()>,
    /// WAL segment the last checkpoint ended in (guarded by `maintenance`).
    checkpoint_segment: Mutex<u64>,
    /// Reads hold it shared for their whole snapshot of blocks and head; a cut holds it
    /// exclusively while it drops from the head what it just published in blocks, so a read
    /// never sees the head without those samples and the block list without the new block.
    view: RwLock<()>,
    /// Wakes the background thread. Shared with the thread, which waits on it without
    /// holding the database (so dropping the last handle closes the database at once).
    wake: Arc<Wake>,
    closed: AtomicBool,
    /// What replay found at open (unattributable samples, torn batches).
    replay_report: std::sync::OnceLock<ReplayReport>,
    /// Totals of what retention removed since open (`Stats`).
    expired: Mutex<compact::ExpiredTotals>,
    /// The newest exemplars of each series (in the WAL, re-logged by checkpoints).
    exemplars: strata_tsdb::exemplars::ExemplarStore,
    /// Type, unit and help per metric name (in the WAL, re-logged by checkpoints).
    metadata: strata_tsdb::metadata::MetadataStore,
}

/// A flag and a condition variable: "there is maintenance to do" (or "stop").
#[derive(Debug, Default)]
struct Wake {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    fn notify(&self) {
        *self.pending.lock() = true;
        self.cv.notify_one();
    }

    /// Waits until notified or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        let mut pending = self.pending.lock();
        if !*pending {
            self.cv.wait_for(&mut pending, timeout);
        }
        *pending = false;
    }
}

/// How often the background thread looks at retention and compaction even when not woken.
const MAINTENANCE_PERIOD: Duration = Duration::from_secs(30);

impl Db {
    /// Opens (creating if needed) the database in `dir`, replaying its WAL.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Db> {
        let db = Db {
            core: Arc::new(DbCore::open(dir.as_ref(), options)?),
            maintenance_thread: Arc::new(Mutex::new(None)),
        };
        let replayed = recover::replay_wal(&db.core)?;
        let _ = db.core.replay_report.set(replayed);
        let weak: Weak<DbCore> = Arc::downgrade(&db.core);
        let wake = Arc::clone(&db.core.wake);
        let thread = std::thread::Builder::new()
            .name("strata-maintenance".into())
            .spawn(move || maintenance_loop(weak, wake))
            .map_err(|e| Error::io(dir.as_ref(), e))?;
        *db.maintenance_thread.lock() = Some(thread);
        Ok(db)
    }

    /// Stops background work, syncs the WAL and closes the database. Every handle then
    /// returns [`Error::Closed`].
    pub fn close(self) -> Result<()> {
        self.stop_maintenance();
        let _gate = self.core.append_gate.write();
        self.core.wal.sync()?;
        Ok(())
    }

    fn stop_maintenance(&self) {
        self.core.closed.store(true, Ordering::Release);
        self.core.wake.notify();
        if let Some(t) = self.maintenance_thread.lock().take() {
            let _ = t.join();
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // The last handle stops and joins the thread. (If the thread holds the database for a
        // moment, it releases it when its pass ends and then finds it gone.)
        if Arc::strong_count(&self.core) == 1 {
            self.stop_maintenance();
        }
    }
}

/// Takes the database's `LOCK` file (an exclusive advisory lock held while the returned
/// file is open): one process, one `Db`, at a time.
pub(crate) fn lock_dir(fs: &dyn FileSystem, dir: &Path) -> Result<DirLock> {
    let lock_path = dir.join("LOCK");
    match fs.try_lock(&lock_path) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => Err(Error::Locked {
            path: dir.to_owned(),
        }),
        Err(e) => Err(Error::io(&lock_path, e)),
    }
}

fn maintenance_loop(core: Weak<DbCore>, wake: Arc<Wake>) {
    loop {
        wake.wait(MAINTENANCE_PERIOD);
        let Some(core) = core.upgrade() else { return };
        if core.closed.load(Ordering::Acquire) {
            return;
        }
        // A handle for this pass that does not own the thread (dropping it never joins).
        let db = Db {
            core,
            maintenance_thread: Arc::new(Mutex::new(None)),
        };
        // Errors here surface to callers through the next compact() / stats(); the thread
        // keeps going (a full disk may clear up).
        let _ = db.maintain();
    }
}

impl DbCore {
    fn open(dir: &Path, options: Options) -> Result<DbCore> {
        options.validate()?;
        let dir = dir.to_owned();
        let fs = &options.fs;
        if !options.create_if_missing && !fs.is_dir(&dir.join("wal")) {
            return Err(Error::NoDatabase { path: dir });
        }
        fs.create_dirs_synced(&dir)
            .map_err(|e| Error::io(&dir, e))?;
        let lock = lock_dir(&**fs, &dir)?;
        let blocks_dir = dir.join("blocks").join(&options.metrics_bucket);
        let blocks = strata_tsdb::compaction::open_blocks(&**fs, &blocks_dir)?;
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
        let wal_dir = dir.join("wal");
        let wal_storage = fs
            .dir_storage(&wal_dir)
            .map_err(|e| Error::io(&wal_dir, e))?;
        let wal = Wal::open(wal_storage, wal_options)?;
        let span_options = SpanStoreOptions {
            fs: fs.clone(),
            ..SpanStoreOptions::default()
        };
        let spans = SpanStore::open(&dir.join("spans"), span_options)?;
        let exemplars_per_series = options.exemplars_per_series;
        let db = DbCore {
            dir,
            options,
            _lock: lock,
            wal,
            head: Head::new(),
            blocks: RwLock::new(blocks),
            spans,
            otlp_delta: Mutex::new(crate::otlp::DeltaState::new()),
            checkpoint_segment: Mutex::new(0),
            append_gate: RwLock::new(()),
            maintenance: Mutex::new(()),
            view: RwLock::new(()),
            wake: Arc::new(Wake::default()),
            closed: AtomicBool::new(false),
            replay_report: std::sync::OnceLock::new(),
            expired: Mutex::new(compact::ExpiredTotals::default()),
            exemplars: strata_tsdb::exemplars::ExemplarStore::new(exemplars_per_series),
            metadata: strata_tsdb::metadata::MetadataStore::new(),
        };
        if let Some(newest) = db.blocks.read().iter().map(|b| b.meta.max_time_ms).max() {
            db.head.set_min_valid_ms(newest.saturating_add(1));
        }
        Ok(db)
    }

    /// Logs a marker record; returns where it is.
    fn log_marker(&self, marker: crate::records::Marker) -> Result<strata_wal::Position> {
        let mut payload = Vec::new();
        crate::records::encode_marker(marker, &mut payload);
        Ok(self.wal.append(strata_wal::RecordType::MARKERS, &payload)?)
    }

    fn chunk_limits(&self) -> ChunkLimits {
        ChunkLimits {
            max_samples: self.options.chunk_samples,
            max_bytes: ChunkLimits::default().max_bytes,
        }
    }
}

impl Db {
    pub fn dir(&self) -> &Path {
        &self.core.dir
    }

    pub fn options(&self) -> &Options {
        &self.core.options
    }

    /// What WAL recovery found on open (torn tails truncated, ranges skipped in salvage mode).
    pub fn wal_recovery_report(&self) -> &strata_wal::RecoveryReport {
        self.core.wal.recovery_report()
    }

    /// What replay found on open beyond the WAL's own report: samples skipped because no
    /// surviving record defines their series (salvage mode), batches that never committed.
    pub fn replay_report(&self) -> ReplayReport {
        self.core.replay_report.get().cloned().unwrap_or_default()
    }

    fn check_open(&self) -> Result<()> {
        if self.core.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    fn blocks_dir(&self) -> PathBuf {
        self.core
            .dir
            .join("blocks")
            .join(&self.core.options.metrics_bucket)
    }

    /// Wakes the background thread.
    fn wake_maintenance(&self) {
        self.core.wake.notify();
    }

    /// Makes everything appended so far durable, whatever the sync policy.
    pub fn sync(&self) -> Result<()> {
        self.check_open()?;
        self.core.wal.sync()?;
        Ok(())
    }
}
