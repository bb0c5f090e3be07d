//! Exemplars (a sample's link to a trace) and metric metadata (type, unit, help), in the
//! shapes Prometheus' `/api/v1/query_exemplars` and `/api/v1/metadata` return.

use std::fmt;

/// One exemplar: an observation that stands for a sample, usually with the trace that made it
/// (`trace_id`, `span_id` labels, as OpenMetrics and OTLP carry them).
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// Label pairs (e.g. `trace_id`, `span_id`), in the order given.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Milliseconds since the epoch.
    pub t_ms: i64,
}

/// At most this many characters of label names and values together in one exemplar, as
/// OpenMetrics (and Prometheus) allow.
pub const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

impl Exemplar {
    /// The label `name`'s value, if the exemplar has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Checks the label length limit and that names are non-empty. Returns what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let chars: usize = self
            .labels
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum();
        if chars > MAX_EXEMPLAR_LABEL_CHARS {
            return Err(format!(
                "exemplar labels have {chars} characters, over the limit of {MAX_EXEMPLAR_LABEL_CHARS}"
            ));
        }
        if self.labels.iter().any(|(n, _)| n.is_empty()) {
            return Err("exemplar label with an empty name".into());
        }
        Ok(())
    }
}

/// A metric's type, as exposition formats and Prometheus' metadata API name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    #[default]
    Unknown,
}

impl MetricKind {
    /// Every kind, in the order of their stored numbers.
    pub const ALL: [MetricKind; 8] = [
        MetricKind::Counter,
        MetricKind::Gauge,
        MetricKind::Histogram,
        MetricKind::GaugeHistogram,
        MetricKind::Summary,
        MetricKind::Info,
        MetricKind::StateSet,
        MetricKind::Unknown,
    ];

    /// The name `# TYPE` and `/api/v1/metadata` use.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::GaugeHistogram => "gaugehistogram",
            MetricKind::Summary => "summary",
            MetricKind::Info => "info",
            MetricKind::StateSet => "stateset",
            MetricKind::Unknown => "unknown",
        }
    }

    /// The kind `# TYPE` names `s` (case-insensitive; `untyped` is unknown).
    pub fn parse(s: &str) -> Option<MetricKind> {
        let s = s.to_ascii_lowercase();
        if s == "untyped" {
            return Some(MetricKind::Unknown);
        }
        MetricKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The number the WAL stores.
    pub fn as_u8(self) -> u8 {
        MetricKind::ALL
            .iter()
            .position(|k| *k == self)
            .map_or(7, |i| i as u8)
    }

    /// The kind stored as `v` (unknown numbers are [`MetricKind::Unknown`]).
    pub fn from_u8(v: u8) -> MetricKind {
        MetricKind::ALL
            .get(usize::from(v))
            .copied()
            .unwrap_or(MetricKind::Unknown)
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is known about a metric name: its type, unit and help text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MetricMetadata {
    pub kind: MetricKind,
    pub unit: String,
    pub help: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name_and_number() {
        for k in MetricKind::ALL {
            assert_eq!(MetricKind::parse(k.as_str()), Some(k));
            assert_eq!(MetricKind::from_u8(k.as_u8()), k);
        }
        assert_eq!(MetricKind::parse("UNTYPED"), Some(MetricKind::Unknown));
        assert_eq!(MetricKind::parse("bogus"), None);
    }

    #[test]
    fn exemplar_labels_are_limited_to_128_characters() {
        let mut e = Exemplar {
            labels: vec![("trace_id".into(), "a".repeat(120))],
            value: 1.0,
            t_ms: 0,
        };
        assert_eq!(e.validate(), Ok(()));
        assert_eq!(e.label("trace_id").map(str::len), Some(120));
        e.labels[0].1.push('b');
        assert!(e.validate().is_err_and(|m| m.contains("129 characters")));
    }
}
