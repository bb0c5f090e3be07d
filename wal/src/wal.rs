//! The public handle: open (with recovery), append, sync, replay, truncate, close.

use crate::error::{Error, Result};
use crate::format::{self, MAX_RECORD_LEN, SEGMENT_HEADER_LEN};
use crate::options::{Options, SyncPolicy};
use crate::record::RecordType;
use crate::recovery::{self, SegmentMeta};
use crate::replay::Replay;
use crate::report::RecoveryReport;
use crate::storage::{FsStorage, Storage};
use crate::writer::Shared;
use crate::{Position, Stats};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A write-ahead log. Share it between threads (`&Wal` or `Arc<Wal>`): `append` takes `&self`
/// and concurrent appends are committed together.
#[derive(Debug)]
pub struct Wal {
    shared: Arc<Shared>,
    syncer: Option<JoinHandle<()>>,
    report: RecoveryReport,
    /// Serializes `truncate_before` calls.
    truncating: Mutex<()>,
}

impl Wal {
    /// Opens the log in `dir` on the real filesystem, creating it if it does not exist.
    pub fn open_dir(dir: impl AsRef<Path>, options: Options) -> Result<Wal> {
        let dir = dir.as_ref();
        let storage =
            FsStorage::new(dir).map_err(|e| Error::io("create directory", dir.to_owned(), e))?;
        Wal::open(Arc::new(storage), options)
    }

    /// Opens (recovering) or creates the log kept in `storage`. What recovery found and did is
    /// in [`Wal::recovery_report`].
    pub fn open(storage: Arc<dyn Storage>, options: Options) -> Result<Wal> {
        options.validate()?;
        let mut recovered = recovery::recover(&*storage, &options)?;
        let active = recovered.segments.pop().expect("recovery leaves a segment");
        let shared = Arc::new(Shared::new(
            storage,
            recovered.log_id,
            options,
            recovered.segments,
            active,
            recovered.active,
            !recovered.tail_proven,
        ));
        let syncer = match options.sync {
            SyncPolicy::Interval(every) => Some(spawn_syncer(shared.clone(), every)?),
            _ => None,
        };
        Ok(Wal {
            shared,
            syncer,
            report: recovered.report,
            truncating: Mutex::new(()),
        })
    }

    /// Appends one record and returns where it starts. When this returns, the record is in the
    /// operating system's hands (it survives a crash of this process) and, under
    /// [`SyncPolicy::Always`], on stable storage.
    pub fn append(&self, record_type: RecordType, payload: &[u8]) -> Result<Position> {
        if payload.len() > MAX_RECORD_LEN {
            return Err(Error::RecordTooLarge {
                len: payload.len(),
                max: MAX_RECORD_LEN,
            });
        }
        if !record_type.is_appendable() {
            return Err(Error::InvalidRecordType {
                byte: record_type.byte(),
            });
        }
        self.shared.append(record_type, payload)
    }

    /// Makes every record appended so far durable, whatever the policy; returns the durable end.
    ///
    /// If nothing was appended meanwhile, it also writes a sync record after the last record
    /// (16 bytes, no extra fsync; the next append overwrites it), so that damage to the last
    /// records is reported as corruption instead of being cut as a torn tail at the next open.
    pub fn sync(&self) -> Result<Position> {
        self.shared.sync()
    }

    /// Makes the next appended record start a new segment (unless the current one holds no
    /// record yet). A checkpoint calls it first, so that once its records are durable
    /// `truncate_before(first checkpoint record)` can delete every older segment — the whole
    /// log shrinks to the checkpoint instead of waiting for the active segment to fill.
    pub fn start_segment(&self) {
        self.shared.start_segment();
    }

    /// Replays the records from `from` (a position `append` or replay returned; anything before
    /// the first segment means "from the start") up to the end written when this is called.
    pub fn replay(&self, from: Position) -> Replay {
        let segments = {
            let st = self.shared.state.lock();
            let mut segments = st.sealed.clone();
            segments.push(SegmentMeta {
                number: st.written.segment,
                len: st.written.offset,
            });
            segments
        };
        Replay::new(
            self.shared.storage.clone(),
            self.shared.log_id,
            segments,
            from,
        )
    }

    /// Deletes the segments that hold only records before `position`, oldest first, syncing
    /// the directory after each: a crash at any step leaves a contiguous run of segments.
    /// The segment being appended to is never deleted. Returns how many were deleted.
    pub fn truncate_before(&self, position: Position) -> Result<u64> {
        let _one_at_a_time = self.truncating.lock();
        let storage = &self.shared.storage;
        let mut removed = 0;
        loop {
            let oldest = self.shared.state.lock().sealed.first().map(|s| s.number);
            let Some(n) = oldest.filter(|n| *n < position.segment) else {
                return Ok(removed);
            };
            let name = format::segment_file_name(n);
            match storage.remove(&name) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io("remove", storage.path(&name), e));
                }
                _ => {}
            }
            storage
                .sync_dir()
                .map_err(|e| Error::io("sync directory", storage.path(""), e))?;
            self.shared.state.lock().sealed.remove(0);
            removed += 1;
        }
    }

    /// What recovery found and did when this log was opened.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    pub fn log_id(&self) -> u64 {
        self.shared.log_id
    }

    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// Where the oldest record still kept starts.
    pub fn start(&self) -> Position {
        let st = self.shared.state.lock();
        let first = st.sealed.first().map_or(st.written.segment, |s| s.number);
        Position::new(first, SEGMENT_HEADER_LEN as u64)
    }

    /// End of the records handed to the operating system: every acknowledged record is before it.
    pub fn end(&self) -> Position {
        self.shared.state.lock().written
    }

    /// End of the records known durable: every record that starts before it survives power loss.
    pub fn durable_end(&self) -> Position {
        self.shared.state.lock().durable
    }

    /// Counters since open.
    pub fn stats(&self) -> Stats {
        self.shared.state.lock().stats
    }

    /// Syncs everything, stops the interval syncer, and ends the log with a durable sync record
    /// (unless it already ends with one: closing an unchanged log writes nothing), so that the
    /// next open reports damage to the last records as corruption instead of cutting them as a
    /// torn tail. Dropping the log does the same but ignores failures (and, under `Never`, does
    /// nothing).
    pub fn close(mut self) -> Result<()> {
        let result = self.sync().map(|_| ());
        self.stop_syncer();
        result?;
        self.shared.seal_tail()
    }

    fn stop_syncer(&mut self) {
        if let Some(handle) = self.syncer.take() {
            self.shared.state.lock().shutdown = true;
            self.shared.stop.notify_all();
            let _ = handle.join();
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.stop_syncer();
        match self.shared.options.sync {
            SyncPolicy::Always => {
                let _ = self.shared.seal_tail();
            }
            SyncPolicy::Interval(_) => {
                if self.shared.sync().is_ok() {
                    let _ = self.shared.seal_tail();
                }
            }
            // Nothing was promised durable, so nothing is done.
            SyncPolicy::Never => {}
        }
    }
}

fn spawn_syncer(shared: Arc<Shared>, every: Duration) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("strata-wal-sync".into())
        .spawn(move || {
            loop {
                {
                    let deadline = Instant::now() + every;
                    let mut st = shared.state.lock();
                    while !st.shutdown && !shared.stop.wait_until(&mut st, deadline).timed_out() {}
                    if st.shutdown {
                        return;
                    }
                }
                shared.background_sync();
            }
        })
        .map_err(|e| Error::io("spawn sync thread", std::path::PathBuf::new(), e))
}
