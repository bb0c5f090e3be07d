//! Evaluation of a [`Plan`]: the entry points for instant and range queries, and the
//! evaluator's core (selectors, range vectors, subqueries, `@` and `offset`).
//!
//! Every node is evaluated for all steps at once: a selector reads each series from storage
//! once for the whole query and then walks it step by step, so the cost is one pass over the
//! samples plus one value per step, not one storage read per step. A subquery evaluates its
//! expression once over the steps every window needs. Work on many series runs in parallel on
//! rayon's pool.

use super::aggregate;
use super::annotations::Annotations;
use super::binary;
use super::error::QueryError;
use super::functions;
use super::hist;
use super::instant;
use super::limits;
use super::plan::{At, Node, Plan, Selector};
use super::querier::{Querier, Series};
use super::value::{
    InstantValue, Matrix, MatrixSeries, RangeSeries, StepSeries, Steps, Value, Vector,
    VectorSample, normalize,
};
use rayon::prelude::*;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The bit pattern of the NaN that marks a series as stale (it ended, or its target vanished).
/// An instant selector finding it as the latest sample returns nothing for the series; range
/// functions skip it.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Series per rayon task: below this, splitting costs more than it saves.
pub(crate) const SERIES_PER_TASK: usize = 16;

/// Knobs and limits of evaluation; `Default` gives Prometheus' defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EvalOptions {
    /// How far back an instant selector looks for a sample (Prometheus: 5 minutes).
    pub lookback_ms: i64,
    /// Most steps a range query may have (Prometheus' HTTP API: 11,000).
    pub max_points_per_series: u64,
    /// Most samples all selectors and subqueries of one query may produce (Prometheus: 50
    /// million).
    pub max_samples: u64,
    /// Step of a subquery written without one, `x[5m:]` (Prometheus: the global evaluation
    /// interval, 1 minute by default).
    pub subquery_step_ms: i64,
    /// Longest a query may run (Prometheus: 2 minutes); `None` for no limit.
    pub timeout: Option<Duration>,
    /// Set to true from another thread to stop the query with [`QueryError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            lookback_ms: 5 * 60 * 1000,
            max_points_per_series: 11_000,
            max_samples: 50_000_000,
            subquery_step_ms: 60_000,
            timeout: Some(Duration::from_secs(120)),
            cancel: None,
        }
    }
}

/// What a query read and how long it took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage (staleness markers included).
    pub samples_read: u64,
    /// Series read from storage (a series read by two selectors counts twice).
    pub series_read: u64,
    /// Parsing excluded.
    pub elapsed: Duration,
}

/// A query's result with its annotations and statistics.
#[derive(Debug, Clone)]
pub struct Evaluated<T> {
    pub value: T,
    pub annotations: Annotations,
    pub stats: QueryStats,
}

impl Plan {
    /// A range query: evaluates at `start_ms`, `start_ms + step_ms`, … up to `end_ms`. The
    /// expression must be a scalar or an instant vector; series sorted by labels, each with
    /// the steps where it has a value.
    pub fn range(
        &self,
        q: &dyn Querier,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &EvalOptions,
    ) -> Result<Evaluated<Matrix>, QueryError> {
        let steps = range_steps(start_ms, end_ms, step_ms, opts)?;
        let run = self.run(q, steps, (start_ms, end_ms, step_ms), opts)?;
        let value = match run.value {
            Value::Scalar(v) => vec![MatrixSeries {
                labels: Default::default(),
                points: v
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (steps.at(i), v))
                    .collect(),
                histograms: Vec::new(),
            }],
            Value::Vector(series) => normalize(series)?
                .into_iter()
                .map(|s| MatrixSeries {
                    points: s
                        .values
                        .iter()
                        .enumerate()
                        .filter_map(|(i, v)| Some((steps.at(i), (*v)?)))
                        .collect(),
                    histograms: s
                        .hists
                        .iter()
                        .enumerate()
                        .filter_map(|(i, h)| Some((steps.at(i), h.as_ref()?.to_native())))
                        .collect(),
                    labels: s.labels,
                })
                .collect(),
            other => {
                return Err(QueryError::invalid(format!(
                    "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                    other.type_name()
                )));
            }
        };
        Ok(Evaluated {
            value,
            annotations: run.annotations,
            stats: run.stats,
        })
    }

    /// An instant query at `t_ms`, of any type. Vectors are sorted by labels unless the
    /// expression orders them (`sort`, `sort_desc`, `sort_by_label`, `topk`, `bottomk`).
    pub fn instant(
        &self,
        q: &dyn Querier,
        t_ms: i64,
        opts: &EvalOptions,
    ) -> Result<Evaluated<InstantValue>, QueryError> {
        let run = self.run(q, Steps::instant(t_ms), (t_ms, t_ms, 0), opts)?;
        let value = match run.value {
            Value::Scalar(v) => InstantValue::Scalar(v.first().copied().unwrap_or(f64::NAN)),
            Value::String(s) => InstantValue::String(s),
            Value::Vector(series) => InstantValue::Vector(
                series
                    .into_iter()
                    .filter_map(|s| {
                        let histogram = s.hist(0).map(|h| h.to_native());
                        let value = match (&histogram, s.values.first()) {
                            (Some(_), _) => 0.0,
                            (None, Some(Some(v))) => *v,
                            (None, _) => return None,
                        };
                        Some(VectorSample {
                            value,
                            histogram,
                            labels: s.labels,
                            t_ms,
                        })
                    })
                    .collect(),
            ),
            Value::Matrix(series) => InstantValue::Matrix(
                series
                    .into_iter()
                    .map(|s| MatrixSeries {
                        labels: s.labels,
                        points: s.ts.into_iter().zip(s.vs).collect(),
                        histograms: s.hs.iter().map(|(t, h)| (*t, h.to_native())).collect(),
                    })
                    .collect(),
            ),
        };
        Ok(Evaluated {
            value,
            annotations: run.annotations,
            stats: run.stats,
        })
    }

    /// [`Plan::range`] without annotations and statistics.
    pub fn eval_range(
        &self,
        q: &dyn Querier,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &EvalOptions,
    ) -> Result<Matrix, QueryError> {
        Ok(self.range(q, start_ms, end_ms, step_ms, opts)?.value)
    }

    /// [`Plan::instant`] as a vector (a scalar is one sample without labels), without
    /// annotations and statistics; a string or range vector result is
    /// [`QueryError::Invalid`].
    pub fn eval_instant(
        &self,
        q: &dyn Querier,
        t_ms: i64,
        opts: &EvalOptions,
    ) -> Result<Vector, QueryError> {
        match self.instant(q, t_ms, opts)?.value {
            InstantValue::Vector(v) => Ok(v),
            InstantValue::Scalar(value) => Ok(vec![VectorSample {
                labels: Default::default(),
                t_ms,
                value,
                histogram: None,
            }]),
            InstantValue::String(_) | InstantValue::Matrix(_) => Err(QueryError::invalid(
                "the expression is not a scalar or instant vector",
            )),
        }
    }

    /// Evaluates the root: on the caller's thread for a shallow plan, on a thread with a
    /// [`QUERY_STACK_BYTES`](limits::QUERY_STACK_BYTES) stack for a deep one, so that a plan at
    /// [`MAX_DEPTH`](super::MAX_DEPTH) evaluates whatever the caller's stack and the build's
    /// optimisation level (unoptimised frames are four times the size).
    fn run(
        &self,
        q: &dyn Querier,
        steps: Steps,
        query: (i64, i64, i64),
        opts: &EvalOptions,
    ) -> Result<Evaluated<Value>, QueryError> {
        let started = Instant::now();
        let eval = || {
            let ev = Evaluator::new(q, query, opts, started);
            let value = ev.eval(&self.root, steps)?;
            Ok(Evaluated {
                value,
                annotations: ev.annotations.into_inner(),
                stats: QueryStats {
                    samples_read: ev.samples_read.get(),
                    series_read: ev.series_read.get(),
                    elapsed: started.elapsed(),
                },
            })
        };
        if self.depth <= limits::INLINE_DEPTH {
            eval()
        } else {
            limits::on_query_stack(eval)
        }
    }
}

fn range_steps(
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    opts: &EvalOptions,
) -> Result<Steps, QueryError> {
    if step_ms <= 0 {
        return Err(QueryError::invalid(format!(
            "step must be positive, got {step_ms} ms"
        )));
    }
    if end_ms < start_ms {
        return Err(QueryError::invalid(format!(
            "end ({end_ms} ms) is before start ({start_ms} ms)"
        )));
    }
    let points = (i128::from(end_ms) - i128::from(start_ms)) / i128::from(step_ms) + 1;
    if points > i128::from(opts.max_points_per_series) {
        return Err(QueryError::Limit {
            what: "points per series",
            limit: opts.max_points_per_series,
            requested: u64::try_from(points).unwrap_or(u64::MAX),
        });
    }
    Ok(Steps {
        start_ms,
        step_ms,
        count: points as usize,
    })
}

/// A series read by an instant selector: its labels and, per step, the sample it sees
/// (timestamp, value).
pub(crate) type SelectedSeries = (super::labels::Labels, Vec<Option<(i64, f64)>>);

/// A range vector ready for a range function: its series and, per step, the end of the window
/// `(end - range, end]`.
pub(crate) struct RangeInput {
    pub series: Vec<RangeSeries>,
    pub ends: Vec<i64>,
    pub range_ms: i64,
}

pub(crate) struct Evaluator<'a> {
    q: &'a dyn Querier,
    pub(crate) opts: &'a EvalOptions,
    /// The query's start, end and step, for `@ start()`, `@ end()`, `start()`, `step()`, ….
    query: (i64, i64, i64),
    deadline: Option<Instant>,
    samples_read: Cell<u64>,
    series_read: Cell<u64>,
    pub(crate) annotations: RefCell<Annotations>,
}

impl<'a> Evaluator<'a> {
    fn new(
        q: &'a dyn Querier,
        query: (i64, i64, i64),
        opts: &'a EvalOptions,
        started: Instant,
    ) -> Self {
        Evaluator {
            q,
            opts,
            query,
            deadline: opts.timeout.and_then(|t| started.checked_add(t)),
            samples_read: Cell::new(0),
            series_read: Cell::new(0),
            annotations: RefCell::new(Annotations::default()),
        }
    }

    /// The query's start, end and step (0 for an instant query), in milliseconds.
    pub(crate) fn query_range(&self) -> (i64, i64, i64) {
        self.query
    }

    /// Fails once the query is past its deadline or cancelled.
    pub(crate) fn check_interrupt(&self) -> Result<(), QueryError> {
        if let Some(c) = &self.opts.cancel
            && c.load(Ordering::Relaxed)
        {
            return Err(QueryError::Cancelled);
        }
        if let Some(d) = self.deadline
            && Instant::now() > d
        {
            let limit_ms = self.opts.timeout.map_or(0, |t| t.as_millis() as u64);
            return Err(QueryError::Timeout { limit_ms });
        }
        Ok(())
    }

    /// Counts `n` more samples against [`EvalOptions::max_samples`].
    pub(crate) fn charge(&self, n: u64) -> Result<(), QueryError> {
        let total = self.samples_read.get().saturating_add(n);
        self.samples_read.set(total);
        if total > self.opts.max_samples {
            return Err(QueryError::Limit {
                what: "samples read",
                limit: self.opts.max_samples,
                requested: total,
            });
        }
        Ok(())
    }

    /// Evaluates `node` at every step of `steps`. Recursive, one level per plan node: a
    /// [`Plan`] is at most [`MAX_DEPTH`](super::MAX_DEPTH) deep. Each kind of node has its own
    /// non-inlined function so the frames on the recursive path stay small.
    pub(crate) fn eval(&self, node: &Node, steps: Steps) -> Result<Value, QueryError> {
        self.check_interrupt()?;
        match node {
            Node::Number(v) => Ok(Value::Scalar(vec![*v; steps.count])),
            Node::String(s) => Ok(Value::String(s.clone())),
            Node::Selector(sel) => self.instant_selector(sel, steps),
            Node::MatrixSelector { .. } | Node::Subquery { .. } => self.range_value(node, steps),
            Node::RangeCall {
                func,
                arg,
                params,
                pos,
            } => functions::eval_call(self, *func, arg, params, pos, steps),
            Node::Call { func, args, pos } => instant::eval_call(self, *func, args, pos, steps),
            Node::Aggregate {
                op,
                grouping,
                param,
                input,
                pos,
            } => aggregate::eval(self, *op, grouping, (param.as_deref(), pos), input, steps),
            Node::Binary {
                op,
                lhs,
                rhs,
                matching,
                return_bool,
            } => self.eval_binary(*op, lhs, rhs, matching, *return_bool, steps),
            Node::Negate(inner) => self.eval_negate(inner, steps),
        }
    }

    #[inline(never)]
    fn eval_binary(
        &self,
        op: binary::BinOp,
        lhs: &Node,
        rhs: &Node,
        matching: &binary::Matching,
        return_bool: bool,
        steps: Steps,
    ) -> Result<Value, QueryError> {
        let (lhs, rhs) = (self.eval(lhs, steps)?, self.eval(rhs, steps)?);
        binary::eval(op, lhs, rhs, matching, return_bool, &self.annotations)
    }

    #[inline(never)]
    fn eval_negate(&self, inner: &Node, steps: Steps) -> Result<Value, QueryError> {
        match self.eval(inner, steps)? {
            Value::Scalar(v) => Ok(Value::Scalar(v.into_iter().map(|x| -x).collect())),
            Value::Vector(v) => {
                let out = v
                    .into_iter()
                    .map(|s| StepSeries {
                        hists: s.hists.into_iter().map(|h| h.map(hist::negated)).collect(),
                        labels: s.labels.without_name(),
                        values: s.values.into_iter().map(|x| x.map(|x| -x)).collect(),
                    })
                    .collect();
                Ok(Value::Vector(normalize(out)?))
            }
            other => Err(QueryError::invalid(format!(
                "unary minus needs a scalar or an instant vector, got a {}",
                other.type_name()
            ))),
        }
    }

    /// The scalar `node` at every step.
    pub(crate) fn scalar(
        &self,
        node: &Node,
        steps: Steps,
        context: &str,
    ) -> Result<Vec<f64>, QueryError> {
        match self.eval(node, steps)? {
            Value::Scalar(v) => Ok(v),
            other => Err(QueryError::invalid(format!(
                "{context} expects a scalar argument, got a {}",
                other.type_name()
            ))),
        }
    }

    /// The instant vector `node` at every step.
    pub(crate) fn vector(
        &self,
        node: &Node,
        steps: Steps,
        context: &str,
    ) -> Result<Vec<StepSeries>, QueryError> {
        match self.eval(node, steps)? {
            Value::Vector(v) => Ok(v),
            other => Err(QueryError::invalid(format!(
                "{context} expects an instant vector, got a {}",
                other.type_name()
            ))),
        }
    }

    /// The time a selector with `at` and `offset_ms` reads for each step.
    fn read_times(&self, at: Option<At>, offset_ms: i64, steps: Steps) -> Vec<i64> {
        let fixed = at.map(|a| match a {
            At::Ms(t) => t,
            At::Start => self.query.0,
            At::End => self.query.1,
        });
        (0..steps.count)
            .map(|i| {
                fixed
                    .unwrap_or_else(|| steps.at(i))
                    .saturating_sub(offset_ms)
            })
            .collect()
    }

    /// Reads the series of `sel` with float samples in `(first - window_ms, last]`.
    fn select(
        &self,
        sel: &Selector,
        first: i64,
        last: i64,
        window_ms: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let start_ms = first.saturating_sub(window_ms).saturating_add(1);
        let series = self.q.select(&sel.matchers, start_ms, last)?;
        self.series_read
            .set(self.series_read.get() + series.len() as u64);
        self.charge(series.iter().map(|s| s.timestamps.len() as u64).sum())?;
        self.check_interrupt()?;
        Ok(series)
    }

    /// Reads the series of `sel` with samples of both kinds in `(first - window_ms, last]`:
    /// float series as [`Self::select`] does, and the histogram samples of each.
    fn read(
        &self,
        sel: &Selector,
        first: i64,
        last: i64,
        window_ms: i64,
    ) -> Result<Vec<RangeSeries>, QueryError> {
        let floats = self.select(sel, first, last, window_ms)?;
        let start_ms = first.saturating_sub(window_ms).saturating_add(1);
        let hists = self.q.select_histograms(&sel.matchers, start_ms, last)?;
        self.charge(hists.iter().map(|s| s.samples.len() as u64).sum())?;
        let mut out = hist::join(floats, hists);
        if sel.stats_only {
            out.iter_mut().for_each(|s| hist::resolve_hints(&mut s.hs));
        }
        Ok(out)
    }
    /// The latest sample at or before each step within the lookback window, unless that
    /// sample is a staleness marker; with each sample's timestamp.
    pub(crate) fn selector_samples(
        &self,
        sel: &Selector,
        steps: Steps,
    ) -> Result<Vec<SelectedSeries>, QueryError> {
        let times = self.read_times(sel.at, sel.offset_ms, steps);
        let (first, last) = min_max(&times);
        let lookback_ms = self.opts.lookback_ms;
        let series = self.select(sel, first, last, lookback_ms)?;
        Ok(series
            .into_par_iter()
            .with_min_len(SERIES_PER_TASK)
            .map(|s| {
                let v = latest_samples(&s.timestamps, &s.values, &times, lookback_ms);
                (s.labels, v)
            })
            .collect())
    }

    #[inline(never)]
    fn instant_selector(&self, sel: &Selector, steps: Steps) -> Result<Value, QueryError> {
        let times = self.read_times(sel.at, sel.offset_ms, steps);
        let (first, last) = min_max(&times);
        let lookback_ms = self.opts.lookback_ms;
        let out = self
            .read(sel, first, last, lookback_ms)?
            .into_par_iter()
            .with_min_len(SERIES_PER_TASK)
            .map(|s| {
                let values = latest_samples(&s.ts, &s.vs, &times, lookback_ms)
                    .into_iter()
                    .map(|v| v.map(|(_, v)| v))
                    .collect();
                let mut out = StepSeries::new(s.labels, values);
                if !s.hs.is_empty() {
                    hist::overlay_latest(&mut out, &s.ts, &s.hs, &times, lookback_ms);
                }
                out
            })
            .collect();
        Ok(Value::Vector(normalize(out)?))
    }

    /// A range selector or subquery evaluated for the windows of `steps`.
    pub(crate) fn range_input(&self, node: &Node, steps: Steps) -> Result<RangeInput, QueryError> {
        match node {
            Node::MatrixSelector { selector, range_ms } => {
                let ends = self.read_times(selector.at, selector.offset_ms, steps);
                let (first, last) = min_max(&ends);
                let series = self.read(selector, first, last, *range_ms)?;
                let series = series
                    .into_par_iter()
                    .with_min_len(SERIES_PER_TASK)
                    .map(|s| {
                        let (ts, vs) = without_stale(s.ts, s.vs);
                        RangeSeries {
                            labels: s.labels,
                            ts,
                            vs,
                            hs: hist::without_stale(s.hs),
                        }
                    })
                    .filter(|s: &RangeSeries| !s.ts.is_empty() || !s.hs.is_empty())
                    .collect();
                Ok(RangeInput {
                    series,
                    ends,
                    range_ms: *range_ms,
                })
            }
            Node::Subquery {
                expr,
                range_ms,
                step_ms,
                offset_ms,
                at,
            } => {
                let ends = self.read_times(*at, *offset_ms, steps);
                let step = step_ms.unwrap_or(self.opts.subquery_step_ms).max(1);
                let series = self.subquery_series(expr, &ends, *range_ms, step)?;
                Ok(RangeInput {
                    series,
                    ends,
                    range_ms: *range_ms,
                })
            }
            _ => Err(QueryError::invalid("expected a range vector")),
        }
    }

    /// Evaluates a subquery's expression at the multiples of `step` that fall in some window
    /// `(end - range, end]`.
    fn subquery_series(
        &self,
        expr: &Node,
        ends: &[i64],
        range_ms: i64,
        step: i64,
    ) -> Result<Vec<RangeSeries>, QueryError> {
        let (first, last) = min_max(ends);
        let lower = first.saturating_sub(range_ms);
        let mut start = lower.div_euclid(step).saturating_mul(step);
        if start <= lower {
            start = start.saturating_add(step);
        }
        if last < start {
            return Ok(Vec::new());
        }
        let count = (i128::from(last) - i128::from(start)) / i128::from(step) + 1;
        if count > i128::from(self.opts.max_samples) {
            return Err(QueryError::Limit {
                what: "steps of a subquery",
                limit: self.opts.max_samples,
                requested: u64::try_from(count).unwrap_or(u64::MAX),
            });
        }
        let inner = Steps {
            start_ms: start,
            step_ms: step,
            count: count as usize,
        };
        let series = self.vector(expr, inner, "a subquery")?;
        let points: u64 = series
            .iter()
            .map(|s| (s.values.iter().flatten().count() + s.hists.iter().flatten().count()) as u64)
            .sum();
        self.charge(points)?;
        Ok(series
            .into_iter()
            .map(|s| {
                let (ts, vs) = s
                    .values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| Some((inner.at(i), (*v)?)))
                    .unzip();
                // A subquery may skip or repeat samples: counter resets are detected anew.
                let hs = s
                    .hists
                    .iter()
                    .enumerate()
                    .filter_map(|(i, h)| Some((inner.at(i), hist::unknown_hint(h.clone()?))))
                    .collect();
                RangeSeries {
                    labels: s.labels,
                    ts,
                    vs,
                    hs,
                }
            })
            .collect())
    }

    /// A range vector as a value: the samples of each series in the window of the first step
    /// (an instant query's only step).
    #[inline(never)]
    fn range_value(&self, node: &Node, steps: Steps) -> Result<Value, QueryError> {
        let input = self.range_input(node, Steps::instant(steps.start_ms))?;
        let end = input.ends.first().copied().unwrap_or(steps.start_ms);
        let start = end.saturating_sub(input.range_ms);
        let mut out: Vec<RangeSeries> = input
            .series
            .into_iter()
            .filter_map(|s| {
                let lo = s.ts.partition_point(|&t| t <= start);
                let hi = s.ts.partition_point(|&t| t <= end);
                let hs: Vec<_> =
                    s.hs.iter()
                        .filter(|(t, _)| *t > start && *t <= end)
                        .cloned()
                        .collect();
                (lo < hi || !hs.is_empty()).then(|| RangeSeries {
                    labels: s.labels,
                    ts: s.ts[lo..hi].to_vec(),
                    vs: s.vs[lo..hi].to_vec(),
                    hs,
                })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(Value::Matrix(out))
    }
}

fn min_max(times: &[i64]) -> (i64, i64) {
    let first = times.iter().copied().min().unwrap_or(0);
    let last = times.iter().copied().max().unwrap_or(0);
    (first, last)
}

pub(crate) fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// For each time `t` (non-decreasing), the last sample in `(t - lookback, t]`, unless stale.
fn latest_samples(
    ts: &[i64],
    vs: &[f64],
    times: &[i64],
    lookback_ms: i64,
) -> Vec<Option<(i64, f64)>> {
    let mut seen = 0usize; // samples at or before the current time
    times
        .iter()
        .map(|&t| {
            if seen > 0 && ts[seen - 1] > t {
                seen = ts.partition_point(|&x| x <= t);
            }
            while seen < ts.len() && ts[seen] <= t {
                seen += 1;
            }
            let last = seen.checked_sub(1)?;
            (ts[last] > t.saturating_sub(lookback_ms) && !is_stale(vs[last]))
                .then_some((ts[last], vs[last]))
        })
        .collect()
}

/// The samples without staleness markers; no copy when there are none.
fn without_stale(ts: Vec<i64>, vs: Vec<f64>) -> (Vec<i64>, Vec<f64>) {
    if !vs.iter().any(|&v| is_stale(v)) {
        return (ts, vs);
    }
    ts.into_iter()
        .zip(vs)
        .filter(|&(_, v)| !is_stale(v))
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_value_respects_lookback_and_staleness() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        let ts = [0, 10, 20];
        let vs = [1.0, stale, 3.0];
        let times = [0, 5, 10, 15, 20, 25, 30];
        // Lookback 8 ms: at 5 → sample 0; at 10 and 15 → stale marker hides the series;
        // at 20, 25 → 3; at 30 the sample at 20 is out of (22, 30].
        let out: Vec<_> = latest_samples(&ts, &vs, &times, 8)
            .into_iter()
            .map(|s| s.map(|(_, v)| v))
            .collect();
        assert_eq!(
            out,
            [Some(1.0), Some(1.0), None, None, Some(3.0), Some(3.0), None]
        );
    }

    #[test]
    fn stale_markers_are_removed_but_other_nans_stay() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        let (ts, vs) = without_stale(vec![1, 2, 3], vec![1.0, stale, f64::NAN]);
        assert_eq!(ts, [1, 3]);
        assert!(vs[1].is_nan());
    }
}
