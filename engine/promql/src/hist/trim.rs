//! The trim operators `h </ x` (keep the observations below `x`) and `h >/ x` (keep those
//! above), Prometheus' `TrimBuckets`: a bucket straddling `x` keeps the interpolated share
//! (logarithmic in exponential buckets, linear in custom ones and the zero bucket), and the
//! sum is re-estimated from the kept buckets' midpoints.

use super::stats::fraction_below;
use super::{Bucket, FloatHistogram};

/// `h` trimmed at `x`: `upper` keeps what is below `x`, otherwise what is above.
pub(crate) fn trim(h: &FloatHistogram, x: f64, upper: bool) -> FloatHistogram {
    let mut h = h.clone();
    let custom = h.uses_custom_buckets();
    let (mut count, mut sum, mut trimmed) = (0.0, 0.0, false);
    let mut has = [false, false]; // negative, positive
    for positive in [true, false] {
        let side = if positive { &h.positive } else { &h.negative };
        let mut kept = Vec::with_capacity(side.len());
        for &(i, c) in side {
            if c == 0.0 {
                kept.push((i, c));
                continue;
            }
            has[usize::from(positive)] = true;
            let b = if positive {
                Bucket {
                    lower: h.bound(i - 1),
                    upper: h.bound(i),
                    count: c,
                }
            } else {
                Bucket {
                    lower: -h.bound(i),
                    upper: -h.bound(i - 1),
                    count: c,
                }
            };
            let whole = if upper { b.upper <= x } else { b.lower >= x };
            let partly = if upper { b.lower < x } else { b.upper > x };
            let keep = if whole {
                sum += midpoint(b.lower, b.upper, positive, custom) * c;
                c
            } else if partly {
                let (k, mid) = bucket_trim(&b, x, upper, positive, custom);
                sum += mid * k;
                k
            } else {
                0.0
            };
            trimmed |= keep != c;
            count += keep;
            kept.push((i, keep));
        }
        if positive {
            h.positive = kept;
        } else {
            h.negative = kept;
        }
    }
    if h.zero_count > 0.0 {
        let (k, mid) = zero_trim(&h, x, has, upper);
        trimmed |= k != h.zero_count;
        h.zero_count = k;
        sum += mid * k;
        count += k;
    }
    if trimmed {
        h.count = count;
        h.sum = sum;
    }
    h
}

/// The zero bucket's kept count and midpoint.
fn zero_trim(h: &FloatHistogram, x: f64, [neg, pos]: [bool; 2], upper: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (-h.zero_threshold, h.zero_threshold);
    if neg && !pos {
        hi = 0.0;
    }
    if pos && !neg {
        lo = 0.0;
    }
    let c = h.zero_count;
    if upper {
        if x <= lo {
            return (0.0, 0.0);
        }
        if x >= hi {
            return (c, (lo + hi) / 2.0);
        }
        (c * (x - lo) / (hi - lo), (lo + x) / 2.0)
    } else {
        if x <= lo {
            return (c, (lo + hi) / 2.0);
        }
        if x >= hi {
            return (0.0, 0.0);
        }
        (c * (hi - x) / (hi - lo), (x + hi) / 2.0)
    }
}

/// The kept count and midpoint of a bucket that `x` falls inside.
fn bucket_trim(b: &Bucket, x: f64, upper: bool, positive: bool, linear: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinite_trim(b, x, upper);
    }
    let under = if x <= b.lower {
        0.0
    } else if x >= b.upper {
        b.count
    } else {
        b.count * fraction_below(b, x, linear)
    };
    if upper {
        (under, midpoint(b.lower, x, positive, linear))
    } else {
        (b.count - under, midpoint(x, b.upper, positive, linear))
    }
}

/// Buckets reaching to ±∞ (custom buckets): kept whole, interpolated from 0, or dropped.
fn infinite_trim(b: &Bucket, x: f64, upper: bool) -> (f64, f64) {
    let finite = |v: f64| if v.is_infinite() { 0.0 } else { v };
    if b.lower == f64::NEG_INFINITY {
        if upper {
            if x >= b.upper {
                return (b.count, 0.0);
            }
            if x > 0.0 && b.upper > 0.0 && b.upper.is_finite() {
                return (b.count * x / b.upper, x / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, x);
            }
            return (0.0, finite(b.upper));
        }
        if x >= 0.0 && b.upper > x && b.upper.is_finite() {
            return (b.count * (1.0 - x / b.upper), (x + b.upper) / 2.0);
        }
        return (0.0, finite(b.upper));
    }
    if upper {
        return (0.0, finite(b.lower));
    }
    if x >= b.lower {
        return (b.count, x);
    }
    (0.0, finite(b.lower))
}

/// Where the observations of a (part of a) bucket are assumed to sit.
fn midpoint(lo: f64, hi: f64, positive: bool, linear: bool) -> f64 {
    if lo.is_infinite() {
        if hi.is_infinite() {
            return 0.0;
        }
        return if hi > 0.0 { hi / 2.0 } else { hi };
    }
    if hi.is_infinite() {
        return lo;
    }
    if linear {
        return (lo + hi) / 2.0;
    }
    let g = (lo * hi).abs().sqrt();
    if positive { g } else { -g }
}
