//! Classic histograms: series carrying an `le` label, one per cumulative bucket, grouped by
//! their other labels. `histogram_quantile(φ, v)` and `histogram_fraction(lower, upper, v)`.

use super::annotations::Pos;
use super::error::QueryError;
use super::eval::Evaluator;
use super::hist::functions::{Stat, native_stat, with_label};
use super::instant::{InstantFn, format_g};
use super::labels::Labels;
use super::plan::Node;
use super::value::{StepSeries, Steps, Value, normalize};
use rayon::prelude::*;
use std::collections::HashMap;

/// The label holding a bucket's upper bound.
pub const BUCKET_LABEL: &str = "le";

/// Relative difference below which two adjacent bucket counts are taken as equal: such
/// differences come from float rounding (e.g. in `rate`), not from data.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// Buckets of one histogram: (upper bound, index of the bucket's series).
type Members = Vec<(f64, usize)>;

/// The bucket series (names dropped) and the histograms they form.
type Grouped = (Vec<StepSeries>, Vec<(Labels, Members)>);

/// Computes one value of a group from its buckets at one step (`k`: which φ).
type BucketFn<'a> = dyn Fn(usize, usize, &mut Vec<(f64, f64)>) -> (f64, Option<Fixed>) + Sync + 'a;

/// Where monotonicity had to be forced: lowest and highest bound lifted, largest drop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fixed {
    pub min_bucket: f64,
    pub max_bucket: f64,
    pub max_diff: f64,
}

/// The histograms of `input`: for each group (labels without `le` and `__name__`), its buckets
/// as (upper bound, series index). Series without a parsable `le` are reported and ignored.
fn histograms(
    ev: &Evaluator<'_>,
    input: Vec<StepSeries>,
    at: Option<(u32, u32)>,
) -> Result<Grouped, QueryError> {
    for s in &input {
        let le = s.labels.get(BUCKET_LABEL).unwrap_or("");
        if parse_bound(le).is_none() && !s.is_empty() {
            let name = s
                .labels
                .metric_name()
                .map(|n| format!(" for metric name {n:?}"))
                .unwrap_or_default();
            ev.annotations.borrow_mut().warn(
                format!("bucket label \"le\" is missing or has a malformed value of {le:?}{name}"),
                at,
            );
        }
    }
    // Two series differing only in their name would feed the same bucket twice.
    let input = normalize(
        input
            .into_iter()
            .map(|s| StepSeries {
                hists: Vec::new(),
                labels: s.labels.without_name(),
                values: s.values,
            })
            .collect(),
    )?;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<(f64, usize)>)> = Vec::new();
    for (i, s) in input.iter().enumerate() {
        let le = s.labels.get(BUCKET_LABEL).unwrap_or("");
        let Some(upper) = parse_bound(le) else {
            continue;
        };
        let key = s.labels.drop_names(&[BUCKET_LABEL.to_string()], true);
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push((upper, i));
    }
    Ok((input, groups))
}

/// `histogram_quantile`, `histogram_quantiles` and `histogram_fraction` at every step.
pub(crate) fn eval(
    ev: &Evaluator<'_>,
    func: InstantFn,
    args: &[Node],
    pos: &Pos,
    steps: Steps,
) -> Result<Value, QueryError> {
    let name = func.name();
    // (the histograms, the scalar arguments, the label of `histogram_quantiles`)
    let (input, scalars, label) = match (func, args) {
        (InstantFn::HistogramQuantiles, [v, Node::String(label), phis @ ..])
            if !phis.is_empty() =>
        {
            (v, phis, Some(label.as_str()))
        }
        (InstantFn::HistogramQuantile, [phi, v]) => (v, std::slice::from_ref(phi), None),
        (InstantFn::HistogramFraction, [_, _, v]) => (v, &args[..2], None),
        _ => return Err(QueryError::invalid(format!("wrong arguments to `{name}`"))),
    };
    let params = scalars
        .iter()
        .map(|a| ev.scalar(a, steps, name))
        .collect::<Result<Vec<_>, _>>()?;
    // Where the vector argument and the first scalar argument start.
    let (v_at, q_at) = match func {
        InstantFn::HistogramQuantiles => (pos.arg(0), 2),
        InstantFn::HistogramQuantile => (pos.arg(1), 0),
        _ => (pos.arg(2), 0),
    };
    if func != InstantFn::HistogramFraction {
        for (k, p) in params.iter().enumerate() {
            for &q in p {
                if !(0.0..=1.0).contains(&q) {
                    ev.annotations.borrow_mut().warn(
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            format_g(q)
                        ),
                        pos.arg(q_at + k),
                    );
                }
            }
        }
    }
    let mut input = ev.vector(input, steps, name)?;
    if let Some(name) = drop_mixed(&mut input) {
        let name = match name.as_str() {
            "" => String::new(),
            n => format!(" for metric name {n:?}"),
        };
        ev.annotations.borrow_mut().warn(
            format!("vector contains a mix of classic and native histograms{name}"),
            v_at,
        );
    }
    let native = native_part(ev, func, &input, &params, label, v_at);
    let (input, groups) = histograms(ev, without_hists(input), v_at)?;
    let mut out = Vec::new();
    if func == InstantFn::HistogramFraction {
        let f = |_: usize, step: usize, b: &mut Vec<(f64, f64)>| {
            (bucket_fraction(params[0][step], params[1][step], b), None)
        };
        out.extend(per_group(&input, &groups, steps, 0, &f));
    } else {
        for k in 0..params.len() {
            let f = |k: usize, step: usize, b: &mut Vec<(f64, f64)>| {
                bucket_quantile_fixed(params[k][step], b)
            };
            let mut series = per_group(&input, &groups, steps, k, &f);
            if let Some(label) = label {
                let value = params[k]
                    .first()
                    .map_or_else(String::new, |&q| openmetrics_float(q));
                for (s, _) in &mut series {
                    s.labels = with_label(&s.labels, label, &value);
                }
            }
            out.extend(series);
        }
    }
    let mut result = Vec::with_capacity(out.len());
    for (s, fixed) in out {
        if let Some(f) = fixed {
            ev.annotations.borrow_mut().info(
                format!(
                    "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile), from buckets {} to {}, with a max diff of {}",
                    format_g(f.min_bucket),
                    format_g(f.max_bucket),
                    format_g(f.max_diff)
                ),
                v_at,
            );
        }
        result.push(s);
    }
    result.extend(native);
    Ok(Value::Vector(normalize(result)?))
}

/// The quantiles or fractions of the native histograms in `input`.
fn native_part(
    ev: &Evaluator<'_>,
    func: InstantFn,
    input: &[StepSeries],
    params: &[Vec<f64>],
    label: Option<&str>,
    at: Option<(u32, u32)>,
) -> Vec<StepSeries> {
    if !input.iter().any(StepSeries::has_hists) {
        return Vec::new();
    }
    let mut ann = ev.annotations.borrow_mut();
    if func == InstantFn::HistogramFraction {
        let stat = Stat::Fraction(&params[0], &params[1]);
        return native_stat(stat, input, &mut ann, at);
    }
    let mut out = Vec::new();
    for phi in params {
        let mut series = native_stat(Stat::Quantile(phi), input, &mut ann, at);
        if let Some(label) = label {
            let value = phi
                .first()
                .map_or_else(String::new, |&q| openmetrics_float(q));
            for s in &mut series {
                s.labels = with_label(&s.labels, label, &value);
            }
        }
        out.extend(series);
    }
    out
}

/// Where a native histogram and classic buckets of the same series (labels but `le`) meet at
/// a step, Prometheus evaluates neither: both are removed. Returns the metric name of one
/// that met, if any did.
fn drop_mixed(input: &mut [StepSeries]) -> Option<String> {
    if !input.iter().any(StepSeries::has_hists) {
        return None;
    }
    let le = [BUCKET_LABEL.to_string()];
    let mut classic: HashMap<Labels, Vec<usize>> = HashMap::new();
    for (i, s) in input.iter().enumerate() {
        if s.labels.get(BUCKET_LABEL).and_then(parse_bound).is_some() {
            classic
                .entry(s.labels.drop_names(&le, false))
                .or_default()
                .push(i);
        }
    }
    let mut mixed = None;
    for n in 0..input.len() {
        if !input[n].has_hists() {
            continue;
        }
        let Some(members) = classic.get(&input[n].labels) else {
            continue;
        };
        for step in 0..input[n].hists.len() {
            let met = input[n].hist(step).is_some()
                && members.iter().any(|&m| input[m].values[step].is_some());
            if met {
                mixed = Some(input[n].labels.metric_name().unwrap_or_default().to_owned());
                input[n].hists[step] = None;
                members.iter().for_each(|&m| input[m].values[step] = None);
            }
        }
    }
    mixed
}

/// The float part of each series (classic buckets are floats).
fn without_hists(input: Vec<StepSeries>) -> Vec<StepSeries> {
    input
        .into_iter()
        .filter_map(|mut s| {
            if s.hists.is_empty() {
                return Some(s);
            }
            s.hists = Vec::new();
            s.values.iter().any(Option::is_some).then_some(s)
        })
        .collect()
}

/// The function `f(k, step, buckets)` of every group at every step.
fn per_group(
    input: &[StepSeries],
    groups: &[(Labels, Vec<(f64, usize)>)],
    steps: Steps,
    k: usize,
    f: &BucketFn<'_>,
) -> Vec<(StepSeries, Option<Fixed>)> {
    groups
        .par_iter()
        .map(|(labels, members)| {
            let mut buckets = Vec::with_capacity(members.len());
            let mut fixed: Option<Fixed> = None;
            let values = (0..steps.count)
                .map(|step| {
                    buckets.clear();
                    buckets.extend(
                        members
                            .iter()
                            .filter_map(|&(upper, i)| Some((upper, input[i].values[step]?))),
                    );
                    if buckets.is_empty() {
                        return None;
                    }
                    let (v, fx) = f(k, step, &mut buckets);
                    fixed = fixed.or(fx);
                    Some(v)
                })
                .collect();
            (
                StepSeries {
                    hists: Vec::new(),
                    labels: labels.clone(),
                    values,
                },
                fixed,
            )
        })
        .collect()
}

/// OpenMetrics' float text: integers with `.0`, `+Inf`, `-Inf`, `NaN`.
fn openmetrics_float(f: f64) -> String {
    let s = super::instant::format_f(f);
    if f.is_finite() && f.fract() == 0.0 && !s.contains('e') {
        format!("{s}.0")
    } else {
        s
    }
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
#[cfg(test)]
pub(crate) fn bucket_quantile(phi: f64, buckets: &mut Vec<(f64, f64)>) -> f64 {
    bucket_quantile_fixed(phi, buckets).0
}

/// [`bucket_quantile`], and where monotonicity had to be forced.
pub(crate) fn bucket_quantile_fixed(
    phi: f64,
    buckets: &mut Vec<(f64, f64)>,
) -> (f64, Option<Fixed>) {
    if phi.is_nan() {
        return (f64::NAN, None);
    }
    if phi < 0.0 {
        return (f64::NEG_INFINITY, None);
    }
    if phi > 1.0 {
        return (f64::INFINITY, None);
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return (f64::NAN, None);
    }
    coalesce(buckets);
    let fixed = ensure_monotonic(buckets);
    (quantile_of_monotonic(phi, buckets), fixed)
}

/// The φ-quantile of sorted, coalesced, monotonic buckets ending with +Inf.
fn quantile_of_monotonic(phi: f64, buckets: &[(f64, f64)]) -> f64 {
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
fn ensure_monotonic(buckets: &mut [(f64, f64)]) -> Option<Fixed> {
    let mut fixed: Option<Fixed> = None;
    let &(_, mut prev) = buckets.first()?;
    for b in &mut buckets[1..] {
        let curr = b.1;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            b.1 = prev;
            continue;
        }
        if curr < prev {
            b.1 = prev;
            let f = fixed.get_or_insert(Fixed {
                min_bucket: f64::INFINITY,
                max_bucket: f64::NEG_INFINITY,
                max_diff: 0.0,
            });
            f.min_bucket = f.min_bucket.min(b.0);
            f.max_bucket = f.max_bucket.max(b.0);
            f.max_diff = f.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    fixed
}

/// Prometheus' `BucketFraction`: the estimated fraction of observations in
/// `[lower, upper]`, interpolating linearly within buckets.
fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<(f64, f64)>) -> f64 {
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    coalesce(buckets);
    let count = buckets[buckets.len() - 1].1;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if buckets[0].0 <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, &(upper_bound, bcount)) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].0;
        }
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                bcount
            } else {
                rank + (bcount - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            (lower_rank, lower_set) = (rank, true);
        }
        if !upper_set && lower_bound >= upper {
            (upper_rank, upper_set) = (rank, true);
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            (lower_rank, lower_set) = (interpolate(lower), true);
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            (upper_rank, upper_set) = (interpolate(upper), true);
        }
        if lower_set && upper_set {
            break;
        }
        rank = bcount;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
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
