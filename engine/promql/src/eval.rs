//! Evaluation of a [`Plan`] at a series of steps.
//!
//! Every node is evaluated for all steps at once: a selector reads each series from storage
//! once for the whole query and then walks it step by step, so the cost is one pass over the
//! samples plus one value per step, not one storage read per step. Work on many series runs in
//! parallel on rayon's pool.

use super::aggregate;
use super::binary;
use super::error::QueryError;
use super::functions::{self, RangeFn};
use super::histogram;
use super::limits;
use super::plan::{Node, Plan, Selector};
use super::querier::{Querier, Series};
use super::value::{
    Matrix, MatrixSeries, StepSeries, Steps, Value, Vector, VectorSample, normalize,
};
use rayon::prelude::*;
use std::cell::Cell;

/// The bit pattern of the NaN that marks a series as stale (it ended, or its target vanished).
/// An instant selector finding it as the latest sample returns nothing for the series; range
/// functions skip it.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Series per rayon task: below this, splitting costs more than it saves.
const SERIES_PER_TASK: usize = 16;

/// Knobs and limits of evaluation; `Default` gives Prometheus' defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EvalOptions {
    /// How far back an instant selector looks for a sample (Prometheus: 5 minutes).
    pub lookback_ms: i64,
    /// Most steps a range query may have (Prometheus' HTTP API: 11,000).
    pub max_points_per_series: u64,
    /// Most samples all selectors of one query may read (Prometheus: 50 million).
    pub max_samples: u64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            lookback_ms: 5 * 60 * 1000,
            max_points_per_series: 11_000,
            max_samples: 50_000_000,
        }
    }
}

impl Plan {
    /// Evaluates at `start_ms`, `start_ms + step_ms`, … up to `end_ms`; series sorted by
    /// labels, each with the steps where it has a value.
    pub fn eval_range(
        &self,
        q: &dyn Querier,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &EvalOptions,
    ) -> Result<Matrix, QueryError> {
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
        let steps = Steps {
            start_ms,
            step_ms,
            count: points as usize,
        };
        Ok(match self.run(q, steps, opts)? {
            Value::Scalar(v) => vec![MatrixSeries {
                labels: Default::default(),
                points: (0..steps.count).map(|i| (steps.at(i), v)).collect(),
            }],
            Value::Vector(series) => series
                .into_iter()
                .map(|s| MatrixSeries {
                    labels: s.labels,
                    points: s
                        .values
                        .iter()
                        .enumerate()
                        .filter_map(|(i, v)| Some((steps.at(i), (*v)?)))
                        .collect(),
                })
                .collect(),
        })
    }

    /// Evaluates at `t_ms`; samples sorted by labels.
    pub fn eval_instant(
        &self,
        q: &dyn Querier,
        t_ms: i64,
        opts: &EvalOptions,
    ) -> Result<Vector, QueryError> {
        let steps = Steps {
            start_ms: t_ms,
            step_ms: 1,
            count: 1,
        };
        Ok(match self.run(q, steps, opts)? {
            Value::Scalar(value) => vec![VectorSample {
                labels: Default::default(),
                t_ms,
                value,
            }],
            Value::Vector(series) => series
                .into_iter()
                .filter_map(|s| {
                    Some(VectorSample {
                        labels: s.labels,
                        t_ms,
                        value: s.values[0]?,
                    })
                })
                .collect(),
        })
    }
}

impl Plan {
    /// Evaluates the root: on the caller's thread for a shallow plan, on a thread with a
    /// [`QUERY_STACK_BYTES`](limits::QUERY_STACK_BYTES) stack for a deep one, so that a plan at
    /// [`MAX_DEPTH`](super::MAX_DEPTH) evaluates whatever the caller's stack and the build's
    /// optimisation level (unoptimised frames are four times the size).
    fn run(&self, q: &dyn Querier, steps: Steps, opts: &EvalOptions) -> Result<Value, QueryError> {
        let eval = || Evaluator::new(q, steps, opts).eval(&self.root);
        if self.depth <= limits::INLINE_DEPTH {
            eval()
        } else {
            limits::on_query_stack(eval)
        }
    }
}

struct Evaluator<'a> {
    q: &'a dyn Querier,
    steps: Steps,
    opts: &'a EvalOptions,
    samples_read: Cell<u64>,
}

impl<'a> Evaluator<'a> {
    fn new(q: &'a dyn Querier, steps: Steps, opts: &'a EvalOptions) -> Self {
        Evaluator {
            q,
            steps,
            opts,
            samples_read: Cell::new(0),
        }
    }

    /// Evaluates `node` for every step. Recursive, one level per plan node: a [`Plan`] is at most
    /// [`MAX_DEPTH`](super::MAX_DEPTH) deep. Each kind of node has its own non-inlined function
    /// so the frames on the recursive path stay small: ≈ 250 bytes per level of a binary chain
    /// in the dev profile (≈ 470 with everything inlined into one `match`), ≈ 1.1 KB
    /// unoptimised.
    fn eval(&self, node: &Node) -> Result<Value, QueryError> {
        match node {
            Node::Number(v) => Ok(Value::Scalar(*v)),
            Node::Selector(sel) => self.instant_selector(sel),
            Node::RangeCall {
                func,
                selector,
                range_ms,
                param,
            } => self.eval_range_call(*func, selector, *range_ms, param.as_deref()),
            Node::HistogramQuantile { phi, input } => self.eval_histogram_quantile(phi, input),
            Node::Aggregate {
                op,
                grouping,
                input,
            } => self.eval_aggregate(*op, grouping, input),
            Node::Binary {
                op,
                lhs,
                rhs,
                matching,
                return_bool,
            } => self.eval_binary(*op, lhs, rhs, matching, *return_bool),
            Node::Negate(inner) => self.eval_negate(inner),
        }
    }

    #[inline(never)]
    fn eval_range_call(
        &self,
        func: RangeFn,
        selector: &Selector,
        range_ms: i64,
        param: Option<&Node>,
    ) -> Result<Value, QueryError> {
        let param = match param {
            Some(p) => self.scalar(p, func.name())?,
            None => 0.0,
        };
        self.range_call(func, selector, range_ms, param)
    }

    #[inline(never)]
    fn eval_histogram_quantile(&self, phi: &Node, input: &Node) -> Result<Value, QueryError> {
        let phi = self.scalar(phi, "histogram_quantile")?;
        let input = self.vector(input, "histogram_quantile")?;
        let out = histogram::histogram_quantile(phi, input, self.steps.count)?;
        Ok(Value::Vector(normalize(out)?))
    }

    #[inline(never)]
    fn eval_aggregate(
        &self,
        op: aggregate::AggOp,
        grouping: &aggregate::Grouping,
        input: &Node,
    ) -> Result<Value, QueryError> {
        let input = self.vector(input, "an aggregation")?;
        let out = aggregate::aggregate(op, grouping, &input, self.steps.count);
        Ok(Value::Vector(normalize(out)?))
    }

    #[inline(never)]
    fn eval_binary(
        &self,
        op: binary::BinOp,
        lhs: &Node,
        rhs: &Node,
        matching: &binary::Matching,
        return_bool: bool,
    ) -> Result<Value, QueryError> {
        let (lhs, rhs) = (self.eval(lhs)?, self.eval(rhs)?);
        binary::eval(op, lhs, rhs, matching, return_bool)
    }

    #[inline(never)]
    fn eval_negate(&self, inner: &Node) -> Result<Value, QueryError> {
        match self.eval(inner)? {
            Value::Scalar(v) => Ok(Value::Scalar(-v)),
            Value::Vector(v) => {
                let out = v
                    .into_iter()
                    .map(|s| StepSeries {
                        labels: s.labels.without_name(),
                        values: s.values.into_iter().map(|x| x.map(|x| -x)).collect(),
                    })
                    .collect();
                Ok(Value::Vector(normalize(out)?))
            }
        }
    }

    fn scalar(&self, node: &Node, context: &str) -> Result<f64, QueryError> {
        match self.eval(node)? {
            Value::Scalar(v) => Ok(v),
            Value::Vector(_) => Err(QueryError::invalid(format!(
                "{context} expects a scalar argument, got an instant vector"
            ))),
        }
    }

    fn vector(&self, node: &Node, context: &str) -> Result<Vec<StepSeries>, QueryError> {
        match self.eval(node)? {
            Value::Vector(v) => Ok(v),
            Value::Scalar(_) => Err(QueryError::invalid(format!(
                "{context} expects an instant vector, got a scalar"
            ))),
        }
    }

    /// Reads the series of `sel` whose samples may be seen from some step: those at or before
    /// the last step (shifted by the offset) and after the first step minus `window_ms`.
    fn select(&self, sel: &Selector, window_ms: i64) -> Result<Vec<Series>, QueryError> {
        let end_ms = self.steps.last().saturating_sub(sel.offset_ms);
        let start_ms = self
            .steps
            .start_ms
            .saturating_sub(sel.offset_ms)
            .saturating_sub(window_ms)
            .saturating_add(1);
        let series = self.q.select(&sel.matchers, start_ms, end_ms)?;
        let read: u64 = series.iter().map(|s| s.timestamps.len() as u64).sum();
        let total = self.samples_read.get().saturating_add(read);
        self.samples_read.set(total);
        if total > self.opts.max_samples {
            return Err(QueryError::Limit {
                what: "samples read",
                limit: self.opts.max_samples,
                requested: total,
            });
        }
        Ok(series)
    }

    /// The latest sample at or before each step within the lookback window, unless that
    /// sample is a staleness marker.
    #[inline(never)]
    fn instant_selector(&self, sel: &Selector) -> Result<Value, QueryError> {
        let lookback_ms = self.opts.lookback_ms;
        let series = self.select(sel, lookback_ms)?;
        let (steps, offset_ms) = (self.steps, sel.offset_ms);
        let out = series
            .into_par_iter()
            .with_min_len(SERIES_PER_TASK)
            .map(|s| StepSeries {
                values: latest_values(&s.timestamps, &s.values, &steps, offset_ms, lookback_ms),
                labels: s.labels,
            })
            .collect();
        Ok(Value::Vector(normalize(out)?))
    }

    fn range_call(
        &self,
        func: RangeFn,
        sel: &Selector,
        range_ms: i64,
        param: f64,
    ) -> Result<Value, QueryError> {
        let series = self.select(sel, range_ms)?;
        let (steps, offset_ms) = (self.steps, sel.offset_ms);
        let out = series
            .into_par_iter()
            .with_min_len(SERIES_PER_TASK)
            .map(|s| {
                let (ts, vs) = without_stale(s.timestamps, s.values);
                StepSeries {
                    values: functions::eval_series(
                        func, param, &ts, &vs, &steps, offset_ms, range_ms,
                    ),
                    labels: if func.keeps_name() {
                        s.labels
                    } else {
                        s.labels.without_name()
                    },
                }
            })
            .collect();
        Ok(Value::Vector(normalize(out)?))
    }
}

fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// For each step `t`, the last sample in `(t - offset - lookback, t - offset]`, unless stale.
fn latest_values(
    ts: &[i64],
    vs: &[f64],
    steps: &Steps,
    offset_ms: i64,
    lookback_ms: i64,
) -> Vec<Option<f64>> {
    let mut seen = 0usize; // samples at or before the current step
    (0..steps.count)
        .map(|i| {
            let t = steps.at(i).saturating_sub(offset_ms);
            while seen < ts.len() && ts[seen] <= t {
                seen += 1;
            }
            let last = seen.checked_sub(1)?;
            (ts[last] > t.saturating_sub(lookback_ms) && !is_stale(vs[last])).then_some(vs[last])
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
        let steps = Steps {
            start_ms: 0,
            step_ms: 5,
            count: 7,
        };
        // Lookback 8 ms: at 5 → sample 0; at 10 and 15 → stale marker hides the series;
        // at 20, 25 → 3; at 30 the sample at 20 is out of (22, 30].
        let out = latest_values(&ts, &vs, &steps, 0, 8);
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
