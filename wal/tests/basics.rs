//! Round trips, segments, replay from a position, truncation, limits, record types, sync
//! policies and concurrent appenders.

mod common;

use common::*;
use proptest::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_wal::storage::MemStorage;
use strata_wal::{Error, MAX_RECORD_LEN, Options, Position, RecordType, SyncPolicy, Wal};

#[test]
fn round_trip_on_disk_and_reopen() {
    let dir = TempDir::new("round-trip");
    let sizes = [0, 1, 64, 1000, 70_000, 3, 4096];
    let wal = Wal::open_dir(dir.path(), Options::default()).unwrap();
    let appended = append_all(&wal, &sizes);
    assert_eq!(appended[0].position, Position::new(1, 32));
    assert_eq!(wal.durable_end(), wal.end());
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);
    let log_id = wal.log_id();
    wal.close().unwrap();

    let wal = Wal::open_dir(dir.path(), Options::default()).unwrap();
    assert!(wal.recovery_report().is_clean());
    assert_eq!(wal.recovery_report().records, sizes.len() as u64);
    assert_eq!(wal.log_id(), log_id);
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);
    // Appends continue where the log ended.
    let p = wal.append(RecordType::MARKERS, b"after reopen").unwrap();
    assert!(p > appended.last().unwrap().position);
}

#[test]
fn segments_rotate_and_replay_crosses_them() {
    let o = options(300, SyncPolicy::Always);
    let sizes: Vec<usize> = (0..40).map(|i| 10 + i * 7).collect();
    let (mem, appended) = mem_log(&sizes, o);
    let segments = appended.last().unwrap().position.segment;
    assert!(segments > 10, "{segments} segments");
    assert_eq!(mem.file_names().len() as u64, segments);
    let wal = open_mem(&mem, o).unwrap();
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);

    // Replay from any record's position yields exactly the records from there on.
    for (i, a) in appended.iter().enumerate() {
        let got: Vec<_> = wal.replay(a.position).collect::<Result<_, _>>().unwrap();
        assert_all_but(&got, &appended[i..], &[]);
    }
    let past_end = Position::new(segments + 5, 0);
    assert_eq!(wal.replay(past_end).count(), 0);
}

#[test]
fn a_record_larger_than_a_segment_gets_its_own() {
    let o = options(256, SyncPolicy::Never);
    let (mem, appended) = mem_log(&[10, 5000, 10], o);
    let segs: Vec<u64> = appended.iter().map(|a| a.position.segment).collect();
    assert_eq!(segs, [1, 2, 3]);
    let wal = open_mem(&mem, o).unwrap();
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);
}

#[test]
fn limits_and_types_are_checked_on_append() {
    let mem = MemStorage::new();
    let wal = open_mem(&mem, Options::default()).unwrap();
    let big = vec![7u8; MAX_RECORD_LEN + 1];
    assert!(matches!(
        wal.append(RecordType::SPANS, &big),
        Err(Error::RecordTooLarge { len, max }) if len == MAX_RECORD_LEN + 1 && max == MAX_RECORD_LEN
    ));
    let max = wal
        .append(RecordType::SPANS, &big[..MAX_RECORD_LEN])
        .unwrap();
    for byte in [0x00, 0x06, 0x7F, 0x80, 0xFF] {
        assert!(matches!(
            wal.append(RecordType::from_byte(byte), b"x"),
            Err(Error::InvalidRecordType { .. })
        ));
    }
    // A kind this build does not know, marked safe to ignore: written, then skipped by replay.
    wal.append(RecordType::from_byte(0x86), b"from the future")
        .unwrap();
    wal.append(RecordType::METRICS.ignorable(), b"known, ignorable")
        .unwrap();
    let mut replay = wal.replay(Position::ZERO);
    let got: Vec<_> = replay.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].position, max);
    assert_eq!(got[0].payload.len(), MAX_RECORD_LEN);
    assert_eq!(got[1].record_type, RecordType::METRICS.ignorable());
    assert_eq!(replay.ignored_records(), 1);
    drop(wal);
    let wal = open_mem(&mem, Options::default()).unwrap();
    assert_eq!(wal.recovery_report().ignored_records, 1);
    assert_eq!(wal.recovery_report().records, 2);
}

#[test]
fn options_are_validated() {
    let mem = MemStorage::new();
    for o in [
        options(10, SyncPolicy::Always),
        options(2 << 30, SyncPolicy::Always),
        options(1 << 20, SyncPolicy::Interval(Duration::ZERO)),
    ] {
        assert!(matches!(
            open_mem(&mem, o),
            Err(Error::InvalidOptions { .. })
        ));
    }
}

#[test]
fn truncate_before_removes_whole_segments_only() {
    let o = options(200, SyncPolicy::Always);
    let sizes = vec![50; 30];
    let (mem, appended) = mem_log(&sizes, o);
    let wal = open_mem(&mem, o).unwrap();
    let cut = appended[17].position;
    let removed = wal.truncate_before(cut).unwrap();
    assert_eq!(removed, cut.segment - 1);
    assert_eq!(wal.start(), Position::new(cut.segment, 32));
    // Everything from the cut's segment on is still there, in order.
    let first_kept = appended
        .iter()
        .position(|a| a.position.segment == cut.segment)
        .unwrap();
    assert_all_but(&replay_all(&wal).unwrap(), &appended[first_kept..], &[]);
    // The active segment is never removed, even when asked to.
    wal.truncate_before(Position::new(u64::MAX, 0)).unwrap();
    assert_eq!(mem.file_names().len(), 1);
    let p = wal.append(RecordType::MARKERS, b"still writable").unwrap();
    drop(wal);
    let wal = open_mem(&mem, o).unwrap();
    let got = replay_all(&wal).unwrap();
    assert_eq!(got.last().unwrap().position, p);
}

#[test]
fn always_shares_fsyncs_between_concurrent_appenders() {
    let dir = TempDir::new("group-commit");
    let wal = Arc::new(Wal::open_dir(dir.path(), Options::default()).unwrap());
    let threads = 8;
    let per_thread = 40;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let wal = wal.clone();
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|i| {
                        let tag = (t * 1000 + i) as u64;
                        (
                            wal.append(RecordType::METRICS, &payload(tag, 100)).unwrap(),
                            tag,
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut acked: Vec<(Position, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    acked.sort();
    let stats = wal.stats();
    assert_eq!(stats.records, (threads * per_thread) as u64);
    assert!(
        stats.syncs < stats.records,
        "{} fsyncs for {} records: no sharing",
        stats.syncs,
        stats.records
    );
    let got = replay_all(&wal).unwrap();
    assert_eq!(got.len(), acked.len());
    for (r, (pos, tag)) in got.iter().zip(&acked) {
        assert_eq!(r.position, *pos);
        assert_eq!(r.payload, payload(*tag, 100));
    }
}

#[test]
fn interval_syncs_in_the_background_and_never_does_not() {
    let mem = MemStorage::new();
    let o = options(1 << 20, SyncPolicy::Interval(Duration::from_millis(20)));
    let wal = open_mem(&mem, o).unwrap();
    let p = wal.append(RecordType::METRICS, b"soon durable").unwrap();
    assert!(wal.end() > p);
    let deadline = Instant::now() + Duration::from_secs(5);
    while wal.durable_end() < wal.end() {
        assert!(Instant::now() < deadline, "background sync never happened");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        open_mem(&mem.crash_image(), o)
            .unwrap()
            .recovery_report()
            .records
            == 1
    );
    drop(wal);

    let mem = MemStorage::new();
    let o = options(1 << 20, SyncPolicy::Never);
    let wal = open_mem(&mem, o).unwrap();
    wal.append(RecordType::METRICS, b"not durable yet").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert!(wal.durable_end() < wal.end());
    assert_eq!(
        replay_all(&open_mem(&mem.crash_image(), o).unwrap())
            .unwrap()
            .len(),
        0
    );
    assert_eq!(wal.sync().unwrap(), wal.end());
    assert_eq!(
        replay_all(&open_mem(&mem.crash_image(), o).unwrap())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn log_id_is_kept_and_checked() {
    let mem = MemStorage::new();
    let o = Options {
        log_id: Some(0xfeed),
        ..Options::default()
    };
    let wal = open_mem(&mem, o).unwrap();
    assert_eq!(wal.log_id(), 0xfeed);
    drop(wal);
    let other = Options {
        log_id: Some(0xbeef),
        ..Options::default()
    };
    assert!(matches!(
        open_mem(&mem, other),
        Err(Error::ForeignSegment {
            log_id: 0xfeed,
            expected_log_id: 0xbeef,
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any sequence of sizes and any segment size round-trips through close and reopen.
    #[test]
    fn prop_round_trip(
        sizes in proptest::collection::vec(0usize..3000, 0..60),
        segment_size_bytes in 48u64..8192,
    ) {
        let o = options(segment_size_bytes, SyncPolicy::Never);
        let (mem, appended) = mem_log(&sizes, o);
        let wal = open_mem(&mem, o).unwrap();
        prop_assert!(wal.recovery_report().is_clean());
        let got = replay_all(&wal).unwrap();
        prop_assert_eq!(got.len(), appended.len());
        assert_all_but(&got, &appended, &[]);
    }
}
