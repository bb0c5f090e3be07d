//! The part of a native histogram that a chunk stores once: schema, zero threshold, spans and
//! custom bounds. Every sample of a chunk has exactly its chunk's layout.

use super::{MAX_SPANS, WHAT};
use crate::bytes::{ByteReader, put_uvarint, put_varint, zigzag_encode};
use crate::error::{Error, Result};
use strata_model::native::MAX_NATIVE_BUCKETS;
use strata_model::{BucketSpan, NativeHistogram};

/// The layout of a chunk's samples. Floats compare bit for bit ([`matches`](Self::matches)):
/// a zero threshold of `0.0` and one of `-0.0` are different layouts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NativeLayout {
    /// −4…8, or −53 (custom buckets).
    pub schema: i32,
    pub zero_threshold: f64,
    pub positive_spans: Vec<BucketSpan>,
    pub negative_spans: Vec<BucketSpan>,
    /// Custom upper bounds (schema −53 only).
    pub custom_values: Vec<f64>,
}

fn same_floats(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn span_buckets(spans: &[BucketSpan]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

/// Bytes of `v` as an unsigned LEB128 varint.
pub(super) fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros()).div_ceil(7) as usize
}

impl NativeLayout {
    /// The layout of `h`.
    pub fn of(h: &NativeHistogram) -> NativeLayout {
        NativeLayout {
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            positive_spans: h.positive_spans.clone(),
            negative_spans: h.negative_spans.clone(),
            custom_values: h.custom_values.clone(),
        }
    }

    /// Whether `h` has exactly this layout (floats bit for bit, spans field by field).
    pub fn matches(&self, h: &NativeHistogram) -> bool {
        self.schema == h.schema
            && self.zero_threshold.to_bits() == h.zero_threshold.to_bits()
            && self.positive_spans == h.positive_spans
            && self.negative_spans == h.negative_spans
            && same_floats(&self.custom_values, &h.custom_values)
    }

    /// Whether the layout has custom bucket bounds (schema −53).
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == strata_model::native::CUSTOM_BUCKETS_SCHEMA
    }

    /// Positive buckets of every sample.
    pub fn positive_buckets(&self) -> usize {
        span_buckets(&self.positive_spans)
    }

    /// Negative buckets of every sample.
    pub fn negative_buckets(&self) -> usize {
        span_buckets(&self.negative_spans)
    }

    /// Buckets of every sample, positive plus negative.
    pub fn buckets(&self) -> usize {
        self.positive_buckets() + self.negative_buckets()
    }

    /// A histogram of this layout with every count 0 and the given hint.
    pub fn empty_histogram(&self) -> NativeHistogram {
        NativeHistogram {
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            positive_spans: self.positive_spans.clone(),
            positive_buckets: vec![0.0; self.positive_buckets()],
            negative_spans: self.negative_spans.clone(),
            negative_buckets: vec![0.0; self.negative_buckets()],
            custom_values: self.custom_values.clone(),
            ..NativeHistogram::default()
        }
    }

    /// What makes this layout unusable, if anything: more than [`MAX_SPANS`] spans a side
    /// (`LimitExceeded`), or a shape [`NativeHistogram::validate`] refuses (`InvalidInput`).
    pub(super) fn check(&self, what: &'static str) -> Result<()> {
        for spans in [&self.positive_spans, &self.negative_spans] {
            if spans.len() > MAX_SPANS {
                return Err(Error::LimitExceeded {
                    what: "native histogram spans",
                    value: spans.len() as u64,
                    max: MAX_SPANS as u64,
                });
            }
        }
        let buckets = self.positive_buckets() as u64 + self.negative_buckets() as u64;
        if buckets > MAX_NATIVE_BUCKETS as u64 {
            return Err(Error::LimitExceeded {
                what: "native histogram buckets",
                value: buckets,
                max: MAX_NATIVE_BUCKETS as u64,
            });
        }
        self.empty_histogram()
            .validate()
            .map_err(|detail| Error::invalid(what, detail))
    }

    /// Bytes [`write`](Self::write) appends.
    pub(super) fn encoded_len(&self) -> usize {
        let spans = |s: &[BucketSpan]| {
            uvarint_len(s.len() as u64)
                + s.iter()
                    .map(|s| {
                        uvarint_len(zigzag_encode(i64::from(s.offset)))
                            + uvarint_len(u64::from(s.length))
                    })
                    .sum::<usize>()
        };
        uvarint_len(zigzag_encode(i64::from(self.schema)))
            + 8
            + spans(&self.positive_spans)
            + spans(&self.negative_spans)
            + uvarint_len(self.custom_values.len() as u64)
            + 8 * self.custom_values.len()
    }

    /// Appends the layout: zvarint schema, zero threshold bits (u64 LE), then for each side a
    /// varint span count and per span a zvarint offset and a varint length, then a varint
    /// count of custom bounds and their bits (u64 LE each).
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        put_varint(out, i64::from(self.schema));
        out.extend_from_slice(&self.zero_threshold.to_bits().to_le_bytes());
        for spans in [&self.positive_spans, &self.negative_spans] {
            put_uvarint(out, spans.len() as u64);
            for s in spans {
                put_varint(out, i64::from(s.offset));
                put_uvarint(out, u64::from(s.length));
            }
        }
        put_uvarint(out, self.custom_values.len() as u64);
        for v in &self.custom_values {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }

    /// Reads what [`write`](Self::write) wrote and checks it as on encode (`Corrupt` at the
    /// layout's offset). Allocates nothing the input has not paid for: span and bound counts
    /// are bounded by [`MAX_SPANS`] and [`MAX_NATIVE_BUCKETS`] and by the bytes present.
    pub(super) fn read(r: &mut ByteReader<'_>) -> Result<NativeLayout> {
        let at = r.position();
        let schema = r.varint()?;
        let schema = i32::try_from(schema)
            .map_err(|_| Error::corrupt(WHAT, at, format!("schema {schema} is not an i32")))?;
        let zero_threshold = f64::from_bits(r.u64()?);
        let positive_spans = read_spans(r)?;
        let negative_spans = read_spans(r)?;
        let n = r.len_at_most(MAX_NATIVE_BUCKETS, "custom bound count")?;
        let raw = r.take(n * 8)?;
        let custom_values = raw
            .chunks_exact(8)
            .map(|b| {
                let mut w = [0u8; 8];
                w.copy_from_slice(b);
                f64::from_bits(u64::from_le_bytes(w))
            })
            .collect();
        let layout = NativeLayout {
            schema,
            zero_threshold,
            positive_spans,
            negative_spans,
            custom_values,
        };
        match layout.check(WHAT) {
            Ok(()) => Ok(layout),
            Err(Error::InvalidInput { detail, .. }) => Err(Error::corrupt(WHAT, at, detail)),
            Err(e) => Err(Error::corrupt(WHAT, at, e.to_string())),
        }
    }
}

/// A varint span count, then each span. Spans take at least 2 bytes, so the count is checked
/// against the bytes left before anything is allocated.
fn read_spans(r: &mut ByteReader<'_>) -> Result<Vec<BucketSpan>> {
    let n = r.len_at_most(MAX_SPANS, "span count")?;
    if n * 2 > r.remaining() {
        return Err(Error::Truncated {
            what: WHAT,
            needed: (r.position() + n * 2) as u64,
            available: (r.position() + r.remaining()) as u64,
        });
    }
    let mut spans = Vec::with_capacity(n);
    let mut buckets = 0u64;
    for _ in 0..n {
        let at = r.position();
        let offset = r.varint()?;
        let length = r.uvarint()?;
        let (Ok(offset), Ok(length)) = (i32::try_from(offset), u32::try_from(length)) else {
            return Err(Error::corrupt(
                WHAT,
                at,
                format!("span ({offset}, {length}) out of range"),
            ));
        };
        buckets += u64::from(length);
        if buckets > MAX_NATIVE_BUCKETS as u64 {
            return Err(Error::corrupt(
                WHAT,
                at,
                format!("spans cover more than {MAX_NATIVE_BUCKETS} buckets"),
            ));
        }
        spans.push(BucketSpan { offset, length });
    }
    Ok(spans)
}
