//! Every truncation point, every bit flip, and many simulated power cuts of small logs.

mod common;

use common::*;
use strata_wal::storage::MemStorage;
use strata_wal::{Error, Options, RecordType, SyncPolicy, Wal};

const SIZES: [usize; 9] = [20, 0, 75, 3, 130, 40, 9, 60, 17];

/// The segment files of a log, oldest first, with their bytes.
fn segments(mem: &MemStorage) -> Vec<(String, Vec<u8>)> {
    mem.file_names()
        .into_iter()
        .map(|n| {
            let b = mem.read_file(&n).unwrap();
            (n, b)
        })
        .collect()
}

#[test]
fn truncate_at_every_byte_offset_reopens_to_a_prefix() {
    let o = options(200, SyncPolicy::Always);
    let (mem, appended) = mem_log(&SIZES, o);
    let files = segments(&mem);
    assert!(files.len() >= 3, "want several segments");
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    for cut in 0..=total {
        // Keep whole segments before the cut, cut the one it falls in, drop the rest.
        let image = MemStorage::new();
        let mut left = cut;
        for (name, bytes) in &files {
            if left == 0 {
                break;
            }
            let n = left.min(bytes.len());
            image.write_file(name, &bytes[..n]);
            left -= n;
        }
        let wal = open_mem(&image, o).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let got = replay_all(&wal).unwrap();
        assert_prefix(&got, &appended);
        // Nothing whole before the cut is lost: a record is kept iff it ends by the cut.
        let kept = appended
            .iter()
            .filter(|a| {
                let seg_start: usize = files
                    .iter()
                    .take_while(|(name, _)| *name != segment_name(a.position.segment))
                    .map(|(_, b)| b.len())
                    .sum();
                seg_start + a.position.offset as usize + 16 + a.payload.len() <= cut
            })
            .count();
        assert_eq!(got.len(), kept, "cut at {cut}");
        // And the log goes on from there.
        wal.append(RecordType::MARKERS, b"next").unwrap();
    }
}

/// How the writer of the log under test stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `close`: everything synced, a sync record at the end.
    Closed,
    /// Without `close`, as a crash of the process leaves it (every write is there).
    Crashed,
}

fn flip_every_bit(sync: SyncPolicy, segment_size_bytes: u64, stop: Stop) {
    let o = Options {
        log_id: Some(0x5eed),
        ..options(segment_size_bytes, sync)
    };
    let (mem, appended) = match stop {
        Stop::Closed => mem_log(&SIZES, o),
        Stop::Crashed => mem_log_unclosed(&SIZES, o),
    };
    let files = segments(&mem);
    let last_segment = appended.last().unwrap().position.segment;
    // Under `Always` every record was synced before the next, and the writer marked the idle
    // end with a sync record; `close` syncs and marks under any policy. Only a `Never` log
    // left by a crash has an unsynced last segment.
    let unsynced_last = stop == Stop::Crashed && sync != SyncPolicy::Always;
    for (f, (_, clean)) in files.iter().enumerate() {
        for bit in 0..clean.len() * 8 {
            let unsynced = unsynced_last && (f + 1) as u64 == last_segment;
            flip_one(&files, f, bit, o, &appended, unsynced);
        }
    }
}

fn flip_one(
    files: &[(String, Vec<u8>)],
    f: usize,
    bit: usize,
    o: Options,
    appended: &[Appended],
    unsynced: bool,
) {
    let name = &files[f].0;
    let segment = (f + 1) as u64;
    let at = strata_wal::Position::new(segment, (bit / 8) as u64);
    let image_with_flip = || {
        let image = MemStorage::new();
        for (n, b) in files {
            let mut b = b.clone();
            if n == name {
                b[bit / 8] ^= 1 << (bit % 8);
            }
            image.write_file(n, &b);
        }
        image
    };
    let damaged_record = appended.iter().rposition(|a| a.position <= at);
    // What strict may drop without an error: with synced data nothing (damage to any record,
    // the last one included, is corruption: issue 12), only a damaged sync record after the
    // last record; with unsynced data everything from the damaged record on (a torn tail).
    let keep_at_least = match (unsynced, damaged_record) {
        (false, _) => appended.len(),
        (true, Some(i)) => i,
        (true, None) => appended.len(),
    };

    // Strict: an error, or a prefix that loses no more than that.
    match open_mem(&image_with_flip(), o) {
        Ok(wal) => {
            let got = replay_all(&wal).unwrap();
            assert_prefix(&got, appended);
            assert!(
                got.len() >= keep_at_least,
                "segment {segment} bit {bit}: lost too much"
            );
        }
        Err(Error::Corruption { .. }) => {}
        Err(e) => panic!("segment {segment} bit {bit}: {e}"),
    }

    // Salvage: never fails, loses no more than that, and leaves a log that strict reads.
    let image = image_with_flip();
    let wal =
        open_mem(&image, salvage(o)).unwrap_or_else(|e| panic!("segment {segment} bit {bit}: {e}"));
    let got = replay_all(&wal).unwrap();
    if !unsynced {
        let missing: Vec<usize> = if got.len() == appended.len() {
            vec![]
        } else {
            damaged_record.into_iter().collect()
        };
        assert_all_but(&got, appended, &missing);
    } else {
        assert_prefix(&got, appended);
        assert!(
            got.len() >= keep_at_least,
            "segment {segment} bit {bit}: salvage lost too much"
        );
    }
    drop(wal);
    let wal = open_mem(&image, o)
        .unwrap_or_else(|e| panic!("segment {segment} bit {bit} after salvage: {e}"));
    let again = replay_all(&wal).unwrap();
    assert_eq!(
        again, got,
        "segment {segment} bit {bit}: salvage did not persist"
    );
}

#[test]
fn flip_every_bit_synced_log() {
    flip_every_bit(SyncPolicy::Always, 1 << 20, Stop::Closed);
}

#[test]
fn flip_every_bit_synced_log_after_a_crash() {
    // Under `Always` the idle end is marked with a sync record after each batch's fsync, so
    // damage to the last record is corruption even without `close`.
    flip_every_bit(SyncPolicy::Always, 1 << 20, Stop::Crashed);
}

#[test]
fn flip_every_bit_unsynced_log() {
    // Under `Never`, after a crash, every damage in the last segment counts as a torn tail.
    flip_every_bit(SyncPolicy::Never, 1 << 20, Stop::Crashed);
}

#[test]
fn flip_every_bit_closed_unsynced_log() {
    // `close` synced it and ended it with a sync record: all of it is proven durable.
    flip_every_bit(SyncPolicy::Never, 1 << 20, Stop::Closed);
}

#[test]
fn flip_every_bit_of_several_segments() {
    // Sealed segments were synced whatever the policy: damage there is never a tail.
    flip_every_bit(SyncPolicy::Never, 200, Stop::Crashed);
    flip_every_bit(SyncPolicy::Always, 200, Stop::Closed);
}

/// Power cuts at random moments, with unsynced sectors randomly lost or kept: the log always
/// opens in strict mode, holds a prefix of what was appended, and holds every record that was
/// durable when the power went.
fn power_cuts(sync: SyncPolicy, rounds: u64) {
    let o = options(700, sync);
    let mut rng = 0x1234_5678_u64;
    for round in 0..rounds {
        let mem = MemStorage::new();
        let wal = Wal::open(std::sync::Arc::new(mem.clone()), o).unwrap();
        let mut appended = Vec::new();
        let n = 5 + xorshift(&mut rng) % 40;
        for i in 0..n {
            let len = (xorshift(&mut rng) % 300) as usize;
            let p = payload(i, len);
            let position = wal.append(RecordType::SPANS, &p).unwrap();
            appended.push(Appended {
                position,
                record_type: RecordType::SPANS,
                payload: p,
            });
            if xorshift(&mut rng).is_multiple_of(7) {
                wal.sync().unwrap();
            }
        }
        let durable_end = wal.durable_end();
        let image = mem.crash_image_torn(xorshift(&mut rng));
        drop(wal);
        let wal = open_mem(&image, o).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let got = replay_all(&wal).unwrap();
        assert_prefix(&got, &appended);
        let durable = appended.iter().filter(|a| a.position < durable_end).count();
        assert!(got.len() >= durable, "round {round}: lost durable records");
    }
}

#[test]
fn power_cuts_always() {
    power_cuts(SyncPolicy::Always, 300);
}

#[test]
fn power_cuts_never() {
    power_cuts(SyncPolicy::Never, 300);
}

#[test]
fn power_cuts_interval() {
    power_cuts(
        SyncPolicy::Interval(std::time::Duration::from_millis(1)),
        100,
    );
}
