//! The query layer's storage contract, implemented by `Db`.

use strata_index::Matcher;

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
        let found = Db::select_native_histograms(self, &matchers, start_ms, end_ms)
            .map_err(|e| QueryError::Storage(Box::new(e)))?;
        Ok(found
            .into_iter()
            .map(|(labels, samples)| HistogramSeries {
                labels: Labels::new(labels),
                samples,
            })
            .collect())
    }
}
