//! Faults injected through the I/O seam: a failed write or fsync reaches the appender, later
//! appends are refused, and the log stays readable up to the last good record — through the
//! failed handle and after reopening. Then crashes at every step of the multi-step procedures.

mod common;

use common::*;
use std::io::ErrorKind;
use std::time::{Duration, Instant};
use strata_wal::storage::{Fault, MemStorage};
use strata_wal::{Error, Options, Position, RecordType, SyncPolicy, Wal};

/// Appends `good` records, then one that meets `fault`; checks the failure and the aftermath.
fn fault_after_good_records(fault: Fault, sync: SyncPolicy, expected_op: &str) {
    let mem = MemStorage::new();
    let o = options(1 << 20, sync);
    let wal = open_mem(&mem, o).unwrap();
    let good = append_all(&wal, &[10, 200, 30]);
    mem.inject(fault);
    match wal.append(RecordType::SPANS, &payload(99, 500)) {
        Err(Error::Io { op, .. }) => assert_eq!(op, expected_op),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(matches!(
        wal.append(RecordType::SPANS, b"refused"),
        Err(Error::Poisoned { .. })
    ));
    // The failed handle still replays what was acknowledged, and so does a reopened log. The
    // failed record may or may not have reached the file (it was written when the fsync failed).
    let check = |wal: &Wal| {
        let got = replay_all(wal).unwrap();
        assert_all_but(&got[..good.len()], &good, &[]);
        assert!(got.len() <= good.len() + 1);
    };
    check(&wal);
    drop(wal);
    let wal = open_mem(&mem, o).unwrap();
    check(&wal);
    let p = wal.append(RecordType::MARKERS, b"working again").unwrap();
    assert!(p > good.last().unwrap().position);
}

#[test]
fn write_error_reaches_the_appender() {
    fault_after_good_records(Fault::WriteError, SyncPolicy::Always, "write");
}

#[test]
fn short_write_reaches_the_appender() {
    fault_after_good_records(
        Fault::ShortWrite { written_bytes: 7 },
        SyncPolicy::Always,
        "write",
    );
}

#[test]
fn short_write_under_never() {
    fault_after_good_records(
        Fault::ShortWrite { written_bytes: 100 },
        SyncPolicy::Never,
        "write",
    );
}

#[test]
fn fsync_error_reaches_the_appender() {
    fault_after_good_records(Fault::SyncError, SyncPolicy::Always, "sync");
}

#[test]
fn no_space_left_reaches_the_appender() {
    let mem = MemStorage::new();
    let o = options(1 << 20, SyncPolicy::Always);
    let wal = open_mem(&mem, o).unwrap();
    let good = append_all(&wal, &[100, 100]);
    let used: u64 = mem
        .file_names()
        .iter()
        .map(|n| mem.read_file(n).unwrap().len() as u64)
        .sum();
    mem.set_capacity_bytes(Some(used + 50));
    match wal.append(RecordType::METRICS, &payload(7, 400)) {
        Err(Error::Io {
            op: "write",
            source,
            ..
        }) => {
            assert_eq!(source.kind(), ErrorKind::StorageFull)
        }
        other => panic!("{other:?}"),
    }
    assert_all_but(&replay_all(&wal).unwrap(), &good, &[]);
    drop(wal);
    mem.set_capacity_bytes(None);
    let wal = open_mem(&mem, o).unwrap();
    assert_all_but(&replay_all(&wal).unwrap(), &good, &[]);
}

#[test]
fn no_space_when_a_segment_is_created() {
    let mem = MemStorage::new();
    let o = options(200, SyncPolicy::Always);
    let wal = open_mem(&mem, o).unwrap();
    let good = append_all(&wal, &[100]);
    // Room for less than the new segment's header.
    mem.set_capacity_bytes(Some(32 + 116 + 10));
    assert!(matches!(
        wal.append(RecordType::METRICS, &payload(7, 150)),
        Err(Error::Io { .. })
    ));
    drop(wal);
    mem.set_capacity_bytes(None);
    let wal = open_mem(&mem, o).unwrap();
    assert_all_but(&replay_all(&wal).unwrap(), &good, &[]);
    assert_eq!(
        wal.recovery_report().removed_files.len(),
        1,
        "the temp file"
    );
}

#[test]
fn background_fsync_error_poisons_the_log() {
    let mem = MemStorage::new();
    let o = options(1 << 20, SyncPolicy::Interval(Duration::from_millis(5)));
    let wal = open_mem(&mem, o).unwrap();
    mem.inject(Fault::SyncError);
    wal.append(RecordType::METRICS, b"acknowledged, not yet durable")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match wal.append(RecordType::METRICS, b"x") {
            Err(Error::Poisoned { cause }) => {
                assert!(cause.contains("sync"), "{cause}");
                break;
            }
            Ok(_) => assert!(Instant::now() < deadline, "the sync error never surfaced"),
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(wal.sync().is_err());
}

/// A clean multi-segment log, all of it durable, plus what was appended.
fn durable_log(segment_size_bytes: u64) -> (MemStorage, Vec<Appended>, Options) {
    let o = options(segment_size_bytes, SyncPolicy::Always);
    let (mem, appended) = mem_log(&[60; 20], o);
    (mem.crash_image(), appended, o)
}

/// Runs `step(disk, options, k)` on a fresh copy of `base` for k = 0, 1, … until it completes;
/// `step` arms `disk.fail_after_ops(Some(k))` where the procedure under test begins, so the
/// storage dies after its k-th mutating operation. After each run, a crash image of the disk
/// must open (strict) and pass `check`.
fn crash_at_every_step(
    base: &MemStorage,
    o: Options,
    step: impl Fn(&MemStorage, Options, u64) -> bool,
    check: impl Fn(&Wal, u64),
) {
    for k in 0.. {
        let disk = base.crash_image();
        let finished = step(&disk, o, k);
        let image = disk.crash_image();
        let wal = open_mem(&image, o).unwrap_or_else(|e| panic!("crash after {k} ops: {e}"));
        check(&wal, k);
        if finished {
            assert!(k > 2, "the procedure has several steps");
            return;
        }
    }
}

#[test]
fn crash_at_every_step_of_truncate_before() {
    let (base, appended, o) = durable_log(200);
    let cut = appended[15].position;
    crash_at_every_step(
        &base,
        o,
        |disk, o, k| {
            let wal = open_mem(disk, o).unwrap();
            disk.fail_after_ops(Some(k));
            wal.truncate_before(cut).is_ok()
        },
        |wal, k| {
            // Whatever was removed, what is left is contiguous and a suffix of the log.
            let got = replay_all(wal).unwrap();
            let skip = appended.len() - got.len();
            assert_all_but(&got, &appended[skip..], &[]);
            assert!(got.first().unwrap().position <= cut, "k={k}");
        },
    );
}

#[test]
fn crash_at_every_step_of_segment_rotation() {
    let (base, appended, o) = durable_log(200);
    let last = appended.last().unwrap().position;
    crash_at_every_step(
        &base,
        o,
        |disk, o, k| {
            let wal = open_mem(disk, o).unwrap();
            disk.fail_after_ops(Some(k));
            // Too big for the last segment: a new one must be created first.
            wal.append(RecordType::SPANS, &payload(1000, 150)).is_ok()
        },
        |wal, _| {
            let got = replay_all(wal).unwrap();
            assert_all_but(&got[..appended.len()], &appended, &[]);
            assert!(got.len() <= appended.len() + 1);
            if got.len() > appended.len() {
                assert_eq!(
                    got.last().unwrap().position,
                    Position::new(last.segment + 1, 32)
                );
            }
        },
    );
}

#[test]
fn crash_at_every_step_of_salvage() {
    let (base, appended, o) = durable_log(1 << 20);
    // Damage two records in the middle.
    let name = segment_name(1);
    let mut bytes = base.read_file(&name).unwrap();
    for i in [4, 11] {
        bytes[appended[i].position.offset as usize + 20] ^= 0xFF;
    }
    base.write_file(&name, &bytes);
    for k in 0.. {
        let disk = base.crash_image();
        disk.fail_after_ops(Some(k));
        let finished = open_mem(&disk, salvage(o)).is_ok();
        // Whatever step the crash hit, salvage again gets the same records.
        let image = disk.crash_image();
        let wal = open_mem(&image, salvage(o)).unwrap_or_else(|e| panic!("k={k}: {e}"));
        assert_all_but(&replay_all(&wal).unwrap(), &appended, &[4, 11]);
        if finished {
            assert!(k >= 3);
            break;
        }
    }
}

#[test]
fn every_acknowledged_record_survives_a_power_cut_under_always() {
    let mem = MemStorage::new();
    let o = options(500, SyncPolicy::Always);
    let wal = Wal::open(std::sync::Arc::new(mem.clone()), o).unwrap();
    let mut appended = Vec::new();
    for i in 0..60 {
        let p = payload(i, (i as usize * 37) % 400);
        let position = wal.append(RecordType::SERIES, &p).unwrap();
        appended.push(Appended {
            position,
            record_type: RecordType::SERIES,
            payload: p,
        });
        let image = mem.crash_image();
        let after = open_mem(&image, o).unwrap();
        assert_all_but(&replay_all(&after).unwrap(), &appended, &[]);
    }
}
