//! Query results, and the step-aligned values the evaluator passes between nodes.

use super::error::QueryError;
use super::hist::Hist;
use super::labels::Labels;
use rayon::prelude::*;
use strata_model::NativeHistogram;

/// One series of a range query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSeries {
    pub labels: Labels,
    /// `(t_ms, value)` at the steps where the series has a float value, ascending.
    pub points: Vec<(i64, f64)>,
    /// `(t_ms, histogram)` at the steps where the series has a native histogram, ascending
    /// (a series may have floats at some steps and histograms at others).
    pub histograms: Vec<(i64, NativeHistogram)>,
}

/// A range query's result: series sorted by labels. A scalar result is one series with no
/// labels and a point at every step.
pub type Matrix = Vec<MatrixSeries>;

/// One sample of an instant query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    pub t_ms: i64,
    /// The float value; 0 when the sample is a histogram.
    pub value: f64,
    /// The sample's native histogram, when it is one.
    pub histogram: Option<NativeHistogram>,
}

/// An instant query's result: samples sorted by labels. A scalar result is one sample with no
/// labels.
pub type Vector = Vec<VectorSample>;

/// The evaluation timestamps `start_ms + i * step_ms` for `i < count`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    pub start_ms: i64,
    pub step_ms: i64,
    pub count: usize,
}

impl Steps {
    pub(crate) fn at(&self, i: usize) -> i64 {
        self.start_ms + i as i64 * self.step_ms
    }

    /// One step at `t_ms`.
    pub(crate) fn instant(t_ms: i64) -> Steps {
        Steps {
            start_ms: t_ms,
            step_ms: 1,
            count: 1,
        }
    }
}

/// A series of an instant vector evaluated at every step: `values[i]` belongs to
/// `Steps::at(i)`, `None` where the series has no value. Labels never change between steps,
/// so matching and grouping are done once per series instead of once per step.
#[derive(Debug, Clone)]
pub(crate) struct StepSeries {
    pub labels: Labels,
    pub values: Vec<Option<f64>>,
    /// Native histograms per step, or empty when the series has none. At a step where
    /// `hists[i]` is set, `values[i]` is `None`: a sample is a float or a histogram. Code that
    /// handles only floats therefore drops histogram samples, as Prometheus' float-only
    /// functions do.
    pub hists: Vec<Option<Hist>>,
}

impl StepSeries {
    /// A series of floats only.
    pub(crate) fn new(labels: Labels, values: Vec<Option<f64>>) -> StepSeries {
        StepSeries {
            labels,
            values,
            hists: Vec::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none) && self.hists.iter().all(Option::is_none)
    }

    /// The histogram at step `i`, if there is one.
    pub(crate) fn hist(&self, i: usize) -> Option<&Hist> {
        self.hists.get(i).and_then(Option::as_ref)
    }

    pub(crate) fn has_hists(&self) -> bool {
        self.hists.iter().any(Option::is_some)
    }
}

/// A series of a range vector: its samples in time order, staleness markers removed.
#[derive(Debug, Clone)]
pub(crate) struct RangeSeries {
    pub labels: Labels,
    /// The float samples.
    pub ts: Vec<i64>,
    pub vs: Vec<f64>,
    /// The histogram samples, in time order (empty for a float series).
    pub hs: Vec<(i64, Hist)>,
}

/// What a plan node evaluates to, at every step of its [`Steps`].
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// One number per step.
    Scalar(Vec<f64>),
    Vector(Vec<StepSeries>),
    String(String),
    /// A range vector (a range selector or subquery as the result of an instant query).
    Matrix(Vec<RangeSeries>),
}

impl Value {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::Vector(_) => "instant vector",
            Value::String(_) => "string",
            Value::Matrix(_) => "range vector",
        }
    }
}

/// An instant query's result, of the expression's type.
#[derive(Debug, Clone, PartialEq)]
pub enum InstantValue {
    Scalar(f64),
    String(String),
    Vector(Vector),
    /// A range vector: each series' samples in its window.
    Matrix(Matrix),
}

/// Sorts `series` by labels, dropping those without any value. Series whose labels became
/// equal (for instance after `__name__` was dropped) are merged when they never have a value
/// at the same step, and are an error — as in Prometheus — when they do.
pub(crate) fn normalize(mut series: Vec<StepSeries>) -> Result<Vec<StepSeries>, QueryError> {
    series.retain(|s| !s.is_empty());
    series.par_sort_by(|a, b| a.labels.cmp(&b.labels));
    let mut out: Vec<StepSeries> = Vec::with_capacity(series.len());
    for s in series {
        match out.last_mut() {
            Some(prev) if prev.labels == s.labels => merge_disjoint(prev, s)?,
            _ => out.push(s),
        }
    }
    Ok(out)
}

/// Moves the values of `s` into the steps where `prev` has none; an error where both have one.
fn merge_disjoint(prev: &mut StepSeries, s: StepSeries) -> Result<(), QueryError> {
    let n = prev.values.len();
    if !s.hists.is_empty() && prev.hists.is_empty() {
        prev.hists = vec![None; n];
    }
    let mut hists = s.hists.into_iter();
    for (i, v) in s.values.into_iter().enumerate() {
        let h = hists.next().flatten();
        let taken = prev.values[i].is_some() || prev.hist(i).is_some();
        if taken && (v.is_some() || h.is_some()) {
            return Err(QueryError::invalid(
                "vector cannot contain metrics with the same labelset",
            ));
        }
        if v.is_some() {
            prev.values[i] = v;
        }
        if h.is_some() {
            prev.hists[i] = h;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(l: &str, values: &[Option<f64>]) -> StepSeries {
        StepSeries::new(Labels::new([("a", l)]), values.to_vec())
    }

    #[test]
    fn normalize_sorts_drops_empty_and_merges_disjoint_duplicates() {
        let out = normalize(vec![
            s("b", &[Some(1.0), None]),
            s("c", &[None, None]),
            s("a", &[None, Some(2.0)]),
            s("b", &[None, Some(3.0)]),
        ])
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].values, [None, Some(2.0)]);
        assert_eq!(out[1].values, [Some(1.0), Some(3.0)]);
    }

    #[test]
    fn normalize_rejects_overlapping_duplicates() {
        let r = normalize(vec![s("b", &[Some(1.0)]), s("b", &[Some(2.0)])]);
        assert!(matches!(r, Err(QueryError::Invalid { .. })));
    }
}
