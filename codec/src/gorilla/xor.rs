//! Gorilla XOR float coding with a leading/trailing-zero window.
//!
//! Each value is XORed with the previous one (the first with 0.0's bits, i.e. stored through a
//! fresh window). Codes, first bit first:
//!
//! | prefix | then                                   | meaning                                   |
//! |--------|----------------------------------------|-------------------------------------------|
//! | `0`    | —                                      | same bits as the previous value           |
//! | `10`   | `sig` bits                             | XOR fits the current window               |
//! | `11`   | 6 bits `lead`, 6 bits `sig-1`, `sig` bits | new window: `lead` leading zeros, `sig` significant bits |
//!
//! The window starts as `lead = 0, sig = 64`. The encoder reuses the window only when that is
//! no larger than opening a new one. Values are carried as raw `u64` bits, so every f64 —
//! NaN payloads, ±Inf, -0.0, subnormals — round-trips exactly.

use crate::bits::{BitReader, BitWriter};

/// Window state shared by encoder and decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorState {
    pub(crate) prev: u64,
    pub(crate) lead: u32,
    pub(crate) sig: u32,
}

impl Default for XorState {
    fn default() -> Self {
        XorState {
            prev: 0,
            lead: 0,
            sig: 64,
        }
    }
}

impl XorState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Encodes `bits` (an f64's bit pattern); returns the bits written.
    #[inline(always)]
    pub fn encode(&mut self, w: &mut BitWriter, bits: u64) -> u32 {
        let xor = bits ^ self.prev;
        self.prev = bits;
        if xor == 0 {
            w.write_bits(0, 1);
            return 1;
        }
        let lead = xor.leading_zeros();
        let trail = xor.trailing_zeros();
        let cur_trail = 64 - self.lead - self.sig;
        let sig = 64 - lead - trail;
        if lead >= self.lead && trail >= cur_trail && self.sig <= sig + 12 {
            w.write_bits(0b01, 2);
            w.write_bits(xor >> cur_trail, self.sig);
            return 2 + self.sig;
        }
        self.lead = lead;
        self.sig = sig;
        // Prefix `11`, then lead (6 bits) and sig-1 (6 bits): 14 bits in one write.
        w.write_bits(0b11 | ((lead as u64) << 2) | (((sig - 1) as u64) << 8), 14);
        w.write_bits(xor >> trail, sig);
        14 + sig
    }

    /// Decodes the next value's bits. The reader must have been refilled.
    #[inline(always)]
    pub fn decode_refilled(&mut self, r: &mut BitReader<'_>) -> u64 {
        let buf = r.buffer();
        if buf & 1 == 0 {
            r.consume(1);
            return self.prev;
        }
        if buf & 2 == 0 {
            r.consume(2);
        } else {
            self.lead = ((buf >> 2) & 63) as u32;
            // A corrupt stream may claim lead + sig > 64; clamp so shifts stay in range. The
            // value is then garbage, which the caller cannot tell from valid data — the same as
            // any flipped payload bit — but nothing panics.
            let sig = ((buf >> 8) & 63) as u32 + 1;
            self.sig = sig.min(64 - self.lead);
            r.consume(14);
        }
        let trail = 64 - self.lead - self.sig;
        let v = r.read_bits_wide(self.sig);
        self.prev ^= v << trail;
        self.prev
    }

    #[inline(always)]
    pub fn decode(&mut self, r: &mut BitReader<'_>) -> u64 {
        r.refill();
        self.decode_refilled(r)
    }
}
