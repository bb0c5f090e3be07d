//! Bit I/O. Streams are LSB-first: the first bit written is bit 0 of byte 0, and a value of `n`
//! bits is stored with its least significant bit first. Bytes are flushed as little-endian 64-bit
//! words, so the layout is the same on every host.
//!
//! The reader keeps a 64-bit buffer refilled by one unaligned 8-byte load. After [`BitReader::refill`]
//! at least 56 bits are buffered, so a decoder refills once and then reads several short fields
//! with no bounds checks. Reading past the end yields zero bits and is recorded; decoders call
//! [`BitReader::check_overrun`] once at the end instead of checking every read.

use crate::error::{Error, Result};

/// Bits a reader is guaranteed to hold after [`BitReader::refill`].
pub const REFILL_BITS: u32 = 56;

#[inline(always)]
const fn mask(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// Appends bit fields to a growing byte vector.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    acc_bits: u32,
}

impl BitWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            bytes: Vec::with_capacity(bytes),
            acc: 0,
            acc_bits: 0,
        }
    }

    /// Writes the low `n` bits of `value` (`n` ≤ 64; higher bits of `value` are ignored).
    #[inline(always)]
    pub fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        let v = value & mask(n);
        self.acc |= v << self.acc_bits;
        let total = self.acc_bits + n;
        if total >= 64 {
            self.bytes.extend_from_slice(&self.acc.to_le_bytes());
            // The bits of `v` that did not fit; none if the accumulator was empty.
            self.acc = if self.acc_bits == 0 {
                0
            } else {
                v >> (64 - self.acc_bits)
            };
            self.acc_bits = total - 64;
        } else {
            self.acc_bits = total;
        }
    }

    #[inline(always)]
    pub fn write_bit(&mut self, bit: bool) {
        self.write_bits(bit as u64, 1);
    }

    /// Bits written so far.
    #[inline]
    pub fn bit_len(&self) -> u64 {
        self.bytes.len() as u64 * 8 + self.acc_bits as u64
    }

    /// Bytes the stream occupies once finished (the last byte zero-padded).
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.bytes.len() + self.acc_bits.div_ceil(8) as usize
    }

    /// Appends the whole stream, zero-padded to a byte, to `out` without consuming the writer.
    pub fn copy_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
        let tail = self.acc.to_le_bytes();
        out.extend_from_slice(&tail[..self.acc_bits.div_ceil(8) as usize]);
    }

    /// Ends the stream, zero-padding the last byte.
    pub fn finish(mut self) -> Vec<u8> {
        let tail = self.acc.to_le_bytes();
        let n = self.acc_bits.div_ceil(8) as usize;
        self.bytes.extend_from_slice(&tail[..n]);
        self.bytes
    }
}

/// Reads bit fields written by [`BitWriter`].
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` not yet loaded into `buf`.
    next: usize,
    buf: u64,
    /// Valid bits in `buf` (bits above may hold a prefix of the next byte: same data, uncounted).
    avail: u32,
    /// Zero bytes loaded beyond the end of `data`.
    padded_bytes: u64,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            next: 0,
            buf: 0,
            avail: 0,
            padded_bytes: 0,
        }
    }

    /// Tops the buffer up to at least [`REFILL_BITS`] bits.
    #[inline(always)]
    pub fn refill(&mut self) {
        if self.avail >= REFILL_BITS {
            return;
        }
        if let Some(word) = self.data.get(self.next..self.next + 8) {
            let w = u64::from_le_bytes(word.try_into().expect("slice of 8"));
            self.buf |= w << self.avail;
            let take = (63 - self.avail) >> 3;
            self.next += take as usize;
            self.avail += take * 8;
        } else {
            self.refill_slow();
        }
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.avail <= 56 {
            match self.data.get(self.next) {
                Some(&b) => {
                    self.buf |= (b as u64) << self.avail;
                    self.next += 1;
                }
                None => {
                    // Past the end: zero bits. Clear any stale prefix above `avail`.
                    self.buf &= mask(self.avail);
                    self.padded_bytes += 1;
                }
            }
            self.avail += 8;
        }
    }

    /// The buffered bits (at least [`REFILL_BITS`] valid after a refill), next bit in bit 0.
    #[inline(always)]
    pub fn buffer(&self) -> u64 {
        self.buf
    }

    /// Valid bits in the buffer.
    #[inline(always)]
    pub fn available(&self) -> u32 {
        self.avail
    }

    /// The next `n` bits (`n` ≤ [`available`](Self::available), `n` < 64) without consuming them.
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u64 {
        self.buf & mask(n)
    }

    /// Drops `n` ≤ [`available`](Self::available) bits (`n` < 64).
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.avail && n < 64);
        self.buf >>= n;
        self.avail -= n;
    }

    /// Reads `n` ≤ 56 bits, refilling first.
    #[inline(always)]
    pub fn read_bits(&mut self, n: u32) -> u64 {
        debug_assert!(n <= REFILL_BITS);
        self.refill();
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Reads `n` ≤ 64 bits.
    #[inline(always)]
    pub fn read_bits_wide(&mut self, n: u32) -> u64 {
        if n <= REFILL_BITS {
            self.read_bits(n)
        } else {
            let lo = self.read_bits(32);
            let hi = self.read_bits(n - 32);
            lo | (hi << 32)
        }
    }

    #[inline(always)]
    pub fn read_bit(&mut self) -> bool {
        self.read_bits(1) != 0
    }

    /// Bits consumed so far, counting any zero bits read past the end.
    pub fn bits_consumed(&self) -> u64 {
        (self.next as u64 + self.padded_bytes) * 8 - self.avail as u64
    }

    /// Bits of real input (the length of the slice).
    pub fn bits_total(&self) -> u64 {
        self.data.len() as u64 * 8
    }

    /// Whether reads went past the end of the input.
    pub fn is_overrun(&self) -> bool {
        self.bits_consumed() > self.bits_total()
    }

    /// The end check of every chunk decoder: no read past the end, and the stream consumed to
    /// its last byte (trailing bytes are corruption). `stream_offset` places errors in the chunk.
    pub fn check_exact_end(&self, what: &'static str, stream_offset: usize) -> Result<()> {
        self.check_overrun(what)?;
        let used_bytes = self.bits_consumed().div_ceil(8);
        let total = self.bits_total() / 8;
        if used_bytes != total {
            return Err(Error::corrupt(
                what,
                stream_offset + used_bytes as usize,
                format!(
                    "{} trailing bytes after the last sample",
                    total - used_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Errors with [`Error::Truncated`] if any read went past the end of the input.
    pub fn check_overrun(&self, what: &'static str) -> Result<()> {
        if self.is_overrun() {
            Err(Error::Truncated {
                what,
                needed: self.bits_consumed(),
                available: self.bits_total(),
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_mixed_widths() {
        let fields: Vec<(u64, u32)> = (0..2000u64)
            .map(|i| {
                let n = (i * 7 % 65) as u32;
                (i.wrapping_mul(0x9E37_79B9_7F4A_7C15), n)
            })
            .collect();
        let mut w = BitWriter::new();
        for &(v, n) in &fields {
            w.write_bits(v, n);
        }
        let bits = w.bit_len();
        let bytes = w.finish();
        assert_eq!(bytes.len() as u64, bits.div_ceil(8));
        let mut r = BitReader::new(&bytes);
        for &(v, n) in &fields {
            assert_eq!(r.read_bits_wide(n), v & mask(n), "width {n}");
        }
        assert_eq!(r.bits_consumed(), bits);
        assert!(r.check_overrun("test").is_ok());
    }

    #[test]
    fn reading_past_the_end_is_reported_not_a_panic() {
        let mut w = BitWriter::new();
        w.write_bits(0b101, 3);
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        assert_eq!(r.read_bits(3), 0b101);
        assert_eq!(r.read_bits(5), 0);
        assert!(r.check_overrun("t").is_ok());
        assert_eq!(r.read_bits_wide(64), 0);
        assert!(matches!(r.check_overrun("t"), Err(Error::Truncated { .. })));
    }

    #[test]
    fn copy_to_matches_finish() {
        let mut w = BitWriter::new();
        for i in 0..100u64 {
            w.write_bits(i, 13);
        }
        let mut copy = Vec::new();
        w.copy_to(&mut copy);
        assert_eq!(copy, w.finish());
    }
}
