//! Label sets: sorted by name, cheap to clone, ordered like Prometheus orders series.

use std::fmt;
use std::sync::Arc;

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub name: String,
    pub value: String,
}

/// A series' identity: labels sorted by name, `__name__` included, no empty values.
///
/// Cloning shares the pairs (one `Arc`), so a label set can be handed to every step and every
/// group without copying strings. The derived order compares pair by pair (name, then value),
/// then by length — the order Prometheus sorts series in.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<[Label]>);

impl Labels {
    /// Builds a label set from pairs in any order.
    ///
    /// As in Prometheus an empty value means "label absent", so such pairs are dropped; when a
    /// name repeats, the last pair wins (builder semantics).
    pub fn new<I, N, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: Into<String>,
    {
        let mut v: Vec<Label> = pairs
            .into_iter()
            .map(|(n, v)| Label {
                name: n.into(),
                value: v.into(),
            })
            .collect();
        // Stable sort keeps input order among equal names, so "last wins" is well defined.
        v.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out: Vec<Label> = Vec::with_capacity(v.len());
        for l in v {
            match out.last_mut() {
                Some(prev) if prev.name == l.name => *prev = l,
                _ => out.push(l),
            }
        }
        out.retain(|l| !l.value.is_empty());
        Labels(out.into())
    }

    /// The empty label set.
    pub fn empty() -> Self {
        Labels::default()
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same set without `__name__`; shares the pairs when there is no name to drop.
    pub fn without_name(&self) -> Labels {
        if self.metric_name().is_none() {
            return self.clone();
        }
        self.filtered(|n| n != METRIC_NAME)
    }

    /// Only the labels whose names are in `names` (`by (…)`, `on (…)`).
    pub(crate) fn keep_only(&self, names: &[String]) -> Labels {
        self.filtered(|n| names.iter().any(|k| k == n))
    }

    /// Without the labels in `names`, and without `__name__` when `and_name` is set
    /// (`without (…)`, `ignoring (…)`).
    pub(crate) fn drop_names(&self, names: &[String], and_name: bool) -> Labels {
        self.filtered(|n| !(names.iter().any(|k| k == n) || (and_name && n == METRIC_NAME)))
    }

    fn filtered(&self, keep: impl Fn(&str) -> bool) -> Labels {
        if self.0.iter().all(|l| keep(&l.name)) {
            return self.clone();
        }
        Labels(self.0.iter().filter(|l| keep(&l.name)).cloned().collect())
    }
}

impl fmt::Display for Labels {
    /// Prometheus style: `name{a="b", c="d"}`, or `{a="b"}` without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.metric_name() {
            f.write_str(name)?;
        }
        f.write_str("{")?;
        let mut first = true;
        for l in self.0.iter().filter(|l| l.name != METRIC_NAME) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}=\"", l.name)?;
            for c in l.value.chars() {
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '"' => f.write_str("\\\"")?,
                    '\n' => f.write_str("\\n")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

impl Labels {
    /// As Prometheus' Go code prints a label set in errors: `{__name__="x", a="b"}`.
    pub(crate) fn go_string(&self) -> String {
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|l| format!("{}={:?}", l.name, l.value))
            .collect();
        format!("{{{}}}", pairs.join(", "))
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sorts_drops_empty_values_and_keeps_the_last_duplicate() {
        let l = Labels::new([("b", "1"), ("a", "x"), ("c", ""), ("b", "2")]);
        let pairs: Vec<_> = l
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "x"), ("b", "2")]);
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn display_escapes_and_puts_the_name_first() {
        let l = Labels::new([("__name__", "up"), ("job", "a\"b\\c\nd")]);
        assert_eq!(l.to_string(), r#"up{job="a\"b\\c\nd"}"#);
        assert_eq!(Labels::empty().to_string(), "{}");
    }

    #[test]
    fn order_is_pairwise_then_by_length() {
        let a = Labels::new([("a", "1")]);
        let ab = Labels::new([("a", "1"), ("b", "1")]);
        let a2 = Labels::new([("a", "2")]);
        assert!(a < ab && ab < a2);
    }

    #[test]
    fn filters_share_when_nothing_changes() {
        let l = Labels::new([("a", "1"), ("b", "2")]);
        assert!(Arc::ptr_eq(&l.0, &l.without_name().0));
        assert_eq!(l.keep_only(&["b".into()]), Labels::new([("b", "2")]));
        let named = Labels::new([("__name__", "m"), ("a", "1"), ("b", "2")]);
        assert_eq!(
            named.drop_names(&["a".into()], true),
            Labels::new([("b", "2")])
        );
    }
}
