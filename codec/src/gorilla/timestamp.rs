//! Delta-of-delta timestamp coding with classes sized for millisecond timestamps.
//!
//! | prefix (first bit first) | payload | delta-of-delta range          |
//! |--------------------------|---------|-------------------------------|
//! | `0`                      | 0       | 0                             |
//! | `10`                     | 7       | [-64, 63]                     |
//! | `110`                    | 10      | [-512, 511]                   |
//! | `1110`                   | 14      | [-8192, 8191]                 |
//! | `11110`                  | 20      | [-524288, 524287]             |
//! | `11111`                  | 64      | any (raw two's complement)    |
//!
//! All arithmetic wraps, so any i64 sequence (even decreasing or spanning the whole range)
//! round-trips exactly; ordering is the caller's policy, not the codec's.

use crate::bits::{BitReader, BitWriter};

/// Payload width per class, indexed by the number of leading `1` bits in the prefix.
pub(crate) const PAYLOAD_BITS: [u32; 6] = [0, 7, 10, 14, 20, 64];
/// Prefix width per class.
pub(crate) const PREFIX_BITS: [u32; 6] = [1, 2, 3, 4, 5, 5];

#[inline(always)]
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

#[inline(always)]
fn fits(dod: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    (-half..half).contains(&dod)
}

/// Encoder state: the previous timestamp and delta.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DodEncoder {
    pub(crate) prev: i64,
    pub(crate) delta: i64,
}

impl DodEncoder {
    /// Starts after an explicitly stored first timestamp.
    pub fn new(first: i64) -> Self {
        DodEncoder {
            prev: first,
            delta: 0,
        }
    }

    /// Encodes the next timestamp; returns the bits written.
    #[inline(always)]
    pub fn encode(&mut self, w: &mut BitWriter, t: i64) -> u32 {
        let delta = t.wrapping_sub(self.prev);
        let dod = delta.wrapping_sub(self.delta);
        self.prev = t;
        self.delta = delta;
        if dod == 0 {
            w.write_bits(0, 1);
            return 1;
        }
        for (class, &bits) in PAYLOAD_BITS.iter().enumerate().take(5).skip(1) {
            if fits(dod, bits) {
                // Prefix: `class` ones then a zero, first bit in bit 0.
                let prefix = (1u64 << class) - 1;
                let code = prefix | ((dod as u64 & ((1u64 << bits) - 1)) << (class + 1));
                let n = class as u32 + 1 + bits;
                w.write_bits(code, n);
                return n;
            }
        }
        w.write_bits(0b11111, 5);
        w.write_bits(dod as u64, 64);
        69
    }
}

/// Decoder state mirroring [`DodEncoder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DodDecoder {
    pub(crate) prev: i64,
    pub(crate) delta: i64,
}

impl DodDecoder {
    pub fn new(first: i64) -> Self {
        DodDecoder {
            prev: first,
            delta: 0,
        }
    }

    /// Decodes the next timestamp. The reader must have been refilled (≥ 56 bits buffered);
    /// only the rare 64-bit class refills again.
    #[inline(always)]
    pub fn decode_refilled(&mut self, r: &mut BitReader<'_>) -> i64 {
        let buf = r.buffer();
        let class = (buf.trailing_ones() as usize).min(5);
        let bits = PAYLOAD_BITS[class];
        let prefix = PREFIX_BITS[class];
        let dod = if bits == 0 {
            r.consume(1);
            0
        } else if bits < 64 {
            let v = (buf >> prefix) & ((1u64 << bits) - 1);
            r.consume(prefix + bits);
            sign_extend(v, bits)
        } else {
            r.consume(prefix);
            r.read_bits_wide(64) as i64
        };
        self.delta = self.delta.wrapping_add(dod);
        self.prev = self.prev.wrapping_add(self.delta);
        self.prev
    }

    #[inline(always)]
    pub fn decode(&mut self, r: &mut BitReader<'_>) -> i64 {
        r.refill();
        self.decode_refilled(r)
    }
}
