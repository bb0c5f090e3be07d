//! OTLP exponential histograms → native histograms, as Prometheus' OTLP receiver maps them:
//! the scale is the schema (scales above 8 are merged down to 8; below −4 the point is
//! refused), OTLP bucket index `i` — the range `(base^i, base^(i+1)]` — is native bucket
//! `i + 1`, runs of more than two empty buckets split the spans, the zero threshold is the
//! point's (Prometheus' default 1e-128 when it sends none), and counts, zero count and sum are
//! kept exactly. Min and max have no place in a native histogram and are dropped.

use std::collections::BTreeMap;
use strata_model::native::{MAX_EXPONENTIAL_SCHEMA, MAX_NATIVE_BUCKETS, MIN_EXPONENTIAL_SCHEMA};
use strata_model::{BucketSpan, Exemplar, NativeHistogram};

use super::exemplars::exemplar;
use super::traces::push_attr;
use super::wire::{Reader, Value, as_fixed64, as_len, as_varint};
use super::{Limits, OtlpError};
use strata_spans::KeyValue;

/// The zero threshold Prometheus gives histograms converted from OTLP without one.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 1e-128;

/// One decoded `ExponentialHistogramDataPoint`.
pub(super) struct ExponentialPoint {
    pub attrs: Vec<KeyValue>,
    pub t_ms: i64,
    pub flags: u64,
    pub exemplars: Vec<Exemplar>,
    /// The native histogram, or why the point cannot be one.
    pub histogram: Result<NativeHistogram, String>,
}

/// One side's buckets: OTLP offset and dense counts.
#[derive(Default)]
struct Buckets {
    offset: i64,
    counts: Vec<u64>,
}

/// Decodes the point at `b` (which starts at byte `base`).
pub(super) fn exponential_point(
    b: &[u8],
    base: usize,
    limits: &Limits,
) -> Result<ExponentialPoint, OtlpError> {
    let mut p = ExponentialPoint {
        attrs: Vec::new(),
        t_ms: 0,
        flags: 0,
        exemplars: Vec::new(),
        histogram: Err(String::new()),
    };
    let (mut count, mut sum, mut scale, mut zero_count) = (0u64, 0.0, 0i64, 0u64);
    let mut zero_threshold = DEFAULT_ZERO_THRESHOLD;
    let (mut pos, mut neg) = (Buckets::default(), Buckets::default());
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => push_attr(
                &mut p.attrs,
                as_len(v, at, "exponential_histogram_data_point.attributes")?,
                at,
                limits,
            )?,
            3 => {
                p.t_ms = (as_fixed64(v, at, "exponential_histogram_data_point.time_unix_nano")?
                    / 1_000_000)
                    .min(i64::MAX as u64) as i64
            }
            4 => count = as_fixed64(v, at, "exponential_histogram_data_point.count")?,
            5 => sum = f64::from_bits(as_fixed64(v, at, "exponential_histogram_data_point.sum")?),
            6 => scale = unzigzag(as_varint(v, at, "exponential_histogram_data_point.scale")?),
            7 => zero_count = as_fixed64(v, at, "exponential_histogram_data_point.zero_count")?,
            8 => {
                pos = buckets(
                    as_len(v, at, "exponential_histogram_data_point.positive")?,
                    at,
                    limits,
                )?
            }
            9 => {
                neg = buckets(
                    as_len(v, at, "exponential_histogram_data_point.negative")?,
                    at,
                    limits,
                )?
            }
            10 => p.flags = as_varint(v, at, "exponential_histogram_data_point.flags")?,
            11 => p.exemplars.extend(exemplar(
                as_len(v, at, "exponential_histogram_data_point.exemplars")?,
                at,
                limits,
            )?),
            14 => {
                zero_threshold = f64::from_bits(as_fixed64(
                    v,
                    at,
                    "exponential_histogram_data_point.zero_threshold",
                )?)
            }
            _ => {}
        }
    }
    p.histogram = native(scale, count, sum, zero_count, zero_threshold, &pos, &neg);
    Ok(p)
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// `Buckets { sint32 offset = 1; repeated uint64 bucket_counts = 2; }`.
fn buckets(b: &[u8], base: usize, limits: &Limits) -> Result<Buckets, OtlpError> {
    let mut out = Buckets::default();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match (field, v) {
            (1, v) => out.offset = unzigzag(as_varint(v, at, "buckets.offset")?),
            (2, Value::Varint(x)) => out.counts.push(x),
            (2, Value::Len(packed)) => packed_varints(packed, at, &mut out.counts)?,
            (2, _) => {
                return Err(OtlpError::Malformed {
                    offset: at,
                    detail: "buckets.bucket_counts is not a varint".into(),
                });
            }
            _ => {}
        }
        if out.counts.len() > limits.max_buckets.max(MAX_NATIVE_BUCKETS) {
            return Err(OtlpError::LimitExceeded {
                what: "exponential histogram buckets",
                value: out.counts.len() as u64,
                max: limits.max_buckets.max(MAX_NATIVE_BUCKETS) as u64,
            });
        }
    }
    Ok(out)
}

fn packed_varints(b: &[u8], at: usize, out: &mut Vec<u64>) -> Result<(), OtlpError> {
    let (mut v, mut shift) = (0u64, 0u32);
    for &byte in b {
        if shift >= 64 {
            return Err(OtlpError::Malformed {
                offset: at,
                detail: "packed varint longer than 10 bytes".into(),
            });
        }
        v |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte < 0x80 {
            out.push(v);
            (v, shift) = (0, 0);
        }
    }
    if shift != 0 {
        return Err(OtlpError::Malformed {
            offset: at,
            detail: "packed varints end inside a varint".into(),
        });
    }
    Ok(())
}

/// The native histogram of an exponential point, or why there is none.
fn native(
    scale: i64,
    count: u64,
    sum: f64,
    zero_count: u64,
    zero_threshold: f64,
    pos: &Buckets,
    neg: &Buckets,
) -> Result<NativeHistogram, String> {
    if scale < i64::from(MIN_EXPONENTIAL_SCHEMA) {
        return Err(format!("exponential histogram scale {scale} is below −4"));
    }
    let down = (scale - i64::from(MAX_EXPONENTIAL_SCHEMA)).clamp(0, 63) as u32;
    let schema = scale.min(i64::from(MAX_EXPONENTIAL_SCHEMA)) as i32;
    let (positive_spans, positive_buckets) = spans_of(&merged(pos, down));
    let (negative_spans, negative_buckets) = spans_of(&merged(neg, down));
    let h = NativeHistogram {
        schema,
        zero_threshold,
        zero_count: zero_count as f64,
        count: count as f64,
        sum,
        positive_spans,
        positive_buckets,
        negative_spans,
        negative_buckets,
        ..NativeHistogram::default()
    };
    h.validate()?;
    Ok(h)
}

/// Native bucket index → count of one side, merged down `down` scales (index `i` of the finer
/// scale falls in `i >> down`, rounding toward −∞). Empty buckets are left out.
fn merged(b: &Buckets, down: u32) -> BTreeMap<i64, u64> {
    let mut out: BTreeMap<i64, u64> = BTreeMap::new();
    for (k, &c) in b.counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let otlp_index = b.offset.saturating_add(k as i64);
        // Native bucket j covers (base^(j-1), base^j]: OTLP bucket i is native i + 1, and a
        // coarser scale holds fine buckets ((j - 1) >> down) + 1.
        let native = (otlp_index >> down) + 1;
        *out.entry(native).or_insert(0) += c;
    }
    out
}

/// Spans and absolute counts of present buckets; gaps of up to two empty buckets stay inside a
/// span (as zeros), longer gaps start a new one.
pub(super) fn spans_of(buckets: &BTreeMap<i64, u64>) -> (Vec<BucketSpan>, Vec<f64>) {
    let (mut spans, mut counts) = (Vec::<BucketSpan>::new(), Vec::new());
    let mut next: Option<i64> = None;
    for (&i, &c) in buckets {
        match next {
            Some(n) if i - n <= 2 => {
                counts.resize(counts.len() + (i - n) as usize, 0.0);
                if let Some(s) = spans.last_mut() {
                    s.length += (i - n) as u32 + 1;
                }
            }
            _ => {
                let offset = match next {
                    None => i,
                    Some(n) => i - n,
                };
                spans.push(BucketSpan {
                    offset: offset.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
                    length: 1,
                });
            }
        }
        counts.push(c as f64);
        next = Some(i + 1);
    }
    (spans, counts)
}

/// Bucket index → count of one side of a native histogram.
fn bucket_map(spans: &[BucketSpan], counts: &[f64]) -> BTreeMap<i64, f64> {
    let mut out = BTreeMap::new();
    let (mut index, mut k) = (0i64, 0usize);
    for s in spans {
        index += i64::from(s.offset);
        for _ in 0..s.length {
            if let Some(&c) = counts.get(k) {
                *out.entry(index).or_insert(0.0) += c;
            }
            (index, k) = (index + 1, k + 1);
        }
    }
    out
}

/// Adds delta point `h` to the running total `total` (same schema and zero threshold, or
/// the total starts over from `h`).
pub(super) fn add_delta(total: &mut NativeHistogram, h: &NativeHistogram) {
    if total.schema != h.schema || total.zero_threshold != h.zero_threshold || total.count == 0.0 {
        *total = h.clone();
        return;
    }
    let side = |ts: &[BucketSpan], tc: &[f64], hs: &[BucketSpan], hc: &[f64]| {
        let mut m = bucket_map(ts, tc);
        for (i, c) in bucket_map(hs, hc) {
            *m.entry(i).or_insert(0.0) += c;
        }
        let whole: BTreeMap<i64, u64> = m.iter().map(|(i, c)| (*i, *c as u64)).collect();
        let (spans, _) = spans_of(&whole);
        let counts: Vec<f64> = bucket_map_dense(&spans, &m);
        (spans, counts)
    };
    (total.positive_spans, total.positive_buckets) = side(
        &total.positive_spans,
        &total.positive_buckets,
        &h.positive_spans,
        &h.positive_buckets,
    );
    (total.negative_spans, total.negative_buckets) = side(
        &total.negative_spans,
        &total.negative_buckets,
        &h.negative_spans,
        &h.negative_buckets,
    );
    total.count += h.count;
    total.sum += h.sum;
    total.zero_count += h.zero_count;
}

/// The counts of `m` at every bucket `spans` cover (zeros where `m` has none).
fn bucket_map_dense(spans: &[BucketSpan], m: &BTreeMap<i64, f64>) -> Vec<f64> {
    let mut out = Vec::new();
    let mut index = 0i64;
    for s in spans {
        index += i64::from(s.offset);
        for _ in 0..s.length {
            out.push(m.get(&index).copied().unwrap_or(0.0));
            index += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(offset: i64, counts: &[u64]) -> Buckets {
        Buckets {
            offset,
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn otlp_buckets_shift_by_one_and_gaps_split_spans() {
        let h = native(
            3,
            10,
            12.5,
            1,
            0.0,
            &b(-2, &[1, 0, 2, 0, 0, 0, 3]),
            &b(0, &[]),
        )
        .expect("valid");
        assert_eq!(h.schema, 3);
        assert_eq!(
            h.positive_spans,
            [
                BucketSpan {
                    offset: -1,
                    length: 3
                },
                BucketSpan {
                    offset: 3,
                    length: 1
                }
            ]
        );
        assert_eq!(h.positive_buckets, [1.0, 0.0, 2.0, 3.0]);
        assert_eq!((h.count, h.zero_count, h.sum), (10.0, 1.0, 12.5));
    }

    #[test]
    fn fine_scales_merge_down_to_schema_8() {
        // Scale 9 buckets 0 and 1 (OTLP) are scale 8 bucket 0, native bucket 1.
        let h = native(9, 3, 1.0, 0, 0.0, &b(0, &[1, 2]), &b(0, &[])).expect("valid");
        assert_eq!(h.schema, 8);
        assert_eq!(
            h.positive_spans,
            [BucketSpan {
                offset: 1,
                length: 1
            }]
        );
        assert_eq!(h.positive_buckets, [3.0]);
        assert!(native(-5, 0, 0.0, 0, 0.0, &b(0, &[]), &b(0, &[])).is_err());
    }

    #[test]
    fn packed_varints_must_end_cleanly() {
        let mut out = Vec::new();
        packed_varints(&[1, 0x81, 0x01], 0, &mut out).expect("ok");
        assert_eq!(out, [1, 129]);
        assert!(packed_varints(&[0x81], 0, &mut out).is_err());
    }
}
