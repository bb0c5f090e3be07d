//! `load_with_nhcb`: classic histograms (`x_bucket{le=…}`, `x_count`, `x_sum`) also loaded as
//! native histograms with custom buckets named `x`, as Prometheus' test loader (its
//! `convertnhcb`) does: per timestamp, the `le` bounds become the custom bounds, cumulative
//! bucket counts become per-bucket counts, a missing `+Inf` bucket gets the count.

use super::script::{Point, SeriesDesc};
use std::collections::BTreeMap;
use strata_engine::{BucketSpan, NativeHistogram};

/// One timestamp of one classic histogram being collected.
#[derive(Default)]
struct Temp {
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
}

/// A converted series: its labels and samples.
pub type Converted = (Vec<(String, String)>, Vec<(i64, NativeHistogram)>);

/// Labels → timestamp → what the classic series say there.
type Collected = BTreeMap<Vec<(String, String)>, BTreeMap<i64, Temp>>;

/// The native histograms with custom buckets that `series` convert to, by label set.
pub fn convert(step_ms: i64, series: &[SeriesDesc]) -> Vec<Converted> {
    let mut all: Collected = BTreeMap::new();
    for s in series {
        let Some(name) = s.metric_name() else {
            continue;
        };
        let (base, kind) = if let Some(b) = name.strip_suffix("_bucket") {
            let le = s
                .labels
                .iter()
                .find(|(n, _)| n == "le")
                .map(|(_, v)| v.as_str());
            match le.and_then(|v| crate::promqltest::script::series_value(v).ok()) {
                Some(le) if !le.is_nan() => (b, Some(le)),
                _ => continue,
            }
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, None)
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, None)
        } else {
            continue;
        };
        let labels: Vec<(String, String)> = s
            .labels
            .iter()
            .filter(|(n, _)| n != "le")
            .map(|(n, v)| {
                if n == "__name__" {
                    (n.clone(), base.to_owned())
                } else {
                    (n.clone(), v.clone())
                }
            })
            .collect();
        let by_t = all.entry(labels).or_default();
        for (i, p) in s.points.iter().enumerate() {
            let Point::Float(v) = p else { continue };
            let t = by_t.entry(i as i64 * step_ms).or_default();
            match kind {
                Some(le) => t.buckets.push((le, *v)),
                None if name.ends_with("_count") => t.count = Some(*v),
                None => t.sum = *v,
            }
        }
    }
    all.into_iter()
        .map(|(labels, by_t)| {
            let samples = by_t
                .into_iter()
                .filter_map(|(t, h)| Some((t, to_native(h)?)))
                .collect();
            (labels, samples)
        })
        .collect()
}

/// `convertnhcb`'s conversion; `None` where the count and the `+Inf` bucket disagree.
fn to_native(mut h: Temp) -> Option<NativeHistogram> {
    h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = h.count.or(h.buckets.last().map(|b| b.1)).unwrap_or(0.0);
    if h.buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        h.buckets.push((f64::INFINITY, count));
    }
    if h.buckets.last().is_some_and(|b| b.1 != count) {
        return None;
    }
    let mut prev = 0.0;
    let mut counts = Vec::with_capacity(h.buckets.len());
    for &(_, c) in &h.buckets {
        counts.push(c - prev);
        prev = c;
    }
    Some(NativeHistogram {
        schema: -53,
        count,
        sum: h.sum,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: counts.len() as u32,
        }],
        positive_buckets: counts,
        custom_values: h
            .buckets
            .iter()
            .map(|b| b.0)
            .filter(|b| b.is_finite())
            .collect(),
        ..NativeHistogram::default()
    })
}
