//! Native histograms as PromQL and the head's counter-reset detection compute with them:
//! Prometheus' `FloatHistogram`, with its buckets held as `(index, count)` pairs instead of
//! spans, so that adding, subtracting and reducing the resolution are merges of sorted lists.
//!
//! Bucket `i` of an exponential schema `s` covers `(b(i-1), b(i)]` with `b(i) = 2^(i·2^-s)`
//! (negative buckets mirror it); custom buckets (schema −53) cover
//! `(custom_values[i-1], custom_values[i]]`, bucket 0 reaching down to −∞ and one past the last
//! bound up to +∞. The arithmetic is in `ops`; PromQL's statistics (`histogram_quantile`, …)
//! are in `strata-promql`.

mod ops;

pub use ops::{AddNotes, Incompatible, intersect, remap_custom};

use crate::native::{BucketSpan, CUSTOM_BUCKETS_SCHEMA, CounterResetHint, NativeHistogram};
use std::sync::Arc;

/// Prometheus' `FloatHistogram` with expanded buckets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    pub hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    /// `(bucket index, count)`, strictly ascending by index; counts may be zero.
    pub positive: Vec<(i32, f64)>,
    pub negative: Vec<(i32, f64)>,
    /// Upper bounds of the custom buckets (schema −53 only).
    pub custom_values: Arc<[f64]>,
}

/// One bucket with its bounds, as the statistics walk them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub count: f64,
}

impl FloatHistogram {
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// The histogram stored as `n`.
    pub fn from_native(n: &NativeHistogram) -> FloatHistogram {
        FloatHistogram {
            hint: n.counter_reset_hint,
            schema: n.schema,
            zero_threshold: n.zero_threshold,
            zero_count: n.zero_count,
            count: n.count,
            sum: n.sum,
            positive: expand(&n.positive_spans, &n.positive_buckets),
            negative: expand(&n.negative_spans, &n.negative_buckets),
            custom_values: n.custom_values.as_slice().into(),
        }
    }

    /// This histogram as Prometheus shows it after `Compact(0)`: empty buckets dropped, one
    /// span per run of consecutive indexes.
    pub fn to_native(&self) -> NativeHistogram {
        let (positive_spans, positive_buckets) = compact(&self.positive);
        let (negative_spans, negative_buckets) = compact(&self.negative);
        NativeHistogram {
            counter_reset_hint: self.hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count,
            count: self.count,
            sum: self.sum,
            positive_spans,
            positive_buckets,
            negative_spans,
            negative_buckets,
            custom_values: self.custom_values.to_vec(),
        }
    }

    /// The upper bound of bucket `index` (its absolute value for a negative bucket).
    pub fn bound(&self, index: i32) -> f64 {
        if self.uses_custom_buckets() {
            let n = self.custom_values.len() as i64;
            return match i64::from(index) {
                i if i >= n => f64::INFINITY,
                i if i < 0 => f64::NEG_INFINITY,
                i => self.custom_values[i as usize],
            };
        }
        exponential_bound(index, self.schema)
    }

    /// Every bucket in ascending order of value: negative buckets from the lowest, the zero
    /// bucket (when it holds anything), positive buckets. Bounds inside the zero bucket are
    /// clipped to its threshold, as Prometheus' `AllBucketIterator` does.
    pub fn all_buckets(&self) -> Vec<Bucket> {
        let zt = self.zero_threshold;
        let mut out = Vec::with_capacity(self.negative.len() + self.positive.len() + 1);
        for &(i, count) in self.negative.iter().rev() {
            let (lower, mut upper) = (-self.bound(i), -self.bound(i - 1));
            if upper < 0.0 && upper > -zt {
                upper = -zt;
            }
            out.push(Bucket {
                lower,
                upper,
                count,
            });
        }
        if self.zero_count > 0.0 {
            out.push(Bucket {
                lower: -zt,
                upper: zt,
                count: self.zero_count,
            });
        }
        for &(i, count) in &self.positive {
            let (mut lower, upper) = (self.bound(i - 1), self.bound(i));
            if lower > 0.0 && lower < zt {
                lower = zt;
            }
            out.push(Bucket {
                lower,
                upper,
                count,
            });
        }
        out
    }

    /// Whether any count or the sum is infinite (a sum that overflowed).
    pub fn has_overflow(&self) -> bool {
        self.count.is_infinite()
            || self.sum.is_infinite()
            || self.zero_count.is_infinite()
            || self.positive.iter().any(|b| b.1.is_infinite())
            || self.negative.iter().any(|b| b.1.is_infinite())
    }
}

/// `(index, count)` pairs of spans and counts (counts beyond the spans are ignored; a
/// validated histogram has none).
fn expand(spans: &[BucketSpan], counts: &[f64]) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(counts.len());
    let mut index: i32 = 0;
    let mut k = 0;
    for (n, s) in spans.iter().enumerate() {
        index = if n == 0 {
            s.offset
        } else {
            index.saturating_add(s.offset)
        };
        for _ in 0..s.length {
            let Some(&c) = counts.get(k) else {
                return out;
            };
            out.push((index, c));
            index = index.saturating_add(1);
            k += 1;
        }
    }
    out
}

/// Spans and counts of the non-empty buckets.
fn compact(buckets: &[(i32, f64)]) -> (Vec<BucketSpan>, Vec<f64>) {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut counts = Vec::new();
    let mut next: Option<i32> = None; // index right after the last span
    for &(i, c) in buckets {
        if c == 0.0 {
            continue;
        }
        match (next, spans.last_mut()) {
            (Some(n), Some(last)) if n == i => last.length += 1,
            (Some(n), _) => spans.push(BucketSpan {
                offset: i - n,
                length: 1,
            }),
            (None, _) => spans.push(BucketSpan {
                offset: i,
                length: 1,
            }),
        }
        counts.push(c);
        next = Some(i + 1);
    }
    (spans, counts)
}

/// `2^(index · 2^-schema)`, with Prometheus' special case: the last finite bucket ends at
/// `f64::MAX` (the one after it counts ±Inf).
pub fn exponential_bound(index: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = i64::from(index) << (-schema);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let frac_index = index & ((1 << schema) - 1);
    let frac = (f64::from(frac_index) / f64::from(1 << schema)).exp2() / 2.0;
    let exp = i64::from(index >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// `frac · 2^exp` without overflowing the intermediate power.
fn ldexp(frac: f64, exp: i64) -> f64 {
    let exp = exp.clamp(-2200, 2200) as i32;
    let half = exp / 2;
    frac * 2f64.powi(half) * 2f64.powi(exp - half)
}

/// The index bucket `index` of schema `from` falls into at the coarser schema `to`.
pub fn target_index(index: i32, from: i32, to: i32) -> i32 {
    ((index - 1) >> (from - to)) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_follow_the_schema() {
        assert_eq!(exponential_bound(0, 0), 1.0);
        assert_eq!(exponential_bound(1, 0), 2.0);
        assert_eq!(exponential_bound(-1, 0), 0.5);
        assert!((exponential_bound(1, 1) - std::f64::consts::SQRT_2).abs() < 1e-15);
        assert_eq!(exponential_bound(1, -1), 4.0);
        assert_eq!(exponential_bound(1024, 0), f64::MAX);
        assert_eq!(target_index(1, 1, 0), 1);
        assert_eq!(target_index(2, 1, 0), 1);
        assert_eq!(target_index(3, 1, 0), 2);
        assert_eq!(target_index(0, 1, 0), 0);
        assert_eq!(target_index(-1, 1, 0), 0);
    }

    #[test]
    fn spans_round_trip_and_compaction_drops_empty_buckets() {
        let n = NativeHistogram {
            schema: 0,
            count: 4.0,
            positive_spans: vec![
                BucketSpan {
                    offset: -1,
                    length: 2,
                },
                BucketSpan {
                    offset: 2,
                    length: 2,
                },
            ],
            positive_buckets: vec![1.0, 0.0, 2.0, 1.0],
            ..NativeHistogram::default()
        };
        let h = FloatHistogram::from_native(&n);
        assert_eq!(h.positive, [(-1, 1.0), (0, 0.0), (3, 2.0), (4, 1.0)]);
        let back = h.to_native();
        assert_eq!(back.positive_buckets, [1.0, 2.0, 1.0]);
        assert_eq!(
            back.positive_spans,
            [
                BucketSpan {
                    offset: -1,
                    length: 1
                },
                BucketSpan {
                    offset: 3,
                    length: 2
                }
            ]
        );
    }
}
