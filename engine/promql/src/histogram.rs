//! `histogram_quantile(φ, v)` over classic histograms: series carrying an `le` label, one per
//! cumulative bucket, grouped by their other labels.

use super::error::QueryError;
use super::labels::Labels;
use super::value::{StepSeries, normalize};
use rayon::prelude::*;
use std::collections::HashMap;

/// The label holding a bucket's upper bound.
pub const BUCKET_LABEL: &str = "le";

/// Relative difference below which two adjacent bucket counts are taken as equal: such
/// differences come from float rounding (e.g. in `rate`), not from data.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// Groups the bucket series of `input` into histograms (labels without `le` and `__name__`)
/// and computes the φ-quantile of each at every step. Series without a parsable `le` are
/// ignored, as in Prometheus.
pub(crate) fn histogram_quantile(
    phi: f64,
    input: Vec<StepSeries>,
    steps: usize,
) -> Result<Vec<StepSeries>, QueryError> {
    // Two series differing only in their name would feed the same bucket twice.
    let input = normalize(
        input
            .into_iter()
            .map(|s| StepSeries {
                labels: s.labels.without_name(),
                values: s.values,
            })
            .collect(),
    )?;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<(f64, usize)>)> = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let Some(upper) = s.labels.get(BUCKET_LABEL).and_then(parse_bound) else {
            continue;
        };
        let key = s.labels.drop_names(&[BUCKET_LABEL.to_string()], true);
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push((upper, i));
    }
    Ok(groups
        .into_par_iter()
        .map(|(labels, members)| {
            let mut buckets = Vec::with_capacity(members.len());
            let values = (0..steps)
                .map(|step| {
                    buckets.clear();
                    buckets.extend(
                        members
                            .iter()
                            .filter_map(|&(upper, i)| Some((upper, input[i].values[step]?))),
                    );
                    (!buckets.is_empty()).then(|| bucket_quantile(phi, &mut buckets))
                })
                .collect();
            StepSeries { labels, values }
        })
        .collect())
}

/// Parses an `le` value the way Go's `strconv.ParseFloat` reads the usual spellings
/// (`0.1`, `.2`, `1e0`, `+Inf`, `+inf`).
fn parse_bound(le: &str) -> Option<f64> {
    le.parse::<f64>().ok()
}

/// Prometheus' `BucketQuantile` over `(upper bound, cumulative count)` pairs, which it sorts
/// and may adjust in place.
///
/// Linear interpolation inside the bucket holding rank φ × total; a lowest bucket with a
/// positive bound starts at 0, one with a bound ≤ 0 answers with that bound; a rank in the +Inf
/// bucket answers with the highest finite bound. NaN when φ is NaN, there is no +Inf bucket,
/// fewer than two buckets or no observations; -Inf / +Inf for φ < 0 / φ > 1.
pub(crate) fn bucket_quantile(phi: f64, buckets: &mut Vec<(f64, f64)>) -> f64 {
    if phi.is_nan() {
        return f64::NAN;
    }
    if phi < 0.0 {
        return f64::NEG_INFINITY;
    }
    if phi > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    coalesce(buckets);
    ensure_monotonic(buckets);
    let n = buckets.len();
    if n < 2 {
        return f64::NAN;
    }
    let observations = buckets[n - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = phi * observations;
    let b = buckets[..n - 1].partition_point(|&(_, count)| count < rank);
    if b == n - 1 {
        return buckets[n - 2].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (end, mut count) = buckets[b];
    let mut start = 0.0;
    if b > 0 {
        start = buckets[b - 1].0;
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

/// Merges buckets with the same bound (`le="0.2"` and `le="2e-1"`) by adding their counts.
fn coalesce(buckets: &mut Vec<(f64, f64)>) {
    buckets.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
}

/// Makes cumulative counts non-decreasing: differences within float rounding are ignored in
/// either direction, real decreases are lifted to the running maximum. Non-monotonic buckets
/// arise from recording rules racing scrapes; the bucket search needs monotonicity.
fn ensure_monotonic(buckets: &mut [(f64, f64)]) {
    let mut prev = buckets[0].1;
    for b in &mut buckets[1..] {
        let curr = b.1;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) || curr < prev {
            b.1 = prev;
            continue;
        }
        prev = curr;
    }
}

/// Relative float equality as Prometheus' `almost.Equal`.
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let min_normal = f64::MIN_POSITIVE;
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < epsilon * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(phi: f64, buckets: &[(f64, f64)]) -> f64 {
        bucket_quantile(phi, &mut buckets.to_vec())
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn interpolates_linearly_inside_the_bucket() {
        // Buckets 0 / 2 / 4 / 6 / +Inf holding 0, 10, 20, 30, 30: the quantiles 1/6, 1/2, 5/6
        // fall in the middle of buckets (Prometheus' histograms.test).
        let b = [
            (0.0, 0.0),
            (2.0, 10.0),
            (4.0, 20.0),
            (6.0, 30.0),
            (INF, 30.0),
        ];
        assert!((q(1.0 / 6.0, &b) - 1.0).abs() < 1e-12);
        assert_eq!(q(0.5, &b), 3.0);
        assert!((q(5.0 / 6.0, &b) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn lowest_bucket_rule() {
        // Positive lowest bound: interpolate from 0.
        let b = [(0.1, 50.0), (0.2, 70.0), (1.0, 110.0), (INF, 120.0)];
        assert!((q(0.2, &b) - 0.048).abs() < 1e-12);
        // Bound ≤ 0: that bound is the answer.
        let b = [(-0.2, 10.0), (-0.1, 20.0), (0.3, 20.0), (INF, 30.0)];
        assert_eq!(q(0.2, &b), -0.2);
        assert_eq!(q(0.0, &b), -0.2);
    }

    #[test]
    fn inf_bucket_answers_with_the_highest_finite_bound() {
        let b = [(0.1, 50.0), (0.2, 70.0), (1.0, 110.0), (INF, 120.0)];
        assert_eq!(q(0.99, &b), 1.0);
        assert_eq!(q(1.0, &b), 1.0);
    }

    #[test]
    fn phi_out_of_range_and_missing_inf() {
        let b = [(0.1, 5.0), (INF, 10.0)];
        assert_eq!(q(-0.1, &b), f64::NEG_INFINITY);
        assert_eq!(q(1.01, &b), INF);
        assert!(q(f64::NAN, &b).is_nan());
        assert!(q(0.5, &[(0.1, 5.0), (1.0, 10.0)]).is_nan());
        assert!(q(0.5, &[(INF, 10.0)]).is_nan());
        assert!(q(0.5, &[(0.1, 0.0), (INF, 0.0)]).is_nan());
        // φ is checked before the buckets, as in Prometheus.
        assert_eq!(q(2.0, &[(0.1, 5.0)]), INF);
    }

    #[test]
    fn non_monotonic_buckets_are_lifted() {
        // Prometheus' nonmonotonic_bucket case at 50 m.
        let b = [
            (0.1, 20.0),
            (1.0, 10.0),
            (10.0, 50.0),
            (100.0, 40.0),
            (1000.0, 90.0),
            (INF, 80.0),
        ];
        assert!((q(0.01, &b) - 0.0045).abs() < 1e-12);
        assert!((q(0.5, &b) - 8.5).abs() < 1e-12);
        assert!((q(0.99, &b) - 979.75).abs() < 1e-9);
    }

    #[test]
    fn equal_bounds_are_merged_and_order_does_not_matter() {
        let b = [(INF, 4.0), (0.2, 1.0), (0.1, 1.0), (0.2, 1.0)];
        // Merged: 0.1 → 1, 0.2 → 2, +Inf → 4. Rank 2 (φ = 0.5) is reached at 0.2.
        assert_eq!(q(0.5, &b), 0.2);
        assert_eq!(q(0.25, &b), 0.1);
    }

    #[test]
    fn le_spellings() {
        for (s, v) in [
            ("0.1", 0.1),
            (".2", 0.2),
            ("1e0", 1.0),
            ("+Inf", INF),
            ("+inf", INF),
        ] {
            assert_eq!(parse_bound(s), Some(v), "{s}");
        }
        assert_eq!(parse_bound("fast"), None);
    }
}
