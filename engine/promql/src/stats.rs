//! Float helpers shared by range functions and aggregations, matching Prometheus' arithmetic
//! (Kahan–Neumaier sums, overflow-safe means, NaN-aware min/max, quantile interpolation) so
//! results agree with Prometheus to the last bit where the order of additions is the same.

use std::cmp::Ordering;

/// One step of Kahan–Neumaier summation: adds `inc` to `(sum, c)`, returns the new pair.
/// The compensation is reset when the sum overflows, so an infinite sum stays infinite
/// instead of turning into NaN through `inf - inf`.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A compensated sum.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sum {
    sum: f64,
    c: f64,
}

impl Sum {
    pub(crate) fn add(&mut self, v: f64) {
        (self.sum, self.c) = kahan_inc(v, self.sum, self.c);
    }

    pub(crate) fn value(&self) -> f64 {
        // An infinite sum has a meaningless compensation.
        if self.sum.is_infinite() {
            self.sum
        } else {
            self.sum + self.c
        }
    }
}

/// An arithmetic mean: a direct compensated sum while it stays finite, then (on overflow) an
/// incremental mean, which cannot overflow. Direct is more accurate, incremental is safe.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mean {
    count: f64,
    sum: f64,
    c: f64,
    mean: f64,
    incremental: bool,
}

impl Mean {
    pub(crate) fn add(&mut self, v: f64) {
        self.count += 1.0;
        if self.count == 1.0 {
            self.sum = v;
            return;
        }
        if !self.incremental {
            let (s, c) = kahan_inc(v, self.sum, self.c);
            if !s.is_infinite() {
                (self.sum, self.c) = (s, c);
                return;
            }
            self.incremental = true;
            self.mean = self.sum / (self.count - 1.0);
            self.c /= self.count - 1.0;
        }
        let q = (self.count - 1.0) / self.count;
        (self.mean, self.c) = kahan_inc(v / self.count, q * self.mean, q * self.c);
    }

    pub(crate) fn value(&self) -> f64 {
        if self.incremental {
            self.mean + self.c
        } else {
            self.sum / self.count + self.c / self.count
        }
    }
}

/// `max` where NaN loses to any number (the result is NaN only if every input is).
pub(crate) fn nan_max(acc: f64, v: f64) -> f64 {
    if acc < v || acc.is_nan() { v } else { acc }
}

/// `min` where NaN loses to any number.
pub(crate) fn nan_min(acc: f64, v: f64) -> f64 {
    if acc > v || acc.is_nan() { v } else { acc }
}

/// Prometheus' value order for quantiles: NaN first, then ascending.
fn nan_first(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// The φ-quantile of `values` (sorted in place), interpolating linearly between the two
/// nearest ranks; NaN for no values or φ = NaN, ∓Inf for φ outside [0, 1].
pub(crate) fn quantile(phi: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || phi.is_nan() {
        return f64::NAN;
    }
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    values.sort_unstable_by(nan_first);
    let n = values.len() as f64;
    let rank = phi * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_recovers_what_naive_summation_loses() {
        let mut s = Sum::default();
        for v in [1e100, 1.0, -1e100] {
            s.add(v);
        }
        assert_eq!(s.value(), 1.0);
        let mut s = Sum::default();
        s.add(f64::INFINITY);
        s.add(1.0);
        assert_eq!(s.value(), f64::INFINITY);
    }

    #[test]
    fn mean_switches_to_incremental_on_overflow() {
        let mut m = Mean::default();
        for v in [f64::MAX, f64::MAX, f64::MAX] {
            m.add(v);
        }
        // A plain sum would be +Inf; the incremental mean stays within rounding of MAX.
        assert!(m.value().is_finite() && (f64::MAX - m.value()) / f64::MAX < 1e-15);
        let mut m = Mean::default();
        for v in [52.0; 13] {
            m.add(v);
        }
        assert_eq!(m.value(), 52.0);
    }

    #[test]
    fn quantile_interpolates_and_handles_edges() {
        assert_eq!(quantile(0.75, &mut [0.0, 1.0, 4.0]), 2.5);
        assert_eq!(quantile(0.8, &mut [1.0, 0.0]), 0.8);
        assert_eq!(quantile(-1.0, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
        // NaN sorts first.
        assert_eq!(quantile(1.0, &mut [f64::NAN, 3.0]), 3.0);
    }

    #[test]
    fn nan_loses_in_min_and_max() {
        assert_eq!([f64::NAN, 1.0, 3.0].into_iter().reduce(nan_max), Some(3.0));
        assert_eq!([2.0, f64::NAN, 1.0].into_iter().reduce(nan_min), Some(1.0));
        assert!(
            [f64::NAN, f64::NAN]
                .into_iter()
                .reduce(nan_min)
                .unwrap()
                .is_nan()
        );
    }
}
