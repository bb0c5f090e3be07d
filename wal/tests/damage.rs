//! The damage table: one test per kind of damage, each with the exact recovery expected
//! (after Prometheus' `TestWALRepair_ReadingError` and RocksDB's `log_test.cc`).
//!
//! | damage                                    | Strict open                  | Salvage open            |
//! |-------------------------------------------|------------------------------|-------------------------|
//! | torn last record / header                 | truncated, reported          | same                    |
//! | zero-filled or garbage tail               | truncated, reported          | same                    |
//! | hole in unsynced data, records after it   | truncated at the hole        | same                    |
//! | damaged sync record at the end            | truncated, no record lost    | same                    |
//! | damaged last record of a closed log       | `Corruption` (durable_tail.rs)| skipped, rest kept     |
//! | bad payload CRC mid-log                   | `Corruption{PayloadChecksum}`| skipped, rest kept      |
//! | bad header CRC / flipped length mid-log   | `Corruption{HeaderChecksum}` | skipped, rest kept      |
//! | length past segment end (valid CRC)       | `Corruption{Truncated}`      | cut, rest kept          |
//! | unknown type without ignore bit, anywhere | `Corruption{UnknownType}`    | skipped, rest kept      |
//! | unknown type with ignore bit              | skipped by replay, counted   | same                    |
//! | damage at the end of a sealed segment     | `Corruption`                 | cut, later segments kept|
//! | bad segment header                        | `Corruption{offset 0}`       | header rewritten        |
//! | missing segment / foreign / misnamed      | `MissingSegment` / `ForeignSegment` / `MisnamedSegment` | same |
//! | newer format version                      | `UnsupportedVersion`         | same                    |
//! | leftover temp file / short last segment   | removed, reported            | same                    |

mod common;

use common::*;
use strata_wal::format::{RecordHeader, SegmentHeader, segment_seed};
use strata_wal::storage::MemStorage;
use strata_wal::{CorruptionKind, Error, Options, RecordType, SyncPolicy, TailTruncation};

const SIZES: [usize; 8] = [40, 100, 7, 300, 64, 0, 90, 33];

fn one_segment_log() -> (MemStorage, Vec<Appended>, Options) {
    let o = options(1 << 20, SyncPolicy::Always);
    let (mem, appended) = mem_log(&SIZES, o);
    (mem, appended, o)
}

fn edit(mem: &MemStorage, segment: u64, f: impl FnOnce(&mut Vec<u8>)) {
    let name = segment_name(segment);
    let mut bytes = mem.read_file(&name).expect("segment exists");
    f(&mut bytes);
    mem.write_file(&name, &bytes);
}

/// Rewrites a record header's fields with a valid CRC (a "buggy writer", not bit rot).
fn rewrite_header(mem: &MemStorage, log_id: u64, a: &Appended, f: impl FnOnce(&mut RecordHeader)) {
    edit(mem, a.position.segment, |b| {
        let at = a.position.offset as usize;
        let mut h = RecordHeader::fields(b[at..at + 16].try_into().unwrap());
        f(&mut h);
        let seed = segment_seed(log_id, a.position.segment);
        b[at..at + 16].copy_from_slice(&h.encode(seed, at as u32));
    });
}

fn log_id(mem: &MemStorage) -> u64 {
    let name = mem.file_names()[0].clone();
    SegmentHeader::decode(&mem.read_file(&name).unwrap())
        .unwrap()
        .log_id
}

fn end_of(a: &Appended) -> u64 {
    a.position.offset + 16 + a.payload.len() as u64
}

/// Strict open fails with corruption at `at` of the expected kind and leaves the bytes alone.
fn expect_corruption(
    mem: &MemStorage,
    o: Options,
    at: &Appended,
    kind: fn(&CorruptionKind) -> bool,
) {
    let before = mem.read_file(&segment_name(at.position.segment));
    match open_mem(mem, o) {
        Err(Error::Corruption {
            segment,
            offset,
            kind: k,
        }) => {
            assert_eq!((segment, offset), (at.position.segment, at.position.offset));
            assert!(kind(&k), "unexpected kind {k:?}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(mem.read_file(&segment_name(at.position.segment)), before);
}

/// Salvage open skips exactly the records at `missing`, reports one skipped range per damaged
/// record, and leaves a log that a strict open then reads cleanly.
fn expect_salvage(mem: &MemStorage, o: Options, appended: &[Appended], missing: &[usize]) {
    let wal = open_mem(mem, salvage(o)).unwrap();
    let report = wal.recovery_report().clone();
    assert_eq!(report.skipped.len(), missing.len(), "{report:?}");
    for (s, &i) in report.skipped.iter().zip(missing) {
        assert_eq!(
            (s.segment, s.offset),
            (appended[i].position.segment, appended[i].position.offset)
        );
    }
    assert_all_but(&replay_all(&wal).unwrap(), appended, missing);
    drop(wal);
    let wal = open_mem(mem, o).unwrap();
    assert!(
        wal.recovery_report().is_clean(),
        "{:?}",
        wal.recovery_report()
    );
    assert_all_but(&replay_all(&wal).unwrap(), appended, missing);
}

/// Strict open truncates the tail at the start of record `keep` (or, when every record is
/// kept, at `clean_end`, where the log ended before the damage) and keeps the records before.
fn expect_tail_cut(
    mem: &MemStorage,
    o: Options,
    appended: &[Appended],
    keep: usize,
    clean_end: u64,
) -> TailTruncation {
    let wal = open_mem(mem, o).unwrap();
    let cut = wal
        .recovery_report()
        .truncated_tail
        .clone()
        .expect("tail reported");
    let expected = appended.get(keep).map_or(clean_end, |a| a.position.offset);
    assert_eq!(cut.offset, expected);
    assert_all_but(&replay_all(&wal).unwrap(), &appended[..keep], &[]);
    let name = segment_name(cut.segment);
    assert_eq!(mem.read_file(&name).unwrap().len() as u64, cut.offset);
    // Appending after the cut works and the next open is clean.
    wal.append(RecordType::MARKERS, b"after the cut").unwrap();
    drop(wal);
    assert!(open_mem(mem, o).unwrap().recovery_report().is_clean());
    cut
}

/// Length of segment 1.
fn file_len(mem: &MemStorage) -> u64 {
    mem.read_file(&segment_name(1)).unwrap().len() as u64
}

#[test]
fn a_closed_log_ends_with_a_sync_record() {
    let (mem, appended, _) = one_segment_log();
    let end = end_of(&appended[7]);
    assert_eq!(file_len(&mem), end + 16);
    let b = mem.read_file(&segment_name(1)).unwrap();
    let h = RecordHeader::decode(
        segment_seed(log_id(&mem), 1),
        end as u32,
        b[end as usize..].try_into().unwrap(),
    )
    .unwrap();
    assert!(h.is_sync_record(end), "{h:?}");
}

#[test]
fn torn_last_record() {
    // A file shorter than what was written looks like a torn write whatever was synced: the
    // sync record after the last record went with it.
    let (mem, appended, o) = one_segment_log();
    let end = end_of(&appended[7]) as usize;
    edit(&mem, 1, |b| b.truncate(end - 10));
    let cut = expect_tail_cut(&mem, o, &appended, 7, 0);
    assert!(matches!(cut.kind, CorruptionKind::Truncated { .. }));
    assert_eq!(cut.dropped_bytes, 16 + 33 - 10);
}

#[test]
fn torn_sync_record() {
    // Only the sync record is damaged: it is cut, every record is kept.
    let (mem, appended, o) = one_segment_log();
    let end = end_of(&appended[7]);
    edit(&mem, 1, |b| b.truncate(end as usize + 10));
    let cut = expect_tail_cut(&mem, o, &appended, 8, end);
    assert_eq!(cut.dropped_bytes, 10);
    assert_eq!(cut.discarded_records, 0);
}

#[test]
fn torn_last_record_header() {
    let (mem, appended, o) = one_segment_log();
    edit(&mem, 1, |b| {
        b.truncate(appended[7].position.offset as usize + 5)
    });
    let cut = expect_tail_cut(&mem, o, &appended, 7, 0);
    assert_eq!(
        cut.kind,
        CorruptionKind::Truncated {
            needed: 16,
            available: 5
        }
    );
}

#[test]
fn zero_filled_tail() {
    let (mem, appended, o) = one_segment_log();
    let clean_end = file_len(&mem);
    edit(&mem, 1, |b| b.resize(b.len() + 4096, 0));
    let cut = expect_tail_cut(&mem, o, &appended, 8, clean_end);
    assert_eq!(cut.dropped_bytes, 4096);
    assert_eq!(cut.discarded_records, 0);
}

#[test]
fn garbage_tail() {
    let (mem, appended, o) = one_segment_log();
    let clean_end = file_len(&mem);
    edit(&mem, 1, |b| b.extend(payload(99, 5000)));
    let wal = open_mem(&mem, o).unwrap();
    let cut = wal.recovery_report().truncated_tail.clone().unwrap();
    assert_eq!((cut.offset, cut.dropped_bytes), (clean_end, 5000));
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);
}

#[test]
fn hole_in_unsynced_data_is_a_torn_tail() {
    // Under `Never`, until a sync or close, nothing in the last segment was promised durable:
    // a power cut may leave a hole with intact records after it. Those records are dropped with
    // the hole (the log stays a prefix of what was written) and counted in the report.
    let o = options(1 << 20, SyncPolicy::Never);
    let (mem, appended) = mem_log_unclosed(&SIZES, o);
    let hole = appended[3].position.offset as usize;
    edit(&mem, 1, |b| b[hole..hole + 20].fill(0));
    let cut = expect_tail_cut(&mem, o, &appended, 3, 0);
    assert_eq!(cut.discarded_records, 4);
}

#[test]
fn bad_payload_crc_mid_log() {
    let (mem, appended, o) = one_segment_log();
    let at = appended[3].position.offset as usize + 16 + 100;
    edit(&mem, 1, |b| b[at] ^= 0x40);
    expect_corruption(&mem, o, &appended[3], |k| {
        matches!(k, CorruptionKind::PayloadChecksum { .. })
    });
    expect_salvage(&mem, o, &appended, &[3]);
}

#[test]
fn bad_header_crc_mid_log() {
    let (mem, appended, o) = one_segment_log();
    let at = appended[1].position.offset as usize + 13; // inside the sync mark
    edit(&mem, 1, |b| b[at] ^= 0x01);
    expect_corruption(&mem, o, &appended[1], |k| {
        matches!(k, CorruptionKind::HeaderChecksum { .. })
    });
    expect_salvage(&mem, o, &appended, &[1]);
}

#[test]
fn flipped_length_mid_log() {
    let (mem, appended, o) = one_segment_log();
    let at = appended[2].position.offset as usize + 10; // length, bits 16..24
    edit(&mem, 1, |b| b[at] ^= 0x02);
    expect_corruption(&mem, o, &appended[2], |k| {
        matches!(k, CorruptionKind::HeaderChecksum { .. })
    });
    expect_salvage(&mem, o, &appended, &[2]);
}

#[test]
fn length_past_segment_end_with_valid_crc() {
    let o = options(400, SyncPolicy::Always);
    let (mem, appended) = mem_log(&SIZES, o);
    let id = log_id(&mem);
    // The last record of segment 1 (sealed) claims more bytes than the segment has.
    let victim = appended
        .iter()
        .rposition(|a| a.position.segment == 1)
        .unwrap();
    rewrite_header(&mem, id, &appended[victim], |h| h.len += 1000);
    expect_corruption(&mem, o, &appended[victim], |k| {
        matches!(k, CorruptionKind::Truncated { .. })
    });
    expect_salvage(&mem, o, &appended, &[victim]);
}

#[test]
fn unknown_type_mid_log() {
    let (mem, appended, o) = one_segment_log();
    rewrite_header(&mem, log_id(&mem), &appended[4], |h| {
        h.record_type = RecordType::from_byte(0x06)
    });
    expect_corruption(&mem, o, &appended[4], |k| {
        *k == CorruptionKind::UnknownType { byte: 0x06 }
    });
    expect_salvage(&mem, o, &appended, &[4]);
}

#[test]
fn unknown_type_at_the_tail_is_not_truncated() {
    // A whole record from a newer writer is data, not a torn write: refuse, do not cut.
    let (mem, appended, o) = one_segment_log();
    rewrite_header(&mem, log_id(&mem), &appended[7], |h| {
        h.record_type = RecordType::from_byte(0x45)
    });
    expect_corruption(&mem, o, &appended[7], |k| {
        *k == CorruptionKind::UnknownType { byte: 0x45 }
    });
}

#[test]
fn unknown_ignorable_type_is_skipped() {
    let (mem, appended, o) = one_segment_log();
    rewrite_header(&mem, log_id(&mem), &appended[2], |h| {
        h.record_type = RecordType::from_byte(0xC6)
    });
    let wal = open_mem(&mem, o).unwrap();
    assert!(wal.recovery_report().is_clean());
    assert_eq!(wal.recovery_report().ignored_records, 1);
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[2]);
}

#[test]
fn damage_at_the_end_of_a_sealed_segment_is_corruption() {
    // It looks like a torn tail, but a sealed segment was synced before its successor existed.
    let o = options(400, SyncPolicy::Always);
    let (mem, appended) = mem_log(&SIZES, o);
    let victim = appended
        .iter()
        .rposition(|a| a.position.segment == 1)
        .unwrap();
    // (A sync record may follow it: the last batch before the rotation ended idle.)
    let cut = end_of(&appended[victim]) as usize - 3;
    edit(&mem, 1, |b| b.truncate(cut));
    expect_corruption(&mem, o, &appended[victim], |k| {
        matches!(k, CorruptionKind::Truncated { .. })
    });
    expect_salvage(&mem, o, &appended, &[victim]);
}

#[test]
fn bad_segment_header() {
    let o = options(400, SyncPolicy::Always);
    let (mem, appended) = mem_log(&SIZES, o);
    edit(&mem, 2, |b| b[1] ^= 0x10); // magic
    match open_mem(&mem, o) {
        Err(Error::Corruption {
            segment: 2,
            offset: 0,
            kind,
        }) => {
            assert_eq!(
                kind,
                CorruptionKind::BadSegmentHeader {
                    detail: "bad magic"
                }
            )
        }
        other => panic!("{other:?}"),
    }
    let wal = open_mem(&mem, salvage(o)).unwrap();
    assert_eq!(wal.recovery_report().repaired_headers, [2]);
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);
    drop(wal);
    assert!(open_mem(&mem, o).unwrap().recovery_report().is_clean());
}

#[test]
fn missing_segment() {
    let o = options(150, SyncPolicy::Always);
    let (mem, _) = mem_log(&SIZES, o);
    assert!(mem.file_names().len() >= 4);
    mem.delete_file(&segment_name(3));
    assert!(matches!(
        open_mem(&mem, o),
        Err(Error::MissingSegment {
            expected: 3,
            found: 4
        })
    ));
    assert!(matches!(
        open_mem(&mem, salvage(o)),
        Err(Error::MissingSegment {
            expected: 3,
            found: 4
        })
    ));
}

#[test]
fn segment_of_another_log() {
    let o = options(300, SyncPolicy::Always);
    let (mem, _) = mem_log(&SIZES, o);
    let (other, _) = mem_log(&SIZES, o);
    let foreign = other.read_file(&segment_name(2)).unwrap();
    mem.write_file(&segment_name(2), &foreign);
    match open_mem(&mem, salvage(o)) {
        Err(Error::ForeignSegment {
            segment: 2,
            log_id: found,
            expected_log_id,
        }) => {
            assert_eq!((found, expected_log_id), (log_id(&other), log_id(&mem)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn misnamed_segment() {
    let o = options(300, SyncPolicy::Always);
    let (mem, _) = mem_log(&SIZES, o);
    let two = mem.read_file(&segment_name(2)).unwrap();
    mem.write_file(&segment_name(3), &two);
    assert!(matches!(
        open_mem(&mem, o),
        Err(Error::MisnamedSegment {
            file_segment: 3,
            header_segment: 2
        })
    ));
}

#[test]
fn newer_format_version() {
    let (mem, _, o) = one_segment_log();
    edit(&mem, 1, |b| {
        b[4] = 2;
        let crc = crc32(&b[..28]);
        b[28..32].copy_from_slice(&crc.to_le_bytes());
    });
    assert!(matches!(
        open_mem(&mem, salvage(o)),
        Err(Error::UnsupportedVersion {
            segment: 1,
            version: 2,
            supported: 1
        })
    ));
}

fn crc32(bytes: &[u8]) -> u32 {
    // CRC-32/ISO-HDLC as the format uses it (crc32fast), computed bitwise: an independent check.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn leftover_temp_file_and_short_last_segment_are_removed() {
    let o = options(300, SyncPolicy::Always);
    let (mem, appended) = mem_log(&SIZES, o);
    let last = appended.last().unwrap().position.segment;
    let tmp = format!("{}.tmp", segment_name(last + 1));
    mem.write_file(&tmp, b"SWAL\x01half a header");
    mem.write_file(&segment_name(last + 1), b"SWAL\x01");
    let wal = open_mem(&mem, o).unwrap();
    let report = wal.recovery_report();
    assert_eq!(report.removed_files, [tmp.clone(), segment_name(last + 1)]);
    assert_eq!(report.last_segment, last);
    assert_all_but(&replay_all(&wal).unwrap(), &appended, &[]);
    assert!(!mem.file_names().contains(&tmp));
}
