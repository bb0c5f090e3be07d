//! Instant functions of native histograms: `histogram_count`, `histogram_sum`,
//! `histogram_avg`, `histogram_stddev`, `histogram_stdvar`, and the native half of
//! `histogram_quantile(s)` and `histogram_fraction` (the classic half is in `histogram`).

use super::{Hist, fraction, quantile, variance};
use crate::annotations::Annotations;
use crate::error::QueryError;
use crate::instant::InstantFn;
use crate::labels::{Labels, METRIC_NAME};
use crate::value::{StepSeries, Value, normalize};
use rayon::prelude::*;

/// `f(histogram)` for every histogram sample of `input`, names dropped; float samples are
/// ignored (Prometheus' `simpleHistogramFunc`).
pub(crate) fn simple(func: InstantFn, input: Vec<StepSeries>) -> Result<Value, QueryError> {
    let f: fn(&Hist) -> f64 = match func {
        InstantFn::HistogramCount => |h| h.count,
        InstantFn::HistogramSum => |h| h.sum,
        InstantFn::HistogramAvg => |h| h.sum / h.count,
        InstantFn::HistogramStddev => |h| variance(h).sqrt(),
        _ => |h| variance(h),
    };
    let out = input
        .into_par_iter()
        .filter(StepSeries::has_hists)
        .map(|s| {
            let values = s.hists.iter().map(|h| h.as_ref().map(f)).collect();
            StepSeries::new(s.labels.without_name(), values)
        })
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// The arguments of a native quantile or fraction.
pub(crate) enum Stat<'a> {
    /// φ per step.
    Quantile(&'a [f64]),
    /// Lower and upper bound per step.
    Fraction(&'a [f64], &'a [f64]),
}

/// The quantile or fraction of every histogram sample of `input` (series without histograms
/// are left to the classic path), names dropped.
pub(crate) fn native_stat(
    stat: Stat<'_>,
    input: &[StepSeries],
    ann: &mut Annotations,
    at: Option<(u32, u32)>,
) -> Vec<StepSeries> {
    let results: Vec<(StepSeries, (bool, bool, String))> = input
        .par_iter()
        .filter(|s| s.has_hists())
        .map(|s| {
            let (mut nan_result, mut skewed) = (false, false);
            let values = s
                .hists
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let h = h.as_ref()?;
                    let (v, note) = match stat {
                        Stat::Quantile(phi) => quantile(phi[i], h),
                        Stat::Fraction(lo, hi) => fraction(lo[i], hi[i], h),
                    };
                    nan_result |= note.nan_result;
                    skewed |= note.skewed;
                    Some(v)
                })
                .collect();
            let name = s.labels.get(METRIC_NAME).unwrap_or_default().to_owned();
            let out = StepSeries::new(s.labels.without_name(), values);
            (out, (nan_result, skewed, name))
        })
        .collect();
    let for_name = |n: &str| {
        if n.is_empty() {
            String::new()
        } else {
            format!(" for metric name {n:?}")
        }
    };
    let mut out = Vec::with_capacity(results.len());
    for (s, (nan_result, skewed, name)) in results {
        let quantile = matches!(stat, Stat::Quantile(_));
        if nan_result {
            ann.info(
                format!(
                    "input to histogram_quantile has NaN observations, result is NaN{}",
                    for_name(&name)
                ),
                at,
            );
        }
        if skewed && quantile {
            ann.info(
                format!(
                    "input to histogram_quantile has NaN observations, result is skewed higher{}",
                    for_name(&name)
                ),
                at,
            );
        }
        if skewed && !quantile {
            ann.info(
                format!(
                    "input to histogram_fraction has NaN observations, which are excluded from all fractions{}",
                    for_name(&name)
                ),
                at,
            );
        }
        out.push(s);
    }
    out
}

/// `labels` with `name` set to `value`.
pub(crate) fn with_label(labels: &Labels, name: &str, value: &str) -> Labels {
    Labels::new(
        labels
            .iter()
            .filter(|l| l.name != name)
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .chain(std::iter::once((name, value))),
    )
}
