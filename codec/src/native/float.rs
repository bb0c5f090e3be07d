//! The float encoding (id `0x04`): count, zero count and sum each XOR-coded against their
//! previous value, and every bucket's absolute count XOR-coded against the same bucket of the
//! previous sample (each with its own XOR window, [`XorState`]). A changed bit before the
//! bucket codes says whether any bucket's bits differ from the previous sample; if none does,
//! no bucket codes follow. Every f64 bit pattern round-trips.

use super::decode::{CountsDecoder, SampleValues};
use crate::bits::{BitReader, BitWriter};
use crate::gorilla::XorState;
use strata_model::NativeHistogram;

fn bucket_bits(h: &NativeHistogram) -> impl Iterator<Item = u64> + '_ {
    h.positive_buckets
        .iter()
        .chain(&h.negative_buckets)
        .map(|v| v.to_bits())
}

/// Encoder state: one XOR window per value of the sample.
#[derive(Debug, Clone, Default)]
pub(super) struct FloatEncoder {
    count: XorState,
    zero: XorState,
    sum: XorState,
    /// Positive buckets then negative ones.
    buckets: Vec<XorState>,
    /// Whether the pending sample (set by `prepare`) changes any bucket.
    changed: bool,
}

impl FloatEncoder {
    pub(super) fn new(buckets: usize) -> Self {
        FloatEncoder {
            buckets: vec![XorState::new(); buckets],
            ..FloatEncoder::default()
        }
    }

    /// The bits `h` (the chunk's layout) takes, without changing any state.
    pub(super) fn prepare(&mut self, h: &NativeHistogram) -> u64 {
        let mut changed = false;
        let mut bits = 0u64;
        for (s, v) in self.buckets.iter().zip(bucket_bits(h)) {
            changed |= v != s.prev();
            bits += u64::from(s.encoded_bits(v));
        }
        self.changed = changed;
        u64::from(self.count.encoded_bits(h.count.to_bits()))
            + u64::from(self.zero.encoded_bits(h.zero_count.to_bits()))
            + u64::from(self.sum.encoded_bits(h.sum.to_bits()))
            + 1
            + if changed { bits } else { 0 }
    }

    /// Writes the sample `prepare` was last called with and makes it the previous one.
    pub(super) fn write(&mut self, w: &mut BitWriter, h: &NativeHistogram) {
        self.count.encode(w, h.count.to_bits());
        self.zero.encode(w, h.zero_count.to_bits());
        self.sum.encode(w, h.sum.to_bits());
        w.write_bit(self.changed);
        if self.changed {
            for (s, v) in self.buckets.iter_mut().zip(bucket_bits(h)) {
                s.encode(w, v);
            }
        }
    }
}

/// Decoder state mirroring [`FloatEncoder`].
#[derive(Debug, Clone)]
pub(super) struct FloatDecoder {
    count: XorState,
    zero: XorState,
    sum: XorState,
    buckets: Vec<XorState>,
}

impl FloatDecoder {
    pub(super) fn new(buckets: usize) -> Self {
        FloatDecoder {
            count: XorState::new(),
            zero: XorState::new(),
            sum: XorState::new(),
            buckets: vec![XorState::new(); buckets],
        }
    }
}

/// A bucket or zero count must be neither negative nor NaN (`-0.0` is allowed).
fn usable(what: &str, v: f64) -> Result<f64, String> {
    if v.is_nan() || v < 0.0 {
        Err(format!("{what} {v} is negative or NaN"))
    } else {
        Ok(v)
    }
}

impl CountsDecoder for FloatDecoder {
    fn read(&mut self, r: &mut BitReader<'_>) -> Result<SampleValues, String> {
        let count = f64::from_bits(self.count.decode(r));
        let zero_count = usable("zero count", f64::from_bits(self.zero.decode(r)))?;
        let sum = f64::from_bits(self.sum.decode(r));
        let changed = r.read_bit();
        if changed {
            for s in &mut self.buckets {
                s.decode(r);
            }
        }
        Ok(SampleValues {
            count,
            zero_count,
            sum,
            changed,
        })
    }

    fn push_row(&self, rows: &mut Vec<f64>) -> Result<(), String> {
        for (k, s) in self.buckets.iter().enumerate() {
            let v = f64::from_bits(s.prev());
            rows.push(usable("bucket count", v).map_err(|e| format!("{e} (bucket {k})"))?);
        }
        Ok(())
    }
}
