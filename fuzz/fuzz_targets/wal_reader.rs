//! Untrusted bytes as a WAL segment, opened in strict and salvage mode: an error or a log, never
//! a panic; a log that opened replays without finding damage, yields exactly the records the
//! recovery report counted, and takes appends.
//!
//! Input: a mode byte, then either the raw segment file (even mode) or a recipe (odd mode) for a
//! segment of records with valid CRCs — so the fuzzer reaches the record, resync and salvage
//! logic instead of stopping at the header CRC — followed by one optional bit flip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use strata_wal::format::{RecordHeader, SegmentHeader, segment_file_name, segment_seed};
use strata_wal::storage::MemStorage;
use strata_wal::{Options, Position, RecordType, RecoveryMode, Wal};

const LOG_ID: u64 = 0x5EED_F022;
const TYPES: [u8; 8] = [0x01, 0x02, 0x03, 0x05, 0x85, 0xC6, 0x06, 0xFF];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let segment = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        recipe(rest)
    };
    for recovery in [RecoveryMode::Strict, RecoveryMode::Salvage] {
        let mem = MemStorage::new();
        mem.write_file(&segment_file_name(1), &segment);
        if mode & 2 != 0 {
            // A successor makes segment 1 sealed: its damage is corruption, not a torn tail.
            mem.write_file(
                &segment_file_name(2),
                &SegmentHeader::new(LOG_ID, 2).encode(),
            );
        }
        let options = Options {
            recovery,
            log_id: (mode & 4 != 0).then_some(LOG_ID),
            segment_size_bytes: 4096,
            ..Options::default()
        };
        let Ok(wal) = Wal::open(Arc::new(mem), options) else {
            continue;
        };
        let mut replayed = 0;
        for r in wal.replay(Position::ZERO) {
            r.expect("a log that opened replays cleanly");
            replayed += 1;
        }
        assert_eq!(replayed, wal.recovery_report().records);
        wal.append(RecordType::MARKERS, b"after recovery")
            .expect("a log that opened takes appends");
    }
});

/// A segment header and records with valid CRCs, from the input: per record a type selector,
/// a sync-mark selector and a length byte, then that many payload bytes. The last 3 bytes, if
/// left, name a bit to flip.
fn recipe(mut input: &[u8]) -> Vec<u8> {
    let seed = segment_seed(LOG_ID, 1);
    let mut out = SegmentHeader::new(LOG_ID, 1).encode().to_vec();
    while input.len() > 3 {
        let (op, rest) = input.split_at(3);
        let len = usize::from(op[2]).min(rest.len());
        let (payload, rest) = rest.split_at(len);
        let offset = out.len() as u32;
        let header = RecordHeader {
            payload_crc: crc32(payload),
            record_type: RecordType::from_byte(TYPES[usize::from(op[0] % 8)]),
            len: len as u32,
            synced_upto: 32 + u32::from(op[1]) * (offset - 32) / 255,
        };
        out.extend_from_slice(&header.encode(seed, offset));
        out.extend_from_slice(payload);
        input = rest;
    }
    if let [a, b, c] = *input {
        let bit = usize::from(u16::from_le_bytes([a, b])) * 8 + usize::from(c % 8);
        if let Some(byte) = out.get_mut(bit / 8) {
            *byte ^= 1 << (bit % 8);
        }
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    // Bitwise CRC-32/ISO-HDLC: the fuzz crate does not depend on crc32fast.
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
