//! Histogram arithmetic with Prometheus' rules: sums and differences reconcile schemas (to
//! the coarser one), zero buckets (to the wider one, never inside a populated bucket) and
//! custom bounds (to the bounds both share); a histogram with custom buckets and one with
//! exponential buckets do not mix.

use super::{FloatHistogram, target_index};
use crate::native::CounterResetHint;

/// Two histograms that cannot be added: one has custom buckets, the other exponential ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incompatible;

/// What an addition noticed besides its result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddNotes {
    /// One side said "counter reset", the other "no counter reset".
    pub counter_reset_collision: bool,
    /// Custom bounds differed and were reduced to the ones both share.
    pub bounds_reconciled: bool,
}

impl FloatHistogram {
    /// Scales every count and the sum (a negative factor makes a gauge).
    pub fn mul(&mut self, factor: f64) {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        self.positive.iter_mut().for_each(|b| b.1 *= factor);
        self.negative.iter_mut().for_each(|b| b.1 *= factor);
        if factor < 0.0 {
            self.hint = CounterResetHint::Gauge;
        }
    }

    /// Divides every count and the sum; dividing by zero drops the buckets.
    pub fn div(&mut self, divisor: f64) {
        self.zero_count /= divisor;
        self.count /= divisor;
        self.sum /= divisor;
        if divisor == 0.0 {
            self.positive.clear();
            self.negative.clear();
            return;
        }
        self.positive.iter_mut().for_each(|b| b.1 /= divisor);
        self.negative.iter_mut().for_each(|b| b.1 /= divisor);
        if divisor < 0.0 {
            self.hint = CounterResetHint::Gauge;
        }
    }

    /// `self += other`.
    pub fn add(&mut self, other: &FloatHistogram) -> Result<AddNotes, Incompatible> {
        self.combine(other, 1.0)
    }

    /// `self -= other`.
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<AddNotes, Incompatible> {
        self.combine(other, -1.0)
    }

    fn combine(&mut self, other: &FloatHistogram, sign: f64) -> Result<AddNotes, Incompatible> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(Incompatible);
        }
        let mut notes = AddNotes {
            counter_reset_collision: self.adjust_counter_reset(other),
            ..AddNotes::default()
        };
        self.count += sign * other.count;
        self.sum += sign * other.sum;
        if self.uses_custom_buckets() {
            if self.custom_values == other.custom_values {
                self.positive = merge(&self.positive, &other.positive, sign);
            } else {
                notes.bounds_reconciled = true;
                let shared = intersect(&self.custom_values, &other.custom_values);
                let mine = remap_custom(&self.positive, &self.custom_values, &shared);
                let theirs = remap_custom(&other.positive, &other.custom_values, &shared);
                self.positive = merge(&mine, &theirs, sign);
                self.custom_values = shared.into();
            }
            return Ok(notes);
        }
        let other_zero = self.reconcile_zero_buckets(other);
        self.zero_count += sign * other_zero;
        let mut other = std::borrow::Cow::Borrowed(other);
        if other.schema < self.schema {
            self.reduce_resolution(other.schema);
        } else if other.schema > self.schema {
            other.to_mut().reduce_resolution(self.schema);
        }
        let zt = self.zero_threshold;
        let keep = |b: &&(i32, f64)| other.bound(b.0) > zt;
        let pos: Vec<_> = other.positive.iter().filter(keep).copied().collect();
        let neg: Vec<_> = other.negative.iter().filter(keep).copied().collect();
        self.positive = merge(&self.positive, &pos, sign);
        self.negative = merge(&self.negative, &neg, sign);
        Ok(notes)
    }

    /// Prometheus' `adjustCounterReset`: the hint of a sum or difference; true on a collision
    /// of "reset" and "not reset".
    pub fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        match (self.hint, other.hint) {
            (a, b) if a == b => false,
            (Gauge, _) => false,
            (_, Gauge) => {
                self.hint = Gauge;
                false
            }
            (Unknown, _) => false,
            (_, Unknown) => {
                self.hint = Unknown;
                false
            }
            _ => {
                self.hint = Unknown;
                true
            }
        }
    }

    /// Merges buckets into those of the coarser `schema` (no-op unless coarser).
    pub fn reduce_resolution(&mut self, schema: i32) {
        if schema >= self.schema || self.uses_custom_buckets() {
            return;
        }
        let from = self.schema;
        let reduce = |b: &[(i32, f64)]| {
            let mut out: Vec<(i32, f64)> = Vec::with_capacity(b.len());
            for &(i, c) in b {
                let t = target_index(i, from, schema);
                match out.last_mut() {
                    Some(last) if last.0 == t => last.1 += c,
                    _ => out.push((t, c)),
                }
            }
            out
        };
        self.positive = reduce(&self.positive);
        self.negative = reduce(&self.negative);
        self.schema = schema;
    }

    /// A copy at the coarser of its own schema and `schema`.
    pub fn copy_to_schema(&self, schema: i32) -> FloatHistogram {
        let mut h = self.clone();
        h.reduce_resolution(schema);
        h
    }

    /// The zero count this histogram would have with a zero bucket of at least `larger`, and
    /// the threshold that takes (widened to a bucket's edge when `larger` falls inside a
    /// populated bucket).
    pub fn zero_count_for_larger_threshold(&self, larger: f64) -> (f64, f64) {
        let mut larger = larger;
        if larger == self.zero_threshold {
            return (self.zero_count, larger);
        }
        'outer: loop {
            let mut zero = self.zero_count;
            for &(i, c) in &self.positive {
                let (lower, upper) = (self.bound(i - 1), self.bound(i));
                if lower >= larger {
                    break;
                }
                zero += c;
                if upper > larger {
                    if c != 0.0 {
                        larger = upper;
                    }
                    break;
                }
            }
            for &(i, c) in &self.negative {
                let (lower, upper) = (self.bound(i - 1), self.bound(i));
                if lower >= larger {
                    break;
                }
                zero += c;
                if upper > larger {
                    if c != 0.0 {
                        larger = upper;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (zero, larger);
        }
    }

    /// Widens the zero buckets of `self` and (virtually) of `other` to one threshold; returns
    /// the zero count `other` has at it.
    pub fn reconcile_zero_buckets(&mut self, other: &FloatHistogram) -> f64 {
        let (mut other_zero, mut other_threshold) = (other.zero_count, other.zero_threshold);
        while other_threshold != self.zero_threshold {
            if self.zero_threshold > other_threshold {
                (other_zero, other_threshold) =
                    other.zero_count_for_larger_threshold(self.zero_threshold);
            }
            if other_threshold > self.zero_threshold {
                let (zero, threshold) = self.zero_count_for_larger_threshold(other_threshold);
                self.zero_count = zero;
                self.zero_threshold = threshold;
                self.trim_zero_bucket();
            }
        }
        other_zero
    }

    /// Drops the buckets inside the zero bucket (their counts are in the zero count).
    pub fn trim_zero_bucket(&mut self) {
        let (zt, schema) = (self.zero_threshold, self.schema);
        let outside = |b: &(i32, f64)| super::exponential_bound(b.0 - 1, schema) >= zt;
        self.positive.retain(outside);
        self.negative.retain(outside);
    }

    /// Moves the buckets inside a zero bucket widened to `threshold` into the zero count
    /// (plain sums: for a Kahan compensation term that follows its sum's layout).
    pub fn widen_zero_bucket(&mut self, threshold: f64) {
        if threshold <= self.zero_threshold {
            return;
        }
        let schema = self.schema;
        let inside = |b: &&(i32, f64)| super::exponential_bound(b.0 - 1, schema) < threshold;
        let moved: f64 = self
            .positive
            .iter()
            .filter(inside)
            .map(|b| b.1)
            .sum::<f64>()
            + self
                .negative
                .iter()
                .filter(inside)
                .map(|b| b.1)
                .sum::<f64>();
        self.zero_count += moved;
        self.zero_threshold = threshold;
        self.trim_zero_bucket();
    }

    /// Whether `self` shows a counter reset since `prev` (Prometheus' `DetectReset`).
    pub fn detect_reset(&self, prev: &FloatHistogram) -> bool {
        match self.hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            _ => {}
        }
        if self.count < prev.count {
            return true;
        }
        if self.uses_custom_buckets() {
            if !prev.uses_custom_buckets() {
                return true;
            }
            if self.custom_values != prev.custom_values {
                let shared = intersect(&self.custom_values, &prev.custom_values);
                let cur = remap_custom(&self.positive, &self.custom_values, &shared);
                let old = remap_custom(&prev.positive, &prev.custom_values, &shared);
                return side_reset(&cur, &old);
            }
        }
        if self.schema > prev.schema || self.zero_threshold < prev.zero_threshold {
            return true;
        }
        let (prev_zero, threshold) = prev.zero_count_for_larger_threshold(self.zero_threshold);
        if threshold != self.zero_threshold || self.zero_count < prev_zero {
            return true;
        }
        let prev = prev.copy_to_schema(self.schema);
        let above = |h: &FloatHistogram, b: &[(i32, f64)]| -> Vec<(i32, f64)> {
            b.iter()
                .filter(|x| h.uses_custom_buckets() || h.bound(x.0) > self.zero_threshold)
                .copied()
                .collect()
        };
        side_reset(&above(self, &self.positive), &above(&prev, &prev.positive))
            || side_reset(&above(self, &self.negative), &above(&prev, &prev.negative))
    }
}

/// Whether some bucket of `prev` holds more than the same bucket of `cur` (a bucket missing
/// from `cur` holds nothing).
fn side_reset(cur: &[(i32, f64)], prev: &[(i32, f64)]) -> bool {
    let mut j = 0;
    for &(i, c) in prev {
        while j < cur.len() && cur[j].0 < i {
            j += 1;
        }
        let now = match cur.get(j) {
            Some(&(k, v)) if k == i => v,
            _ => 0.0,
        };
        if now < c {
            return true;
        }
    }
    false
}

/// `a + sign·b`, bucket by bucket.
fn merge(a: &[(i32, f64)], b: &[(i32, f64)], sign: f64) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                out.push((x.0, x.1 + sign * y.1));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                out.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                out.push((y.0, sign * y.1));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// The bounds both lists have.
pub fn intersect(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().copied().filter(|x| b.contains(x)).collect()
}

/// Buckets of custom bounds `from` moved onto the coarser bounds `to` (a subset of `from`):
/// each lands in the bucket of the first bound at or above its own upper bound.
pub fn remap_custom(buckets: &[(i32, f64)], from: &[f64], to: &[f64]) -> Vec<(i32, f64)> {
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(buckets.len());
    for &(i, c) in buckets {
        let upper = usize::try_from(i)
            .ok()
            .and_then(|i| from.get(i))
            .copied()
            .unwrap_or(f64::INFINITY);
        let t = to.partition_point(|&b| b < upper) as i32;
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += c,
            _ => out.push((t, c)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(schema: i32, pos: &[(i32, f64)]) -> FloatHistogram {
        let count = pos.iter().map(|b| b.1).sum();
        FloatHistogram {
            schema,
            count,
            sum: count,
            positive: pos.to_vec(),
            ..FloatHistogram::default()
        }
    }

    #[test]
    fn adding_reduces_to_the_coarser_schema() {
        let mut a = h(1, &[(1, 1.0), (2, 2.0), (3, 4.0)]);
        let b = h(0, &[(1, 10.0)]);
        a.add(&b).unwrap();
        assert_eq!(a.schema, 0);
        assert_eq!(a.positive, [(1, 13.0), (2, 4.0)]);
        assert_eq!(a.count, 17.0);
    }

    #[test]
    fn custom_and_exponential_do_not_mix_and_bounds_reconcile() {
        let mut a = h(0, &[(1, 1.0)]);
        let mut c = h(-53, &[(0, 1.0), (1, 2.0), (2, 3.0)]);
        c.custom_values = vec![1.0, 2.0].into();
        assert_eq!(a.add(&c), Err(Incompatible));
        let mut d = h(-53, &[(0, 5.0), (1, 1.0)]);
        d.custom_values = vec![2.0].into();
        let notes = c.add(&d).unwrap();
        assert!(notes.bounds_reconciled);
        assert_eq!(&*c.custom_values, &[2.0]);
        assert_eq!(c.positive, [(0, 8.0), (1, 4.0)]);
    }

    #[test]
    fn resets_are_detected_per_bucket() {
        let prev = h(0, &[(1, 5.0), (2, 5.0)]);
        let grown = h(0, &[(1, 6.0), (2, 5.0), (3, 1.0)]);
        assert!(!grown.detect_reset(&prev));
        let dropped = h(0, &[(1, 4.0), (2, 9.0)]);
        assert!(dropped.detect_reset(&prev));
    }

    #[test]
    fn zero_threshold_widens_to_a_bucket_edge() {
        let a = h(0, &[(0, 3.0), (1, 2.0)]); // (0.5, 1], (1, 2]
        let (zero, t) = a.zero_count_for_larger_threshold(0.7);
        assert_eq!((zero, t), (3.0, 1.0));
    }
}
