//! Range functions over series that hold native histograms, one window at a time, with
//! Prometheus' rules: `rate`/`increase`/`delta` and `irate`/`idelta` of histograms are
//! histograms; `sum_over_time`/`avg_over_time` add them; `count_over_time`,
//! `present_over_time`, `last_over_time`, `changes` and `resets` see both kinds; the other
//! functions read floats only. A window mixing floats and histograms has no `rate` or
//! `*_over_time` sum, with a warning.

use super::{FloatHistogram, Hist};
use crate::annotations::Annotations;
use crate::labels::METRIC_NAME;
use crate::over_time::{Params, RangeFn, Window, apply};
use crate::value::RangeSeries;
use std::sync::Arc;
use strata_model::CounterResetHint;

/// One step's result.
pub(crate) enum Out {
    None,
    Float(f64),
    Hist(Hist),
}

/// Annotations a series' windows raised, reported once the parallel evaluation is done.
#[derive(Debug, Default)]
pub(crate) struct RangeNotes {
    messages: Vec<(bool, String)>,
}

impl RangeNotes {
    fn warn(&mut self, m: String) {
        if !self.messages.iter().any(|x| x.1 == m) {
            self.messages.push((true, m));
        }
    }

    fn info(&mut self, m: String) {
        if !self.messages.iter().any(|x| x.1 == m) {
            self.messages.push((false, m));
        }
    }

    pub(crate) fn report(self, ann: &mut Annotations, pos: Option<(u32, u32)>) {
        for (warn, m) in self.messages {
            if warn {
                ann.warn(m, pos);
            } else {
                ann.info(m, pos);
            }
        }
    }
}

/// Evaluates `func` over one window of `s`: floats `lo..hi` of `s.ts`, histograms
/// `hlo..hhi` of `s.hs`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn window(
    func: RangeFn,
    s: &RangeSeries,
    (lo, hi): (usize, usize),
    (hlo, hhi): (usize, usize),
    (start_ms, end_ms, range_ms): (i64, i64, i64),
    p: Params,
    notes: &mut RangeNotes,
) -> Out {
    let w = Window {
        ts: &s.ts[lo..hi],
        vs: &s.vs[lo..hi],
        start_ms,
        end_ms,
    };
    let hs = &s.hs[hlo..hhi];
    let name = s.labels.get(METRIC_NAME).unwrap_or_default();
    let float = |v: Option<f64>| v.map_or(Out::None, Out::Float);
    if hs.is_empty() {
        return float(apply(func, w, p, true));
    }
    let mixed = !w.ts.is_empty();
    let mixed_warning = |notes: &mut RangeNotes| {
        notes.warn(format!(
            "encountered a mix of histograms and floats for metric name {name:?}"
        ));
        Out::None
    };
    match func {
        RangeFn::Rate | RangeFn::Increase | RangeFn::Delta => {
            if mixed {
                return mixed_warning(notes);
            }
            let is_counter = func != RangeFn::Delta;
            rate(
                hs,
                (start_ms, end_ms, range_ms),
                is_counter,
                func == RangeFn::Rate,
                name,
                notes,
            )
        }
        RangeFn::Irate | RangeFn::Idelta => instant(w, hs, func == RangeFn::Irate, name, notes),
        RangeFn::SumOverTime | RangeFn::AvgOverTime => {
            if mixed {
                return mixed_warning(notes);
            }
            sum_over_time(hs, func == RangeFn::AvgOverTime, name, notes)
        }
        RangeFn::CountOverTime => Out::Float((w.ts.len() + hs.len()) as f64),
        RangeFn::PresentOverTime => Out::Float(1.0),
        RangeFn::LastOverTime | RangeFn::TsOfLastOverTime => {
            let (ht, h) = &hs[hs.len() - 1];
            if w.ts.last().is_some_and(|t| t >= ht) {
                return float(apply(func, w, p, true));
            }
            match func {
                RangeFn::LastOverTime => Out::Hist(h.clone()),
                _ => Out::Float(*ht as f64 / 1000.0),
            }
        }
        RangeFn::FirstOverTime | RangeFn::TsOfFirstOverTime => {
            let (ht, h) = &hs[0];
            if w.ts.first().is_some_and(|t| t <= ht) {
                return float(apply(func, w, p, true));
            }
            match func {
                RangeFn::FirstOverTime => Out::Hist(h.clone()),
                _ => Out::Float(*ht as f64 / 1000.0),
            }
        }
        RangeFn::Changes | RangeFn::Resets => {
            Out::Float(transitions(w, hs, func == RangeFn::Resets) as f64)
        }
        _ => {
            if mixed {
                notes.info(format!(
                    "ignored histograms in a range containing both floats and histograms for metric name {name:?}"
                ));
            }
            float(apply(func, w, p, true))
        }
    }
}

/// `changes` (a different sample) or `resets` (a lower float, a histogram reset) between
/// consecutive samples of either kind; a change of kind counts for both.
fn transitions(w: Window<'_>, hs: &[(i64, Hist)], resets: bool) -> usize {
    enum S<'a> {
        F(f64),
        H(&'a FloatHistogram),
    }
    let mut all: Vec<(i64, S<'_>)> = w.ts.iter().zip(w.vs).map(|(t, v)| (*t, S::F(*v))).collect();
    all.extend(hs.iter().map(|(t, h)| (*t, S::H(h))));
    all.sort_by_key(|x| x.0);
    all.windows(2)
        .filter(|p| match (&p[0].1, &p[1].1) {
            (S::F(a), S::F(b)) if resets => b < a,
            (S::F(a), S::F(b)) => a != b && !(a.is_nan() && b.is_nan()),
            (S::H(a), S::H(b)) if resets => b.detect_reset(a),
            (S::H(a), S::H(b)) => !same(a, b),
            _ => true,
        })
        .count()
}

/// Whether two histograms hold the same observations in the same buckets (Prometheus'
/// `Equals` on compacted histograms; the counter-reset hint does not count).
fn same(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let (mut x, mut y) = (a.to_native(), b.to_native());
    x.counter_reset_hint = CounterResetHint::Unknown;
    y.counter_reset_hint = CounterResetHint::Unknown;
    x == y
}

/// Prometheus' `histogramRate` and the extrapolation of `extrapolatedRate`.
fn rate(
    hs: &[(i64, Hist)],
    (start_ms, end_ms, range_ms): (i64, i64, i64),
    is_counter: bool,
    is_rate: bool,
    name: &str,
    notes: &mut RangeNotes,
) -> Out {
    if hs.len() < 2 {
        return Out::None;
    }
    let Some(mut result) = histogram_increase(hs, is_counter, name, notes) else {
        return Out::None;
    };
    let n = hs.len();
    let (first_t, last_t) = (hs[0].0, hs[n - 1].0);
    let mut to_start_s = (first_t - start_ms) as f64 / 1000.0;
    let mut to_end_s = (end_ms - last_t) as f64 / 1000.0;
    let sampled_s = (last_t - first_t) as f64 / 1000.0;
    let avg_interval_s = sampled_s / (n - 1) as f64;
    let threshold_s = avg_interval_s * 1.1;
    if to_start_s >= threshold_s {
        to_start_s = avg_interval_s / 2.0;
    }
    let first_count = hs[0].1.count;
    if is_counter && result.count > 0.0 && first_count >= 0.0 {
        let to_zero_s = sampled_s * (first_count / result.count);
        to_start_s = to_start_s.min(to_zero_s);
    }
    if to_end_s >= threshold_s {
        to_end_s = avg_interval_s / 2.0;
    }
    let mut factor = (sampled_s + to_start_s + to_end_s) / sampled_s;
    if is_rate {
        factor /= range_ms as f64 / 1000.0;
    }
    result.mul(factor);
    Out::Hist(Arc::new(result))
}

/// The increase from the first to the last histogram, counter resets added back.
fn histogram_increase(
    hs: &[(i64, Hist)],
    is_counter: bool,
    name: &str,
    notes: &mut RangeNotes,
) -> Option<FloatHistogram> {
    let n = hs.len();
    let (first, last) = (&hs[0].1, &hs[n - 1].1);
    let gauge = |h: &FloatHistogram| h.hint == CounterResetHint::Gauge;
    if is_counter && (gauge(first) || gauge(last)) {
        notes.warn(not_counter(name));
    }
    let empty;
    let mut prev: &FloatHistogram = first;
    if is_counter && hs[1].1.detect_reset(first) {
        empty = FloatHistogram {
            schema: hs[1].1.schema,
            custom_values: hs[1].1.custom_values.clone(),
            ..FloatHistogram::default()
        };
        prev = &empty;
    }
    let custom = prev.uses_custom_buckets();
    if last.uses_custom_buckets() != custom {
        notes.warn(mixed_schemas(name));
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    for (_, h) in &hs[1..n - 1] {
        if !is_counter {
            continue;
        }
        if gauge(h) {
            notes.warn(not_counter(name));
        }
        min_schema = min_schema.min(h.schema);
        if h.uses_custom_buckets() != custom {
            notes.warn(mixed_schemas(name));
            return None;
        }
    }
    let mut result = last.copy_to_schema(min_schema);
    match result.sub(prev) {
        Err(_) => {
            notes.warn(mixed_schemas(name));
            return None;
        }
        Ok(n) if n.bounds_reconciled => notes.info(reconciled("subtraction")),
        Ok(_) => {}
    }
    if is_counter {
        let mut prev: &FloatHistogram = prev;
        for (_, cur) in &hs[1..] {
            if cur.detect_reset(prev) {
                match result.add(prev) {
                    Err(_) => {
                        notes.warn(mixed_schemas(name));
                        return None;
                    }
                    Ok(n) if n.bounds_reconciled => notes.info(reconciled("addition")),
                    Ok(_) => {}
                }
            }
            prev = cur;
        }
    } else if !gauge(first) || !gauge(last) {
        notes.warn(format!(
            "this native histogram metric is not a gauge: {name:?}"
        ));
    }
    result.hint = CounterResetHint::Gauge;
    Some(result)
}

/// `irate`/`idelta` over the last two samples of the window (of either kind).
fn instant(
    w: Window<'_>,
    hs: &[(i64, Hist)],
    is_rate: bool,
    name: &str,
    notes: &mut RangeNotes,
) -> Out {
    let last_float = w.ts.last().copied();
    let (ht, h) = &hs[hs.len() - 1];
    let prev_hist = hs.len().checked_sub(2).map(|k| &hs[k]);
    if last_float.is_some_and(|t| t > *ht) || prev_hist.is_none() {
        if w.ts.len() + hs.len() >= 2 && !w.ts.is_empty() {
            notes.warn(format!(
                "encountered a mix of histograms and floats for metric name {name:?}"
            ));
        }
        return Out::None;
    }
    let Some((pt, prev)) = prev_hist else {
        return Out::None;
    };
    if last_float.is_some_and(|t| t > *pt) {
        notes.warn(format!(
            "encountered a mix of histograms and floats for metric name {name:?}"
        ));
        return Out::None;
    }
    let interval_ms = ht - pt;
    if interval_ms == 0 {
        return Out::None;
    }
    let gauge = |h: &FloatHistogram| h.hint == CounterResetHint::Gauge;
    if is_rate && (gauge(h) || gauge(prev)) {
        notes.warn(not_counter(name));
    }
    if !is_rate && (!gauge(h) || !gauge(prev)) {
        notes.warn(format!(
            "this native histogram metric is not a gauge: {name:?}"
        ));
    }
    let mut result = FloatHistogram::clone(h);
    if !is_rate || !h.detect_reset(prev) {
        match result.sub(prev) {
            Err(_) => {
                notes.warn(mixed_schemas(name));
                return Out::None;
            }
            Ok(n) if n.bounds_reconciled => notes.info(reconciled("subtraction")),
            Ok(_) => {}
        }
    }
    result.hint = CounterResetHint::Gauge;
    if is_rate {
        result.div(interval_ms as f64 / 1000.0);
    }
    Out::Hist(Arc::new(result))
}

/// `sum_over_time` / `avg_over_time` of histograms.
fn sum_over_time(hs: &[(i64, Hist)], avg: bool, name: &str, notes: &mut RangeNotes) -> Out {
    use crate::aggregate::AggOp;
    use crate::hist::aggregate::Acc;
    let op = if avg { AggOp::Avg } else { AggOp::Sum };
    let mut acc = Acc::new(op, &hs[0].1);
    let (mut reset, mut not_reset) = (false, false);
    for (_, h) in hs {
        match h.hint {
            CounterResetHint::CounterReset => reset = true,
            CounterResetHint::NotCounterReset => not_reset = true,
            _ => {}
        }
    }
    for (_, h) in &hs[1..] {
        match acc.add(h) {
            Err(_) => {
                notes.warn(mixed_schemas(name));
                return Out::None;
            }
            Ok(n) if n.bounds_reconciled => notes.info(reconciled("aggregation")),
            Ok(_) => {}
        }
    }
    if reset && not_reset {
        notes.warn("conflicting counter resets during histogram aggregation".into());
    }
    Out::Hist(Arc::new(acc.value()))
}

fn not_counter(name: &str) -> String {
    format!("this native histogram metric is not a counter: {name:?}")
}

fn mixed_schemas(name: &str) -> String {
    format!(
        "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {name:?}"
    )
}

fn reconciled(op: &str) -> String {
    format!("mismatched custom buckets were reconciled during {op}")
}

/// `func` over every window of a series holding histograms: the float and histogram value of
/// each step, and what it noticed.
pub(crate) fn series(
    func: RangeFn,
    param: &(dyn Fn(usize) -> Params + Sync),
    s: &RangeSeries,
    ends: &[i64],
    range_ms: i64,
) -> (Vec<Option<f64>>, Vec<Option<Hist>>, RangeNotes) {
    let mut notes = RangeNotes::default();
    let mut values = Vec::with_capacity(ends.len());
    let mut hists = Vec::with_capacity(ends.len());
    for (i, &end_ms) in ends.iter().enumerate() {
        let start_ms = end_ms.saturating_sub(range_ms);
        let lo = s.ts.partition_point(|&t| t <= start_ms);
        let hi = s.ts.partition_point(|&t| t <= end_ms);
        let hlo = s.hs.partition_point(|(t, _)| *t <= start_ms);
        let hhi = s.hs.partition_point(|(t, _)| *t <= end_ms);
        let out = if lo == hi && hlo == hhi {
            Out::None
        } else {
            let when = (start_ms, end_ms, range_ms);
            window(func, s, (lo, hi), (hlo, hhi), when, param(i), &mut notes)
        };
        match out {
            Out::None => {
                values.push(None);
                hists.push(None);
            }
            Out::Float(v) => {
                values.push(Some(v));
                hists.push(None);
            }
            Out::Hist(h) => {
                values.push(None);
                hists.push(Some(h));
            }
        }
    }
    (values, hists, notes)
}
