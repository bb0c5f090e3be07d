//! Binary operators: arithmetic and comparisons between scalars and vectors, with one-to-one
//! vector matching (`on (…)` / `ignoring (…)`).

use super::error::QueryError;
use super::labels::Labels;
use super::value::{StepSeries, Value, normalize};
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
            _ => return None,
        })
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
        }
    }

    /// Arithmetic results are new quantities and lose `__name__`; a filtering comparison
    /// passes samples through unchanged, names included.
    fn drops_name(self, return_bool: bool) -> bool {
        !self.is_comparison() || return_bool
    }
}

/// Which labels two vector elements must share to be paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matching {
    /// Exactly these labels.
    On(Vec<String>),
    /// All labels but these and `__name__` (the default, with an empty list).
    Ignoring(Vec<String>),
}

impl Default for Matching {
    fn default() -> Self {
        Matching::Ignoring(Vec::new())
    }
}

impl Matching {
    fn signature(&self, labels: &Labels) -> Labels {
        match self {
            Matching::On(names) => labels.keep_only(names),
            Matching::Ignoring(names) => labels.drop_names(names, true),
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
) -> Result<Value, QueryError> {
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) => {
            let (v, keep) = op.apply(l, r);
            // The parser only lets comparisons between scalars through with `bool`.
            Ok(Value::Scalar(if op.is_comparison() {
                f64::from(u8::from(keep))
            } else {
                v
            }))
        }
        (Value::Vector(v), Value::Scalar(s)) => vector_scalar(op, v, s, false, return_bool),
        (Value::Scalar(s), Value::Vector(v)) => vector_scalar(op, v, s, true, return_bool),
        (Value::Vector(l), Value::Vector(r)) => vector_vector(op, &l, &r, matching, return_bool),
    }
}

/// Applies `op` between every element and the scalar; `scalar_left` for `s op v`.
fn vector_scalar(
    op: BinOp,
    v: Vec<StepSeries>,
    s: f64,
    scalar_left: bool,
    return_bool: bool,
) -> Result<Value, QueryError> {
    let drop_name = op.drops_name(return_bool);
    let out = v
        .into_iter()
        .map(|series| StepSeries {
            labels: if drop_name {
                series.labels.without_name()
            } else {
                series.labels
            },
            values: series
                .values
                .into_iter()
                .map(|x| {
                    let x = x?;
                    let (l, r) = if scalar_left { (s, x) } else { (x, s) };
                    let (mut value, keep) = op.apply(l, r);
                    if op.is_comparison() {
                        // A filter passes the vector's own value, whichever side it is on.
                        value = x;
                    }
                    combine(value, keep, return_bool)
                })
                .collect(),
        })
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// `Some` result of one pair: the value if kept, or 1/0 with `bool`.
fn combine(value: f64, keep: bool, return_bool: bool) -> Option<f64> {
    if return_bool {
        Some(f64::from(u8::from(keep)))
    } else {
        keep.then_some(value)
    }
}

/// One-to-one matching: each left element pairs with the right element of the same
/// signature. Several elements of one side with the same signature at the same step is an
/// error, as Prometheus requires `group_left`/`group_right` there.
fn vector_vector(
    op: BinOp,
    lhs: &[StepSeries],
    rhs: &[StepSeries],
    matching: &Matching,
    return_bool: bool,
) -> Result<Value, QueryError> {
    let steps = lhs.first().or(rhs.first()).map_or(0, |s| s.values.len());
    let mut right: HashMap<Labels, Vec<usize>> = HashMap::new();
    for (i, s) in rhs.iter().enumerate() {
        right
            .entry(matching.signature(&s.labels))
            .or_default()
            .push(i);
    }
    // Checked for every signature, matched or not, as Prometheus does.
    for (sig, members) in &right {
        if members.len() > 1 {
            for step in 0..steps {
                let present: Vec<&Labels> = members
                    .iter()
                    .filter(|&&i| rhs[i].values[step].is_some())
                    .map(|&i| &rhs[i].labels)
                    .collect();
                if present.len() > 1 {
                    return Err(QueryError::invalid(format!(
                        "found duplicate series for the match group {sig} on the right hand-side \
                         of the operation: {present:?}; many-to-many matching not allowed: \
                         matching labels must be unique on one side"
                    )));
                }
            }
        }
    }
    let mut left: HashMap<Labels, Vec<usize>> = HashMap::new();
    for (i, s) in lhs.iter().enumerate() {
        left.entry(matching.signature(&s.labels))
            .or_default()
            .push(i);
    }
    let drop_name = op.drops_name(return_bool);
    let mut out = Vec::new();
    for (sig, l_members) in &left {
        let Some(r_members) = right.get(sig) else {
            continue;
        };
        let mut results: Vec<StepSeries> = l_members
            .iter()
            .map(|&i| StepSeries {
                labels: result_labels(&lhs[i].labels, matching, drop_name),
                values: vec![None; steps],
            })
            .collect();
        for step in 0..steps {
            let Some(r) = r_members.iter().find_map(|&i| rhs[i].values[step]) else {
                continue;
            };
            let mut matched = l_members
                .iter()
                .enumerate()
                .filter_map(|(k, &i)| Some((k, lhs[i].values[step]?)));
            let Some((k, l)) = matched.next() else {
                continue;
            };
            if matched.next().is_some() {
                return Err(QueryError::invalid(format!(
                    "multiple matches for labels {sig} on the left hand-side of the operation: \
                     many-to-one matching must be explicit (group_left/group_right, which Strata \
                     does not support)"
                )));
            }
            let (value, keep) = op.apply(l, r);
            results[k].values[step] = combine(value, keep, return_bool);
        }
        out.extend(results);
    }
    Ok(Value::Vector(normalize(out)?))
}

/// The labels of a one-to-one result: the left side's, without `__name__` for arithmetic,
/// reduced to the `on` labels or stripped of the `ignoring` ones.
fn result_labels(lhs: &Labels, matching: &Matching, drop_name: bool) -> Labels {
    let lhs = if drop_name {
        lhs.without_name()
    } else {
        lhs.clone()
    };
    match matching {
        Matching::On(names) => lhs.keep_only(names),
        Matching::Ignoring(names) => lhs.drop_names(names, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)], values: &[Option<f64>]) -> StepSeries {
        StepSeries {
            labels: Labels::new(pairs.iter().copied()),
            values: values.to_vec(),
        }
    }

    fn vector(v: Value) -> Vec<(String, Vec<Option<f64>>)> {
        let Value::Vector(v) = v else {
            panic!("not a vector")
        };
        v.into_iter()
            .map(|s| (s.labels.to_string(), s.values))
            .collect()
    }

    #[test]
    fn scalar_arithmetic_and_bool_comparison() {
        let r = eval(
            BinOp::Pow,
            Value::Scalar(2.0),
            Value::Scalar(10.0),
            &Matching::default(),
            false,
        );
        assert!(matches!(r, Ok(Value::Scalar(1024.0))));
        let r = eval(
            BinOp::Gt,
            Value::Scalar(1.0),
            Value::Scalar(2.0),
            &Matching::default(),
            true,
        );
        assert!(matches!(r, Ok(Value::Scalar(0.0))));
    }

    #[test]
    fn vector_scalar_keeps_the_vector_value_for_filters() {
        let v = || {
            Value::Vector(vec![s(
                &[("__name__", "m"), ("a", "1")],
                &[Some(1.0), Some(5.0)],
            )])
        };
        let r = eval(
            BinOp::Lt,
            Value::Scalar(2.0),
            v(),
            &Matching::default(),
            false,
        )
        .unwrap();
        assert_eq!(vector(r), [("m{a=\"1\"}".into(), vec![None, Some(5.0)])]);
        let r = eval(
            BinOp::Lt,
            Value::Scalar(2.0),
            v(),
            &Matching::default(),
            true,
        )
        .unwrap();
        assert_eq!(
            vector(r),
            [("{a=\"1\"}".into(), vec![Some(0.0), Some(1.0)])]
        );
        let r = eval(
            BinOp::Sub,
            Value::Scalar(10.0),
            v(),
            &Matching::default(),
            false,
        )
        .unwrap();
        assert_eq!(
            vector(r),
            [("{a=\"1\"}".into(), vec![Some(9.0), Some(5.0)])]
        );
    }

    #[test]
    fn one_to_one_matching() {
        let l = Value::Vector(vec![
            s(
                &[("__name__", "errors"), ("job", "a"), ("code", "500")],
                &[Some(2.0)],
            ),
            s(
                &[("__name__", "errors"), ("job", "b"), ("code", "500")],
                &[Some(3.0)],
            ),
        ]);
        let r = Value::Vector(vec![
            s(&[("__name__", "requests"), ("job", "a")], &[Some(10.0)]),
            s(&[("__name__", "requests"), ("job", "c")], &[Some(10.0)]),
        ]);
        let ign = Matching::Ignoring(vec!["code".into()]);
        let out = eval(BinOp::Div, l.clone(), r.clone(), &ign, false).unwrap();
        assert_eq!(vector(out), [("{job=\"a\"}".into(), vec![Some(0.2)])]);
        let on = Matching::On(vec!["job".into()]);
        let out = eval(BinOp::Div, l.clone(), r.clone(), &on, false).unwrap();
        assert_eq!(vector(out), [("{job=\"a\"}".into(), vec![Some(0.2)])]);
        // Without a modifier, `code` is part of the signature and nothing matches.
        let out = eval(BinOp::Div, l, r, &Matching::default(), false).unwrap();
        assert!(vector(out).is_empty());
    }

    #[test]
    fn duplicate_matches_are_errors() {
        let l = Value::Vector(vec![s(&[("job", "a")], &[Some(1.0)])]);
        let r = Value::Vector(vec![
            s(&[("job", "a"), ("x", "1")], &[Some(1.0)]),
            s(&[("job", "a"), ("x", "2")], &[Some(1.0)]),
        ]);
        let on = Matching::On(vec!["job".into()]);
        assert!(matches!(
            eval(BinOp::Add, l.clone(), r.clone(), &on, false),
            Err(QueryError::Invalid { .. })
        ));
        assert!(matches!(
            eval(BinOp::Add, r, l, &on, false),
            Err(QueryError::Invalid { .. })
        ));
    }
}
