//! Strata's PromQL engine: parsing, limits and evaluation over any [`Querier`].
//!
//! It depends on no storage: the engine's `Db` implements [`Querier`] (merging head and
//! blocks), [`MemQuerier`] is the in-memory reference the tests use. It must not depend on
//! the engine or its TSDB; it has no `unsafe`.
//!
//! ```text
//!  "sum by (model) (rate(x[5m]))" ──parse──▶ Plan ──eval_range / eval_instant──▶ Matrix / Vector
//!                                                        │
//!                                            Querier::select(matchers, start, end)
//! ```
//!
//! The storage implements [`Querier`] (the `Db` merges head and blocks); [`MemQuerier`] is the
//! in-memory reference. Semantics are Prometheus 3's:
//!
//! - instant selectors take the latest sample in `(t - 5m, t]`; a staleness marker
//!   ([`STALE_NAN_BITS`]) as that sample hides the series; range selectors cover
//!   `(t - range, t]` without staleness markers; `offset` shifts both (negative allowed);
//! - `rate`, `increase`, `delta` extrapolate like `extrapolatedRate` (to the window edges if
//!   the samples come within 1.1 average intervals, else by half an interval; counters not
//!   below zero), with the "might not be a counter" annotations;
//! - the stable language besides: subqueries, `@` (with `start()`/`end()`), vector matching
//!   with `on`/`ignoring`/`group_left`/`group_right`, `and`/`or`/`unless`, `bool`, every
//!   aggregation but `limit_ratio`, every function on floats and classic `le` histograms
//!   (`histogram_quantile` with Prometheus' monotonicity fix);
//! - functions, arithmetic and aggregations drop `__name__` (`last_over_time`, filtering
//!   comparisons and `by (__name__)` keep it); two results with the same labels at the same
//!   step are an error.
//!
//! Not supported (a [`QueryError::Unsupported`] naming the construct, or a parse error):
//! native histograms, `limit_ratio`, and the experimental syntax (duration expressions,
//! `anchored`/`smoothed`, `fill`, `info`). `docs/promql.md` lists it all, with Prometheus'
//! test files as the measure.
//!
//! Before anything is parsed, one pass over the text checks the limits that keep parsing and
//! evaluation within a bounded stack (a query over one is [`QueryError::Limit`]):
//! [`MAX_QUERY_BYTES`] (64 KiB), [`MAX_NESTING`] of brackets (64), [`MAX_DEPTH`] of the
//! expression (256: operators chain into left-deep trees, so `1+1+…+1` with 256 operators is
//! over), [`MAX_ESCAPES_PER_STRING`] (8,192) and [`MAX_COMMENT_LINES_IN_A_ROW`] (1,024). Within
//! them a query parses and evaluates on a thread with a 256 KiB stack.
//!
//! ```
//! use strata_promql::{Labels, MemQuerier, Series, eval_range};
//!
//! // A counter growing by 2 every 15 s for ten minutes.
//! let q = MemQuerier::new(vec![Series {
//!     labels: Labels::new([("__name__", "tokens_total"), ("model", "gpt-4o")]),
//!     timestamps: (0..40).map(|i| i * 15_000).collect(),
//!     values: (0..40).map(|i| 2.0 * i as f64).collect(),
//! }])?;
//! let m = eval_range(&q, "sum by (model) (rate(tokens_total[1m]))", 60_000, 300_000, 60_000)?;
//! assert_eq!(m[0].labels.get("model"), Some("gpt-4o"));
//! assert!(m[0].points.iter().all(|&(_, v)| (v - 2.0 / 15.0).abs() < 1e-12));
//! # Ok::<(), strata_promql::QueryError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

mod aggregate;
mod annotations;
mod binary;
mod error;
mod eval;
mod functions;
mod hist;
mod histogram;
mod instant;
mod label_fns;
mod labels;
mod limits;
mod over_time;
mod plan;
mod querier;
mod stats;
mod value;

pub use annotations::{Annotation, Annotations, Level};
pub use error::QueryError;
pub use eval::{EvalOptions, Evaluated, QueryStats, STALE_NAN_BITS};
pub use histogram::BUCKET_LABEL;
pub use labels::{Label, Labels, METRIC_NAME};
pub use limits::{
    MAX_COMMENT_LINES_IN_A_ROW, MAX_DEPTH, MAX_ESCAPES_PER_STRING, MAX_NESTING, MAX_QUERY_BYTES,
};
pub use plan::{Plan, parse};
pub use querier::{HistogramSeries, LabelMatcher, MatchOp, MemQuerier, Querier, Series};
pub use value::{InstantValue, Matrix, MatrixSeries, Vector, VectorSample};

/// Parses `expr` and evaluates it at `start_ms`, `start_ms + step_ms`, … up to `end_ms` with
/// [`EvalOptions::default`].
pub fn eval_range(
    q: &dyn Querier,
    expr: &str,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
) -> Result<Matrix, QueryError> {
    parse(expr)?.eval_range(q, start_ms, end_ms, step_ms, &EvalOptions::default())
}

/// Parses `expr` and evaluates it at `t_ms` with [`EvalOptions::default`].
pub fn eval_instant(q: &dyn Querier, expr: &str, t_ms: i64) -> Result<Vector, QueryError> {
    parse(expr)?.eval_instant(q, t_ms, &EvalOptions::default())
}
