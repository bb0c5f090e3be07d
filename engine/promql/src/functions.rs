//! Range-vector functions: evaluation of `f(range vector, scalars…)` over every step.
//!
//! A function sees the samples of one series inside one window `(end - range, end]` (left-open,
//! as in Prometheus 3); [`eval_series`] slides that window over every step of a query, so each
//! series is read once however many steps there are. The per-window math is in `over_time`.

use super::annotations::Pos;
use super::error::QueryError;
use super::eval::{Evaluator, SERIES_PER_TASK};
use super::hist::range::{self as hist_range, RangeNotes};
use super::labels::{Labels, METRIC_NAME};
use super::plan::Node;
use super::querier::MatchOp;
use super::value::{StepSeries, Steps, Value, normalize};
use rayon::prelude::*;

pub(crate) use super::over_time::RangeFn;
use super::over_time::{Params, Window, apply};

/// Evaluates `func(arg, params…)` at every step.
pub(crate) fn eval_call(
    ev: &Evaluator<'_>,
    func: RangeFn,
    arg: &Node,
    params: &[Node],
    pos: &Pos,
    steps: Steps,
) -> Result<Value, QueryError> {
    let scalars = params
        .iter()
        .map(|p| ev.scalar(p, steps, func.name()))
        .collect::<Result<Vec<_>, _>>()?;
    check_params(ev, func, &scalars, pos)?;
    let input = ev.range_input(arg, steps)?;
    if func == RangeFn::AbsentOverTime {
        return Ok(absent_over_time(arg, &input, steps));
    }
    let param = |i: usize| Params {
        a: scalars.first().map_or(0.0, |v| v[i]),
        b: scalars.get(1).map_or(0.0, |v| v[i]),
        t_ms: steps.at(i),
    };
    let (ends, range_ms) = (&input.ends, input.range_ms);
    let (out, notes): (Vec<StepSeries>, Vec<Option<RangeNotes>>) = input
        .series
        .into_par_iter()
        .with_min_len(SERIES_PER_TASK)
        .map(|s| {
            let labels = if func.keeps_name() {
                s.labels.clone()
            } else {
                s.labels.without_name()
            };
            if s.hs.is_empty() {
                let values = eval_series(func, &param, &s.ts, &s.vs, ends, range_ms);
                return (StepSeries::new(labels, values), None);
            }
            let (values, hists, notes) = hist_range::series(func, &param, &s, ends, range_ms);
            let out = StepSeries {
                labels,
                values,
                hists,
            };
            (out, Some(notes))
        })
        .unzip();
    if notes.iter().any(Option::is_some) {
        let mut ann = ev.annotations.borrow_mut();
        let at = pos.arg(func.range_arg_index());
        notes
            .into_iter()
            .flatten()
            .for_each(|n| n.report(&mut ann, at));
    }
    if func.is_counter_rate() && matches!(arg, Node::MatrixSelector { .. }) {
        counter_name_info(ev, arg, &out, pos);
    }
    Ok(Value::Vector(normalize(out)?))
}

/// Warnings and errors about the scalar arguments.
fn check_params(
    ev: &Evaluator<'_>,
    func: RangeFn,
    scalars: &[Vec<f64>],
    pos: &Pos,
) -> Result<(), QueryError> {
    match func {
        RangeFn::QuantileOverTime => {
            for &phi in scalars.first().into_iter().flatten() {
                if !(0.0..=1.0).contains(&phi) {
                    ev.annotations.borrow_mut().warn(
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            super::instant::format_g(phi)
                        ),
                        pos.arg(0),
                    );
                }
            }
        }
        RangeFn::DoubleExponentialSmoothing => {
            let check = |what: &str, short: &str, v: &[f64]| match v
                .iter()
                .find(|&&x| !(x > 0.0 && x < 1.0))
            {
                Some(x) => Err(QueryError::invalid(format!(
                    "invalid {what} factor. Expected: 0 < {short} < 1, got: {x:.6}"
                ))),
                None => Ok(()),
            };
            check("smoothing", "sf", scalars.first().map_or(&[][..], |v| v))?;
            check("trend", "tf", scalars.get(1).map_or(&[][..], |v| v))?;
        }
        _ => {}
    }
    Ok(())
}

/// Prometheus' hint that `rate`/`increase` of a metric whose name does not end like a counter's
/// may be a mistake.
fn counter_name_info(ev: &Evaluator<'_>, arg: &Node, out: &[StepSeries], pos: &Pos) {
    let Some(sel) = arg.as_selector() else {
        return;
    };
    let name = sel
        .matchers
        .iter()
        .find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal)
        .map(|m| m.value.as_str());
    let Some(name) = name else {
        return;
    };
    let counter_like = ["_total", "_sum", "_count", "_bucket"]
        .iter()
        .any(|s| name.ends_with(s));
    if !counter_like && out.iter().any(|s| s.values.iter().any(Option::is_some)) {
        ev.annotations.borrow_mut().info(format!(
            "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"
        ), pos.arg(0));
    }
}

/// `absent_over_time`: 1 at the steps where no series has a sample in its window, labelled
/// with the selector's equality matchers.
fn absent_over_time(arg: &Node, input: &super::eval::RangeInput, steps: Steps) -> Value {
    let values = (0..steps.count)
        .map(|i| {
            let end = input.ends[i];
            let start = end.saturating_sub(input.range_ms);
            let inside = |t: i64| t > start && t <= end;
            let present = input
                .series
                .iter()
                .any(|s| s.ts.iter().any(|&t| inside(t)) || s.hs.iter().any(|(t, _)| inside(*t)));
            (!present).then_some(1.0)
        })
        .collect();
    Value::Vector(vec![StepSeries {
        hists: Vec::new(),
        labels: absent_labels(arg),
        values,
    }])
}

/// The labels `absent` gives its result: the selector's equality matchers, except `__name__`
/// and names matched more than once.
pub(crate) fn absent_labels(node: &Node) -> Labels {
    let Some(sel) = node.as_selector() else {
        return Labels::empty();
    };
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut dup: Vec<&str> = Vec::new();
    for m in &sel.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if sel.matchers.iter().filter(|o| o.name == m.name).count() > 1 {
            dup.push(&m.name);
            continue;
        }
        if m.op == MatchOp::Equal {
            pairs.push((&m.name, &m.value));
        }
    }
    pairs.retain(|(n, _)| !dup.contains(n));
    Labels::new(pairs)
}

/// Evaluates `func` over one series (staleness markers removed) at every step, the window of
/// step `i` being `(ends[i] - range, ends[i]]`; `ends` is non-decreasing.
pub(crate) fn eval_series(
    func: RangeFn,
    param: &(dyn Fn(usize) -> Params + Sync),
    ts: &[i64],
    vs: &[f64],
    ends: &[i64],
    range_ms: i64,
) -> Vec<Option<f64>> {
    // Drops (v[k] < v[k-1]) with both samples inside the window, kept up to date as the
    // window slides: a window without one spares rate() a scan for counter resets.
    let track_resets = func.is_counter_rate();
    let is_drop = |k: usize| vs[k] < vs[k - 1];
    let mut drops = 0usize;
    let (mut lo, mut hi) = (0usize, 0usize);
    ends.iter()
        .enumerate()
        .map(|(i, &end_ms)| {
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
            apply(func, w, param(i), !track_resets || drops > 0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(start: i64, step: i64, count: usize, offset: i64) -> Vec<i64> {
        (0..count as i64)
            .map(|i| start + i * step - offset)
            .collect()
    }

    fn none(_: usize) -> Params {
        Params::default()
    }

    #[test]
    fn sliding_windows_are_left_open() {
        // Samples at 0, 10, 20, 30 s; steps at 20 s and 30 s with a 20 s range: the windows
        // (0, 20] and (10, 30] hold two samples each.
        let ts = [0, 10_000, 20_000, 30_000];
        let vs = [0.0, 1.0, 2.0, 3.0];
        let e = ends(20_000, 10_000, 2, 0);
        let out = eval_series(RangeFn::CountOverTime, &none, &ts, &vs, &e, 20_000);
        assert_eq!(out, [Some(2.0), Some(2.0)]);
        // With a 10 s offset the windows move back to (-10, 10] and (0, 20].
        let e = ends(20_000, 10_000, 2, 10_000);
        let out = eval_series(RangeFn::SumOverTime, &none, &ts, &vs, &e, 20_000);
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
            let e = ends(-5000, step_ms, (220_000 / step_ms) as usize, offset_ms);
            for func in [RangeFn::Rate, RangeFn::Increase] {
                let fast = eval_series(func, &none, &ts, &vs, &e, range_ms);
                let slow: Vec<Option<f64>> = e
                    .iter()
                    .map(|&end| {
                        let lo = ts.partition_point(|&t| t <= end - range_ms);
                        let hi = ts.partition_point(|&t| t <= end);
                        let w = Window {
                            ts: &ts[lo..hi],
                            vs: &vs[lo..hi],
                            start_ms: end - range_ms,
                            end_ms: end,
                        };
                        apply(func, w, Params::default(), true)
                    })
                    .collect();
                assert_eq!(fast, slow, "{func:?} step {step_ms} range {range_ms}");
            }
        }
    }
}
