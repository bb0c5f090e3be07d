//! Variable-width codes for zigzagged integers: bucket deltas and the count-discrepancy change.
//!
//! | prefix (first bit first) | payload | zigzag value `z`      | total bits |
//! |--------------------------|---------|-----------------------|------------|
//! | `0`                      | 0       | 0                     | 1          |
//! | `10`                     | 4       | z < 2^4               | 6          |
//! | `110`                    | 8       | z < 2^8               | 11         |
//! | `1110`                   | 16      | z < 2^16              | 20         |
//! | `11110`                  | 32      | z < 2^32              | 37         |
//! | `11111`                  | 64      | any                   | 69         |
//!
//! The encoder picks the smallest class; the decoder accepts a value in any class wide enough
//! (a non-minimal code decodes to the same value).

use crate::bits::{BitReader, BitWriter};

/// Payload width per class, indexed by the number of leading `1` bits in the prefix.
const PAYLOAD_BITS: [u32; 6] = [0, 4, 8, 16, 32, 64];
/// Prefix width per class.
const PREFIX_BITS: [u32; 6] = [1, 2, 3, 4, 5, 5];
/// The longest code.
pub(crate) const MAX_BITS: u32 = 69;

#[inline(always)]
fn class(z: u64) -> usize {
    match z {
        0 => 0,
        1..0x10 => 1,
        0x10..0x100 => 2,
        0x100..0x1_0000 => 3,
        0x1_0000..0x1_0000_0000 => 4,
        _ => 5,
    }
}

/// Bits the code of `z` takes.
#[inline(always)]
pub(crate) fn bits(z: u64) -> u32 {
    let c = class(z);
    PREFIX_BITS[c] + PAYLOAD_BITS[c]
}

/// Writes the code of `z`; returns the bits written.
#[inline(always)]
pub(crate) fn write(w: &mut BitWriter, z: u64) -> u32 {
    let c = class(z);
    if c < 5 {
        // `c` ones, a zero, then the payload: at most 5 + 32 bits in one write.
        let code = ((1u64 << c) - 1) | (z << (c + 1));
        let n = PREFIX_BITS[c] + PAYLOAD_BITS[c];
        w.write_bits(code, n);
        n
    } else {
        w.write_bits(0b11111, 5);
        w.write_bits(z, 64);
        MAX_BITS
    }
}

/// Reads one code. The reader must have been refilled (≥ 56 bits buffered, enough for every
/// class but the last, which refills again).
#[inline(always)]
pub(crate) fn read_refilled(r: &mut BitReader<'_>) -> u64 {
    let buf = r.buffer();
    let c = (buf.trailing_ones() as usize).min(5);
    match c {
        0 => {
            r.consume(1);
            0
        }
        5 => {
            r.consume(5);
            r.read_bits_wide(64)
        }
        _ => {
            let payload = PAYLOAD_BITS[c];
            let v = (buf >> (c + 1)) & ((1u64 << payload) - 1);
            r.consume(PREFIX_BITS[c] + payload);
            v
        }
    }
}

#[inline(always)]
pub(crate) fn read(r: &mut BitReader<'_>) -> u64 {
    r.refill();
    read_refilled(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_round_trips_at_its_edges() {
        let mut vals = vec![0u64, u64::MAX];
        for p in [4u32, 8, 16, 32] {
            vals.extend([(1u64 << p) - 1, 1u64 << p, (1u64 << p) + 1]);
        }
        let mut w = BitWriter::new();
        let mut total = 0u64;
        for &z in &vals {
            let n = write(&mut w, z);
            assert_eq!(n, bits(z));
            total += n as u64;
        }
        assert_eq!(w.bit_len(), total);
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for &z in &vals {
            assert_eq!(read(&mut r), z);
        }
        assert!(r.check_overrun("t").is_ok());
    }
}
