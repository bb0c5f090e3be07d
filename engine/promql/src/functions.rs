//! Range-vector functions (`rate`, `increase`, `*_over_time`, …) with Prometheus semantics.
//!
//! A function sees the samples of one series inside one window `(end - range, end]` (left-open,
//! as in Prometheus 3), staleness markers already removed. [`eval_series`] slides that window
//! over every step of a query, so each series is read once however many steps there are.

use super::stats::{Mean, Sum, nan_max, nan_min, quantile};
use super::value::Steps;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeFn {
    Rate,
    Increase,
    Delta,
    Irate,
    Idelta,
    Resets,
    Changes,
    AvgOverTime,
    MinOverTime,
    MaxOverTime,
    SumOverTime,
    CountOverTime,
    LastOverTime,
    QuantileOverTime,
}

impl RangeFn {
    pub(crate) fn from_name(name: &str) -> Option<RangeFn> {
        Some(match name {
            "rate" => RangeFn::Rate,
            "increase" => RangeFn::Increase,
            "delta" => RangeFn::Delta,
            "irate" => RangeFn::Irate,
            "idelta" => RangeFn::Idelta,
            "resets" => RangeFn::Resets,
            "changes" => RangeFn::Changes,
            "avg_over_time" => RangeFn::AvgOverTime,
            "min_over_time" => RangeFn::MinOverTime,
            "max_over_time" => RangeFn::MaxOverTime,
            "sum_over_time" => RangeFn::SumOverTime,
            "count_over_time" => RangeFn::CountOverTime,
            "last_over_time" => RangeFn::LastOverTime,
            "quantile_over_time" => RangeFn::QuantileOverTime,
            _ => return None,
        })
    }

    /// The PromQL name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RangeFn::Rate => "rate",
            RangeFn::Increase => "increase",
            RangeFn::Delta => "delta",
            RangeFn::Irate => "irate",
            RangeFn::Idelta => "idelta",
            RangeFn::Resets => "resets",
            RangeFn::Changes => "changes",
            RangeFn::AvgOverTime => "avg_over_time",
            RangeFn::MinOverTime => "min_over_time",
            RangeFn::MaxOverTime => "max_over_time",
            RangeFn::SumOverTime => "sum_over_time",
            RangeFn::CountOverTime => "count_over_time",
            RangeFn::LastOverTime => "last_over_time",
            RangeFn::QuantileOverTime => "quantile_over_time",
        }
    }

    /// Whether the function has a scalar first argument (φ of `quantile_over_time`).
    pub(crate) fn takes_param(self) -> bool {
        self == RangeFn::QuantileOverTime
    }

    /// `last_over_time` acts like a selector and keeps `__name__`; every other function
    /// derives a new quantity and drops it.
    pub(crate) fn keeps_name(self) -> bool {
        self == RangeFn::LastOverTime
    }

    fn is_counter_rate(self) -> bool {
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

/// Applies `func` to one window. `param` is φ for `quantile_over_time`; `may_have_resets` set
/// to false lets counter functions skip scanning for resets (the caller knows there are none).
pub(crate) fn apply(
    func: RangeFn,
    w: Window<'_>,
    param: f64,
    may_have_resets: bool,
) -> Option<f64> {
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
        RangeFn::CountOverTime => Some(vs.len() as f64),
        RangeFn::LastOverTime => vs.last().copied(),
        RangeFn::QuantileOverTime => Some(quantile(param, &mut vs.to_vec())),
    }
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

/// Evaluates `func` over one series (staleness markers removed) at every step, the window of
/// step `t` being `(t - offset - range, t - offset]`.
pub(crate) fn eval_series(
    func: RangeFn,
    param: f64,
    ts: &[i64],
    vs: &[f64],
    steps: &Steps,
    offset_ms: i64,
    range_ms: i64,
) -> Vec<Option<f64>> {
    // Drops (v[k] < v[k-1]) with both samples inside the window, kept up to date as the
    // window slides: a window without one spares rate() a scan for counter resets.
    let track_resets = func.is_counter_rate();
    let is_drop = |k: usize| vs[k] < vs[k - 1];
    let mut drops = 0usize;
    let (mut lo, mut hi) = (0usize, 0usize);
    (0..steps.count)
        .map(|i| {
            let end_ms = steps.at(i).saturating_sub(offset_ms);
            let start_ms = end_ms.saturating_sub(range_ms);
            while hi < ts.len() && ts[hi] <= end_ms {
                if track_resets && hi > lo && is_drop(hi) {
                    drops += 1;
                }
                hi += 1;
            }
            while lo < hi && ts[lo] <= start_ms {
                if track_resets && lo + 1 < hi && is_drop(lo + 1) {
                    drops -= 1;
                }
                lo += 1;
            }
            if lo == hi {
                return None;
            }
            let w = Window {
                ts: &ts[lo..hi],
                vs: &vs[lo..hi],
                start_ms,
                end_ms,
            };
            apply(func, w, param, !track_resets || drops > 0)
        })
        .collect()
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
        assert_eq!(RangeFn::from_name("deriv"), None);
    }

    #[test]
    fn rate_needs_two_samples() {
        let w = window(&[10_000], &[5.0], 0, 60_000);
        assert_eq!(apply(RangeFn::Rate, w, 0.0, true), None);
        assert_eq!(apply(RangeFn::Irate, w, 0.0, true), None);
        assert_eq!(apply(RangeFn::CountOverTime, w, 0.0, true), Some(1.0));
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
        approx(apply(RangeFn::Increase, w, 0.0, true), 60.0);
        approx(apply(RangeFn::Rate, w, 0.0, true), 1.0);
        approx(apply(RangeFn::Delta, w, 0.0, true), 60.0);
    }

    #[test]
    fn series_starting_inside_the_window_is_extended_by_half_an_interval() {
        // First sample 30 s after the window start (≥ 1.1 × 10 s): extend by 5 s only.
        // Last sample at the end: no extension. 40 over 40 s → 45 s worth = 45.
        let ts = [30_000, 40_000, 50_000, 60_000, 70_000];
        let vs = [1000.0, 1010.0, 1020.0, 1030.0, 1040.0];
        let w = window(&ts, &vs, 0, 70_000);
        approx(apply(RangeFn::Increase, w, 0.0, true), 45.0);
        // Ending 30 s before the window end likewise extends by half an interval (5 s), while
        // the start, 10 s away, is reached: 40 × (40 + 10 + 5)/40.
        let w = window(&ts, &vs, 20_000, 100_000);
        approx(apply(RangeFn::Increase, w, 0.0, true), 55.0);
    }

    #[test]
    fn counter_is_not_extrapolated_below_zero() {
        // Samples 1, 2, 3 at 30, 40, 50 s in (0, 50 s]: the start gap (30 s) is past the
        // threshold, so the series is extended by half an interval (5 s); the zero point
        // (10 s before the first sample) is further away and does not cut in: 2 × 25/20.
        let ts = [30_000, 40_000, 50_000];
        let w = window(&ts, &[1.0, 2.0, 3.0], 0, 50_000);
        approx(apply(RangeFn::Increase, w, 0.0, true), 2.5);
        // Starting at 0.2 puts zero 2 s before the first sample, which wins: 2 × 22/20.
        let w = window(&ts, &[0.2, 1.2, 2.2], 0, 50_000);
        approx(apply(RangeFn::Increase, w, 0.0, true), 2.2);
        // delta is not a counter function: no zero cut.
        approx(apply(RangeFn::Delta, w, 0.0, true), 2.5);
        // A counter already at zero is not extrapolated to the left at all.
        let w = window(&ts, &[0.0, 1.0, 2.0], 0, 50_000);
        approx(apply(RangeFn::Increase, w, 0.0, true), 2.0);
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
        approx(apply(RangeFn::Increase, w, 0.0, true), 7.0);
        assert_eq!(apply(RangeFn::Resets, w, 0.0, true), Some(1.0));
        // delta ignores resets and the zero point: 3 × 1800/1500.
        approx(apply(RangeFn::Delta, w, 0.0, true), 3.6);
    }

    #[test]
    fn irate_and_idelta_use_the_last_two_samples() {
        let ts = [0, 10_000, 20_000];
        let w = window(&ts, &[5.0, 50.0, 70.0], -1, 20_000);
        assert_eq!(apply(RangeFn::Irate, w, 0.0, true), Some(2.0));
        assert_eq!(apply(RangeFn::Idelta, w, 0.0, true), Some(20.0));
        // A drop is a reset for irate, a plain difference for idelta.
        let w = window(&ts, &[5.0, 50.0, 10.0], -1, 20_000);
        assert_eq!(apply(RangeFn::Irate, w, 0.0, true), Some(1.0));
        assert_eq!(apply(RangeFn::Idelta, w, 0.0, true), Some(-40.0));
    }

    #[test]
    fn over_time_functions() {
        let ts = [1, 2, 3, 4];
        let vs = [2.0, f64::NAN, 1.0, 1.0];
        let w = window(&ts, &vs, 0, 4);
        assert_eq!(apply(RangeFn::MinOverTime, w, 0.0, true), Some(1.0));
        assert_eq!(apply(RangeFn::MaxOverTime, w, 0.0, true), Some(2.0));
        assert_eq!(apply(RangeFn::LastOverTime, w, 0.0, true), Some(1.0));
        assert_eq!(apply(RangeFn::Changes, w, 0.0, true), Some(2.0));
        assert!(apply(RangeFn::SumOverTime, w, 0.0, true).unwrap().is_nan());
        let vs = [1.0, 2.0, 3.0, 6.0];
        let w = window(&ts, &vs, 0, 4);
        assert_eq!(apply(RangeFn::SumOverTime, w, 0.0, true), Some(12.0));
        assert_eq!(apply(RangeFn::AvgOverTime, w, 0.0, true), Some(3.0));
        assert_eq!(apply(RangeFn::QuantileOverTime, w, 0.5, true), Some(2.5));
    }

    #[test]
    fn sliding_windows_are_left_open() {
        // Samples at 0, 10, 20, 30 s; steps at 20 s and 30 s with a 20 s range: the windows
        // (0, 20] and (10, 30] hold two samples each.
        let ts = [0, 10_000, 20_000, 30_000];
        let vs = [0.0, 1.0, 2.0, 3.0];
        let steps = Steps {
            start_ms: 20_000,
            step_ms: 10_000,
            count: 2,
        };
        let out = eval_series(RangeFn::CountOverTime, 0.0, &ts, &vs, &steps, 0, 20_000);
        assert_eq!(out, [Some(2.0), Some(2.0)]);
        // With a 10 s offset the windows move back to (-10, 10] and (0, 20].
        let out = eval_series(RangeFn::SumOverTime, 0.0, &ts, &vs, &steps, 10_000, 20_000);
        assert_eq!(out, [Some(1.0), Some(3.0)]);
    }

    #[test]
    fn reset_tracking_matches_a_full_scan() {
        let ts: Vec<i64> = (0..200).map(|i| i * 1000 + (i % 3) * 100).collect();
        let vs: Vec<f64> = (0..200).map(|i| ((i * 7) % 23) as f64).collect();
        for (step_ms, range_ms, offset_ms) in [
            (3000, 10_000, 0),
            (1000, 1000, 0),
            (15_000, 5000, 0),
            (700, 60_000, -2000),
            (5000, 30_000, 20_000),
        ] {
            let steps = Steps {
                start_ms: -5000,
                step_ms,
                count: (220_000 / step_ms) as usize,
            };
            for func in [RangeFn::Rate, RangeFn::Increase] {
                let fast = eval_series(func, 0.0, &ts, &vs, &steps, offset_ms, range_ms);
                let slow: Vec<Option<f64>> = (0..steps.count)
                    .map(|i| {
                        let end = steps.at(i) - offset_ms;
                        let lo = ts.partition_point(|&t| t <= end - range_ms);
                        let hi = ts.partition_point(|&t| t <= end);
                        let w = window(&ts[lo..hi], &vs[lo..hi], end - range_ms, end);
                        apply(func, w, 0.0, true)
                    })
                    .collect();
                assert_eq!(fast, slow, "{func:?} step {step_ms} range {range_ms}");
            }
        }
    }
}
