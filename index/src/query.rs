//! Query evaluation shared by every index (in memory, rows, files): matchers become unions of
//! postings to intersect and postings to subtract, applied cheapest first.

use crate::dimension::{Dimension, DimensionFilter};
use crate::error::Result;
use crate::matcher::{Matcher, Pattern, Rest};
use roaring::{MultiOps, RoaringBitmap};
use std::borrow::Cow;

pub(crate) mod sealed {
    use super::*;

    /// What an index offers the evaluator. A "list" is a `u32` naming one (name, value)
    /// postings list inside that index.
    pub trait Source {
        /// Every id in the index.
        fn universe(&self) -> Result<Cow<'_, RoaringBitmap>>;
        /// One past the highest id (the ids are `0..id_span`, give or take gaps).
        fn id_span(&self) -> u64;
        /// The list of `name="value"`, if any series has it.
        fn lookup(&self, name: &str, value: &str) -> Result<Option<u32>>;
        /// Calls `f(value, list)` for every value of `name` starting with `prefix`, in no
        /// promised order, until `f` returns `false`.
        fn scan(
            &self,
            name: &str,
            prefix: &str,
            f: &mut dyn FnMut(&str, u32) -> Result<bool>,
        ) -> Result<()>;
        /// Calls `f` with every label name, in no promised order.
        fn for_each_name(&self, f: &mut dyn FnMut(&str) -> Result<()>) -> Result<()>;
        /// How many ids a list holds, without loading it where that costs anything.
        fn cardinality(&self, list: u32) -> Result<u64>;
        fn load(&self, list: u32) -> Result<Cow<'_, RoaringBitmap>>;
    }
}

use sealed::Source;

/// The queries every Strata label index answers: the in-memory [`crate::MemIndex`], the span-row
/// [`crate::RowIndex`] and the on-disk [`crate::IndexFile`].
pub trait LabelIndex: Source {
    /// Ids of the series (rows) that satisfy every matcher.
    fn select(&self, matchers: &[Matcher]) -> Result<RoaringBitmap> {
        let Some((includes, excludes)) = plan(self, matchers)? else {
            return Ok(RoaringBitmap::new());
        };
        combine(self, includes, &excludes)
    }

    /// Ids of the series of this service × model × provider (see [`DimensionFilter`]).
    fn select_dimensions(&self, filter: &DimensionFilter<'_>) -> Result<RoaringBitmap> {
        let mut includes = Vec::new();
        for (d, value) in filter.constraints() {
            let mut lists = Vec::new();
            for alias in filter.aliases.names(d) {
                if let Some(l) = self.lookup(alias, value)? {
                    lists.push(l);
                }
            }
            if lists.is_empty() {
                return Ok(RoaringBitmap::new());
            }
            includes.push(Clause::new(self, lists)?);
        }
        combine(self, includes, &[])
    }

    /// The ids carrying `name="value"` exactly (empty if none).
    fn postings(&self, name: &str, value: &str) -> Result<RoaringBitmap> {
        Ok(match self.lookup(name, value)? {
            Some(l) => self.load(l)?.into_owned(),
            None => RoaringBitmap::new(),
        })
    }

    /// Sorted label names; with matchers, only names present on a matching series.
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut names = Vec::new();
        self.for_each_name(&mut |n| {
            names.push(n.to_owned());
            Ok(())
        })?;
        if !matchers.is_empty() {
            let selected = self.select(matchers)?;
            let mut kept = Vec::new();
            for n in names {
                if any_value_in(self, &n, &selected)? {
                    kept.push(n);
                }
            }
            names = kept;
        }
        names.sort_unstable();
        Ok(names)
    }

    /// Sorted values of `name`; with matchers, only values carried by a matching series.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>> {
        let selected = match matchers {
            [] => None,
            m => Some(self.select(m)?),
        };
        let mut values = Vec::new();
        self.scan(name, "", &mut |v, l| {
            let keep = match &selected {
                None => true,
                Some(s) => !self.load(l)?.is_disjoint(s),
            };
            if keep {
                values.push(v.to_owned());
            }
            Ok(true)
        })?;
        values.sort_unstable();
        Ok(values)
    }

    /// Sorted values of a dimension across all its alias label names.
    fn dimension_values(&self, d: Dimension, filter: &DimensionFilter<'_>) -> Result<Vec<String>> {
        let mut values = Vec::new();
        for alias in filter.aliases.names(d) {
            values.extend(self.label_values(alias, &[])?);
        }
        values.sort_unstable();
        values.dedup();
        Ok(values)
    }
}

impl<T: Source + ?Sized> LabelIndex for T {}

fn any_value_in<S: Source + ?Sized>(src: &S, name: &str, selected: &RoaringBitmap) -> Result<bool> {
    let mut found = false;
    src.scan(name, "", &mut |_, l| {
        found = !src.load(l)?.is_disjoint(selected);
        Ok(!found)
    })?;
    Ok(found)
}

/// A union of lists to intersect with, and an upper bound of its size for ordering.
struct Clause {
    lists: Vec<u32>,
    estimate: u64,
}

impl Clause {
    fn new<S: Source + ?Sized>(src: &S, lists: Vec<u32>) -> Result<Self> {
        let mut estimate = 0u64;
        for &l in &lists {
            estimate = estimate.saturating_add(src.cardinality(l)?);
        }
        Ok(Clause { lists, estimate })
    }
}

/// Lists of the non-empty values `v` of the matcher's label with `pattern(v) == want`.
fn collect<S: Source + ?Sized>(src: &S, m: &Matcher, want: bool, out: &mut Vec<u32>) -> Result<()> {
    let pattern = m.pattern();
    let mut push = |l| {
        out.push(l);
        Ok(true)
    };
    if want {
        match pattern {
            Pattern::Literals(set) => {
                for v in set.iter().filter(|v| !v.is_empty()) {
                    if let Some(l) = src.lookup(m.name(), v)? {
                        out.push(l);
                    }
                }
            }
            Pattern::Prefix { prefix, rest } => src.scan(m.name(), prefix, &mut |v, l| {
                let ok = match rest {
                    Rest::Any => true,
                    Rest::NonEmpty => v.len() > prefix.len(),
                    Rest::Regex(re) => re.is_match(v),
                };
                if ok { push(l) } else { Ok(true) }
            })?,
        }
    } else if !pattern.is_everything() {
        src.scan(m.name(), "", &mut |v, l| {
            if pattern.matches(v) {
                Ok(true)
            } else {
                push(l)
            }
        })?;
    }
    Ok(())
}

type Plan = (Vec<Clause>, Vec<u32>);

/// Turns each matcher into an include clause (a series must be in the union) or exclusions (a
/// series must be in none). A series lacking the label counts as having the empty value, so a
/// matcher that accepts "" can only remove series: those with a value it rejects.
/// `None` means some include clause is empty, so the answer is empty.
fn plan<S: Source + ?Sized>(src: &S, matchers: &[Matcher]) -> Result<Option<Plan>> {
    let mut includes = Vec::new();
    let mut excludes = Vec::new();
    for m in matchers {
        let want = !m.negated();
        if m.matches("") {
            collect(src, m, !want, &mut excludes)?;
        } else {
            let mut lists = Vec::new();
            collect(src, m, want, &mut lists)?;
            if lists.is_empty() {
                return Ok(None);
            }
            includes.push(Clause::new(src, lists)?);
        }
    }
    Ok(Some((includes, excludes)))
}

fn union<S: Source + ?Sized>(src: &S, lists: &[u32]) -> Result<RoaringBitmap> {
    if let [l] = lists {
        return Ok(src.load(*l)?.into_owned());
    }
    let loaded = lists
        .iter()
        .map(|&l| src.load(l))
        .collect::<Result<Vec<_>>>()?;
    Ok(loaded.iter().map(|b| b.as_ref()).union())
}

/// Intersects the include clauses, then subtracts the exclusions from what is left, so every
/// step works on the smallest set available.
///
/// The smallest clause seeds the running set. After it come the dense clauses (more than 1/16
/// of the id space: roaring stores them as bitmap containers, so intersecting costs one bit
/// test per element of the running set), then the sparse ones (array containers, where an
/// intersection walks both sides, so it is cheaper once the running set has shrunk).
fn combine<S: Source + ?Sized>(
    src: &S,
    mut includes: Vec<Clause>,
    excludes: &[u32],
) -> Result<RoaringBitmap> {
    includes.sort_by_key(|c| c.estimate);
    let span = src.id_span();
    if includes.len() > 2 {
        includes[1..].sort_by_key(|c| (c.estimate.saturating_mul(16) < span, c.estimate));
    }
    let mut clauses = includes.into_iter();
    let mut acc = match clauses.next() {
        Some(first) => union(src, &first.lists)?,
        None => src.universe()?.into_owned(),
    };
    for c in clauses {
        if acc.is_empty() {
            return Ok(acc);
        }
        if let [l] = c.lists[..] {
            acc &= src.load(l)?.as_ref();
        } else if acc.len().saturating_mul(c.lists.len() as u64) < c.estimate {
            // A small running set meets each list separately instead of paying for the union.
            let mut next = RoaringBitmap::new();
            for &l in &c.lists {
                next |= &acc & src.load(l)?.as_ref();
            }
            acc = next;
        } else {
            acc &= union(src, &c.lists)?;
        }
    }
    for &l in excludes {
        if acc.is_empty() {
            break;
        }
        acc -= src.load(l)?.as_ref();
    }
    Ok(acc)
}
