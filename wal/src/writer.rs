//! Group commit. Appenders encode their record into a shared pending buffer under one mutex and
//! wait; whoever finds no leader at work becomes the leader, takes the whole pending buffer,
//! writes it with one call (and syncs it once, if any waiter needs that), publishes the new
//! written/durable marks and wakes everyone. Records that arrive while a leader works form the
//! next batch, so the more appenders wait on an fsync, the more records each fsync covers.
//!
//! Sync records: when a leader has made the whole log durable and nothing is pending, it writes
//! a *sync record* (an empty skip record whose sync mark is its own offset) at the end of the
//! file, without an fsync and without advancing the log's end: the next batch overwrites it.
//! Its only job is to prove the last records durable to recovery, which otherwise could not
//! tell damage to them from a torn tail. `seal_tail` (close, drop) keeps it and fsyncs it.

use crate::error::{Error, Result};
use crate::format::{self, RECORD_HEADER_LEN, RecordHeader, SEGMENT_HEADER_LEN, SegmentHeader};
use crate::options::{Options, SyncPolicy};
use crate::record::RecordType;
use crate::recovery::SegmentMeta;
use crate::storage::{Storage, StorageFile};
use crate::{Position, Stats};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

const HEADER: u64 = SEGMENT_HEADER_LEN as u64;
const RECORD_HEADER: u64 = RECORD_HEADER_LEN as u64;
/// Batch buffers kept for reuse, and the largest one kept.
const SPARE_BUFFERS: usize = 4;
const SPARE_BUFFER_BYTES: usize = 4 << 20;

/// State shared by the `Wal` handle, appenders and the interval syncer.
#[derive(Debug)]
pub(crate) struct Shared {
    pub storage: Arc<dyn Storage>,
    pub log_id: u64,
    pub options: Options,
    pub state: Mutex<State>,
    /// Signalled whenever a leader or the syncer publishes progress or a failure.
    pub progress: Condvar,
    /// Signalled on shutdown, for the interval syncer only.
    pub stop: Condvar,
    /// Held by the current leader only: the open segment file.
    pub writer: Mutex<Writer>,
}

#[derive(Debug)]
pub(crate) struct State {
    /// Sequence number the next appended record gets.
    pub next_seq: u64,
    /// Where the next appended record will start.
    pub tail: Position,
    tail_seed: u32,
    pending: Vec<Chunk>,
    spare_buffers: Vec<Vec<u8>>,
    /// Records with a smaller sequence number are in the operating system's hands.
    written_seq: u64,
    /// Records with a smaller sequence number are durable.
    synced_seq: u64,
    /// End of the data handed to the OS, and of the data known durable.
    pub written: Position,
    pub durable: Position,
    /// Complete segments before the active one, oldest first.
    pub sealed: Vec<SegmentMeta>,
    active_file: Arc<dyn StorageFile>,
    leader_active: bool,
    failure: Option<Failure>,
    pub shutdown: bool,
    pub stats: Stats,
    /// The log ends with records that no sync mark proves durable: once they are durable and
    /// nothing newer is pending, a sync record is due.
    needs_sync_record: bool,
    /// A sync record lies in the file at `written`, outside the log's records: the next batch
    /// overwrites it, `seal_tail` keeps it. (The leader's `Writer` has the same flag; this copy
    /// is for decisions taken under the state lock.)
    tail_sync_record: bool,
    /// The next record starts a new segment (`Wal::start_segment`), even if it would fit.
    start_segment: bool,
}

/// Encoded records bound for one segment, starting at `offset`.
#[derive(Debug)]
struct Chunk {
    segment: u64,
    offset: u64,
    bytes: Vec<u8>,
}

/// The first write or sync failure. Waiters whose records were in the failed batch get it as an
/// I/O error; later appends get `Poisoned`.
#[derive(Debug, Clone)]
struct Failure {
    op: &'static str,
    path: PathBuf,
    kind: io::ErrorKind,
    message: String,
    /// Records below this sequence number were in flight when it failed.
    seq_end: u64,
}

impl Failure {
    fn new(op: &'static str, path: &std::path::Path, e: &io::Error, seq_end: u64) -> Failure {
        Failure {
            op,
            path: path.to_owned(),
            kind: e.kind(),
            message: e.to_string(),
            seq_end,
        }
    }

    fn error_for(&self, seq_end: u64) -> Error {
        if seq_end <= self.seq_end {
            Error::io(
                self.op,
                self.path.clone(),
                io::Error::new(self.kind, self.message.clone()),
            )
        } else {
            Error::Poisoned {
                cause: format!("{} {}: {}", self.op, self.path.display(), self.message),
            }
        }
    }
}

/// The leader's view of the open segment.
#[derive(Debug)]
pub(crate) struct Writer {
    file: Arc<dyn StorageFile>,
    segment: u64,
    len: u64,
    synced_len: u64,
    /// A sync record was written at `len` (past the records, not counted in `len`).
    trailing_sync_record: bool,
}

/// What a batch did to the files, published even when it failed part-way.
struct Outcome {
    written: Position,
    durable: Position,
    sealed: Vec<SegmentMeta>,
    file: Arc<dyn StorageFile>,
    writes: u64,
    syncs: u64,
    segments_created: u64,
    sync_records: u64,
    trailing_sync_record: bool,
    error: Option<(&'static str, PathBuf, io::Error)>,
}

impl Outcome {
    fn new(w: &Writer) -> Outcome {
        Outcome {
            written: Position::ZERO,
            durable: Position::ZERO,
            sealed: Vec::new(),
            file: w.file.clone(),
            writes: 0,
            syncs: 0,
            segments_created: 0,
            sync_records: 0,
            trailing_sync_record: false,
            error: None,
        }
    }

    /// Records the writer's state after the I/O.
    fn finish(&mut self, w: &Writer, result: std::result::Result<(), IoFailure>) {
        self.written = Position::new(w.segment, w.len);
        self.durable = Position::new(w.segment, w.synced_len);
        self.file = w.file.clone();
        self.trailing_sync_record = w.trailing_sync_record;
        self.error = result.err();
    }
}

/// A failed operation, the file it was on, and the error.
type IoFailure = (&'static str, PathBuf, io::Error);

impl Shared {
    pub fn new(
        storage: Arc<dyn Storage>,
        log_id: u64,
        options: Options,
        sealed: Vec<SegmentMeta>,
        active: SegmentMeta,
        file: Arc<dyn StorageFile>,
        needs_sync_record: bool,
    ) -> Shared {
        let end = Position::new(active.number, active.len);
        let state = State {
            next_seq: 0,
            tail: end,
            tail_seed: format::segment_seed(log_id, active.number),
            pending: Vec::new(),
            spare_buffers: Vec::new(),
            written_seq: 0,
            synced_seq: 0,
            written: end,
            durable: end,
            sealed,
            active_file: file.clone(),
            leader_active: false,
            failure: None,
            shutdown: false,
            stats: Stats::default(),
            needs_sync_record,
            tail_sync_record: false,
            start_segment: false,
        };
        Shared {
            storage,
            log_id,
            options,
            state: Mutex::new(state),
            progress: Condvar::new(),
            stop: Condvar::new(),
            writer: Mutex::new(Writer {
                file,
                segment: active.number,
                len: active.len,
                synced_len: active.len,
                trailing_sync_record: false,
            }),
        }
    }

    /// Appends one record and waits as the sync policy says.
    pub fn append(&self, record_type: RecordType, payload: &[u8]) -> Result<Position> {
        // The payload CRC is the expensive part: compute it before taking the lock.
        let payload_crc = crc32fast::hash(payload);
        let mut st = self.state.lock();
        if let Some(f) = &st.failure {
            return Err(f.error_for(u64::MAX));
        }
        let (position, seq) = st.enqueue(
            &self.options,
            self.log_id,
            record_type,
            payload,
            payload_crc,
        );
        let sync = self.options.sync == SyncPolicy::Always;
        self.commit(st, seq + 1, sync)?;
        Ok(position)
    }

    /// The next record appended starts a new segment (unless the current one is still empty).
    pub fn start_segment(&self) {
        self.state.lock().start_segment = true;
    }

    /// Makes everything appended so far durable; returns the durable end. If that leaves the
    /// log durable and idle, a sync record marks it so (no extra fsync: see the module docs).
    pub fn sync(&self) -> Result<Position> {
        let st = self.state.lock();
        let seq_end = st.next_seq;
        self.commit(st, seq_end, true)?;
        let mut st = self.state.lock();
        if !st.leader_active && st.sync_record_due() {
            st.leader_active = true;
            // Best effort: without it recovery is only less sure of the tail.
            let _ = self.write_sync_record(&mut st, false);
            st.leader_active = false;
            self.progress.notify_all();
        }
        Ok(st.durable)
    }

    /// For close and drop: if the log ends with records no sync mark covers, ends it with a
    /// sync record (the one already in the file, or a new one) and fsyncs it, so that damage to
    /// the last records is reported as corruption at the next open. Does nothing when the log
    /// already ends that way (reopening and closing an idle log does not grow it), when
    /// something is not durable (call `sync` first) or after a failure.
    ///
    /// Only for a handle no one else appends through: a leader at work then means one that
    /// panicked, and waiting for it would hang a drop, so that case is skipped too.
    pub fn seal_tail(&self) -> Result<()> {
        let mut st = self.state.lock();
        let idle_and_durable = !st.leader_active
            && st.failure.is_none()
            && st.pending.is_empty()
            && st.durable == st.written;
        if !st.needs_sync_record || !idle_and_durable {
            return Ok(());
        }
        st.leader_active = true;
        let result = self.write_sync_record(&mut st, true);
        st.leader_active = false;
        self.progress.notify_all();
        result
    }

    /// Writes a sync record at the end of the log; the caller is the leader and the log is
    /// durable and idle. `keep` makes it part of the log (the end moves past it) and fsyncs it;
    /// otherwise it lies past the end for the next batch to overwrite. A failure to keep one
    /// poisons the log like any failed write or sync.
    fn write_sync_record(&self, st: &mut MutexGuard<'_, State>, keep: bool) -> Result<()> {
        let at = st.written;
        debug_assert!(st.tail == at && st.durable == at && st.pending.is_empty());
        let header =
            RecordHeader::sync_record(at.offset as u32).encode(st.tail_seed, at.offset as u32);
        let outcome = MutexGuard::unlocked(st, || {
            let mut w = self.writer.lock();
            let mut out = Outcome::new(&w);
            let result = self.write_sync_record_io(&mut w, &header, keep, &mut out);
            out.finish(&w, result);
            out
        });
        let error = st.publish(outcome);
        match error {
            None if keep => {
                st.tail = st.written;
                st.needs_sync_record = false;
                Ok(())
            }
            None => Ok(()),
            Some((op, path, e)) if keep => {
                let seq_end = st.next_seq;
                st.failure = Some(Failure::new(op, &path, &e, seq_end));
                Err(Error::io(op, path, e))
            }
            Some((op, path, e)) => Err(Error::io(op, path, e)),
        }
    }

    fn write_sync_record_io(
        &self,
        w: &mut Writer,
        header: &[u8; RECORD_HEADER_LEN],
        keep: bool,
        out: &mut Outcome,
    ) -> std::result::Result<(), IoFailure> {
        let path = || self.storage.path(&format::segment_file_name(w.segment));
        if !w.trailing_sync_record {
            out.writes += 1;
            if let Err(e) = w.file.write_all_at(w.len, header) {
                // Best effort; a partial one is overwritten by the next batch or cut as a torn
                // tail by the next open.
                let _ = w.file.set_len(w.len);
                return Err(("write", path(), e));
            }
            out.sync_records += 1;
            w.trailing_sync_record = true;
        }
        if keep {
            w.trailing_sync_record = false;
            w.len += RECORD_HEADER;
            w.file.sync_data().map_err(|e| ("sync", path(), e))?;
            out.syncs += 1;
            w.synced_len = w.len;
        }
        Ok(())
    }

    /// Waits until records below `seq_end` are written (and synced, if `sync`), leading
    /// batches while no one else does.
    fn commit(&self, mut st: MutexGuard<'_, State>, seq_end: u64, sync: bool) -> Result<()> {
        loop {
            let done = if sync {
                st.synced_seq >= seq_end
            } else {
                st.written_seq >= seq_end
            };
            if done {
                return Ok(());
            }
            if let Some(f) = &st.failure {
                return Err(f.error_for(seq_end));
            }
            if st.leader_active {
                self.progress.wait(&mut st);
                continue;
            }
            st.leader_active = true;
            let chunks = std::mem::take(&mut st.pending);
            let batch_seq_end = st.next_seq;
            // Under `Always` every waiter wants the sync, so the leader syncs whoever it is.
            let do_sync = sync || self.options.sync == SyncPolicy::Always;
            let outcome = MutexGuard::unlocked(&mut st, || self.write_batch(&chunks, do_sync));
            let error = st.publish(outcome);
            for mut chunk in chunks {
                // Reuse batch buffers, but do not hold on to a few huge ones forever.
                if st.spare_buffers.len() < SPARE_BUFFERS
                    && chunk.bytes.capacity() <= SPARE_BUFFER_BYTES
                {
                    chunk.bytes.clear();
                    st.spare_buffers.push(chunk.bytes);
                }
            }
            let result = match error {
                None => {
                    st.written_seq = batch_seq_end;
                    if do_sync {
                        st.synced_seq = batch_seq_end;
                    }
                    Ok(())
                }
                Some((op, path, e)) => {
                    st.failure = Some(Failure::new(op, &path, &e, batch_seq_end));
                    Err(Error::io(op, path, e))
                }
            };
            if result.is_ok() && st.sync_record_due() {
                // Durable and idle: mark the end before giving up the leader role, so that no
                // batch can be written there meanwhile. This batch's waiters need not wait.
                // Best effort: without it recovery is only less sure of the tail.
                self.progress.notify_all();
                let _ = self.write_sync_record(&mut st, false);
            }
            st.leader_active = false;
            self.progress.notify_all();
            result?;
        }
    }

    /// Writes the chunks in order, opening new segments where they say, then syncs if asked.
    fn write_batch(&self, chunks: &[Chunk], sync: bool) -> Outcome {
        let mut w = self.writer.lock();
        let mut out = Outcome::new(&w);
        let result = self.write_chunks(&mut w, chunks, sync, &mut out);
        out.finish(&w, result);
        out
    }

    fn write_chunks(
        &self,
        w: &mut Writer,
        chunks: &[Chunk],
        sync: bool,
        out: &mut Outcome,
    ) -> std::result::Result<(), IoFailure> {
        let path = |n| self.storage.path(&format::segment_file_name(n));
        for chunk in chunks {
            if chunk.segment != w.segment {
                debug_assert_eq!(chunk.segment, w.segment + 1);
                // A sync record past the end stays: it may have reached the disk, and the
                // whole segment must be durable and valid once sealed.
                if w.trailing_sync_record {
                    w.trailing_sync_record = false;
                    w.len += RECORD_HEADER;
                }
                // Seal: the old segment is durable before its successor exists, so only the
                // last segment can ever have an unsynced tail (whatever the policy).
                if w.synced_len < w.len {
                    w.file
                        .sync_data()
                        .map_err(|e| ("sync", path(w.segment), e))?;
                    out.syncs += 1;
                    w.synced_len = w.len;
                }
                let file = create_segment_io(&*self.storage, self.log_id, chunk.segment)
                    .map_err(|(op, e)| (op, path(chunk.segment), e))?;
                out.segments_created += 1;
                out.sealed.push(SegmentMeta {
                    number: w.segment,
                    len: w.len,
                });
                *w = Writer {
                    file,
                    segment: chunk.segment,
                    len: HEADER,
                    synced_len: HEADER,
                    trailing_sync_record: false,
                };
            }
            debug_assert_eq!(
                chunk.offset, w.len,
                "records were placed where the file ends"
            );
            // The batch overwrites a sync record written at the end (a record is at least as
            // long as one). Its own records' sync marks cover what that one did.
            w.trailing_sync_record = false;
            out.writes += 1;
            if let Err(e) = w.file.write_all_at(w.len, &chunk.bytes) {
                // Best effort: cut the partial batch so the file ends on a record boundary.
                // If this fails too, the next open truncates the torn tail.
                let _ = w.file.set_len(w.len);
                return Err(("write", path(w.segment), e));
            }
            w.len += chunk.bytes.len() as u64;
        }
        if sync && w.synced_len < w.len {
            w.file
                .sync_data()
                .map_err(|e| ("sync", path(w.segment), e))?;
            out.syncs += 1;
            w.synced_len = w.len;
        }
        Ok(())
    }

    /// The interval syncer's work: fsync what has been written, without taking the leader role,
    /// so appenders keep writing while the fsync runs.
    pub fn background_sync(&self) {
        let (file, seq, written) = {
            let st = self.state.lock();
            if st.failure.is_some() || st.durable >= st.written {
                return;
            }
            (st.active_file.clone(), st.written_seq, st.written)
        };
        let result = file.sync_data();
        let mut st = self.state.lock();
        match result {
            Ok(()) => {
                st.stats.syncs += 1;
                st.synced_seq = st.synced_seq.max(seq);
                st.durable = st.durable.max(written);
            }
            Err(e) => {
                let path = self
                    .storage
                    .path(&format::segment_file_name(written.segment));
                st.failure
                    .get_or_insert_with(|| Failure::new("sync", &path, &e, seq));
            }
        }
        self.progress.notify_all();
    }
}

impl State {
    /// Takes in what a leader's I/O did; returns its error, if any.
    fn publish(&mut self, outcome: Outcome) -> Option<IoFailure> {
        self.written = outcome.written;
        self.durable = self.durable.max(outcome.durable);
        self.sealed.extend(outcome.sealed);
        self.active_file = outcome.file;
        self.stats.writes += outcome.writes;
        self.stats.syncs += outcome.syncs;
        self.stats.segments_created += outcome.segments_created;
        self.stats.sync_records += outcome.sync_records;
        self.tail_sync_record = outcome.trailing_sync_record;
        outcome.error
    }

    /// Whether the log is durable and idle with records at its end that no sync mark covers
    /// and no sync record is there yet.
    fn sync_record_due(&self) -> bool {
        self.needs_sync_record
            && !self.tail_sync_record
            && self.failure.is_none()
            && self.pending.is_empty()
            && self.durable == self.written
    }

    /// Places a record at the tail (starting a new segment if it would overflow this one) and
    /// encodes it into the pending buffer. Returns its position and sequence number.
    fn enqueue(
        &mut self,
        options: &Options,
        log_id: u64,
        record_type: RecordType,
        payload: &[u8],
        payload_crc: u32,
    ) -> (Position, u64) {
        let record_len = (RECORD_HEADER_LEN + payload.len()) as u64;
        let full = self.tail.offset + record_len > options.segment_size_bytes;
        if self.tail.offset > HEADER && (full || self.start_segment) {
            self.tail = Position::new(self.tail.segment + 1, HEADER);
            self.tail_seed = format::segment_seed(log_id, self.tail.segment);
        }
        // A lower bound of what is durable in this segment: recovery trusts it to tell a torn
        // tail from corruption, so it must never claim more than an fsync has covered.
        let synced_upto = if self.durable.segment == self.tail.segment {
            self.durable.offset
        } else {
            HEADER
        };
        let header = RecordHeader {
            payload_crc,
            record_type,
            len: payload.len() as u32,
            synced_upto: synced_upto as u32,
        }
        .encode(self.tail_seed, self.tail.offset as u32);
        let tail = self.tail;
        let chunk = match self.pending.last_mut() {
            Some(c) if c.segment == tail.segment => c,
            _ => {
                let bytes = self.spare_buffers.pop().unwrap_or_default();
                self.pending.push(Chunk {
                    segment: tail.segment,
                    offset: tail.offset,
                    bytes,
                });
                self.pending.last_mut().expect("just pushed")
            }
        };
        chunk.bytes.extend_from_slice(&header);
        chunk.bytes.extend_from_slice(payload);
        self.start_segment = false;
        self.tail.offset += record_len;
        self.needs_sync_record = true;
        self.stats.records += 1;
        self.stats.bytes += record_len;
        let seq = self.next_seq;
        self.next_seq += 1;
        (tail, seq)
    }
}

/// Creates segment `number` so that it appears under its name only with a durable header:
/// write the header into a temporary file, sync it, rename it into place, sync the directory.
pub(crate) fn create_segment(
    storage: &dyn Storage,
    log_id: u64,
    number: u64,
) -> Result<Arc<dyn StorageFile>> {
    create_segment_io(storage, log_id, number)
        .map_err(|(op, e)| Error::io(op, storage.path(&format::segment_file_name(number)), e))
}

fn create_segment_io(
    storage: &dyn Storage,
    log_id: u64,
    number: u64,
) -> std::result::Result<Arc<dyn StorageFile>, (&'static str, io::Error)> {
    let tmp = format::temp_file_name(number);
    match storage.remove(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(("remove", e)),
        _ => {}
    }
    let file = storage.create(&tmp).map_err(|e| ("create", e))?;
    let header = SegmentHeader::new(log_id, number).encode();
    file.write_all_at(0, &header).map_err(|e| ("write", e))?;
    file.sync_data().map_err(|e| ("sync", e))?;
    let name = format::segment_file_name(number);
    storage.rename(&tmp, &name).map_err(|e| ("rename", e))?;
    storage.sync_dir().map_err(|e| ("sync directory", e))?;
    Ok(file)
}
