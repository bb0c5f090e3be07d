//! Delta-of-delta timestamp coding with classes sized for millisecond timestamps.
//!
//! A non-zero delta-of-delta is written with the *non-zero code*:
//!
//! | prefix (first bit first) | payload | delta-of-delta range          |
//! |--------------------------|---------|-------------------------------|
//! | `0`                      | 7       | [-64, 63]                     |
//! | `10`                     | 10      | [-512, 511]                   |
//! | `110`                    | 14      | [-8192, 8191]                 |
//! | `1110`                   | 20      | [-524288, 524287]             |
//! | `1111`                   | 64      | any (raw two's complement)    |
//!
//! The *full code* is `0` for a zero delta-of-delta and `1` + the non-zero code otherwise. The
//! Gorilla chunk uses the non-zero code behind its own joint sample prefix; histogram chunks use
//! the full code.
//!
//! All arithmetic wraps, so any i64 sequence (even decreasing or spanning the whole range)
//! round-trips exactly; ordering is the caller's policy, not the codec's.

use crate::bits::{BitReader, BitWriter};

/// Payload width per non-zero class, indexed by the number of leading `1` bits in the prefix.
const PAYLOAD_BITS: [u32; 5] = [7, 10, 14, 20, 64];
/// Prefix width per non-zero class.
const PREFIX_BITS: [u32; 5] = [1, 2, 3, 4, 4];

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

/// Writes a non-zero delta-of-delta with the non-zero code; returns the bits written.
#[inline(always)]
pub fn write_nonzero_dod(w: &mut BitWriter, dod: i64) -> u32 {
    for (class, &bits) in PAYLOAD_BITS.iter().enumerate().take(4) {
        if fits(dod, bits) {
            // Prefix: `class` ones then a zero, first bit in bit 0.
            let prefix = (1u64 << class) - 1;
            let code = prefix | ((dod as u64 & ((1u64 << bits) - 1)) << (class + 1));
            let n = class as u32 + 1 + bits;
            w.write_bits(code, n);
            return n;
        }
    }
    w.write_bits(0b1111, 4);
    w.write_bits(dod as u64, 64);
    68
}

/// Reads a delta-of-delta written with the non-zero code. The reader must have been refilled
/// (≥ 56 bits buffered); only the rare 64-bit class refills again.
#[inline(always)]
pub fn read_nonzero_dod(r: &mut BitReader<'_>) -> i64 {
    let buf = r.buffer();
    let class = (buf.trailing_ones() as usize).min(4);
    let bits = PAYLOAD_BITS[class];
    let prefix = PREFIX_BITS[class];
    if bits < 64 {
        let v = (buf >> prefix) & ((1u64 << bits) - 1);
        r.consume(prefix + bits);
        sign_extend(v, bits)
    } else {
        r.consume(prefix);
        r.read_bits_wide(64) as i64
    }
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

    /// Advances to `t` and returns its delta-of-delta (nothing is written).
    #[inline(always)]
    pub fn advance(&mut self, t: i64) -> i64 {
        let delta = t.wrapping_sub(self.prev);
        let dod = delta.wrapping_sub(self.delta);
        self.prev = t;
        self.delta = delta;
        dod
    }

    /// Bits [`encode`](Self::encode) would write for `t`, without writing or changing state.
    #[inline(always)]
    pub(crate) fn encoded_bits(&self, t: i64) -> u32 {
        let dod = t.wrapping_sub(self.prev).wrapping_sub(self.delta);
        if dod == 0 {
            return 1;
        }
        match PAYLOAD_BITS
            .iter()
            .take(4)
            .position(|&bits| fits(dod, bits))
        {
            Some(class) => 1 + PREFIX_BITS[class] + PAYLOAD_BITS[class],
            None => 1 + 68,
        }
    }

    /// Encodes the next timestamp with the full code; returns the bits written.
    #[inline(always)]
    pub fn encode(&mut self, w: &mut BitWriter, t: i64) -> u32 {
        let dod = self.advance(t);
        if dod == 0 {
            w.write_bits(0, 1);
            1
        } else {
            w.write_bits(1, 1);
            1 + write_nonzero_dod(w, dod)
        }
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

    /// Applies a delta-of-delta and returns the new timestamp.
    #[inline(always)]
    pub fn apply(&mut self, dod: i64) -> i64 {
        self.delta = self.delta.wrapping_add(dod);
        self.prev = self.prev.wrapping_add(self.delta);
        self.prev
    }

    /// Decodes the next timestamp written with the full code. The reader must have been refilled.
    #[inline(always)]
    pub fn decode_refilled(&mut self, r: &mut BitReader<'_>) -> i64 {
        let zero = r.buffer() & 1 == 0;
        r.consume(1);
        let dod = if zero { 0 } else { read_nonzero_dod(r) };
        self.apply(dod)
    }

    #[inline(always)]
    pub fn decode(&mut self, r: &mut BitReader<'_>) -> i64 {
        r.refill();
        self.decode_refilled(r)
    }
}
