//! Decoding: a chunk's samples, column by column, with the layout held once and bucket rows
//! shared by consecutive samples whose buckets did not change.

use super::float::FloatDecoder;
use super::int::IntDecoder;
use super::{NativeHeader, NativeKind, NativeLayout, WHAT, read_header};
use crate::bits::BitReader;
use crate::error::{Error, Result};
use crate::gorilla::DodDecoder;
use strata_model::{CounterResetHint, NativeHistogram};

/// What a [`CountsDecoder`] read for one sample.
#[derive(Debug, Clone, Copy)]
pub(super) struct SampleValues {
    pub(super) count: f64,
    pub(super) zero_count: f64,
    pub(super) sum: f64,
    /// Whether bucket codes followed (the buckets may have changed).
    pub(super) changed: bool,
}

/// The part of decoding that differs between the integer and the float encoding.
pub(super) trait CountsDecoder {
    /// Reads one sample's count, zero count, sum and buckets (which the decoder keeps). Errors
    /// with a description when a value is out of range.
    fn read(&mut self, r: &mut BitReader<'_>) -> std::result::Result<SampleValues, String>;
    /// Appends the current bucket counts, positive then negative.
    fn push_row(&self, rows: &mut Vec<f64>) -> std::result::Result<(), String>;
}

/// A decoded chunk. Memory is linear in the chunk's size: the layout is held once, and a
/// sample whose buckets did not change shares the previous sample's row of bucket counts.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeSamples {
    kind: NativeKind,
    layout: NativeLayout,
    npos: usize,
    nbuckets: usize,
    timestamps: Vec<i64>,
    hints: Vec<CounterResetHint>,
    counts: Vec<f64>,
    zero_counts: Vec<f64>,
    sums: Vec<f64>,
    /// Distinct bucket rows, `nbuckets` counts each, positive then negative.
    rows: Vec<f64>,
    /// Sample `i`'s buckets are row `row_of[i]`.
    row_of: Vec<u32>,
}

impl NativeSamples {
    fn new(h: &NativeHeader) -> Self {
        let n = h.count;
        NativeSamples {
            kind: h.kind,
            layout: h.layout.clone(),
            npos: h.layout.positive_buckets(),
            nbuckets: h.layout.buckets(),
            timestamps: Vec::with_capacity(n),
            hints: Vec::with_capacity(n),
            counts: Vec::with_capacity(n),
            zero_counts: Vec::with_capacity(n),
            sums: Vec::with_capacity(n),
            rows: Vec::new(),
            row_of: Vec::with_capacity(n),
        }
    }

    /// The chunk's encoding.
    pub fn kind(&self) -> NativeKind {
        self.kind
    }

    /// The layout every sample has.
    pub fn layout(&self) -> &NativeLayout {
        &self.layout
    }

    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    pub fn timestamps(&self) -> &[i64] {
        &self.timestamps
    }

    pub fn counter_reset_hints(&self) -> &[CounterResetHint] {
        &self.hints
    }

    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    pub fn zero_counts(&self) -> &[f64] {
        &self.zero_counts
    }

    pub fn sums(&self) -> &[f64] {
        &self.sums
    }

    /// Sample `i`'s absolute bucket counts: positive then negative.
    pub fn buckets(&self, i: usize) -> Option<&[f64]> {
        let row = *self.row_of.get(i)? as usize;
        self.rows
            .get(row * self.nbuckets..(row + 1) * self.nbuckets)
    }

    /// Sample `i` as an owned histogram (a copy of the layout and of its buckets).
    pub fn get(&self, i: usize) -> Option<(i64, NativeHistogram)> {
        let buckets = self.buckets(i)?;
        let (pos, neg) = buckets.split_at(self.npos);
        let l = &self.layout;
        Some((
            self.timestamps[i],
            NativeHistogram {
                counter_reset_hint: self.hints[i],
                schema: l.schema,
                zero_threshold: l.zero_threshold,
                zero_count: self.zero_counts[i],
                count: self.counts[i],
                sum: self.sums[i],
                positive_spans: l.positive_spans.clone(),
                positive_buckets: pos.to_vec(),
                negative_spans: l.negative_spans.clone(),
                negative_buckets: neg.to_vec(),
                custom_values: l.custom_values.clone(),
            },
        ))
    }

    /// Every sample in order, each built on demand by [`get`](Self::get).
    pub fn iter(&self) -> impl Iterator<Item = (i64, NativeHistogram)> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Every sample as an owned histogram. Each copies the layout, so this takes
    /// `len() × (layout + buckets)` memory: prefer [`iter`](Self::iter) for large layouts.
    pub fn to_vec(&self) -> Vec<(i64, NativeHistogram)> {
        self.iter().collect()
    }
}

/// Decodes a chunk. Checks, besides the header ([`read_header`]): no read past the end, the
/// stream ending in its last byte, every decoded count in range (integer chunks: whole and
/// below 2^53; float chunks: bucket and zero counts neither negative nor NaN; custom buckets:
/// zero count 0), and the last timestamp equal to the header's.
pub fn decode(chunk: &[u8]) -> Result<NativeSamples> {
    let h = read_header(chunk)?;
    let stream = &chunk[h.stream_offset..];
    let (npos, nb) = (h.layout.positive_buckets(), h.layout.buckets());
    match h.kind {
        NativeKind::Integer => decode_stream(stream, &h, IntDecoder::new(npos, nb)),
        NativeKind::Float => decode_stream(stream, &h, FloatDecoder::new(nb)),
    }
}

fn decode_stream<D: CountsDecoder>(
    stream: &[u8],
    h: &NativeHeader,
    mut dec: D,
) -> Result<NativeSamples> {
    let mut out = NativeSamples::new(h);
    let mut r = BitReader::new(stream);
    let mut dod = DodDecoder::new(h.first_timestamp);
    let gauge = h.counter_reset_hint == CounterResetHint::Gauge;
    let custom = h.layout.uses_custom_buckets();
    let corrupt = |r: &BitReader<'_>, detail: String| {
        Error::corrupt(
            WHAT,
            h.stream_offset + (r.bits_consumed() / 8) as usize,
            detail,
        )
    };
    for i in 0..h.count {
        let (t, hint) = if i == 0 {
            (h.first_timestamp, h.counter_reset_hint)
        } else {
            let t = dod.decode(&mut r);
            let hint = if gauge {
                CounterResetHint::Gauge
            } else if r.read_bit() {
                CounterResetHint::NotCounterReset
            } else {
                CounterResetHint::Unknown
            };
            (t, hint)
        };
        let v = dec.read(&mut r);
        // Stop early on a truncated stream rather than decoding zeros to the end.
        r.check_overrun(WHAT)?;
        let v = v.map_err(|d| corrupt(&r, format!("sample {i}: {d}")))?;
        if custom && v.zero_count != 0.0 {
            return Err(corrupt(
                &r,
                format!("sample {i}: custom buckets with a zero count"),
            ));
        }
        let row = if i == 0 || v.changed {
            if out.nbuckets > 0 {
                dec.push_row(&mut out.rows)
                    .map_err(|d| corrupt(&r, format!("sample {i}: {d}")))?;
            }
            (out.rows.len() / out.nbuckets.max(1)).saturating_sub(1) as u32
        } else {
            out.row_of[i - 1]
        };
        out.timestamps.push(t);
        out.hints.push(hint);
        out.counts.push(v.count);
        out.zero_counts.push(v.zero_count);
        out.sums.push(v.sum);
        out.row_of.push(row);
    }
    r.check_exact_end(WHAT, h.stream_offset)?;
    let last = out.timestamps.last().copied();
    if last != Some(h.last_timestamp) {
        return Err(Error::corrupt(
            WHAT,
            1,
            format!(
                "the header's last timestamp is {}, the last sample's {last:?}",
                h.last_timestamp
            ),
        ));
    }
    Ok(out)
}
