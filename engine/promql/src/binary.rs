//! Binary operators: arithmetic, comparisons (filtering or `bool`) and the set operators
//! `and`, `or`, `unless`, between scalars and vectors, with vector matching (`on (…)` /
//! `ignoring (…)`, `group_left (…)` / `group_right (…)`), matched step by step.

use super::annotations::Annotations;
use super::error::QueryError;
use super::hist::binary::{Sample, elem};
use super::labels::Labels;
use super::value::{StepSeries, Value, normalize};
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    And,
    Or,
    Unless,
    /// `</`: a histogram without the observations above the float on the right.
    TrimUpper,
    /// `>/`: a histogram without the observations below the float on the right.
    TrimLower,
}

impl BinOp {
    pub(crate) fn from_symbol(sym: &str) -> Option<BinOp> {
        Some(match sym {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "^" => BinOp::Pow,
            "atan2" => BinOp::Atan2,
            "==" => BinOp::Eq,
            "!=" => BinOp::Ne,
            ">" => BinOp::Gt,
            "<" => BinOp::Lt,
            ">=" => BinOp::Ge,
            "<=" => BinOp::Le,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            "unless" => BinOp::Unless,
            "</" => BinOp::TrimUpper,
            ">/" => BinOp::TrimLower,
            _ => return None,
        })
    }

    /// The operator as written.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Atan2 => "atan2",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Gt => ">",
            BinOp::Lt => "<",
            BinOp::Ge => ">=",
            BinOp::Le => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
            BinOp::TrimUpper => "</",
            BinOp::TrimLower => ">/",
        }
    }

    fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Lt | BinOp::Ge | BinOp::Le
        )
    }

    /// `(value, keep)`: arithmetic always keeps its result; a comparison keeps the left value
    /// when it holds.
    fn apply(self, l: f64, r: f64) -> (f64, bool) {
        match self {
            BinOp::Add => (l + r, true),
            BinOp::Sub => (l - r, true),
            BinOp::Mul => (l * r, true),
            BinOp::Div => (l / r, true),
            // Rust's `%` on floats is C's fmod, like Go's math.Mod.
            BinOp::Mod => (l % r, true),
            BinOp::Pow => (l.powf(r), true),
            BinOp::Atan2 => (l.atan2(r), true),
            BinOp::Eq => (l, l == r),
            BinOp::Ne => (l, l != r),
            BinOp::Gt => (l, l > r),
            BinOp::Lt => (l, l < r),
            BinOp::Ge => (l, l >= r),
            BinOp::Le => (l, l <= r),
            BinOp::And | BinOp::Or | BinOp::Unless => (l, true),
            // Trimming is defined for histograms only.
            BinOp::TrimUpper | BinOp::TrimLower => (l, false),
        }
    }

    /// Arithmetic results are new quantities and lose `__name__`; a filtering comparison
    /// passes samples through unchanged, names included.
    fn drops_name(self, return_bool: bool) -> bool {
        let trim = matches!(self, BinOp::TrimUpper | BinOp::TrimLower);
        !(self.is_comparison() || trim) || return_bool
    }
}

/// Cardinality of vector matching; `Vec` holds the `group_x (…)` labels to copy from the "one"
/// side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Card {
    #[default]
    OneToOne,
    ManyToOne(Vec<String>),
    OneToMany(Vec<String>),
}

/// How two vectors' elements are paired: `on (labels)` when `on`, else `ignoring (labels)`
/// (the default, with no labels: all labels but `__name__`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Matching {
    pub on: bool,
    pub labels: Vec<String>,
    pub card: Card,
}

impl Matching {
    fn signature(&self, labels: &Labels) -> Labels {
        if self.on {
            labels.keep_only(&self.labels)
        } else {
            labels.drop_names(&self.labels, true)
        }
    }

    fn include(&self) -> &[String] {
        match &self.card {
            Card::OneToOne => &[],
            Card::ManyToOne(l) | Card::OneToMany(l) => l,
        }
    }
}

/// Evaluates `lhs op rhs`. Not inlined: it is called on the evaluator's recursive path, whose
/// frames should stay small.
#[inline(never)]
pub(crate) fn eval(
    op: BinOp,
    lhs: Value,
    rhs: Value,
    matching: &Matching,
    return_bool: bool,
    ann: &RefCell<Annotations>,
) -> Result<Value, QueryError> {
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) => Ok(Value::Scalar(
            l.iter()
                .zip(&r)
                .map(|(&l, &r)| {
                    let (v, keep) = op.apply(l, r);
                    if op.is_comparison() {
                        if keep { 1.0 } else { 0.0 }
                    } else {
                        v
                    }
                })
                .collect(),
        )),
        (Value::Vector(v), Value::Scalar(s)) => vector_scalar(op, v, &s, (false, return_bool), ann),
        (Value::Scalar(s), Value::Vector(v)) => vector_scalar(op, v, &s, (true, return_bool), ann),
        (Value::Vector(l), Value::Vector(r)) if op.is_set() => set_op(op, l, r, matching),
        (Value::Vector(l), Value::Vector(r)) => vector_vector(op, l, r, matching, return_bool, ann),
        (l, r) => Err(QueryError::invalid(format!(
            "binary operator between a {} and a {}",
            l.type_name(),
            r.type_name()
        ))),
    }
}

/// A comparison result: the kept value, 0/1 with `bool`, or nothing.
fn combine(value: f64, keep: bool, return_bool: bool) -> Option<f64> {
    if return_bool {
        Some(if keep { 1.0 } else { 0.0 })
    } else {
        keep.then_some(value)
    }
}

/// Vector–scalar (or scalar–vector when `scalar_left`).
fn vector_scalar(
    op: BinOp,
    v: Vec<StepSeries>,
    s: &[f64],
    (scalar_left, return_bool): (bool, bool),
    ann: &RefCell<Annotations>,
) -> Result<Value, QueryError> {
    if op.is_set() {
        return Err(QueryError::invalid(
            "set operators need vectors on both sides",
        ));
    }
    let drop_name = op.drops_name(return_bool);
    let out = v
        .into_iter()
        .map(|series| {
            let hists = scalar_hists(op, &series, s, (scalar_left, return_bool), ann);
            let mut values: Vec<Option<f64>> = series
                .values
                .iter()
                .zip(s)
                .map(|(x, &s)| {
                    let x = (*x)?;
                    let (l, r) = if scalar_left { (s, x) } else { (x, s) };
                    let (value, keep) = op.apply(l, r);
                    // A comparison keeps the vector's value, whichever side it is on.
                    let value = if op.is_comparison() { x } else { value };
                    combine(value, keep, return_bool)
                })
                .collect();
            if let Some((bools, _)) = &hists {
                for (v, b) in values.iter_mut().zip(bools) {
                    if b.is_some() {
                        *v = *b;
                    }
                }
            }
            StepSeries {
                hists: hists.map(|h| h.1).unwrap_or_default(),
                labels: if drop_name {
                    series.labels.without_name()
                } else {
                    series.labels
                },
                values,
            }
        })
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// The histogram steps of a vector–scalar operation: the `bool` floats and the histograms.
type ScalarHists = (Vec<Option<f64>>, Vec<Option<super::hist::Hist>>);

/// `op` on the histogram samples of `series` and the scalar; `None` for a float series.
fn scalar_hists(
    op: BinOp,
    series: &StepSeries,
    s: &[f64],
    (scalar_left, return_bool): (bool, bool),
    ann: &RefCell<Annotations>,
) -> Option<ScalarHists> {
    if !series.has_hists() {
        return None;
    }
    let mut bools = vec![None; s.len()];
    let mut hists = vec![None; s.len()];
    for (i, &f) in s.iter().enumerate() {
        let Some(h) = series.hist(i) else { continue };
        let (l, r) = if scalar_left {
            (Sample::Float(f), Sample::Hist(h))
        } else {
            (Sample::Hist(h), Sample::Float(f))
        };
        let e = elem(op, l, r);
        e.annotate(ann);
        if e.incompatible {
            continue;
        }
        if return_bool {
            bools[i] = Some(if e.keep { 1.0 } else { 0.0 });
        } else if e.keep {
            hists[i] = e.hist;
        }
    }
    Some((bools, hists))
}

/// Indexes of `series` by their matching signature.
fn by_signature(
    series: &[StepSeries],
    matching: &Matching,
) -> (Vec<Labels>, HashMap<Labels, Vec<usize>>) {
    let sigs: Vec<Labels> = series
        .iter()
        .map(|s| matching.signature(&s.labels))
        .collect();
    let mut map: HashMap<Labels, Vec<usize>> = HashMap::new();
    for (i, sig) in sigs.iter().enumerate() {
        map.entry(sig.clone()).or_default().push(i);
    }
    (sigs, map)
}

/// `and`, `or`, `unless`: many-to-many, step by step.
fn set_op(
    op: BinOp,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    matching: &Matching,
) -> Result<Value, QueryError> {
    let present = |series: &[StepSeries], members: Option<&Vec<usize>>, step: usize| {
        members.is_some_and(|m| m.iter().any(|&j| has_sample(&series[j], step)))
    };
    match op {
        BinOp::And | BinOp::Unless => {
            let (_, rmap) = by_signature(&rhs, matching);
            let out = lhs
                .into_iter()
                .map(|s| {
                    let members = rmap.get(&matching.signature(&s.labels));
                    let keep: Vec<bool> = (0..s.values.len())
                        .map(|i| present(&rhs, members, i) == (op == BinOp::And))
                        .collect();
                    masked(s, &keep)
                })
                .collect();
            Ok(Value::Vector(normalize(out)?))
        }
        _ => {
            let (_, lmap) = by_signature(&lhs, matching);
            let extra: Vec<StepSeries> = rhs
                .into_iter()
                .map(|s| {
                    let members = lmap.get(&matching.signature(&s.labels));
                    let keep: Vec<bool> = (0..s.values.len())
                        .map(|i| !present(&lhs, members, i))
                        .collect();
                    masked(s, &keep)
                })
                .collect();
            let mut out = lhs;
            out.extend(extra);
            Ok(Value::Vector(normalize(out)?))
        }
    }
}

/// Whether `s` has a sample of either kind at `step`.
fn has_sample(s: &StepSeries, step: usize) -> bool {
    s.values[step].is_some() || s.hist(step).is_some()
}

/// `s` with only the steps where `keep` holds.
fn masked(s: StepSeries, keep: &[bool]) -> StepSeries {
    let values = s
        .values
        .iter()
        .zip(keep)
        .map(|(v, &k)| if k { *v } else { None })
        .collect();
    let hists = s
        .hists
        .into_iter()
        .zip(keep)
        .map(|(h, &k)| if k { h } else { None })
        .collect();
    StepSeries {
        labels: s.labels,
        values,
        hists,
    }
}

/// The labels of a result element (Prometheus' `resultMetric`): the "many" side's labels,
/// without `__name__` for arithmetic and `bool`, reduced to the matching labels for one-to-one,
/// with the `group_x (…)` labels taken from the "one" side.
fn result_labels(many: &Labels, one: &Labels, matching: &Matching, drop_name: bool) -> Labels {
    let mut l = if drop_name {
        many.without_name()
    } else {
        many.clone()
    };
    if matching.card == Card::OneToOne {
        l = if matching.on {
            l.keep_only(&matching.labels)
        } else {
            l.drop_names(&matching.labels, false)
        };
    }
    let include = matching.include();
    if include.is_empty() {
        return l;
    }
    let pairs = l
        .iter()
        .filter(|x| !include.contains(&x.name))
        .map(|x| (x.name.clone(), x.value.clone()))
        .chain(
            include
                .iter()
                .filter_map(|n| Some((n.clone(), one.get(n)?.to_owned()))),
        );
    Labels::new(pairs)
}

/// Arithmetic and comparisons between two vectors, one-to-one or many-to-one / one-to-many.
fn vector_vector(
    op: BinOp,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    matching: &Matching,
    return_bool: bool,
    ann: &RefCell<Annotations>,
) -> Result<Value, QueryError> {
    let swapped = matches!(matching.card, Card::OneToMany(_));
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let steps = many.first().or(one.first()).map_or(0, |s| s.values.len());
    let (many_sigs, many_map) = by_signature(&many, matching);
    let (_, one_map) = by_signature(&one, matching);
    let mut pairs: HashMap<(usize, usize), Pair> = HashMap::new();
    for step in 0..steps {
        // The "one" side must be unique per signature at every step.
        let mut one_at: HashMap<&Labels, usize> = HashMap::new();
        for (sig, members) in &one_map {
            let mut it = members.iter().filter(|&&j| has_sample(&one[j], step));
            if let Some(&j) = it.next() {
                if let Some(&k) = it.next() {
                    return Err(duplicate_one_side(
                        sig,
                        &one[j].labels,
                        &one[k].labels,
                        swapped,
                    ));
                }
                one_at.insert(sig, j);
            }
        }
        if matching.card == Card::OneToOne {
            for (sig, members) in &many_map {
                let n = members
                    .iter()
                    .filter(|&&i| has_sample(&many[i], step))
                    .count();
                if n > 1 && one_at.contains_key(sig) {
                    return Err(QueryError::invalid(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                    ));
                }
            }
        }
        for (i, s) in many.iter().enumerate() {
            if !has_sample(s, step) {
                continue;
            }
            let Some(&j) = one_at.get(&many_sigs[i]) else {
                continue;
            };
            let (Some(x), Some(y)) = (s.values[step], one[j].values[step]) else {
                let entry = pairs.entry((i, j)).or_insert_with(|| Pair::new(steps));
                hist_pair(op, (s, &one[j]), step, swapped, return_bool, entry, ann);
                continue;
            };
            let (l, r) = if swapped { (y, x) } else { (x, y) };
            let (value, keep) = op.apply(l, r);
            if let Some(v) = combine(value, keep, return_bool) {
                pairs
                    .entry((i, j))
                    .or_insert_with(|| Pair::new(steps))
                    .values[step] = Some(v);
            }
        }
    }
    let drop_name = op.drops_name(return_bool);
    let out = pairs
        .into_iter()
        .map(|((i, j), p)| StepSeries {
            hists: p.hists,
            labels: result_labels(&many[i].labels, &one[j].labels, matching, drop_name),
            values: p.values,
        })
        .collect();
    normalize(out).map(Value::Vector).map_err(|e| match e {
        QueryError::Invalid { message } if message.starts_with("vector cannot contain") => {
            QueryError::invalid(format!(
                "multiple matches for labels: grouping labels must ensure unique matches ({message})"
            ))
        }
        other => other,
    })
}

/// The result series of one (many, one) pair.
struct Pair {
    values: Vec<Option<f64>>,
    hists: Vec<Option<super::hist::Hist>>,
}

impl Pair {
    fn new(steps: usize) -> Pair {
        Pair {
            values: vec![None; steps],
            hists: Vec::new(),
        }
    }
}

/// `op` at `step` between a (many, one) pair where at least one sample is a histogram.
fn hist_pair(
    op: BinOp,
    (many, one): (&StepSeries, &StepSeries),
    step: usize,
    swapped: bool,
    return_bool: bool,
    out: &mut Pair,
    ann: &RefCell<Annotations>,
) {
    let (Some(x), Some(y)) = (sample_at(many, step), sample_at(one, step)) else {
        return;
    };
    let (l, r) = if swapped { (y, x) } else { (x, y) };
    let e = elem(op, l, r);
    e.annotate(ann);
    if e.incompatible {
        return;
    }
    if return_bool {
        out.values[step] = Some(if e.keep { 1.0 } else { 0.0 });
    } else if e.keep {
        if out.hists.is_empty() {
            out.hists = vec![None; out.values.len()];
        }
        out.hists[step] = e.hist;
    }
}

fn sample_at(s: &StepSeries, step: usize) -> Option<Sample<'_>> {
    match (s.values[step], s.hist(step)) {
        (Some(v), _) => Some(Sample::Float(v)),
        (None, Some(h)) => Some(Sample::Hist(h)),
        (None, None) => None,
    }
}

fn duplicate_one_side(sig: &Labels, a: &Labels, b: &Labels, swapped: bool) -> QueryError {
    let side = if swapped { "left" } else { "right" };
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    QueryError::invalid(format!(
        "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
        sig.go_string(),
        a.go_string(),
        b.go_string()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(
        op: BinOp,
        lhs: Value,
        rhs: Value,
        m: &Matching,
        return_bool: bool,
    ) -> Result<Value, QueryError> {
        super::eval(op, lhs, rhs, m, return_bool, &RefCell::default())
    }

    fn s(pairs: &[(&str, &str)], values: &[Option<f64>]) -> StepSeries {
        StepSeries {
            hists: Vec::new(),
            labels: Labels::new(pairs.iter().copied()),
            values: values.to_vec(),
        }
    }

    fn vector(v: Value) -> Vec<(String, Vec<Option<f64>>)> {
        match v {
            Value::Vector(v) => v
                .into_iter()
                .map(|s| (s.labels.to_string(), s.values))
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scalar_arithmetic_and_bool_comparison() {
        let r = eval(
            BinOp::Pow,
            Value::Scalar(vec![2.0]),
            Value::Scalar(vec![10.0]),
            &Matching::default(),
            false,
        );
        assert!(matches!(r, Ok(Value::Scalar(v)) if v == [1024.0]));
        let r = eval(
            BinOp::Gt,
            Value::Scalar(vec![1.0]),
            Value::Scalar(vec![2.0]),
            &Matching::default(),
            true,
        );
        assert!(matches!(r, Ok(Value::Scalar(v)) if v == [0.0]));
    }

    #[test]
    fn one_to_one_matching_and_set_operators() {
        let l = vec![s(&[("__name__", "a"), ("x", "1")], &[Some(1.0), None])];
        let r = vec![s(&[("__name__", "b"), ("x", "1")], &[Some(2.0), Some(3.0)])];
        let out = vector(
            eval(
                BinOp::Add,
                Value::Vector(l.clone()),
                Value::Vector(r.clone()),
                &Matching::default(),
                false,
            )
            .unwrap(),
        );
        assert_eq!(out, [("{x=\"1\"}".to_string(), vec![Some(3.0), None])]);
        let out = vector(
            eval(
                BinOp::Or,
                Value::Vector(l.clone()),
                Value::Vector(r.clone()),
                &Matching::default(),
                false,
            )
            .unwrap(),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].1, [None, Some(3.0)]);
        let out = vector(
            eval(
                BinOp::Unless,
                Value::Vector(r),
                Value::Vector(l),
                &Matching::default(),
                false,
            )
            .unwrap(),
        );
        assert_eq!(out[0].1, [None, Some(3.0)]);
    }

    #[test]
    fn group_left_copies_labels_from_the_one_side() {
        let many = vec![
            s(&[("__name__", "a"), ("x", "1"), ("y", "p")], &[Some(1.0)]),
            s(&[("__name__", "a"), ("x", "1"), ("y", "q")], &[Some(2.0)]),
        ];
        let one = vec![s(
            &[("__name__", "info"), ("x", "1"), ("z", "v")],
            &[Some(10.0)],
        )];
        let m = Matching {
            on: true,
            labels: vec!["x".into()],
            card: Card::ManyToOne(vec!["z".into()]),
        };
        let out = vector(
            eval(
                BinOp::Mul,
                Value::Vector(many),
                Value::Vector(one.clone()),
                &m,
                false,
            )
            .unwrap(),
        );
        assert_eq!(out[0].0, "{x=\"1\", y=\"p\", z=\"v\"}");
        assert_eq!(out[1].1, [Some(20.0)]);
        let dup = vec![
            one[0].clone(),
            s(&[("__name__", "info2"), ("x", "1")], &[Some(1.0)]),
        ];
        let many = vec![s(&[("x", "1")], &[Some(1.0)])];
        assert!(
            eval(
                BinOp::Mul,
                Value::Vector(many),
                Value::Vector(dup),
                &m,
                false
            )
            .is_err()
        );
    }
}
