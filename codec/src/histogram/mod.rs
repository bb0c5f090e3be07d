//! Histogram chunks: a bounded run of explicit-bucket histogram samples of one series
//! (OpenTelemetry explicit-bounds histograms, Prometheus classic `le` histograms).
//!
//! Layout (full description in `docs/format/chunks.md`, section "Histogram chunks"):
//!
//! ```text
//! byte 0      encoding id: 0x02 = histogram chunk, format version 1
//! bytes 1..3  sample count, u16 little-endian, 1..=65535
//! uvarint     number of bounds N, 0..=256 (the chunk has N + 1 buckets)
//! N × 8 bytes upper bounds, f64 bits little-endian, strictly ascending, no NaN, no +Inf
//! varint      first timestamp, zigzag LEB128
//! bits        LSB-first stream, per sample:
//!             [timestamp: full delta-of-delta code; not for the first sample]
//!             changed flag (1 bit) [+ one varbit code per bucket: zigzag(count - previous)]
//!             count: varbit code of zigzag(change in (count - sum of bucket counts))
//!             sum (full XOR code), presence bits (min, max), [min], [max] (full XOR codes)
//! ```
//!
//! Buckets are per-bucket (non-cumulative) counts; the last bucket, `(bounds[N-1], +Inf)`, is
//! implicit in the bounds, as in OTLP (`N` bounds, `N + 1` counts). Use
//! [`Histogram::from_prometheus`] / [`Histogram::to_prometheus`] for cumulative `le` buckets.
//!
//! The stream ends zero-padded to a byte; the decoder insists that the chunk's bytes are exactly
//! consumed, so truncation or trailing garbage is caught.

mod prometheus;
pub(crate) mod varbit;

pub use prometheus::{counts_from_cumulative, cumulative_from_counts};

use crate::bits::{BitReader, BitWriter};
use crate::bytes::{ByteReader, put_uvarint, put_varint, zigzag_decode, zigzag_encode};
use crate::error::{Error, Result};
use crate::gorilla::{DodDecoder, DodEncoder, XorState};

/// Encoding id (and version) of a histogram chunk.
pub const ENCODING_HISTOGRAM_V1: u8 = 0x02;
/// Hard bound of the format: the count is a u16.
pub const MAX_SAMPLES_PER_CHUNK: usize = u16::MAX as usize;
/// At most this many upper bounds per histogram (so at most 257 buckets).
pub const MAX_BOUNDS: usize = 256;
/// At most this many buckets per histogram.
pub const MAX_BUCKETS: usize = MAX_BOUNDS + 1;
/// The `what` of the [`Error::InvalidInput`] returned when a sample's bounds differ from its
/// chunk's: the caller should cut a new chunk (see [`HistogramAppender::accepts_bounds`]).
pub const BOUNDS_MISMATCH: &str = "histogram bounds differ from the chunk's";

/// Worst-case bits of a full delta-of-delta timestamp code (`1` + 4-bit prefix + 64 bits).
const TS_MAX_BITS: u64 = 69;
/// Worst-case bits of a full XOR value code (`1` + `1` + 5 + 6 window bits + 64 bits).
const XOR_MAX_BITS: u64 = 77;
/// Fewest bits a sample can take: changed flag, count code, sum code, presence bits.
const FIRST_SAMPLE_MIN_BITS: u64 = 1 + 1 + 1 + 2;
/// Every later sample adds at least a 1-bit timestamp code.
const LATER_SAMPLE_MIN_BITS: u64 = 1 + FIRST_SAMPLE_MIN_BITS;

const WHAT: &str = "histogram chunk";

/// One histogram sample, borrowed. `counts` are per-bucket (not cumulative):
/// `counts[i]` counts values in `(bounds[i-1], bounds[i]]`, `counts[0]` those `≤ bounds[0]`,
/// and `counts[bounds.len()]` those above the last bound.
#[derive(Debug, Clone, Copy)]
pub struct HistogramSample<'a> {
    /// Upper bounds, strictly ascending, no NaN and no +Inf (the overflow bucket is implicit).
    pub bounds: &'a [f64],
    /// `bounds.len() + 1` per-bucket counts.
    pub counts: &'a [u64],
    /// Total count of observations. Stored independently of the bucket counts (real exporters
    /// sometimes disagree with themselves); cheapest when it equals their sum.
    pub count: u64,
    /// Sum of observations. Every f64 bit pattern round-trips.
    pub sum: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl HistogramSample<'_> {
    /// Checks the bounds ([`validate_bounds`]) and that there is one count per bucket.
    pub fn validate(&self) -> Result<()> {
        validate_bounds(self.bounds)?;
        check_counts_len(self.bounds.len(), self.counts.len())
    }

    /// An owned copy.
    pub fn to_histogram(&self) -> Histogram {
        Histogram {
            bounds: self.bounds.to_vec(),
            counts: self.counts.to_vec(),
            count: self.count,
            sum: self.sum,
            min: self.min,
            max: self.max,
        }
    }
}

/// One histogram sample, owned. Field meanings as in [`HistogramSample`]. The derived
/// `PartialEq` compares floats numerically (NaN ≠ NaN); the codec itself preserves bits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    pub bounds: Vec<f64>,
    pub counts: Vec<u64>,
    pub count: u64,
    pub sum: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Histogram {
    pub fn as_sample(&self) -> HistogramSample<'_> {
        HistogramSample {
            bounds: &self.bounds,
            counts: &self.counts,
            count: self.count,
            sum: self.sum,
            min: self.min,
            max: self.max,
        }
    }

    /// See [`HistogramSample::validate`].
    pub fn validate(&self) -> Result<()> {
        self.as_sample().validate()
    }
}

/// What is wrong with a bounds list, if anything (the count limit aside).
fn bounds_problem(bounds: &[f64]) -> Option<String> {
    for (i, &b) in bounds.iter().enumerate() {
        if b.is_nan() {
            return Some(format!("bound {i} is NaN"));
        }
        if b == f64::INFINITY {
            return Some(format!(
                "bound {i} is +Inf (the +Inf bucket is implicit: pass the finite bounds only)"
            ));
        }
        if i > 0 && bounds[i - 1] >= b {
            return Some(format!(
                "bounds are not strictly ascending: bound {} is {} and bound {i} is {b}",
                i - 1,
                bounds[i - 1]
            ));
        }
    }
    None
}

/// Checks upper bounds: at most [`MAX_BOUNDS`] ([`Error::LimitExceeded`]), strictly ascending,
/// no NaN, no +Inf ([`Error::InvalidInput`]). `-Inf` is allowed; `-0.0` and `0.0` are equal,
/// so not both. An empty list is valid: one bucket holding everything.
pub fn validate_bounds(bounds: &[f64]) -> Result<()> {
    if bounds.len() > MAX_BOUNDS {
        return Err(Error::LimitExceeded {
            what: "histogram bounds",
            value: bounds.len() as u64,
            max: MAX_BOUNDS as u64,
        });
    }
    match bounds_problem(bounds) {
        Some(detail) => Err(Error::invalid("histogram bounds", detail)),
        None => Ok(()),
    }
}

fn check_counts_len(bounds: usize, counts: usize) -> Result<()> {
    if counts != bounds + 1 {
        return Err(Error::invalid(
            "histogram counts",
            format!(
                "{bounds} bounds need {} bucket counts, got {counts}",
                bounds + 1
            ),
        ));
    }
    Ok(())
}

/// Bit-for-bit equality of two bounds lists.
fn same_bounds(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Bytes of `v` as an unsigned LEB128 varint.
fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros()).div_ceil(7) as usize
}

/// When an open chunk is full. Both bounds hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramLimits {
    /// At most this many samples (1..=65535).
    pub max_samples: usize,
    /// A sample is refused if the chunk could then exceed this many bytes (≥ 64). The first
    /// sample is always accepted, so a chunk holding one very wide histogram may be larger.
    pub max_bytes: usize,
}

impl Default for HistogramLimits {
    /// 120 samples (Prometheus' chunk length), 8 KiB (room for 256 bounds plus samples).
    fn default() -> Self {
        HistogramLimits {
            max_samples: 120,
            max_bytes: 8192,
        }
    }
}

impl HistogramLimits {
    fn validate(&self) -> Result<()> {
        crate::gorilla::validate_chunk_limits(
            "histogram chunk limits",
            self.max_samples,
            self.max_bytes,
        )
    }
}

/// An open histogram chunk. The first sample fixes the chunk's bounds; appending costs
/// O(buckets), independent of the chunk's length. The encoded bytes can be copied out at any
/// time.
#[derive(Debug, Clone)]
pub struct HistogramAppender {
    limits: HistogramLimits,
    bounds: Vec<f64>,
    count: usize,
    first_ts: i64,
    max_ts: i64,
    /// Bytes before the bit stream (0 while empty).
    header_len: usize,
    ts: DodEncoder,
    /// The previous sample's bucket counts (zeros before the first sample).
    prev_counts: Vec<u64>,
    /// The previous sample's `count - sum(counts)`, wrapping (0 before the first sample).
    prev_count_diff: i64,
    sum: XorState,
    min: XorState,
    max: XorState,
    bits: BitWriter,
}

impl HistogramAppender {
    pub fn new(limits: HistogramLimits) -> Result<Self> {
        limits.validate()?;
        Ok(HistogramAppender {
            limits,
            bounds: Vec::new(),
            count: 0,
            first_ts: 0,
            max_ts: i64::MIN,
            header_len: 0,
            ts: DodEncoder::default(),
            prev_counts: Vec::new(),
            prev_count_diff: 0,
            sum: XorState::new(),
            min: XorState::new(),
            max: XorState::new(),
            bits: BitWriter::with_capacity(limits.max_bytes.min(4096)),
        })
    }

    /// Samples in the chunk.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The chunk's bounds, once a sample fixed them.
    pub fn bounds(&self) -> Option<&[f64]> {
        (self.count > 0).then_some(&self.bounds[..])
    }

    /// Whether a sample with these bounds may go into this chunk (any may, while it is empty).
    pub fn accepts_bounds(&self, bounds: &[f64]) -> bool {
        self.count == 0 || same_bounds(&self.bounds, bounds)
    }

    /// Whether no further sample can be appended. When this is false, [`append`](Self::append)
    /// may still refuse a particular sample that is too large for the space left.
    pub fn is_full(&self) -> bool {
        self.count >= self.limits.max_samples
            || (self.count > 0
                && self.used_bits() + TS_MAX_BITS + 1 + 1 + XOR_MAX_BITS + 2 > self.budget_bits())
    }

    /// The first timestamp, if any sample was appended.
    pub fn first_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.first_ts)
    }

    /// The largest timestamp appended, if any.
    pub fn max_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.max_ts)
    }

    fn used_bits(&self) -> u64 {
        self.header_len as u64 * 8 + self.bits.bit_len()
    }

    fn budget_bits(&self) -> u64 {
        self.limits.max_bytes as u64 * 8
    }

    /// Appends a sample. Any i64 timestamp sequence is encodable; the engine decides ordering.
    ///
    /// Errors, leaving the chunk unchanged:
    /// - [`Error::InvalidInput`] with `what` = [`BOUNDS_MISMATCH`] if the sample's bounds are not
    ///   bit-for-bit the chunk's (cut a new chunk);
    /// - [`Error::LimitExceeded`] if the chunk is full or the sample does not fit in the bytes
    ///   left (cut a new chunk);
    /// - [`Error::InvalidInput`] / [`Error::LimitExceeded`] for invalid bounds or a counts
    ///   length that is not `bounds.len() + 1` (the sample fits no chunk).
    pub fn append(&mut self, t: i64, s: &HistogramSample<'_>) -> Result<()> {
        if self.count == 0 {
            s.validate()?;
        } else {
            if !same_bounds(&self.bounds, s.bounds) {
                return Err(Error::invalid(
                    BOUNDS_MISMATCH,
                    format!(
                        "the chunk has {} bounds, the sample {} (or their values differ)",
                        self.bounds.len(),
                        s.bounds.len()
                    ),
                ));
            }
            check_counts_len(self.bounds.len(), s.counts.len())?;
        }
        if self.count >= self.limits.max_samples {
            return Err(Error::LimitExceeded {
                what: "histogram chunk samples",
                value: self.count as u64 + 1,
                max: self.limits.max_samples as u64,
            });
        }
        if self.count > 0 {
            self.check_room(s)?;
        }
        self.write_sample(t, s);
        Ok(())
    }

    /// Errors if the chunk could exceed `max_bytes` with `s` appended. Exact for the bucket and
    /// count codes, worst case for the timestamp and float codes (at most 38 bytes of slack).
    fn check_room(&self, s: &HistogramSample<'_>) -> Result<()> {
        let floats = 1 + s.min.is_some() as u64 + s.max.is_some() as u64;
        let fixed = TS_MAX_BITS + XOR_MAX_BITS * floats + 2;
        let used = self.used_bits();
        let budget = self.budget_bits();
        let nb = self.prev_counts.len() as u64;
        // Fast path: even the worst-case codes fit.
        if used + fixed + 1 + nb * varbit::MAX_BITS as u64 + varbit::MAX_BITS as u64 <= budget {
            return Ok(());
        }
        let mut bucket_bits = 0u64;
        let mut changed = false;
        let mut total = 0u64;
        for (&c, &p) in s.counts.iter().zip(&self.prev_counts) {
            let z = zigzag_encode(c.wrapping_sub(p) as i64);
            changed |= z != 0;
            bucket_bits += varbit::bits(z) as u64;
            total = total.wrapping_add(c);
        }
        let diff = s.count.wrapping_sub(total) as i64;
        let count_bits = varbit::bits(zigzag_encode(diff.wrapping_sub(self.prev_count_diff)));
        let need = used + fixed + 1 + if changed { bucket_bits } else { 0 } + count_bits as u64;
        if need > budget {
            return Err(Error::LimitExceeded {
                what: "histogram chunk bytes",
                value: need.div_ceil(8),
                max: self.limits.max_bytes as u64,
            });
        }
        Ok(())
    }

    fn write_sample(&mut self, t: i64, s: &HistogramSample<'_>) {
        if self.count == 0 {
            self.bounds.clear();
            self.bounds.extend_from_slice(s.bounds);
            self.prev_counts.clear();
            self.prev_counts.resize(s.counts.len(), 0);
            self.first_ts = t;
            self.ts = DodEncoder::new(t);
            self.header_len = 1
                + 2
                + uvarint_len(s.bounds.len() as u64)
                + 8 * s.bounds.len()
                + uvarint_len(zigzag_encode(t));
        } else {
            self.ts.encode(&mut self.bits, t);
        }
        let w = &mut self.bits;
        let changed = s.counts != &self.prev_counts[..];
        w.write_bit(changed);
        let mut total = 0u64;
        for (&c, p) in s.counts.iter().zip(self.prev_counts.iter_mut()) {
            if changed {
                varbit::write(w, zigzag_encode(c.wrapping_sub(*p) as i64));
                *p = c;
            }
            total = total.wrapping_add(c);
        }
        let diff = s.count.wrapping_sub(total) as i64;
        varbit::write(w, zigzag_encode(diff.wrapping_sub(self.prev_count_diff)));
        self.prev_count_diff = diff;
        self.sum.encode(w, s.sum.to_bits());
        w.write_bits(s.min.is_some() as u64 | (s.max.is_some() as u64) << 1, 2);
        if let Some(m) = s.min {
            self.min.encode(w, m.to_bits());
        }
        if let Some(m) = s.max {
            self.max.encode(w, m.to_bits());
        }
        self.max_ts = self.max_ts.max(t);
        self.count += 1;
    }

    /// Encoded size in bytes right now (0 while empty).
    pub fn encoded_len(&self) -> usize {
        if self.count == 0 {
            0
        } else {
            self.header_len + self.bits.byte_len()
        }
    }

    /// Appends the chunk as it stands to `out`. Errors if the chunk is empty (a chunk has ≥ 1
    /// sample).
    pub fn encode_to(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.count == 0 {
            return Err(Error::invalid(WHAT, "a chunk needs at least one sample"));
        }
        let start = out.len();
        out.push(ENCODING_HISTOGRAM_V1);
        out.extend_from_slice(&(self.count as u16).to_le_bytes());
        put_uvarint(out, self.bounds.len() as u64);
        for b in &self.bounds {
            out.extend_from_slice(&b.to_bits().to_le_bytes());
        }
        put_varint(out, self.first_ts);
        debug_assert_eq!(out.len() - start, self.header_len);
        self.bits.copy_to(out);
        Ok(())
    }

    /// The encoded chunk as a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_to(&mut out)?;
        Ok(out)
    }
}

/// Encodes a whole run of samples into one chunk (no limits beyond the format's).
pub fn encode_chunk(timestamps: &[i64], samples: &[HistogramSample<'_>]) -> Result<Vec<u8>> {
    if timestamps.len() != samples.len() {
        return Err(Error::invalid(
            WHAT,
            format!(
                "{} timestamps but {} samples",
                timestamps.len(),
                samples.len()
            ),
        ));
    }
    if samples.len() > MAX_SAMPLES_PER_CHUNK {
        return Err(Error::LimitExceeded {
            what: "histogram chunk samples",
            value: samples.len() as u64,
            max: MAX_SAMPLES_PER_CHUNK as u64,
        });
    }
    let mut app = HistogramAppender::new(HistogramLimits {
        max_samples: samples.len().max(1),
        max_bytes: usize::MAX / 16,
    })?;
    for (&t, s) in timestamps.iter().zip(samples) {
        app.append(t, s)?;
    }
    app.to_bytes()
}

/// What a chunk's header says.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramHeader {
    pub count: usize,
    /// The chunk's upper bounds (validated as on encode).
    pub bounds: Vec<f64>,
    pub first_timestamp: i64,
    /// Offset of the bit stream in the chunk.
    pub stream_offset: usize,
}

/// Reads and validates a chunk header: encoding id, a count of 1..=65535, at most
/// [`MAX_BOUNDS`] valid bounds, and a count that the stream's size can hold (every sample takes
/// at least 5 bits, every one after the first at least 6).
pub fn read_header(chunk: &[u8]) -> Result<HistogramHeader> {
    let mut r = ByteReader::new(chunk, WHAT);
    let enc = r.u8()?;
    if enc != ENCODING_HISTOGRAM_V1 {
        return Err(Error::UnsupportedVersion {
            what: WHAT,
            version: enc,
        });
    }
    let count = r.u16()? as usize;
    if count == 0 {
        return Err(Error::corrupt(WHAT, 1, "sample count is 0"));
    }
    let nbounds = r.len_at_most(MAX_BOUNDS, "bound count")?;
    let bounds_at = r.position();
    let raw = r.take(nbounds * 8)?;
    let bounds: Vec<f64> = raw
        .chunks_exact(8)
        .map(|b| f64::from_bits(u64::from_le_bytes(b.try_into().expect("8 bytes"))))
        .collect();
    if let Some(detail) = bounds_problem(&bounds) {
        return Err(Error::corrupt(WHAT, bounds_at, detail));
    }
    let first_timestamp = r.varint()?;
    let stream_bits = r.remaining() as u64 * 8;
    if FIRST_SAMPLE_MIN_BITS + LATER_SAMPLE_MIN_BITS * (count as u64 - 1) > stream_bits {
        return Err(Error::corrupt(
            WHAT,
            1,
            format!("{count} samples cannot fit in {stream_bits} bits"),
        ));
    }
    Ok(HistogramHeader {
        count,
        bounds,
        first_timestamp,
        stream_offset: r.position(),
    })
}

/// Decoded samples of one or more chunks with the same bounds, column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramColumns {
    bounds: Vec<f64>,
    timestamps: Vec<i64>,
    /// Row-major: sample `i`'s buckets are `bucket_rows[i * buckets .. (i + 1) * buckets]`.
    bucket_rows: Vec<u64>,
    counts: Vec<u64>,
    sum: Vec<f64>,
    min: Vec<Option<f64>>,
    max: Vec<Option<f64>>,
}

impl HistogramColumns {
    pub fn new() -> Self {
        Self::default()
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Forgets every sample and the bounds.
    pub fn clear(&mut self) {
        self.bounds.clear();
        self.timestamps.clear();
        self.bucket_rows.clear();
        self.counts.clear();
        self.sum.clear();
        self.min.clear();
        self.max.clear();
    }

    /// The bounds shared by every sample (empty while no sample is held).
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// Buckets per sample: `bounds().len() + 1`.
    pub fn buckets(&self) -> usize {
        self.bounds.len() + 1
    }

    pub fn timestamps(&self) -> &[i64] {
        &self.timestamps
    }

    /// All bucket counts, row-major (`len() × buckets()`).
    pub fn all_bucket_counts(&self) -> &[u64] {
        &self.bucket_rows
    }

    /// Sample `i`'s per-bucket counts.
    pub fn bucket_counts(&self, i: usize) -> Option<&[u64]> {
        let b = self.buckets();
        self.bucket_rows.get(i * b..(i + 1) * b)
    }

    /// Each sample's total count.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub fn sums(&self) -> &[f64] {
        &self.sum
    }

    pub fn mins(&self) -> &[Option<f64>] {
        &self.min
    }

    pub fn maxs(&self) -> &[Option<f64>] {
        &self.max
    }

    /// Sample `i`.
    pub fn get(&self, i: usize) -> Option<(i64, HistogramSample<'_>)> {
        let counts = self.bucket_counts(i)?;
        Some((
            self.timestamps[i],
            HistogramSample {
                bounds: &self.bounds,
                counts,
                count: self.counts[i],
                sum: self.sum[i],
                min: self.min[i],
                max: self.max[i],
            },
        ))
    }

    /// Every sample in order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, HistogramSample<'_>)> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    fn truncate(&mut self, n: usize) {
        self.timestamps.truncate(n);
        self.bucket_rows.truncate(n * self.buckets());
        self.counts.truncate(n);
        self.sum.truncate(n);
        self.min.truncate(n);
        self.max.truncate(n);
    }
}

/// Decodes a chunk into new columns.
pub fn decode(chunk: &[u8]) -> Result<HistogramColumns> {
    let mut out = HistogramColumns::new();
    decode_into(chunk, &mut out)?;
    Ok(out)
}

/// Decodes a chunk, appending its samples to `out`. Returns the count. If `out` is empty it
/// takes the chunk's bounds; otherwise they must match bit for bit (else [`Error::InvalidInput`]
/// with `what` = [`BOUNDS_MISMATCH`]). On error `out` is left as it was.
pub fn decode_into(chunk: &[u8], out: &mut HistogramColumns) -> Result<usize> {
    let h = read_header(chunk)?;
    if out.is_empty() {
        out.clear();
        out.bounds = h.bounds.clone();
    } else if !same_bounds(&out.bounds, &h.bounds) {
        return Err(Error::invalid(
            BOUNDS_MISMATCH,
            format!(
                "the columns have {} bounds, the chunk {} (or their values differ)",
                out.bounds.len(),
                h.bounds.len()
            ),
        ));
    }
    let base = out.len();
    let res = decode_stream(&chunk[h.stream_offset..], &h, out);
    if res.is_err() {
        out.truncate(base);
        if base == 0 {
            out.bounds.clear();
        }
    }
    res.map(|()| h.count)
}

fn check_end(r: &BitReader<'_>, stream_offset: usize) -> Result<()> {
    r.check_exact_end(WHAT, stream_offset)
}

/// The hot loop: appends `h.count` samples to `out` (whose bounds are the chunk's).
fn decode_stream(stream: &[u8], h: &HistogramHeader, out: &mut HistogramColumns) -> Result<()> {
    let n = h.count;
    let nb = h.bounds.len() + 1;
    let mut r = BitReader::new(stream);
    let mut dod = DodDecoder::new(h.first_timestamp);
    let (mut sum, mut min, mut max) = (XorState::new(), XorState::new(), XorState::new());
    let mut total = 0u64;
    let mut diff = 0i64;
    // `n` was checked against the stream's size by `read_header`.
    out.timestamps.reserve(n);
    out.counts.reserve(n);
    out.sum.reserve(n);
    out.min.reserve(n);
    out.max.reserve(n);
    let row0 = out.bucket_rows.len();
    out.bucket_rows.resize(row0 + n * nb, 0);
    for i in 0..n {
        let t = if i == 0 {
            h.first_timestamp
        } else {
            dod.decode(&mut r)
        };
        let start = row0 + i * nb;
        if i > 0 {
            out.bucket_rows.copy_within(start - nb..start, start);
        }
        if r.read_bit() {
            for c in &mut out.bucket_rows[start..start + nb] {
                let d = zigzag_decode(varbit::read(&mut r)) as u64;
                *c = c.wrapping_add(d);
                total = total.wrapping_add(d);
            }
        }
        diff = diff.wrapping_add(zigzag_decode(varbit::read(&mut r)));
        out.timestamps.push(t);
        out.counts.push(total.wrapping_add(diff as u64));
        out.sum.push(f64::from_bits(sum.decode(&mut r)));
        let present = r.read_bits(2);
        out.min
            .push((present & 1 != 0).then(|| f64::from_bits(min.decode(&mut r))));
        out.max
            .push((present & 2 != 0).then(|| f64::from_bits(max.decode(&mut r))));
        // Stop early on a truncated stream rather than decoding zeros to the end.
        r.check_overrun(WHAT)?;
    }
    check_end(&r, h.stream_offset)
}

#[cfg(test)]
mod tests;
