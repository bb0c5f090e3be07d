//! The appender: an open native histogram chunk of one encoding and one layout.

use super::float::FloatEncoder;
use super::header::{header_len, later_sample_min_bits, write_header};
use super::int::IntEncoder;
use super::{
    HINT_MISMATCH, KIND_MISMATCH, LAYOUT_MISMATCH, MAX_SAMPLES_PER_CHUNK, NativeKind, NativeLayout,
    NativeLimits, WHAT, fits_integer,
};
use crate::bits::BitWriter;
use crate::error::{Error, Result};
use crate::gorilla::DodEncoder;
use strata_model::{CounterResetHint, NativeHistogram};

/// Worst-case bits of a full delta-of-delta timestamp code.
const TS_MAX_BITS: u64 = 69;
/// Bytes the header's last-timestamp varint can grow by.
const LAST_TS_MAX_GROWTH: u64 = 10;

#[derive(Debug, Clone)]
enum Encoder {
    Int(IntEncoder),
    Float(FloatEncoder),
}

impl Encoder {
    fn prepare(&mut self, h: &NativeHistogram) -> u64 {
        match self {
            Encoder::Int(e) => e.prepare(h),
            Encoder::Float(e) => e.prepare(h),
        }
    }

    fn write(&mut self, w: &mut BitWriter, h: &NativeHistogram) {
        match self {
            Encoder::Int(e) => e.write(w, h),
            Encoder::Float(e) => e.write(w, h),
        }
    }
}

/// What the 1-bit hint of a later sample can say in a chunk whose header hint is `chunk`, or
/// `None` if the sample needs a new chunk: in a gauge chunk every sample is a gauge (no bit); in
/// a counter chunk a later sample is `Unknown` (bit 0) or `NotCounterReset` (bit 1), while a
/// `CounterReset` or `Gauge` sample starts a new chunk.
fn later_hint_bit(chunk: CounterResetHint, sample: CounterResetHint) -> Option<Option<bool>> {
    use CounterResetHint::*;
    match (chunk == Gauge, sample) {
        (true, Gauge) => Some(None),
        (false, Unknown) => Some(Some(false)),
        (false, NotCounterReset) => Some(Some(true)),
        _ => None,
    }
}

/// An open native histogram chunk. The first sample fixes the chunk's layout, its counter-reset
/// hint (the header's) and, unless given with [`with_kind`](Self::with_kind), its encoding
/// (integer if [`fits_integer`], else float). Appending costs O(buckets), independent of the
/// chunk's length. The encoded bytes can be copied out at any time.
#[derive(Debug, Clone)]
pub struct NativeAppender {
    limits: NativeLimits,
    /// The encoding asked for, if any.
    forced: Option<NativeKind>,
    /// The encoding in use (meaningful once a sample is in).
    kind: NativeKind,
    layout: NativeLayout,
    layout_len: usize,
    hint: CounterResetHint,
    count: usize,
    first_ts: i64,
    last_ts: i64,
    max_ts: i64,
    ts: DodEncoder,
    enc: Encoder,
    bits: BitWriter,
}

impl NativeAppender {
    /// An appender whose encoding the first sample picks.
    pub fn new(limits: NativeLimits) -> Result<Self> {
        limits.validate()?;
        Ok(NativeAppender {
            limits,
            forced: None,
            kind: NativeKind::Float,
            layout: NativeLayout::default(),
            layout_len: 0,
            hint: CounterResetHint::Unknown,
            count: 0,
            first_ts: 0,
            last_ts: 0,
            max_ts: i64::MIN,
            ts: DodEncoder::default(),
            enc: Encoder::Float(FloatEncoder::default()),
            bits: BitWriter::with_capacity(limits.max_bytes.min(4096)),
        })
    }

    /// An appender of the given encoding. A float chunk takes any sample; an integer chunk
    /// only those that [`fits_integer`].
    pub fn with_kind(kind: NativeKind, limits: NativeLimits) -> Result<Self> {
        let mut a = NativeAppender::new(limits)?;
        a.forced = Some(kind);
        Ok(a)
    }

    /// Samples in the chunk.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The chunk's encoding: fixed by the first sample or by [`with_kind`](Self::with_kind).
    pub fn kind(&self) -> Option<NativeKind> {
        if self.count > 0 {
            Some(self.kind)
        } else {
            self.forced
        }
    }

    /// The chunk's layout, once a sample fixed it.
    pub fn layout(&self) -> Option<&NativeLayout> {
        (self.count > 0).then_some(&self.layout)
    }

    /// The chunk's counter-reset hint (its first sample's), once a sample fixed it.
    pub fn counter_reset_hint(&self) -> Option<CounterResetHint> {
        (self.count > 0).then_some(self.hint)
    }

    /// The first timestamp, if any sample was appended.
    pub fn first_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.first_ts)
    }

    /// The last sample's timestamp, if any.
    pub fn last_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.last_ts)
    }

    /// The largest timestamp appended, if any.
    pub fn max_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.max_ts)
    }

    /// Whether `h` may go into this chunk as far as its layout, counter-reset hint and encoding
    /// go (any sample may, while the chunk is empty, unless an integer encoding was asked for).
    /// [`append`](Self::append) may still refuse it: invalid, or too large for the space left.
    pub fn accepts(&self, h: &NativeHistogram) -> bool {
        self.cut_reason(h).is_none()
    }

    /// Why `h` needs a new chunk, if it does: one of [`LAYOUT_MISMATCH`], [`HINT_MISMATCH`],
    /// [`KIND_MISMATCH`].
    fn cut_reason(&self, h: &NativeHistogram) -> Option<&'static str> {
        let kind = self.kind();
        if kind == Some(NativeKind::Integer) && !fits_integer(h) {
            return Some(KIND_MISMATCH);
        }
        if self.count == 0 {
            None
        } else if !self.layout.matches(h) {
            Some(LAYOUT_MISMATCH)
        } else if later_hint_bit(self.hint, h.counter_reset_hint).is_none() {
            Some(HINT_MISMATCH)
        } else {
            None
        }
    }

    /// Whether no further sample can be appended. When this is false, [`append`](Self::append)
    /// may still refuse a particular sample that is too large for the space left.
    pub fn is_full(&self) -> bool {
        self.count >= self.limits.max_samples
            || (self.count > 0
                && self.used_bits()
                    + LAST_TS_MAX_GROWTH * 8
                    + TS_MAX_BITS
                    + later_sample_min_bits(self.hint)
                    > self.budget_bits())
    }

    fn used_bits(&self) -> u64 {
        self.encoded_len() as u64 * 8
    }

    fn budget_bits(&self) -> u64 {
        self.limits.max_bytes as u64 * 8
    }

    /// Appends a sample. Any i64 timestamp sequence is encodable; the engine decides ordering
    /// (and detects counter resets: the codec stores decreasing counts like any others).
    ///
    /// Errors, leaving the chunk unchanged:
    /// - [`Error::InvalidInput`] with `what` = [`LAYOUT_MISMATCH`], [`HINT_MISMATCH`] or
    ///   [`KIND_MISMATCH`]: the sample needs a new chunk ([`accepts`](Self::accepts) asks first);
    /// - [`Error::LimitExceeded`] if the chunk is full or the sample does not fit in the bytes
    ///   left (cut a new chunk);
    /// - [`Error::InvalidInput`] (`what` = `"native histogram"`) for a sample that
    ///   [`NativeHistogram::validate`] refuses, and [`Error::LimitExceeded`] for one with more
    ///   than [`MAX_SPANS`](super::MAX_SPANS) spans a side: it fits no chunk.
    pub fn append(&mut self, t: i64, h: &NativeHistogram) -> Result<()> {
        h.validate()
            .map_err(|detail| Error::invalid("native histogram", detail))?;
        if let Some(what) = self.cut_reason(h) {
            return Err(Error::invalid(what, self.mismatch_detail(h)));
        }
        if self.count >= self.limits.max_samples {
            return Err(Error::LimitExceeded {
                what: "native histogram chunk samples",
                value: self.count as u64 + 1,
                max: self.limits.max_samples as u64,
            });
        }
        if self.count == 0 {
            let layout = NativeLayout::of(h);
            layout.check("native histogram")?;
            self.start(t, h, layout);
        }
        let sample_bits = self.enc.prepare(h);
        if self.count > 0 {
            let header = header_len(self.layout_len, self.first_ts, t) as u64;
            let ts_bits = u64::from(self.ts.encoded_bits(t));
            let hint_bits = u64::from(self.hint != CounterResetHint::Gauge);
            let need = header * 8 + self.bits.bit_len() + ts_bits + hint_bits + sample_bits;
            if need > self.budget_bits() {
                return Err(Error::LimitExceeded {
                    what: "native histogram chunk bytes",
                    value: need.div_ceil(8),
                    max: self.limits.max_bytes as u64,
                });
            }
            self.ts.encode(&mut self.bits, t);
            if let Some(Some(bit)) = later_hint_bit(self.hint, h.counter_reset_hint) {
                self.bits.write_bit(bit);
            }
        }
        let before = self.bits.bit_len();
        self.enc.write(&mut self.bits, h);
        debug_assert_eq!(self.bits.bit_len() - before, sample_bits);
        self.last_ts = t;
        self.max_ts = self.max_ts.max(t);
        self.count += 1;
        Ok(())
    }

    fn mismatch_detail(&self, h: &NativeHistogram) -> String {
        format!(
            "the chunk has schema {}, {} positive and {} negative spans, hint {:?}, {:?} \
             encoding; the sample schema {}, {} and {} spans, hint {:?}",
            self.layout.schema,
            self.layout.positive_spans.len(),
            self.layout.negative_spans.len(),
            self.hint,
            self.kind(),
            h.schema,
            h.positive_spans.len(),
            h.negative_spans.len(),
            h.counter_reset_hint,
        )
    }

    /// Takes the first sample's layout, hint, encoding and timestamp.
    fn start(&mut self, t: i64, h: &NativeHistogram, layout: NativeLayout) {
        self.kind = self.forced.unwrap_or_else(|| NativeKind::of(h));
        let (npos, nb) = (layout.positive_buckets(), layout.buckets());
        self.enc = match self.kind {
            NativeKind::Integer => Encoder::Int(IntEncoder::new(npos, nb)),
            NativeKind::Float => Encoder::Float(FloatEncoder::new(nb)),
        };
        self.layout_len = layout.encoded_len();
        self.layout = layout;
        self.hint = h.counter_reset_hint;
        self.first_ts = t;
        self.ts = DodEncoder::new(t);
        self.bits = BitWriter::with_capacity(self.limits.max_bytes.min(4096));
    }

    /// Encoded size in bytes right now (0 while empty).
    pub fn encoded_len(&self) -> usize {
        if self.count == 0 {
            0
        } else {
            header_len(self.layout_len, self.first_ts, self.last_ts) + self.bits.byte_len()
        }
    }

    /// Appends the chunk as it stands to `out`. Errors if the chunk is empty (a chunk has ≥ 1
    /// sample).
    pub fn encode_to(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.count == 0 {
            return Err(Error::invalid(WHAT, "a chunk needs at least one sample"));
        }
        let start = out.len();
        write_header(
            out,
            self.kind,
            self.count,
            self.hint,
            &self.layout,
            self.first_ts,
            self.last_ts,
        );
        self.bits.copy_to(out);
        debug_assert_eq!(out.len() - start, self.encoded_len());
        Ok(())
    }

    /// The encoded chunk as a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_to(&mut out)?;
        Ok(out)
    }
}

/// Encodes a whole run of samples into one chunk (no limits beyond the format's): an integer
/// chunk if every sample [`fits_integer`], else a float chunk.
pub fn encode_chunk(timestamps: &[i64], samples: &[NativeHistogram]) -> Result<Vec<u8>> {
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
            what: "native histogram chunk samples",
            value: samples.len() as u64,
            max: MAX_SAMPLES_PER_CHUNK as u64,
        });
    }
    let kind = if samples.iter().all(fits_integer) {
        NativeKind::Integer
    } else {
        NativeKind::Float
    };
    let mut app = NativeAppender::with_kind(
        kind,
        NativeLimits {
            max_samples: samples.len().max(1),
            max_bytes: usize::MAX / 16,
        },
    )?;
    for (&t, h) in timestamps.iter().zip(samples) {
        app.append(t, h)?;
    }
    app.to_bytes()
}
