//! Issue 12, part 4: damage to the last record of a log whose sync marks say it was durable is
//! corruption, not a torn tail. The writer ends a durable, idle log with a sync record (an empty
//! skip record whose sync mark is its own offset) so that recovery can tell; a tail that was
//! never synced is still cut as a torn tail. Old logs without sync records keep opening, replay
//! never returns sync records, and reopening a log again and again does not grow it.

mod common;

use common::*;
use std::sync::Arc;
use strata_wal::format::{RecordHeader, SegmentHeader, segment_seed};
use strata_wal::storage::{Fault, MemStorage};
use strata_wal::{
    CorruptionKind, Error, Options, Position, RecordType, RecoveryMode, SyncPolicy, Wal,
};

/// Three batches of one record each, as in the issue.
const THREE: [usize; 3] = [120, 200, 150];

fn end_of(a: &Appended) -> u64 {
    a.position.offset + 16 + a.payload.len() as u64
}

fn flip(mem: &MemStorage, at: Position) {
    let name = segment_name(at.segment);
    let mut b = mem.read_file(&name).unwrap();
    b[at.offset as usize] ^= 0x20;
    mem.write_file(&name, &b);
}

/// A byte in the middle of the record's payload.
fn middle_of(a: &Appended) -> Position {
    Position::new(
        a.position.segment,
        a.position.offset + 16 + a.payload.len() as u64 / 2,
    )
}

fn file_len(mem: &MemStorage, segment: u64) -> u64 {
    mem.read_file(&segment_name(segment)).unwrap().len() as u64
}

fn total_len(mem: &MemStorage) -> u64 {
    mem.file_names()
        .iter()
        .map(|n| mem.read_file(n).unwrap().len() as u64)
        .sum()
}

/// Strict open fails with a payload-checksum corruption of record `a` and changes nothing.
fn expect_corruption_at(mem: &MemStorage, o: Options, a: &Appended) {
    let before = mem.read_file(&segment_name(a.position.segment));
    match open_mem(mem, o) {
        Err(Error::Corruption {
            segment,
            offset,
            kind: CorruptionKind::PayloadChecksum { .. },
        }) => assert_eq!(Position::new(segment, offset), a.position),
        other => panic!("expected corruption at {}, got {other:?}", a.position),
    }
    assert_eq!(mem.read_file(&segment_name(a.position.segment)), before);
}

/// Salvage skips exactly record `i` (reporting its range) and keeps the others; the repaired
/// log then opens strict, clean.
fn expect_salvaged(mem: &MemStorage, o: Options, appended: &[Appended], i: usize) {
    let wal = open_mem(mem, salvage(o)).unwrap();
    let report = wal.recovery_report().clone();
    assert!(report.truncated_tail.is_none(), "{report}");
    assert_eq!(report.skipped.len(), 1, "{report}");
    let s = &report.skipped[0];
    assert_eq!(
        Position::new(s.segment, s.offset),
        appended[i].position,
        "{report}"
    );
    assert_eq!(s.len_bytes, 16 + appended[i].payload.len() as u64);
    assert!(!s.cut);
    assert!(matches!(s.kind, CorruptionKind::PayloadChecksum { .. }));
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "segment {} offset {}: {} damaged bytes covered with skip records (payload checksum",
            s.segment, s.offset, s.len_bytes
        )),
        "{text}"
    );
    assert_all_but(&replay_all(&wal).unwrap(), appended, &[i]);
    wal.close().unwrap();
    let wal = open_mem(mem, o).unwrap();
    assert!(
        wal.recovery_report().is_clean(),
        "{}",
        wal.recovery_report()
    );
    assert_all_but(&replay_all(&wal).unwrap(), appended, &[i]);
}

#[test]
fn damage_to_the_last_record_of_a_closed_log_is_corruption() {
    // The case: three acknowledged batches under `Always`, a clean close, one byte
    // flipped in the middle of the last record.
    let o = Options::default();
    assert_eq!(
        (o.sync, o.recovery),
        (SyncPolicy::Always, RecoveryMode::Strict)
    );
    let (mem, appended) = mem_log(&THREE, o);
    flip(&mem, middle_of(&appended[2]));
    expect_corruption_at(&mem, o, &appended[2]);
    expect_salvaged(&mem, o, &appended, 2);
}

#[test]
fn damage_to_the_middle_record_is_corruption_as_before() {
    let o = Options::default();
    let (mem, appended) = mem_log(&THREE, o);
    flip(&mem, middle_of(&appended[1]));
    expect_corruption_at(&mem, o, &appended[1]);
    expect_salvaged(&mem, o, &appended, 1);
}

#[test]
fn under_every_policy_close_proves_the_tail() {
    for sync in [
        SyncPolicy::Always,
        SyncPolicy::Interval(std::time::Duration::from_millis(50)),
        SyncPolicy::Never,
    ] {
        let o = options(1 << 20, sync);
        let (mem, appended) = mem_log(&THREE, o);
        flip(&mem, middle_of(&appended[2]));
        expect_corruption_at(&mem, o, &appended[2]);
    }
}

#[test]
fn under_always_an_idle_log_is_proven_without_close() {
    // A process killed (not closed) after its last acknowledged append: the leader marked the
    // durable, idle end with a sync record after the fsync.
    let o = Options::default();
    let (mem, appended) = mem_log_unclosed(&THREE, o);
    assert_eq!(file_len(&mem, 1), end_of(&appended[2]) + 16);
    flip(&mem, middle_of(&appended[2]));
    expect_corruption_at(&mem, o, &appended[2]);
    expect_salvaged(&mem, o, &appended, 2);
}

#[test]
fn sync_proves_the_tail_under_never() {
    let o = options(1 << 20, SyncPolicy::Never);
    let mem = MemStorage::new();
    let wal = open_mem(&mem, o).unwrap();
    let appended = append_all(&wal, &THREE);
    wal.sync().unwrap();
    assert_eq!(wal.stats().sync_records, 1);
    // The sync record lies past the end: the next append overwrites it.
    assert_eq!(wal.end(), Position::new(1, end_of(&appended[2])));
    std::mem::forget(wal); // a crash
    flip(&mem, middle_of(&appended[2]));
    expect_corruption_at(&mem, o, &appended[2]);
}

#[test]
fn a_never_synced_tail_is_still_cut_as_a_torn_tail() {
    // Two records closed (so proven), then a third appended under `Never` by a writer that
    // crashed: the third was never synced and nothing written after it proves it was.
    let (mem, mut appended) = mem_log(&THREE[..2], Options::default());
    let o = options(1 << 20, SyncPolicy::Never);
    let wal = open_mem(&mem, o).unwrap();
    assert!(wal.recovery_report().tail_proven_durable);
    let p = payload(2, THREE[2]);
    let position = wal.append(RecordType::SPANS, &p).unwrap();
    appended.push(Appended {
        position,
        record_type: RecordType::SPANS,
        payload: p,
    });
    std::mem::forget(wal);

    // The process crash left every write; the flip stands for a torn write of the unsynced
    // record. Both modes cut it: it is not damage to synced data.
    let mut damaged = mem.read_file(&segment_name(1)).unwrap();
    damaged[middle_of(&appended[2]).offset as usize] ^= 0x20;
    for mode in [RecoveryMode::Strict, RecoveryMode::Salvage] {
        let copy = MemStorage::new();
        copy.write_file(&segment_name(1), &damaged);
        let wal = open_mem(
            &copy,
            Options {
                recovery: mode,
                ..o
            },
        )
        .unwrap();
        let report = wal.recovery_report();
        let cut = report.truncated_tail.clone().expect("a torn tail");
        assert_eq!(
            (cut.segment, cut.offset),
            (1, appended[2].position.offset),
            "{report}"
        );
        assert_eq!(cut.dropped_bytes, 16 + THREE[2] as u64);
        assert_eq!(cut.discarded_records, 0);
        assert!(matches!(cut.kind, CorruptionKind::PayloadChecksum { .. }));
        assert!(report.skipped.is_empty());
        assert!(
            report.to_string().contains(&format!(
                "segment 1 offset {}: torn tail cut, {} bytes dropped (payload checksum",
                cut.offset, cut.dropped_bytes
            )),
            "{report}"
        );
        assert_all_but(&replay_all(&wal).unwrap(), &appended[..2], &[]);
    }

    // A power cut instead: whatever part of the unsynced record reached the disk, the open
    // keeps the two synced records and cuts the rest.
    for seed in 0..200 {
        let image = mem.crash_image_torn(seed);
        if file_len(&image, 1) > middle_of(&appended[2]).offset {
            flip(&image, middle_of(&appended[2]));
        }
        let wal = open_mem(&image, o).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_all_but(&replay_all(&wal).unwrap(), &appended[..2], &[]);
    }
}

#[test]
fn a_record_whose_fsync_failed_is_still_a_torn_tail() {
    // Under `Always`: written, its fsync failed (the appender got the error), never proven.
    let mem = MemStorage::new();
    let o = Options::default();
    let wal = open_mem(&mem, o).unwrap();
    let good = append_all(&wal, &THREE[..2]);
    mem.inject(Fault::SyncError);
    let p = payload(9, 300);
    let failed = wal.append(RecordType::METRICS, &p).unwrap_err();
    assert!(matches!(failed, Error::Io { op: "sync", .. }), "{failed}");
    let at = wal.end();
    drop(wal); // poisoned: writes nothing more
    let failed = Appended {
        position: Position::new(1, end_of(&good[1])),
        record_type: RecordType::METRICS,
        payload: p,
    };
    assert_eq!(at, Position::new(1, end_of(&failed)));
    assert_eq!(file_len(&mem, 1), end_of(&failed));
    flip(&mem, middle_of(&failed));
    let wal = open_mem(&mem, o).unwrap();
    let cut = wal.recovery_report().truncated_tail.clone().unwrap();
    assert_eq!(cut.offset, failed.position.offset);
    assert_all_but(&replay_all(&wal).unwrap(), &good, &[]);
}

#[test]
fn replay_never_returns_sync_records() {
    let o = options(400, SyncPolicy::Always);
    let sizes = [10, 50, 0, 200, 90, 30, 120, 5];
    let (mem, appended) = mem_log(&sizes, o);
    let wal = open_mem(&mem, o).unwrap();
    let report = wal.recovery_report();
    assert!(report.is_clean() && report.tail_proven_durable, "{report}");
    assert_eq!(report.records, sizes.len() as u64);
    assert_eq!(report.ignored_records, 0);
    let mut replay = wal.replay(Position::ZERO);
    let got: Vec<_> = replay.by_ref().collect::<Result<_, _>>().unwrap();
    assert_all_but(&got, &appended, &[]);
    assert_eq!(replay.ignored_records(), 0);
    // From the position of the final sync record: nothing.
    let last = appended.last().unwrap();
    assert_eq!(
        wal.replay(Position::new(last.position.segment, end_of(last)))
            .count(),
        0
    );
    // Appending after it: replay returns the old records and the new one, nothing else.
    let p = wal.append(RecordType::MARKERS, b"after").unwrap();
    assert!(p.offset >= end_of(last) + 16 || p.segment > last.position.segment);
    assert_eq!(replay_all(&wal).unwrap().len(), sizes.len() + 1);
}

#[test]
fn always_adds_no_fsync_per_append() {
    let mem = MemStorage::new();
    let wal = open_mem(&mem, Options::default()).unwrap();
    let before = mem.syncs();
    append_all(&wal, &[100; 20]);
    let stats = wal.stats();
    assert_eq!(
        mem.syncs() - before,
        20,
        "one fsync per (single-record) batch"
    );
    assert_eq!(stats.syncs, 20);
    // One 16-byte write after each idle batch, overwritten by the next one.
    assert_eq!(stats.sync_records, 20);
    assert_eq!(stats.writes, 40);
    assert_eq!(file_len(&mem, 1), 32 + 20 * 116 + 16);
    // `sync` finds it all durable and marked: nothing to do.
    wal.sync().unwrap();
    assert_eq!(wal.stats().syncs, 20);
    // `close` keeps the sync record: one fsync.
    wal.close().unwrap();
    assert_eq!(mem.syncs() - before, 21);
    assert_eq!(file_len(&mem, 1), 32 + 20 * 116 + 16);
}

#[test]
fn reopening_does_not_grow_the_log() {
    for sync in [SyncPolicy::Always, SyncPolicy::Never] {
        let o = options(1 << 20, sync);
        // An empty log.
        let mem = MemStorage::new();
        for _ in 0..1000 {
            let wal = open_mem(&mem, o).unwrap();
            wal.sync().unwrap();
            wal.close().unwrap();
        }
        assert_eq!(total_len(&mem), 32);
        for _ in 0..1000 {
            drop(open_mem(&mem, o).unwrap());
        }
        assert_eq!(total_len(&mem), 32);

        // A log with records, written without sync records (old writer or crash): the first
        // close adds one, later ones nothing.
        let (mem, appended) = mem_log_unclosed(&THREE, options(1 << 20, SyncPolicy::Never));
        let wal = open_mem(&mem, o).unwrap();
        assert!(!wal.recovery_report().tail_proven_durable);
        wal.close().unwrap();
        let len = total_len(&mem);
        assert_eq!(len, end_of(&appended[2]) + 16);
        for i in 0..1000 {
            let wal = open_mem(&mem, o).unwrap();
            assert!(wal.recovery_report().is_clean());
            assert!(wal.recovery_report().tail_proven_durable);
            if i % 2 == 0 {
                wal.sync().unwrap();
                wal.close().unwrap();
            }
        }
        assert_eq!(total_len(&mem), len);
        let wal = open_mem(&mem, o).unwrap();
        assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);
    }
}

#[test]
fn reopening_on_disk_does_not_grow_the_log() {
    let dir = TempDir::new("reopen");
    for i in 0..50 {
        let wal = Wal::open_dir(dir.path(), Options::default()).unwrap();
        if i == 0 {
            append_all(&wal, &THREE);
        }
        wal.close().unwrap();
    }
    let len = std::fs::metadata(dir.path().join(segment_name(1)))
        .unwrap()
        .len();
    assert_eq!(len, 32 + (16 + 120) + (16 + 200) + (16 + 150) + 16);
}

/// The records of the golden logs, in order: type, payload.
fn golden_records() -> Vec<(RecordType, Vec<u8>)> {
    vec![
        (RecordType::SERIES, b"series one".to_vec()),
        (RecordType::METRICS, (0..150u8).collect()),
        (RecordType::SPANS, Vec::new()),
        (RecordType::from_byte(0x86), b"a newer kind".to_vec()),
        (RecordType::EXEMPLARS, vec![7u8; 40]),
        (RecordType::MARKERS, b"the last record".to_vec()),
    ]
}

const GOLDEN_LOG_ID: u64 = 0x5354_5241_5441_0001;

fn golden_options() -> Options {
    Options {
        segment_size_bytes: 256,
        log_id: Some(GOLDEN_LOG_ID),
        ..Options::default()
    }
}

/// A golden log, loaded into memory so that opening it does not change the files.
fn golden(dir: &str) -> MemStorage {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dir);
    let mem = MemStorage::new();
    for n in 1..=2 {
        let bytes = std::fs::read(root.join(segment_name(n))).unwrap();
        mem.write_file(&segment_name(n), &bytes);
    }
    mem
}

fn check_golden_replay(wal: &Wal) {
    let want: Vec<_> = golden_records()
        .into_iter()
        .filter(|(t, _)| t.is_known())
        .collect();
    let got = replay_all(wal).unwrap();
    assert_eq!(got.len(), want.len());
    for (g, (t, p)) in got.iter().zip(&want) {
        assert_eq!((g.record_type, &g.payload), (*t, p));
    }
}

#[test]
fn a_log_written_before_sync_records_opens() {
    // Written by the previous version (no sync records) with `golden_records`, closed.
    let mem = golden("v1-before-sync-records");
    let wal = open_mem(&mem, golden_options()).unwrap();
    let report = wal.recovery_report().clone();
    assert!(report.is_clean(), "{report}");
    assert!(!report.tail_proven_durable);
    assert_eq!((report.records, report.ignored_records), (5, 1));
    assert!(
        report.to_string().contains("no sync record at the end"),
        "{report}"
    );
    check_golden_replay(&wal);
    assert_eq!(
        replay_all(&wal).unwrap().last().unwrap().position,
        Position::new(2, 116)
    );
    drop(wal);

    // Nothing proves its last record durable: damage there is still a torn tail (the old
    // behaviour, the only safe one for such a log).
    let damaged = golden("v1-before-sync-records");
    flip(&damaged, Position::new(2, 116 + 16 + 7));
    let wal = open_mem(&damaged, golden_options()).unwrap();
    let cut = wal.recovery_report().truncated_tail.clone().unwrap();
    assert_eq!((cut.segment, cut.offset), (2, 116));
    drop(wal);

    // Once this version has closed it, it is proven like any other.
    let wal = open_mem(&mem, golden_options()).unwrap();
    wal.close().unwrap();
    assert_eq!(file_len(&mem, 2), 147 + 16);
    flip(&mem, Position::new(2, 116 + 16 + 7));
    assert!(matches!(
        open_mem(&mem, golden_options()),
        Err(Error::Corruption {
            segment: 2,
            offset: 116,
            ..
        })
    ));
}

/// Writes `golden_records` with this version, closed.
fn write_golden_records(mem: &MemStorage) {
    let wal = Wal::open(Arc::new(mem.clone()), golden_options()).unwrap();
    for (t, p) in golden_records() {
        wal.append(t, &p).unwrap();
    }
    wal.close().unwrap();
}

#[test]
fn a_log_with_sync_records_opens_and_its_layout_is_pinned() {
    // `STRATA_WAL_WRITE_GOLDEN=1` rewrites the golden files (only for a deliberate change).
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v1-sync-records");
    let mem = MemStorage::new();
    write_golden_records(&mem);
    if std::env::var_os("STRATA_WAL_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(&root).unwrap();
        for n in 1..=2 {
            std::fs::write(
                root.join(segment_name(n)),
                mem.read_file(&segment_name(n)).unwrap(),
            )
            .unwrap();
        }
    }
    let golden = golden("v1-sync-records");
    for n in 1..=2 {
        assert_eq!(
            golden.read_file(&segment_name(n)),
            mem.read_file(&segment_name(n)),
            "segment {n}: the writer's layout changed"
        );
    }
    // Both segments end with a sync record: the last batch before the rotation ended idle (its
    // sync record was kept when the segment was sealed), and `close` marked the end.
    let seed = |n| segment_seed(GOLDEN_LOG_ID, n);
    for n in 1..=2u64 {
        let b = golden.read_file(&segment_name(n)).unwrap();
        assert_eq!(SegmentHeader::decode(&b).unwrap().segment, n);
        let at = b.len() - 16;
        let h = RecordHeader::decode(seed(n), at as u32, b[at..].try_into().unwrap()).unwrap();
        assert!(h.is_sync_record(at as u64), "segment {n}: {h:?}");
    }
    let wal = open_mem(&golden, golden_options()).unwrap();
    let report = wal.recovery_report();
    assert!(report.is_clean() && report.tail_proven_durable, "{report}");
    assert_eq!((report.records, report.ignored_records), (5, 1));
    check_golden_replay(&wal);
}

#[test]
fn the_report_prints_what_was_cut_and_skipped() {
    let o = options(1 << 20, SyncPolicy::Always);
    let (mem, appended) = mem_log(&[40, 40, 40, 40], o);
    flip(&mem, middle_of(&appended[1]));
    let name = segment_name(1);
    let mut b = mem.read_file(&name).unwrap();
    b.extend([0xAB; 100]);
    mem.write_file(&name, &b);
    mem.write_file(&format!("{}.tmp", segment_name(2)), b"half");
    let wal = open_mem(&mem, salvage(o)).unwrap();
    let report = wal.recovery_report();
    assert_eq!(report.lost_bytes(), 56 + 100);
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "recovered segments 1..=1: 3 records; torn tail cut, 1 damaged range(s) skipped (56 bytes), 1 file(s) removed"
    );
    assert!(lines[1].starts_with(&format!(
        "  segment 1 offset {}: torn tail cut, 100 bytes dropped (",
        end_of(&appended[3]) + 16
    )));
    assert!(lines[2].starts_with(&format!(
        "  segment 1 offset {}: 56 damaged bytes covered with skip records (payload checksum: stored 0x",
        appended[1].position.offset
    )));
    assert_eq!(lines[3], "  removed 00000000000000000002.wal.tmp");
    assert_eq!(lines.len(), 4);
    drop(wal);
    let wal = open_mem(&mem, o).unwrap();
    assert_eq!(
        wal.recovery_report().to_string(),
        "recovered segments 1..=1: 3 records; clean"
    );
}

#[test]
fn concurrent_appenders_never_make_a_crash_look_like_corruption() {
    // Four appenders under `Always` (batches of several records, sync records written and
    // overwritten all the time) while snapshots are taken: what a process crash leaves (every
    // write) and what a power cut leaves (random mix of unsynced sectors). Every snapshot opens
    // strict, and holds every record acknowledged before it.
    use std::sync::atomic::{AtomicU64, Ordering};
    const SNAPSHOTS: u64 = 60;
    let mem = MemStorage::new();
    let o = options(64 << 20, SyncPolicy::Always);
    let wal = open_mem(&mem, o).unwrap();
    let acked = std::sync::Mutex::new(Vec::<(Position, Vec<u8>)>::new());
    let snapshots = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (wal, acked, snapshots) = (&wal, &acked, &snapshots);
            s.spawn(move || {
                for i in 0..3_000u64 {
                    if snapshots.load(Ordering::Relaxed) >= SNAPSHOTS {
                        return;
                    }
                    let p = payload(t << 32 | i, (i as usize * 13) % 700);
                    let position = wal.append(RecordType::METRICS, &p).unwrap();
                    acked.lock().unwrap().push((position, p));
                }
            });
        }
        let mut last_len = 0;
        for seed in 1..=SNAPSHOTS {
            // Each snapshot after more appends (or once the appenders ran out of records).
            while acked.lock().unwrap().len() == last_len && last_len < 12_000 {
                std::thread::yield_now();
            }
            let before: Vec<(Position, Vec<u8>)> = acked.lock().unwrap().clone();
            last_len = before.len();
            let live = MemStorage::new();
            live.write_file(&segment_name(1), &mem.read_file(&segment_name(1)).unwrap());
            for image in [live, mem.crash_image_torn(seed)] {
                let wal = open_mem(&image, o).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
                let got: std::collections::HashMap<Position, Vec<u8>> = replay_all(&wal)
                    .unwrap()
                    .into_iter()
                    .map(|r| (r.position, r.payload))
                    .collect();
                for (p, payload) in &before {
                    assert_eq!(got.get(p), Some(payload), "seed {seed}: lost {p}");
                }
            }
            snapshots.fetch_add(1, Ordering::Relaxed);
        }
    });
    let stats = wal.stats();
    assert!(
        stats.sync_records > 0 && stats.records > stats.syncs,
        "{stats:?}"
    );
}
