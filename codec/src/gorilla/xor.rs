//! Gorilla XOR float coding with a leading/trailing-zero window.
//!
//! Each value is XORed with the previous one (the first with 0). A non-zero XOR is written with
//! the *changed code*, first bit first:
//!
//! | prefix | then                                      | meaning                             |
//! |--------|-------------------------------------------|-------------------------------------|
//! | `0`    | `sig` bits                                | the XOR fits the current window     |
//! | `1`    | 5 bits `lead`, 6 bits `sig-1`, `sig` bits | a new window: `lead` leading zeros (capped at 31), `sig` significant bits |
//!
//! The *full code* is `0` for an unchanged value and `1` + the changed code otherwise.
//! The window starts as `lead = 0, sig = 64`. The encoder reuses the window only when that is no
//! larger than opening a new one. Values are carried as raw `u64` bits, so every f64 — NaN
//! payloads, ±Inf, -0.0, subnormals — round-trips exactly.

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

    /// The previous value's bits.
    #[inline(always)]
    pub fn prev(&self) -> u64 {
        self.prev
    }

    /// Writes the changed code for `bits`, which must differ from the previous value.
    #[inline(always)]
    pub fn encode_changed(&mut self, w: &mut BitWriter, bits: u64) -> u32 {
        let xor = bits ^ self.prev;
        debug_assert!(xor != 0);
        self.prev = bits;
        let lead = xor.leading_zeros().min(31);
        let trail = xor.trailing_zeros();
        let cur_trail = 64 - self.lead - self.sig;
        let sig = 64 - lead - trail;
        if lead >= self.lead && trail >= cur_trail && self.sig <= sig + 11 {
            w.write_bits(0, 1);
            w.write_bits(xor >> cur_trail, self.sig);
            return 1 + self.sig;
        }
        self.lead = lead;
        self.sig = sig;
        // Prefix `1`, then lead (5 bits) and sig-1 (6 bits): 12 bits in one write.
        w.write_bits(1 | ((lead as u64) << 1) | (((sig - 1) as u64) << 6), 12);
        w.write_bits(xor >> trail, sig);
        12 + sig
    }

    /// Bits [`encode`](Self::encode) would write for `bits`, without writing or changing state.
    #[inline(always)]
    pub(crate) fn encoded_bits(&self, bits: u64) -> u32 {
        let xor = bits ^ self.prev;
        if xor == 0 {
            return 1;
        }
        let lead = xor.leading_zeros().min(31);
        let trail = xor.trailing_zeros();
        let cur_trail = 64 - self.lead - self.sig;
        let sig = 64 - lead - trail;
        if lead >= self.lead && trail >= cur_trail && self.sig <= sig + 11 {
            2 + self.sig
        } else {
            13 + sig
        }
    }

    /// Encodes `bits` (an f64's bit pattern) with the full code; returns the bits written.
    #[inline(always)]
    pub fn encode(&mut self, w: &mut BitWriter, bits: u64) -> u32 {
        if bits == self.prev {
            w.write_bits(0, 1);
            1
        } else {
            w.write_bits(1, 1);
            1 + self.encode_changed(w, bits)
        }
    }

    /// Reads a changed code. The reader must have been refilled and hold ≥ 12 bits.
    #[inline(always)]
    pub fn decode_changed_refilled(&mut self, r: &mut BitReader<'_>) -> u64 {
        let buf = r.buffer();
        if buf & 1 == 0 {
            r.consume(1);
        } else {
            self.lead = ((buf >> 1) & 31) as u32;
            // A corrupt stream may claim lead + sig > 64; clamp so shifts stay in range. The
            // value is then garbage, which the caller cannot tell from valid data — the same as
            // any flipped payload bit — but nothing panics.
            let sig = ((buf >> 6) & 63) as u32 + 1;
            self.sig = sig.min(64 - self.lead);
            r.consume(12);
        }
        let trail = 64 - self.lead - self.sig;
        let v = r.read_bits_wide(self.sig);
        self.prev ^= v << trail;
        self.prev
    }

    /// Decodes the next value's bits (full code). The reader must have been refilled and hold
    /// ≥ 13 bits.
    #[inline(always)]
    pub fn decode_refilled(&mut self, r: &mut BitReader<'_>) -> u64 {
        let changed = r.buffer() & 1 != 0;
        r.consume(1);
        if changed {
            self.decode_changed_refilled(r)
        } else {
            self.prev
        }
    }

    #[inline(always)]
    pub fn decode(&mut self, r: &mut BitReader<'_>) -> u64 {
        r.refill();
        self.decode_refilled(r)
    }
}
