//! Helpers shared by the WAL's integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use strata_wal::storage::MemStorage;
use strata_wal::{Options, OwnedRecord, Position, RecordType, RecoveryMode, SyncPolicy, Wal};

/// A record as the test appended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub position: Position,
    pub record_type: RecordType,
    pub payload: Vec<u8>,
}

impl PartialEq<OwnedRecord> for Appended {
    fn eq(&self, r: &OwnedRecord) -> bool {
        self.position == r.position
            && self.record_type == r.record_type
            && self.payload == r.payload
    }
}

pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// `len` bytes that identify `tag`: the tag in the first 8 bytes (when there is room), then
/// pseudo-random bytes seeded by it, so any record can be checked byte for byte.
pub fn payload(tag: u64, len: usize) -> Vec<u8> {
    let mut state = tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
    let n = len.min(8);
    out[..n].copy_from_slice(&tag.to_le_bytes()[..n]);
    out
}

pub fn options(segment_size_bytes: u64, sync: SyncPolicy) -> Options {
    Options {
        segment_size_bytes,
        sync,
        ..Options::default()
    }
}

pub fn salvage(mut o: Options) -> Options {
    o.recovery = RecoveryMode::Salvage;
    o
}

const TYPES: [RecordType; 5] = [
    RecordType::METRICS,
    RecordType::SERIES,
    RecordType::SPANS,
    RecordType::EXEMPLARS,
    RecordType::MARKERS,
];

/// Appends records `0..sizes.len()` with the given payload sizes, cycling through the types.
pub fn append_all(wal: &Wal, sizes: &[usize]) -> Vec<Appended> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let record_type = TYPES[i % TYPES.len()];
            let payload = payload(i as u64, len);
            let position = wal.append(record_type, &payload).expect("append");
            Appended {
                position,
                record_type,
                payload,
            }
        })
        .collect()
}

/// A log in memory with the given record sizes, closed cleanly.
pub fn mem_log(sizes: &[usize], o: Options) -> (MemStorage, Vec<Appended>) {
    let mem = MemStorage::new();
    let wal = Wal::open(Arc::new(mem.clone()), o).expect("open");
    let appended = append_all(&wal, sizes);
    wal.close().expect("close");
    (mem, appended)
}

/// A log in memory with the given record sizes whose writer stopped without `close` (as a
/// process crash leaves it: every write is there, only what was synced is durable). Under
/// `SyncPolicy::Never` nothing in the last segment is then proven durable.
pub fn mem_log_unclosed(sizes: &[usize], o: Options) -> (MemStorage, Vec<Appended>) {
    assert!(
        !matches!(o.sync, SyncPolicy::Interval(_)),
        "a forgotten log would keep its sync thread"
    );
    let mem = MemStorage::new();
    let wal = Wal::open(Arc::new(mem.clone()), o).expect("open");
    let appended = append_all(&wal, sizes);
    // `forget` skips what drop does at the end (sealing the tail); the storage keeps its files.
    std::mem::forget(wal);
    (mem, appended)
}

pub fn open_mem(mem: &MemStorage, o: Options) -> strata_wal::Result<Wal> {
    Wal::open(Arc::new(mem.clone()), o)
}

pub fn replay_all(wal: &Wal) -> strata_wal::Result<Vec<OwnedRecord>> {
    wal.replay(Position::ZERO).collect()
}

/// Asserts `got` is exactly the first `got.len()` of `appended`, byte for byte.
pub fn assert_prefix(got: &[OwnedRecord], appended: &[Appended]) {
    assert!(got.len() <= appended.len(), "more records than appended");
    for (g, a) in got.iter().zip(appended) {
        assert!(
            a == g,
            "record differs: got {:?}, appended {:?}",
            g.position,
            a.position
        );
    }
}

/// Asserts `got` equals `appended` with at most the records at `missing` left out.
pub fn assert_all_but(got: &[OwnedRecord], appended: &[Appended], missing: &[usize]) {
    let want: Vec<&Appended> = appended
        .iter()
        .enumerate()
        .filter(|(i, _)| !missing.contains(i))
        .map(|(_, a)| a)
        .collect();
    assert_eq!(got.len(), want.len(), "record count");
    for (g, a) in got.iter().zip(want) {
        assert!(*a == *g, "record differs at {:?}", g.position);
    }
}

pub fn segment_name(n: u64) -> String {
    strata_wal::format::segment_file_name(n)
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("strata-wal-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
