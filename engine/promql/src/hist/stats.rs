//! Statistics of one native histogram: `histogram_quantile`, `histogram_fraction`,
//! `histogram_stddev` / `histogram_stdvar`, with Prometheus' interpolation — linear in custom
//! buckets and the zero bucket, logarithmic in exponential buckets.

use super::{Bucket, FloatHistogram};
use crate::stats::kahan_inc;

/// What a statistic noticed about NaN observations (they count in `count`, in no bucket).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NanNote {
    /// The quantile fell among the NaN observations: the result is NaN.
    pub nan_result: bool,
    /// Some observations were NaN: the result leaves them out.
    pub skewed: bool,
}

/// The `q` quantile (Prometheus' `HistogramQuantile`).
pub(crate) fn quantile(q: f64, h: &FloatHistogram) -> (f64, NanNote) {
    let mut note = NanNote::default();
    if q < 0.0 {
        return (f64::NEG_INFINITY, note);
    }
    if q > 1.0 {
        return (f64::INFINITY, note);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, note);
    }
    let mut buckets = h.all_buckets();
    let forward = h.sum.is_nan() || q < 0.5;
    if !forward {
        buckets.reverse();
    }
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let (mut count, mut at) = (0.0, None);
    for (k, b) in buckets.iter().enumerate() {
        if b.count == 0.0 {
            continue;
        }
        count += b.count;
        at = Some(k);
        if count >= rank {
            break;
        }
    }
    let Some(k) = at else {
        // No bucket holds anything: every observation was NaN.
        note.nan_result = h.sum.is_nan();
        return (f64::NAN, note);
    };
    let mut b = buckets[k];
    if !h.uses_custom_buckets() && b.lower < 0.0 && b.upper > 0.0 {
        if h.negative.is_empty() && !h.positive.is_empty() {
            b.lower = 0.0;
        } else if h.positive.is_empty() && !h.negative.is_empty() {
            b.upper = 0.0;
        }
    } else if h.uses_custom_buckets() {
        if b.lower == f64::NEG_INFINITY {
            if b.upper <= 0.0 {
                return (b.upper, note);
            }
            b.lower = 0.0;
        } else if b.upper == f64::INFINITY {
            return (b.lower, note);
        }
    }
    count = count.min(h.count);
    if count < rank {
        if h.sum.is_nan() {
            note.nan_result = true;
            return (f64::NAN, note);
        }
        return (b.upper, note);
    }
    if forward {
        rank -= count - b.count;
    } else {
        rank = count - rank;
    }
    if h.sum.is_nan() {
        let rest: f64 = buckets[k + 1..].iter().map(|b| b.count).sum();
        note.skewed = count + rest < h.count;
    }
    let fraction = rank / b.count;
    if h.uses_custom_buckets() || (b.lower <= 0.0 && b.upper >= 0.0) {
        return (b.lower + (b.upper - b.lower) * fraction, note);
    }
    let (log_lower, log_upper) = (b.lower.abs().log2(), b.upper.abs().log2());
    if b.lower > 0.0 {
        return (
            (log_lower + (log_upper - log_lower) * fraction).exp2(),
            note,
        );
    }
    (
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2(),
        note,
    )
}

/// The share of observations in `[lower, upper]` (Prometheus' `HistogramFraction`).
pub(crate) fn fraction(lower: f64, upper: f64, h: &FloatHistogram) -> (f64, NanNote) {
    let mut note = NanNote::default();
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, note);
    }
    if lower >= upper {
        return (0.0, note);
    }
    let custom = h.uses_custom_buckets();
    let buckets = h.all_buckets();
    let (mut rank, mut count) = (0.0, 0.0);
    let (mut lower_rank, mut upper_rank) = (None, None);
    let mut seen = 0;
    for b in &buckets {
        seen += 1;
        count += b.count;
        let mut b = *b;
        let zero_bucket = b.lower <= 0.0 && b.upper >= 0.0;
        if zero_bucket {
            if h.negative.is_empty() && !h.positive.is_empty() {
                b.lower = 0.0;
            } else if h.positive.is_empty() && !h.negative.is_empty() {
                b.upper = 0.0;
            }
        }
        let linear = custom || zero_bucket;
        if lower_rank.is_none() && b.lower >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && b.lower >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        if lower_rank.is_none() && b.lower < lower && b.upper > lower {
            lower_rank = Some(rank_below(rank, &b, lower, linear));
        }
        if upper_rank.is_none() && b.lower < upper && b.upper > upper {
            upper_rank = Some(rank_below(rank, &b, upper, linear));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        rank += b.count;
    }
    if h.sum.is_nan() {
        count += buckets[seen..].iter().map(|b| b.count).sum::<f64>();
        note.skewed = count < h.count;
    } else {
        count = h.count;
    }
    let clamp = |r: Option<f64>| r.filter(|&r| r <= count).unwrap_or(count);
    ((clamp(upper_rank) - clamp(lower_rank)) / h.count, note)
}

/// The observations below `v` inside bucket `b`, plus `rank` below the bucket.
fn rank_below(rank: f64, b: &Bucket, v: f64, linear: bool) -> f64 {
    if linear && b.lower == f64::NEG_INFINITY {
        return b.count;
    }
    rank + b.count * fraction_below(b, v, linear)
}

/// Prometheus' `Bucket.FractionBelow`: the share of bucket `b` below `v`, linear or on a
/// logarithmic scale (negative buckets mirrored).
pub(crate) fn fraction_below(b: &Bucket, v: f64, linear: bool) -> f64 {
    if linear {
        return (v - b.lower) / (b.upper - b.lower);
    }
    let (lo, hi, lv) = (b.lower.abs().log2(), b.upper.abs().log2(), v.abs().log2());
    if v > 0.0 {
        (lv - lo) / (hi - lo)
    } else {
        1.0 - (lv - hi) / (lo - hi)
    }
}

/// The variance of the observations, each at its bucket's mean (arithmetic for custom
/// buckets, 0 in the zero bucket, geometric otherwise).
pub(crate) fn variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let custom = h.uses_custom_buckets();
    let (mut total, mut compensation) = (0.0, 0.0);
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        let v = if custom {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let g = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 { -g } else { g }
        };
        let delta = v - mean;
        (total, compensation) = kahan_inc(b.count * delta * delta, total, compensation);
    }
    (total + compensation) / h.count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h() -> FloatHistogram {
        // schema 0: (0.5,1] 2, (1,2] 4, (2,4] 2; zero bucket ±0.001 holds 2.
        FloatHistogram {
            schema: 0,
            zero_threshold: 0.001,
            zero_count: 2.0,
            count: 10.0,
            sum: 15.0,
            positive: vec![(0, 2.0), (1, 4.0), (2, 2.0)],
            ..FloatHistogram::default()
        }
    }

    #[test]
    fn quantiles_interpolate_exponentially_outside_the_zero_bucket() {
        let h = h();
        assert_eq!(quantile(0.5, &h).0, 2f64.powf(0.25));
        assert!((quantile(0.1, &h).0 - 0.0005).abs() < 1e-12);
        assert_eq!(quantile(1.0, &h).0, 4.0);
        assert_eq!(quantile(-1.0, &h).0, f64::NEG_INFINITY);
    }

    #[test]
    fn fractions_cover_the_whole_histogram() {
        let h = h();
        assert_eq!(fraction(f64::NEG_INFINITY, f64::INFINITY, &h).0, 1.0);
        assert!((fraction(0.0, 1.0, &h).0 - 0.4).abs() < 1e-12);
        assert_eq!(fraction(1.0, 1.0, &h).0, 0.0);
    }
}
