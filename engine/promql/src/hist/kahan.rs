//! Compensated (Kahan–Neumaier) sums and means of histograms, as Prometheus' `KahanAdd`:
//! `sum`, `avg`, `sum_over_time` and `avg_over_time` of histograms whose counts differ by many
//! orders of magnitude keep the small ones. A mean switches to the incremental form when the
//! running sum would overflow.

use super::FloatHistogram;
use crate::stats::kahan_inc;
use strata_model::float_histogram::{AddNotes, Incompatible, intersect, remap_custom};

/// A running sum and its compensation term, which always has the sum's bucket layout.
#[derive(Debug, Clone)]
pub(crate) struct KahanSum {
    sum: FloatHistogram,
    c: FloatHistogram,
}

impl KahanSum {
    pub(crate) fn new(first: &FloatHistogram) -> KahanSum {
        let mut c = first.clone();
        c.zero_count = 0.0;
        c.count = 0.0;
        c.sum = 0.0;
        c.positive.iter_mut().for_each(|b| b.1 = 0.0);
        c.negative.iter_mut().for_each(|b| b.1 = 0.0);
        KahanSum {
            sum: first.clone(),
            c,
        }
    }

    /// `self += h`.
    pub(crate) fn add(&mut self, h: &FloatHistogram) -> Result<AddNotes, Incompatible> {
        let (sum, c) = (&mut self.sum, &mut self.c);
        if sum.uses_custom_buckets() != h.uses_custom_buckets() {
            return Err(Incompatible);
        }
        let mut notes = AddNotes {
            counter_reset_collision: sum.adjust_counter_reset(h),
            ..AddNotes::default()
        };
        let mut other = std::borrow::Cow::Borrowed(h);
        if sum.uses_custom_buckets() {
            if sum.custom_values != h.custom_values {
                notes.bounds_reconciled = true;
                let shared = intersect(&sum.custom_values, &h.custom_values);
                sum.positive = remap_custom(&sum.positive, &sum.custom_values, &shared);
                c.positive = remap_custom(&c.positive, &c.custom_values, &shared);
                let theirs = remap_custom(&h.positive, &h.custom_values, &shared);
                let shared: std::sync::Arc<[f64]> = shared.into();
                sum.custom_values = shared.clone();
                c.custom_values = shared.clone();
                let o = other.to_mut();
                o.positive = theirs;
                o.custom_values = shared;
            }
        } else {
            let other_zero = sum.reconcile_zero_buckets(h);
            c.widen_zero_bucket(sum.zero_threshold);
            (sum.zero_count, c.zero_count) = kahan_inc(other_zero, sum.zero_count, c.zero_count);
            if h.schema < sum.schema {
                sum.reduce_resolution(h.schema);
                c.reduce_resolution(h.schema);
            } else if h.schema > sum.schema {
                other.to_mut().reduce_resolution(sum.schema);
            }
        }
        (sum.count, c.count) = kahan_inc(other.count, sum.count, c.count);
        (sum.sum, c.sum) = kahan_inc(other.sum, sum.sum, c.sum);
        let keep =
            |b: &&(i32, f64)| sum.uses_custom_buckets() || other.bound(b.0) > sum.zero_threshold;
        let pos: Vec<(i32, f64)> = other.positive.iter().filter(keep).copied().collect();
        let neg: Vec<(i32, f64)> = other.negative.iter().filter(keep).copied().collect();
        merge(&mut sum.positive, &mut c.positive, &pos);
        merge(&mut sum.negative, &mut c.negative, &neg);
        Ok(notes)
    }

    /// The compensated sum.
    pub(crate) fn value(mut self) -> FloatHistogram {
        let _ = self.sum.add(&self.c);
        self.sum
    }

    fn scale(&mut self, f: impl Fn(&mut FloatHistogram)) {
        f(&mut self.sum);
        f(&mut self.c);
    }
}

/// Adds `other` into the aligned `sum` and `c`.
fn merge(sum: &mut Vec<(i32, f64)>, c: &mut Vec<(i32, f64)>, other: &[(i32, f64)]) {
    let mut s_out = Vec::with_capacity(sum.len().max(other.len()));
    let mut c_out = Vec::with_capacity(s_out.capacity());
    let (mut i, mut j) = (0, 0);
    while i < sum.len() || j < other.len() {
        match (sum.get(i), other.get(j)) {
            (Some(a), Some(b)) if a.0 == b.0 => {
                let (s, k) = kahan_inc(b.1, a.1, c[i].1);
                s_out.push((a.0, s));
                c_out.push((a.0, k));
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.0 < b.0 => {
                s_out.push(*a);
                c_out.push(c[i]);
                i += 1;
            }
            (Some(a), None) => {
                s_out.push(*a);
                c_out.push(c[i]);
                i += 1;
            }
            (_, Some(b)) => {
                s_out.push(*b);
                c_out.push((b.0, 0.0));
                j += 1;
            }
            (None, None) => break,
        }
    }
    *sum = s_out;
    *c = c_out;
}

/// A running mean: the compensated sum divided at the end, or — once that sum would
/// overflow — the incremental mean.
#[derive(Debug, Clone)]
pub(crate) struct KahanMean {
    acc: KahanSum,
    n: f64,
    incremental: bool,
}

impl KahanMean {
    pub(crate) fn new(first: &FloatHistogram) -> KahanMean {
        KahanMean {
            acc: KahanSum::new(first),
            n: 1.0,
            incremental: false,
        }
    }

    pub(crate) fn add(&mut self, h: &FloatHistogram) -> Result<AddNotes, Incompatible> {
        self.n += 1.0;
        let n = self.n;
        if !self.incremental {
            let mut trial = self.acc.clone();
            let notes = trial.add(h)?;
            if !trial.sum.has_overflow() {
                self.acc = trial;
                return Ok(notes);
            }
            self.incremental = true;
            self.acc.scale(|x| x.div(n - 1.0));
        }
        let q = (n - 1.0) / n;
        self.acc.scale(|x| x.mul(q));
        let mut part = h.clone();
        part.div(n);
        self.acc.add(&part)
    }

    pub(crate) fn value(mut self) -> FloatHistogram {
        if !self.incremental {
            let n = self.n;
            self.acc.scale(|x| x.div(n));
        }
        self.acc.value()
    }
}
