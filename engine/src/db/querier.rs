//! The query layer's storage contract, implemented by `Db`.

use strata_index::Matcher;
use strata_model::native::CUSTOM_BUCKETS_SCHEMA;
use strata_model::{BucketSpan, NativeHistogram};

use super::Db;
use crate::query::{HistogramSeries, LabelMatcher, Labels, Querier, QueryError, Series};

/// Converts a query-layer matcher into the index's (regexes are compiled and checked here).
pub fn to_index_matcher(m: &LabelMatcher) -> Result<Matcher, QueryError> {
    Matcher::new(m.op, m.name.as_str(), m.value.as_str())
        .map_err(|e| QueryError::Storage(format!("matcher {m}: {e}").into()))
}

impl Querier for Db {
    fn select(
        &self,
        matchers: &[LabelMatcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let matchers = matchers
            .iter()
            .map(to_index_matcher)
            .collect::<Result<Vec<_>, _>>()?;
        let found = Db::select(self, &matchers, start_ms, end_ms)
            .map_err(|e| QueryError::Storage(Box::new(e)))?;
        Ok(found
            .into_iter()
            .map(|s| Series {
                labels: Labels::new(s.labels),
                timestamps: s.timestamps_ms,
                values: s.values,
            })
            .collect())
    }

    fn select_histograms(
        &self,
        matchers: &[LabelMatcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<HistogramSeries>, QueryError> {
        let matchers = matchers
            .iter()
            .map(to_index_matcher)
            .collect::<Result<Vec<_>, _>>()?;
        let storage = |e| QueryError::Storage(Box::new(e));
        let native =
            Db::select_native_histograms(self, &matchers, start_ms, end_ms).map_err(storage)?;
        let explicit = Db::select_histograms(self, &matchers, start_ms, end_ms).map_err(storage)?;
        let mut out: Vec<HistogramSeries> = native
            .into_iter()
            .map(|(labels, samples)| HistogramSeries {
                labels: Labels::new(labels),
                samples,
            })
            .collect();
        for (labels, chunks) in explicit {
            let samples: Vec<(i64, NativeHistogram)> = chunks
                .iter()
                .flat_map(|c| c.iter())
                .filter(|(t, _)| (start_ms..=end_ms).contains(t))
                .map(|(t, h)| (t, custom_buckets(h.bounds, h.counts, h.count, h.sum)))
                .collect();
            if !samples.is_empty() {
                out.push(HistogramSeries {
                    labels: Labels::new(labels),
                    samples,
                });
            }
        }
        Ok(out)
    }
}

/// An explicit-bucket histogram as PromQL sees it: a native histogram with custom buckets
/// (Prometheus' NHCB, what its OTLP receiver makes of explicit-bucket histograms when asked to).
fn custom_buckets(bounds: &[f64], counts: &[u64], count: u64, sum: f64) -> NativeHistogram {
    NativeHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: count as f64,
        sum,
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: counts.len() as u32,
        }],
        positive_buckets: counts.iter().map(|&c| c as f64).collect(),
        custom_values: bounds.to_vec(),
        ..NativeHistogram::default()
    }
}
