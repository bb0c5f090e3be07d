//! The contract between the query layer and storage, and an in-memory implementation of it.

use super::error::QueryError;
use super::labels::Labels;
use rayon::prelude::*;
use regex::Regex;
use std::fmt;
use strata_model::NativeHistogram;

/// One series and its samples in the selected time range.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// Milliseconds since the epoch, strictly ascending.
    pub timestamps: Vec<i64>,
    /// One value per timestamp. A staleness marker is the NaN with bits [`STALE_NAN_BITS`].
    ///
    /// [`STALE_NAN_BITS`]: super::STALE_NAN_BITS
    pub values: Vec<f64>,
}

/// One series and its native histogram samples in the selected time range.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSeries {
    pub labels: Labels,
    /// `(t_ms, histogram)`, timestamps strictly ascending. A staleness marker is a histogram
    /// whose `sum` has the bits [`STALE_NAN_BITS`](super::STALE_NAN_BITS).
    pub samples: Vec<(i64, NativeHistogram)>,
}

/// How a [`LabelMatcher`] compares a label's value (shared with the index through
/// `strata-model`): regexes are fully anchored.
pub use strata_model::MatchOp;

/// `name op "value"`, with Prometheus semantics: a missing label has the empty value, and
/// regexes match the whole value (`^(?s:value)$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabelMatcher {
    pub name: String,
    pub op: MatchOp,
    /// The literal, or the regex as written (not anchored).
    pub value: String,
}

impl LabelMatcher {
    pub fn new(name: impl Into<String>, op: MatchOp, value: impl Into<String>) -> Self {
        LabelMatcher {
            name: name.into(),
            op,
            value: value.into(),
        }
    }
}

impl fmt::Display for LabelMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op, self.value)
    }
}

/// What the query layer needs from storage.
pub trait Querier: Sync {
    /// Every series matching all `matchers` (Prometheus semantics), with its samples in
    /// `[start_ms, end_ms]` (both inclusive). Series without samples in the range may be left
    /// out; the order of the returned series does not matter.
    fn select(
        &self,
        matchers: &[LabelMatcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, QueryError>;

    /// Like [`Querier::select`], for native histogram samples. A series may have both kinds
    /// (floats at some timestamps, histograms at others) and then appears in both answers.
    /// Storage without native histograms keeps the default: none.
    fn select_histograms(
        &self,
        matchers: &[LabelMatcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<HistogramSeries>, QueryError> {
        let _ = (matchers, start_ms, end_ms);
        Ok(Vec::new())
    }
}

/// A [`Querier`] over series held in memory: for tests, benchmarks, and as the reference the
/// storage's querier is checked against.
#[derive(Debug, Clone, Default)]
pub struct MemQuerier {
    series: Vec<Series>,
}

impl MemQuerier {
    /// Takes ownership of `series` after checking them: one value per timestamp, timestamps
    /// strictly ascending, no label set twice.
    pub fn new(mut series: Vec<Series>) -> Result<Self, QueryError> {
        for s in &series {
            if s.timestamps.len() != s.values.len() {
                return Err(QueryError::invalid(format!(
                    "series {} has {} timestamps but {} values",
                    s.labels,
                    s.timestamps.len(),
                    s.values.len()
                )));
            }
            if let Some(i) = s.timestamps.windows(2).position(|w| w[0] >= w[1]) {
                return Err(QueryError::invalid(format!(
                    "series {}: timestamp {} at index {} does not follow {}",
                    s.labels,
                    s.timestamps[i + 1],
                    i + 1,
                    s.timestamps[i]
                )));
            }
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        if let Some(w) = series.windows(2).find(|w| w[0].labels == w[1].labels) {
            return Err(QueryError::invalid(format!(
                "series {} given twice",
                w[0].labels
            )));
        }
        Ok(MemQuerier { series })
    }

    /// All series held, sorted by labels.
    pub fn series(&self) -> &[Series] {
        &self.series
    }
}

impl Querier for MemQuerier {
    fn select(
        &self,
        matchers: &[LabelMatcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let compiled = matchers
            .iter()
            .map(Compiled::new)
            .collect::<Result<Vec<_>, _>>()?;
        let selected = self
            .series
            .par_iter()
            .with_min_len(256)
            .filter(|s| {
                compiled
                    .iter()
                    .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
            })
            .filter_map(|s| {
                let lo = s.timestamps.partition_point(|&t| t < start_ms);
                let hi = s.timestamps.partition_point(|&t| t <= end_ms);
                (lo < hi).then(|| Series {
                    labels: s.labels.clone(),
                    timestamps: s.timestamps[lo..hi].to_vec(),
                    values: s.values[lo..hi].to_vec(),
                })
            })
            .collect();
        Ok(selected)
    }
}

/// A matcher with its regex compiled once per `select`.
struct Compiled {
    name: String,
    op: MatchOp,
    value: String,
    regex: Option<Regex>,
}

impl Compiled {
    fn new(m: &LabelMatcher) -> Result<Self, QueryError> {
        let regex = match m.op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(
                Regex::new(&format!("^(?s:{})$", m.value))
                    .map_err(|e| QueryError::invalid(format!("bad regex in matcher {m}: {e}")))?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Compiled {
            name: m.name.clone(),
            op: m.op,
            value: m.value.clone(),
            regex,
        })
    }

    fn matches(&self, v: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::RegexMatch, Some(re)) => re.is_match(v),
            (MatchOp::RegexNoMatch, Some(re)) => !re.is_match(v),
            (MatchOp::RegexMatch | MatchOp::RegexNoMatch, None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(pairs: &[(&str, &str)], ts: &[i64]) -> Series {
        Series {
            labels: Labels::new(pairs.iter().copied()),
            timestamps: ts.to_vec(),
            values: ts.iter().map(|&t| t as f64).collect(),
        }
    }

    fn q() -> MemQuerier {
        MemQuerier::new(vec![
            series(&[("__name__", "up"), ("job", "api")], &[1, 2, 3]),
            series(
                &[("__name__", "up"), ("job", "db"), ("env", "prod")],
                &[2, 5],
            ),
            series(&[("__name__", "down")], &[1]),
        ])
        .unwrap()
    }

    fn names(v: &[Series]) -> Vec<String> {
        v.iter().map(|s| s.labels.to_string()).collect()
    }

    #[test]
    fn equality_regex_and_missing_labels() {
        let q = q();
        let up = LabelMatcher::new("__name__", MatchOp::Equal, "up");
        let r = q.select(std::slice::from_ref(&up), 0, 10).unwrap();
        assert_eq!(r.len(), 2);
        // A missing label has the empty value.
        let no_env = LabelMatcher::new("env", MatchOp::Equal, "");
        assert_eq!(
            names(&q.select(&[up.clone(), no_env], 0, 10).unwrap()),
            ["up{job=\"api\"}"]
        );
        // Regexes are anchored: "ap" does not match "api".
        let re = LabelMatcher::new("job", MatchOp::RegexMatch, "ap");
        assert!(q.select(&[re], 0, 10).unwrap().is_empty());
        let re = LabelMatcher::new("job", MatchOp::RegexNoMatch, "a.*");
        assert_eq!(names(&q.select(&[up, re], 0, 10).unwrap()).len(), 1);
    }

    #[test]
    fn time_range_is_inclusive_and_empty_series_are_dropped() {
        let q = q();
        let up = LabelMatcher::new("__name__", MatchOp::Equal, "up");
        let r = q.select(&[up], 2, 3).unwrap();
        let ts = |job: &str| {
            let s = r.iter().find(|s| s.labels.get("job") == Some(job)).unwrap();
            s.timestamps.clone()
        };
        assert_eq!(ts("api"), [2, 3]);
        assert_eq!(ts("db"), [2]);
        let down = LabelMatcher::new("__name__", MatchOp::Equal, "down");
        assert!(q.select(&[down], 2, 3).unwrap().is_empty());
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut s = series(&[("a", "1")], &[1, 2]);
        s.values.pop();
        assert!(matches!(
            MemQuerier::new(vec![s]),
            Err(QueryError::Invalid { .. })
        ));
        let s = series(&[("a", "1")], &[2, 2]);
        assert!(MemQuerier::new(vec![s]).is_err());
        let s = series(&[("a", "1")], &[1]);
        assert!(MemQuerier::new(vec![s.clone(), s]).is_err());
        let bad = LabelMatcher::new("a", MatchOp::RegexMatch, "(");
        assert!(matches!(
            q().select(&[bad], 0, 1),
            Err(QueryError::Invalid { .. })
        ));
    }
}
