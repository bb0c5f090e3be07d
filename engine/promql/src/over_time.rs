//! The math of range-vector functions (`rate`, `increase`, `*_over_time`, `deriv`, …) with
//! Prometheus semantics, over one window of one series.
//!
//! A function sees the samples of one series inside one window `(end - range, end]` (left-open,
//! as in Prometheus 3), staleness markers already removed; `functions` slides that window over
//! every step of a query.

use super::stats::{Mean, Sum, kahan_inc, nan_max, nan_min, quantile};

/// Declares the range functions: variant, PromQL name.
macro_rules! range_fns {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum RangeFn {
            $($variant,)*
        }

        impl RangeFn {
            pub(crate) fn from_name(name: &str) -> Option<RangeFn> {
                match name {
                    $($name => Some(RangeFn::$variant),)*
                    _ => None,
                }
            }

            /// The PromQL name.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(RangeFn::$variant => $name,)*
                }
            }
        }
    };
}

range_fns! {
    Rate => "rate",
    Increase => "increase",
    Delta => "delta",
    Irate => "irate",
    Idelta => "idelta",
    Resets => "resets",
    Changes => "changes",
    Deriv => "deriv",
    PredictLinear => "predict_linear",
    DoubleExponentialSmoothing => "double_exponential_smoothing",
    AvgOverTime => "avg_over_time",
    MinOverTime => "min_over_time",
    MaxOverTime => "max_over_time",
    SumOverTime => "sum_over_time",
    CountOverTime => "count_over_time",
    LastOverTime => "last_over_time",
    FirstOverTime => "first_over_time",
    QuantileOverTime => "quantile_over_time",
    StddevOverTime => "stddev_over_time",
    StdvarOverTime => "stdvar_over_time",
    MadOverTime => "mad_over_time",
    PresentOverTime => "present_over_time",
    AbsentOverTime => "absent_over_time",
    TsOfMinOverTime => "ts_of_min_over_time",
    TsOfMaxOverTime => "ts_of_max_over_time",
    TsOfLastOverTime => "ts_of_last_over_time",
    TsOfFirstOverTime => "ts_of_first_over_time",
}

impl RangeFn {
    /// Which argument is the range vector (`quantile_over_time(φ, v)` has it second).
    pub(crate) fn range_arg_index(self) -> usize {
        usize::from(self == RangeFn::QuantileOverTime)
    }

    /// `last_over_time` and `first_over_time` act like selectors and keep `__name__`; every
    /// other function derives a new quantity and drops it.
    pub(crate) fn keeps_name(self) -> bool {
        matches!(self, RangeFn::LastOverTime | RangeFn::FirstOverTime)
    }

    pub(crate) fn is_counter_rate(self) -> bool {
        matches!(self, RangeFn::Rate | RangeFn::Increase)
    }
}

/// The samples of one series in one window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window<'a> {
    pub ts: &'a [i64],
    pub vs: &'a [f64],
    /// Exclusive lower bound of the window.
    pub start_ms: i64,
    /// Inclusive upper bound of the window.
    pub end_ms: i64,
}

/// The scalar arguments of a function at one step, and the step's time.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Params {
    /// φ of `quantile_over_time`, t of `predict_linear`, the smoothing factor of
    /// `double_exponential_smoothing`.
    pub a: f64,
    /// The trend factor of `double_exponential_smoothing`.
    pub b: f64,
    /// The evaluation time of the step (`predict_linear` predicts from it).
    pub t_ms: i64,
}

impl Params {
    #[cfg(test)]
    pub(crate) fn one(a: f64) -> Params {
        Params {
            a,
            ..Params::default()
        }
    }
}

/// Applies `func` to one window. `may_have_resets` set to false lets counter functions skip
/// scanning for resets (the caller knows there are none).
pub(crate) fn apply(func: RangeFn, w: Window<'_>, p: Params, may_have_resets: bool) -> Option<f64> {
    let vs = w.vs;
    if vs.is_empty() {
        return None;
    }
    let range_ms = w.end_ms - w.start_ms;
    match func {
        RangeFn::Rate => extrapolated_rate(w, range_ms, true, true, may_have_resets),
        RangeFn::Increase => extrapolated_rate(w, range_ms, true, false, may_have_resets),
        RangeFn::Delta => extrapolated_rate(w, range_ms, false, false, false),
        RangeFn::Irate => instant_value(w, true),
        RangeFn::Idelta => instant_value(w, false),
        RangeFn::Resets => Some(vs.windows(2).filter(|p| p[1] < p[0]).count() as f64),
        RangeFn::Changes => Some(
            vs.windows(2)
                .filter(|p| p[1] != p[0] && !(p[1].is_nan() && p[0].is_nan()))
                .count() as f64,
        ),
        RangeFn::Deriv => (vs.len() >= 2).then(|| linear_regression(w.ts, vs, w.ts[0]).0),
        RangeFn::PredictLinear => (vs.len() >= 2).then(|| {
            let (slope, intercept) = linear_regression(w.ts, vs, p.t_ms);
            slope * p.a + intercept
        }),
        RangeFn::DoubleExponentialSmoothing => double_exponential_smoothing(vs, p.a, p.b),
        _ => over_time(func, w, p),
    }
}

/// The `*_over_time` functions.
fn over_time(func: RangeFn, w: Window<'_>, p: Params) -> Option<f64> {
    let (ts, vs) = (w.ts, w.vs);
    match func {
        RangeFn::AvgOverTime => {
            let mut m = Mean::default();
            vs.iter().for_each(|&v| m.add(v));
            Some(m.value())
        }
        RangeFn::MinOverTime => vs.iter().copied().reduce(nan_min),
        RangeFn::MaxOverTime => vs.iter().copied().reduce(nan_max),
        RangeFn::SumOverTime => {
            let mut s = Sum::default();
            vs.iter().for_each(|&v| s.add(v));
            Some(s.value())
        }
        RangeFn::PresentOverTime => Some(1.0),
        RangeFn::CountOverTime => Some(vs.len() as f64),
        RangeFn::LastOverTime => vs.last().copied(),
        RangeFn::FirstOverTime => vs.first().copied(),
        RangeFn::QuantileOverTime => Some(quantile(p.a, &mut vs.to_vec())),
        RangeFn::StdvarOverTime => Some(variance(vs)),
        RangeFn::StddevOverTime => Some(variance(vs).sqrt()),
        RangeFn::MadOverTime => Some(mad(vs)),
        RangeFn::TsOfLastOverTime => ts.last().map(|&t| t as f64 / 1000.0),
        RangeFn::TsOfFirstOverTime => ts.first().map(|&t| t as f64 / 1000.0),
        RangeFn::TsOfMinOverTime => ts_of_extreme(ts, vs, |v, best| v < best),
        RangeFn::TsOfMaxOverTime => ts_of_extreme(ts, vs, |v, best| v > best),
        _ => None,
    }
}

/// Population variance with Kahan-compensated running mean (Prometheus' `varianceOverTime`).
fn variance(vs: &[f64]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &v in vs {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Median absolute deviation; NaN if any value is NaN.
fn mad(vs: &[f64]) -> f64 {
    if vs.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut values = vs.to_vec();
    let median = quantile(0.5, &mut values);
    for v in &mut values {
        *v = (*v - median).abs();
    }
    quantile(0.5, &mut values)
}

/// The timestamp (seconds) of the last sample that is the minimum or maximum (`better`); NaN
/// samples lose to numbers.
fn ts_of_extreme(ts: &[i64], vs: &[f64], better: impl Fn(f64, f64) -> bool) -> Option<f64> {
    let mut best: Option<(i64, f64)> = None;
    for (&t, &v) in ts.iter().zip(vs) {
        best = match best {
            None => Some((t, v)),
            Some((_, b)) if b.is_nan() || (!v.is_nan() && (better(v, b) || v == b)) => Some((t, v)),
            keep => keep,
        };
    }
    best.map(|(t, _)| t as f64 / 1000.0)
}

/// Least-squares slope and intercept at `intercept_ms` (Prometheus' `linearRegression`, with
/// Kahan sums; a constant series has slope 0).
fn linear_regression(ts: &[i64], vs: &[f64], intercept_ms: i64) -> (f64, f64) {
    let init = vs[0];
    let const_y = vs.iter().all(|&v| v == init);
    if const_y {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    let mut n = 0.0;
    let (mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    for (&t, &v) in ts.iter().zip(vs) {
        n += 1.0;
        let x = (t - intercept_ms) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(v, sy, cy);
        (sxy, cxy) = kahan_inc(x * v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov_xy = sxy - sx * sy / n;
    let var_x = sx2 - sx * sx / n;
    let slope = cov_xy / var_x;
    (slope, sy / n - slope * sx / n)
}

/// Holt's linear trend (Prometheus' `double_exponential_smoothing`); at least two samples.
fn double_exponential_smoothing(vs: &[f64], sf: f64, tf: f64) -> Option<f64> {
    if vs.len() < 2 {
        return None;
    }
    let (mut s0, mut s1, mut b) = (0.0, vs[0], vs[1] - vs[0]);
    for (i, &v) in vs.iter().enumerate().skip(1) {
        let x = sf * v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}

/// Prometheus' `extrapolatedRate`: the increase between the first and last sample (corrected
/// for counter resets), extrapolated towards the window's edges. An edge is reached if the
/// nearest sample is within 1.1 average sample intervals of it; otherwise the series is taken
/// to start or end inside the window and is extended by half an interval only. A counter is
/// never extrapolated below zero.
fn extrapolated_rate(
    w: Window<'_>,
    range_ms: i64,
    is_counter: bool,
    is_rate: bool,
    may_have_resets: bool,
) -> Option<f64> {
    let (ts, vs) = (w.ts, w.vs);
    let n = vs.len();
    if n < 2 {
        return None;
    }
    let (first_v, last_v) = (vs[0], vs[n - 1]);
    let mut result = last_v - first_v;
    if is_counter && may_have_resets {
        // After a reset the counter restarted from zero: add back what it had reached.
        for p in vs.windows(2) {
            if p[1] < p[0] {
                result += p[0];
            }
        }
    }
    let (first_t, last_t) = (ts[0], ts[n - 1]);
    let mut to_start_s = (first_t - w.start_ms) as f64 / 1000.0;
    let mut to_end_s = (w.end_ms - last_t) as f64 / 1000.0;
    let sampled_s = (last_t - first_t) as f64 / 1000.0;
    let avg_interval_s = sampled_s / (n - 1) as f64;
    let threshold_s = avg_interval_s * 1.1;
    if to_start_s >= threshold_s {
        to_start_s = avg_interval_s / 2.0;
    }
    if is_counter {
        // Where a straight line through the samples reaches zero; do not go past it.
        let to_zero_s = if result > 0.0 && first_v >= 0.0 {
            sampled_s * (first_v / result)
        } else {
            to_start_s
        };
        if to_zero_s < to_start_s {
            to_start_s = to_zero_s;
        }
    }
    if to_end_s >= threshold_s {
        to_end_s = avg_interval_s / 2.0;
    }
    let mut factor = (sampled_s + to_start_s + to_end_s) / sampled_s;
    if is_rate {
        factor /= range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` / `idelta`: from the last two samples only. For `irate` a drop is a counter reset,
/// so the increase is the last value itself.
fn instant_value(w: Window<'_>, is_rate: bool) -> Option<f64> {
    let n = w.vs.len();
    if n < 2 {
        return None;
    }
    let (prev_v, last_v) = (w.vs[n - 2], w.vs[n - 1]);
    let interval_ms = w.ts[n - 1] - w.ts[n - 2];
    if interval_ms == 0 {
        return None;
    }
    let mut result = if is_rate && last_v < prev_v {
        last_v
    } else {
        last_v - prev_v
    };
    if is_rate {
        result /= interval_ms as f64 / 1000.0;
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window<'a>(ts: &'a [i64], vs: &'a [f64], start_ms: i64, end_ms: i64) -> Window<'a> {
        Window {
            ts,
            vs,
            start_ms,
            end_ms,
        }
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "rate",
            "irate",
            "changes",
            "quantile_over_time",
            "last_over_time",
        ] {
            assert_eq!(RangeFn::from_name(name).map(RangeFn::name), Some(name));
        }
        assert_eq!(RangeFn::from_name("abs"), None);
    }

    #[test]
    fn rate_needs_two_samples() {
        let w = window(&[10_000], &[5.0], 0, 60_000);
        assert_eq!(apply(RangeFn::Rate, w, Params::default(), true), None);
        assert_eq!(apply(RangeFn::Irate, w, Params::default(), true), None);
        assert_eq!(
            apply(RangeFn::CountOverTime, w, Params::default(), true),
            Some(1.0)
        );
    }

    /// Equal up to a few ulps: extrapolation multiplies and divides, so the last bit may
    /// differ from the hand computation.
    fn approx(got: Option<f64>, want: f64) {
        let got = got.expect("a value");
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "got {got}, want {want}"
        );
    }

    #[test]
    fn increase_extrapolates_to_both_edges_when_samples_are_close() {
        // Samples every 10 s from 5 s to 55 s, window (0, 60 s]: 5 s from each edge, below
        // 1.1 × 10 s, so the increase of 50 over 50 s is stretched to the whole 60 s. The
        // zero point (100 s before the first sample) is too far away to matter.
        let ts = [5_000, 15_000, 25_000, 35_000, 45_000, 55_000];
        let vs = [100.0, 110.0, 120.0, 130.0, 140.0, 150.0];
        let w = window(&ts, &vs, 0, 60_000);
        approx(apply(RangeFn::Increase, w, Params::default(), true), 60.0);
        approx(apply(RangeFn::Rate, w, Params::default(), true), 1.0);
        approx(apply(RangeFn::Delta, w, Params::default(), true), 60.0);
    }

    #[test]
    fn series_starting_inside_the_window_is_extended_by_half_an_interval() {
        // First sample 30 s after the window start (≥ 1.1 × 10 s): extend by 5 s only.
        // Last sample at the end: no extension. 40 over 40 s → 45 s worth = 45.
        let ts = [30_000, 40_000, 50_000, 60_000, 70_000];
        let vs = [1000.0, 1010.0, 1020.0, 1030.0, 1040.0];
        let w = window(&ts, &vs, 0, 70_000);
        approx(apply(RangeFn::Increase, w, Params::default(), true), 45.0);
        // Ending 30 s before the window end likewise extends by half an interval (5 s), while
        // the start, 10 s away, is reached: 40 × (40 + 10 + 5)/40.
        let w = window(&ts, &vs, 20_000, 100_000);
        approx(apply(RangeFn::Increase, w, Params::default(), true), 55.0);
    }

    #[test]
    fn counter_is_not_extrapolated_below_zero() {
        // Samples 1, 2, 3 at 30, 40, 50 s in (0, 50 s]: the start gap (30 s) is past the
        // threshold, so the series is extended by half an interval (5 s); the zero point
        // (10 s before the first sample) is further away and does not cut in: 2 × 25/20.
        let ts = [30_000, 40_000, 50_000];
        let w = window(&ts, &[1.0, 2.0, 3.0], 0, 50_000);
        approx(apply(RangeFn::Increase, w, Params::default(), true), 2.5);
        // Starting at 0.2 puts zero 2 s before the first sample, which wins: 2 × 22/20.
        let w = window(&ts, &[0.2, 1.2, 2.2], 0, 50_000);
        approx(apply(RangeFn::Increase, w, Params::default(), true), 2.2);
        // delta is not a counter function: no zero cut.
        approx(apply(RangeFn::Delta, w, Params::default(), true), 2.5);
        // A counter already at zero is not extrapolated to the left at all.
        let w = window(&ts, &[0.0, 1.0, 2.0], 0, 50_000);
        approx(apply(RangeFn::Increase, w, Params::default(), true), 2.0);
    }

    #[test]
    fn counter_resets_add_back_the_value_before_the_drop() {
        // Prometheus' functions.test: 0 1 2 3 2 3 4 every 5 m, increase(…[30m]) at 30 m is 7.
        // The window (0, 30m] excludes the 0 at t = 0 and holds 1 2 3 2 3 4; the drop 3 → 2 is
        // a restart, so the increase is 4 - 1 + 3 = 6 over 25 m. The zero point is
        // 25 m × 1/6 = 250 s before the first sample, closer than the 300 s to the window
        // start, so the series is extended by 250 s: 6 × 1750/1500 = 7.
        let ts: Vec<i64> = (0..7).map(|i| i * 300_000).collect();
        let vs = [0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0];
        let w = window(&ts[1..], &vs[1..], 0, 1_800_000);
        approx(apply(RangeFn::Increase, w, Params::default(), true), 7.0);
        assert_eq!(
            apply(RangeFn::Resets, w, Params::default(), true),
            Some(1.0)
        );
        // delta ignores resets and the zero point: 3 × 1800/1500.
        approx(apply(RangeFn::Delta, w, Params::default(), true), 3.6);
    }

    #[test]
    fn irate_and_idelta_use_the_last_two_samples() {
        let ts = [0, 10_000, 20_000];
        let w = window(&ts, &[5.0, 50.0, 70.0], -1, 20_000);
        assert_eq!(apply(RangeFn::Irate, w, Params::default(), true), Some(2.0));
        assert_eq!(
            apply(RangeFn::Idelta, w, Params::default(), true),
            Some(20.0)
        );
        // A drop is a reset for irate, a plain difference for idelta.
        let w = window(&ts, &[5.0, 50.0, 10.0], -1, 20_000);
        assert_eq!(apply(RangeFn::Irate, w, Params::default(), true), Some(1.0));
        assert_eq!(
            apply(RangeFn::Idelta, w, Params::default(), true),
            Some(-40.0)
        );
    }

    #[test]
    fn over_time_functions() {
        let ts = [1, 2, 3, 4];
        let vs = [2.0, f64::NAN, 1.0, 1.0];
        let w = window(&ts, &vs, 0, 4);
        assert_eq!(
            apply(RangeFn::MinOverTime, w, Params::default(), true),
            Some(1.0)
        );
        assert_eq!(
            apply(RangeFn::MaxOverTime, w, Params::default(), true),
            Some(2.0)
        );
        assert_eq!(
            apply(RangeFn::LastOverTime, w, Params::default(), true),
            Some(1.0)
        );
        assert_eq!(
            apply(RangeFn::Changes, w, Params::default(), true),
            Some(2.0)
        );
        assert!(
            apply(RangeFn::SumOverTime, w, Params::default(), true)
                .unwrap()
                .is_nan()
        );
        let vs = [1.0, 2.0, 3.0, 6.0];
        let w = window(&ts, &vs, 0, 4);
        assert_eq!(
            apply(RangeFn::SumOverTime, w, Params::default(), true),
            Some(12.0)
        );
        assert_eq!(
            apply(RangeFn::AvgOverTime, w, Params::default(), true),
            Some(3.0)
        );
        assert_eq!(
            apply(RangeFn::QuantileOverTime, w, Params::one(0.5), true),
            Some(2.5)
        );
    }
}
