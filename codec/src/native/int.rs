//! The integer encoding (id `0x03`): counts are whole numbers below 2^53, coded as varbit
//! integers ([`crate::histogram::varbit`]).
//!
//! - Buckets: within a sample, each bucket's absolute count minus the previous bucket's (0 for
//!   the first bucket of each side), then that delta minus the same delta of the previous sample
//!   (0 before sample 0). Equivalently the change of bucket `k` since the previous sample minus
//!   the change of bucket `k - 1`. A changed bit before them says whether any bucket differs
//!   from the previous sample; if none does, no bucket codes follow.
//! - Zero count: the change since the previous sample.
//! - Count: `d = count − zero count − Σ buckets` (the NaN observations, usually 0), coded as the
//!   change of `d` since the previous sample: one bit while it stays the same.
//!
//! All arithmetic wraps modulo 2^64; the decoder refuses counts that come out at 2^53 or more.

use super::decode::{CountsDecoder, SampleValues};
use crate::bits::{BitReader, BitWriter};
use crate::bytes::{zigzag_decode, zigzag_encode};
use crate::gorilla::XorState;
use crate::histogram::varbit;
use strata_model::NativeHistogram;

/// Integer counts must be below this (as in [`NativeHistogram::is_integer`]).
const INTEGER_LIMIT: u64 = 1 << 53;

/// Encoder state: the previous sample, and the codes of the sample being appended.
#[derive(Debug, Clone, Default)]
pub(super) struct IntEncoder {
    /// Positive buckets per sample; the negative ones follow them in `prev` and `codes`.
    npos: usize,
    /// The previous sample's absolute bucket counts (zeros before sample 0).
    prev: Vec<u64>,
    prev_zero: u64,
    /// The previous sample's `count − zero count − Σ buckets`, wrapping.
    prev_diff: i64,
    sum: XorState,
    /// Pending sample (set by `prepare`): zigzagged bucket codes, whether any bucket changed,
    /// the count and zero count codes and `d`.
    codes: Vec<u64>,
    changed: bool,
    count_code: u64,
    zero_code: u64,
    diff: i64,
}

impl IntEncoder {
    pub(super) fn new(npos: usize, buckets: usize) -> Self {
        IntEncoder {
            npos,
            prev: vec![0; buckets],
            codes: Vec::with_capacity(buckets),
            ..IntEncoder::default()
        }
    }

    /// Computes the codes of `h` (the chunk's layout, [`super::fits_integer`]) without changing
    /// the previous sample; returns the bits they take.
    pub(super) fn prepare(&mut self, h: &NativeHistogram) -> u64 {
        self.codes.clear();
        let mut changed = false;
        let mut total = 0u64;
        let mut bucket_bits = 0u64;
        let sides = [
            (&h.positive_buckets, &self.prev[..self.npos]),
            (&h.negative_buckets, &self.prev[self.npos..]),
        ];
        for (counts, prev) in sides {
            let mut prev_inc = 0i64;
            for (&v, &p) in counts.iter().zip(prev) {
                let c = v as u64;
                changed |= c != p;
                total = total.wrapping_add(c);
                let inc = c.wrapping_sub(p) as i64;
                let z = zigzag_encode(inc.wrapping_sub(prev_inc));
                prev_inc = inc;
                bucket_bits += u64::from(varbit::bits(z));
                self.codes.push(z);
            }
        }
        let zero = h.zero_count as u64;
        self.zero_code = zigzag_encode(zero.wrapping_sub(self.prev_zero) as i64);
        self.diff = (h.count as u64).wrapping_sub(zero).wrapping_sub(total) as i64;
        self.count_code = zigzag_encode(self.diff.wrapping_sub(self.prev_diff));
        self.changed = changed;
        u64::from(varbit::bits(self.count_code))
            + u64::from(varbit::bits(self.zero_code))
            + u64::from(self.sum.encoded_bits(h.sum.to_bits()))
            + 1
            + if changed { bucket_bits } else { 0 }
    }

    /// Writes the sample `prepare` was last called with and makes it the previous one.
    pub(super) fn write(&mut self, w: &mut BitWriter, h: &NativeHistogram) {
        varbit::write(w, self.count_code);
        varbit::write(w, self.zero_code);
        self.sum.encode(w, h.sum.to_bits());
        w.write_bit(self.changed);
        if self.changed {
            for &z in &self.codes {
                varbit::write(w, z);
            }
            let counts = h.positive_buckets.iter().chain(&h.negative_buckets);
            for (p, &v) in self.prev.iter_mut().zip(counts) {
                *p = v as u64;
            }
        }
        self.prev_zero = h.zero_count as u64;
        self.prev_diff = self.diff;
    }
}

/// Decoder state mirroring [`IntEncoder`].
#[derive(Debug, Clone)]
pub(super) struct IntDecoder {
    npos: usize,
    /// The current sample's absolute bucket counts.
    cur: Vec<u64>,
    /// Their wrapping sum.
    total: u64,
    zero: u64,
    diff: i64,
    sum: XorState,
}

impl IntDecoder {
    pub(super) fn new(npos: usize, buckets: usize) -> Self {
        IntDecoder {
            npos,
            cur: vec![0; buckets],
            total: 0,
            zero: 0,
            diff: 0,
            sum: XorState::new(),
        }
    }
}

fn integer(what: &str, v: u64) -> Result<f64, String> {
    if v < INTEGER_LIMIT {
        Ok(v as f64)
    } else {
        Err(format!("{what} {v} is not an integer count below 2^53"))
    }
}

impl CountsDecoder for IntDecoder {
    fn read(&mut self, r: &mut BitReader<'_>) -> Result<SampleValues, String> {
        let count_code = varbit::read(r);
        let zero_code = varbit::read(r);
        let sum = f64::from_bits(self.sum.decode(r));
        let changed = r.read_bit();
        if changed {
            let mut total = 0u64;
            let (positive, negative) = self.cur.split_at_mut(self.npos);
            for side in [positive, negative] {
                let mut inc = 0i64;
                for c in side {
                    inc = inc.wrapping_add(zigzag_decode(varbit::read(r)));
                    *c = c.wrapping_add(inc as u64);
                    total = total.wrapping_add(*c);
                }
            }
            self.total = total;
        }
        self.zero = self.zero.wrapping_add(zigzag_decode(zero_code) as u64);
        self.diff = self.diff.wrapping_add(zigzag_decode(count_code));
        let count = self
            .zero
            .wrapping_add(self.total)
            .wrapping_add(self.diff as u64);
        Ok(SampleValues {
            count: integer("count", count)?,
            zero_count: integer("zero count", self.zero)?,
            sum,
            changed,
        })
    }

    fn push_row(&self, rows: &mut Vec<f64>) -> Result<(), String> {
        for (k, &c) in self.cur.iter().enumerate() {
            rows.push(integer("bucket count", c).map_err(|e| format!("{e} (bucket {k})"))?);
        }
        Ok(())
    }
}
