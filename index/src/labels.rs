//! Label sets: validation, canonical order, and an owned representation.
//!
//! Semantics follow Prometheus: the metric name is the label `__name__`; label names are sorted
//! by their bytes; a label whose value is empty is the same as an absent label, so it is dropped
//! when a set is canonicalised (`{a="", b="x"}` and `{b="x"}` are one series).

use crate::error::{Error, LabelPart, Result, clip};
use std::fmt;

/// The label that carries the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Bounds every label set must respect; breaking one is a typed error, not a truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Labels per set, counting empty-valued ones as given.
    pub max_labels: usize,
    pub max_name_bytes: usize,
    pub max_value_bytes: usize,
    /// Series need a non-empty `__name__`; span rows do not.
    pub require_metric_name: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_labels: 128,
            max_name_bytes: 256,
            max_value_bytes: 4096,
            require_metric_name: true,
        }
    }
}

impl Limits {
    /// The defaults without the metric-name rule, for indexes over span or log rows.
    pub fn for_rows() -> Self {
        Limits {
            require_metric_name: false,
            ..Limits::default()
        }
    }
}

fn utf8(bytes: &[u8], index: usize, part: LabelPart) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
        index,
        part,
        valid_up_to: e.valid_up_to(),
    })
}

/// Label sets up to this size are canonicalised in a stack buffer, without allocating.
const STACK_LABELS: usize = 32;

/// Validates `input` and hands its canonical form (sorted by name, empty values dropped) to `f`.
/// Borrows the caller's strings; allocates only for sets of more than 32 labels.
pub(crate) fn with_canonical<'a, N, V, R>(
    input: &'a [(N, V)],
    limits: &Limits,
    f: impl FnOnce(&[(&'a str, &'a str)]) -> Result<R>,
) -> Result<R>
where
    N: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    if input.len() > limits.max_labels {
        return Err(Error::TooManyLabels {
            count: input.len(),
            max: limits.max_labels,
        });
    }
    if input.len() <= STACK_LABELS {
        let mut buf = [("", ""); STACK_LABELS];
        let n = canonicalize_into(input, limits, &mut buf[..input.len()])?;
        f(&buf[..n])
    } else {
        let mut buf = vec![("", ""); input.len()];
        let n = canonicalize_into(input, limits, &mut buf)?;
        f(&buf[..n])
    }
}

/// Fills `out` (as long as `input`) and returns how many leading entries are the canonical set.
fn canonicalize_into<'a, N, V>(
    input: &'a [(N, V)],
    limits: &Limits,
    out: &mut [(&'a str, &'a str)],
) -> Result<usize>
where
    N: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    for (index, ((n, v), slot)) in input.iter().zip(out.iter_mut()).enumerate() {
        let name = utf8(n.as_ref(), index, LabelPart::Name)?;
        let value = utf8(v.as_ref(), index, LabelPart::Value)?;
        if name.is_empty() {
            return Err(Error::EmptyLabelName { index });
        }
        for (part, len, max) in [
            (LabelPart::Name, name.len(), limits.max_name_bytes),
            (LabelPart::Value, value.len(), limits.max_value_bytes),
        ] {
            if len > max {
                return Err(Error::LabelTooLong {
                    name: clip(name, 64),
                    part,
                    len,
                    max,
                });
            }
        }
        *slot = (name, value);
    }
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::DuplicateLabelName {
            name: clip(w[0].0, 64),
        });
    }
    let mut n = 0;
    for i in 0..out.len() {
        if !out[i].1.is_empty() {
            out[n] = out[i];
            n += 1;
        }
    }
    if limits.require_metric_name
        && out[..n]
            .binary_search_by(|(name, _)| (*name).cmp(METRIC_NAME))
            .is_err()
    {
        return Err(Error::EmptyMetricName);
    }
    Ok(n)
}

/// An owned, validated label set in canonical order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels {
    pairs: Vec<(String, String)>,
}

impl Labels {
    /// Validates `input` under `limits` and puts it in canonical form.
    pub fn new<N: AsRef<[u8]>, V: AsRef<[u8]>>(input: &[(N, V)], limits: &Limits) -> Result<Self> {
        with_canonical(input, limits, |canon| {
            Ok(Labels {
                pairs: canon
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
            })
        })
    }

    /// From pairs the caller guarantees are canonical (sorted, unique names, no empty values).
    pub(crate) fn from_canonical(pairs: Vec<(String, String)>) -> Self {
        debug_assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0));
        Labels { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.pairs[i].1.as_str())
    }

    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

impl fmt::Display for Labels {
    /// Prometheus text style: `{__name__="up", job="api"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v:?}")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[(&[u8], &[u8])]) -> Result<Labels> {
        Labels::new(input, &Limits::default())
    }

    #[test]
    fn canonical_form_sorts_and_drops_empty_values() {
        let l = check(&[
            (b"model", b"gpt-4o"),
            (b"__name__", b"llm_requests_total"),
            (b"tenant", b""),
        ])
        .unwrap();
        assert_eq!(
            l.iter().collect::<Vec<_>>(),
            [("__name__", "llm_requests_total"), ("model", "gpt-4o")]
        );
        assert_eq!(l.metric_name(), Some("llm_requests_total"));
        assert_eq!(l.get("tenant"), None);
        assert_eq!(
            l.to_string(),
            r#"{__name__="llm_requests_total", model="gpt-4o"}"#
        );
    }

    #[test]
    fn each_rule_has_its_own_error() {
        let limits = Limits {
            max_labels: 3,
            max_name_bytes: 8,
            max_value_bytes: 4,
            require_metric_name: true,
        };
        let run = |input: &[(&[u8], &[u8])]| Labels::new(input, &limits).unwrap_err();
        assert!(matches!(run(&[(b"a", b"1")]), Error::EmptyMetricName));
        assert!(matches!(
            run(&[(b"__name__", b""), (b"a", b"1")]),
            Error::EmptyMetricName
        ));
        assert!(matches!(
            run(&[(b"__name__", b"m"), (b"", b"1")]),
            Error::EmptyLabelName { index: 1 }
        ));
        assert!(matches!(
            run(&[(b"__name__", b"m"), (b"a", b"\xff\xfe")]),
            Error::InvalidUtf8 {
                index: 1,
                part: LabelPart::Value,
                valid_up_to: 0
            }
        ));
        assert!(matches!(
            run(&[(b"__name__", b"m"), (b"a\xc3", b"x")]),
            Error::InvalidUtf8 {
                index: 1,
                part: LabelPart::Name,
                valid_up_to: 1
            }
        ));
        match run(&[(b"__name__", b"m"), (b"a", b"1"), (b"a", b"")]) {
            Error::DuplicateLabelName { name } => assert_eq!(name, "a"),
            e => panic!("{e}"),
        }
        assert!(matches!(
            run(&[
                (b"__name__", b"m"),
                (b"a", b"1"),
                (b"b", b"1"),
                (b"c", b"1")
            ]),
            Error::TooManyLabels { count: 4, max: 3 }
        ));
        assert!(matches!(
            run(&[(b"__name__", b"m"), (b"a", b"12345")]),
            Error::LabelTooLong {
                part: LabelPart::Value,
                len: 5,
                max: 4,
                ..
            }
        ));
        assert!(matches!(
            run(&[(b"__name__", b"m"), (b"long_name", b"1")]),
            Error::LabelTooLong {
                part: LabelPart::Name,
                len: 9,
                ..
            }
        ));
        // Rows need no metric name.
        assert!(Labels::new(&[("service", "api")], &Limits::for_rows()).is_ok());
        // Past the stack buffer the same rules hold.
        let many: Vec<(String, String)> = (0..40).map(|i| (format!("l{i}"), "v".into())).collect();
        assert!(matches!(
            Labels::new(&many, &Limits::default()),
            Err(Error::EmptyMetricName)
        ));
        assert_eq!(Labels::new(&many, &Limits::for_rows()).unwrap().len(), 40);
    }
}
