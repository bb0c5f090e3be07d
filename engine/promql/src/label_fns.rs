//! Functions that change or order labels: `label_replace`, `label_join`, `sort`,
//! `sort_desc`, `sort_by_label`, `sort_by_label_desc`.

use super::annotations::Pos;
use super::error::QueryError;
use super::eval::Evaluator;
use super::instant::InstantFn;
use super::labels::Labels;
use super::plan::Node;
use super::value::{StepSeries, Steps, Value, normalize};
use regex::Regex;
use std::cmp::Ordering;

fn string_arg<'n>(args: &'n [Node], i: usize, func: &str) -> Result<&'n str, QueryError> {
    match args.get(i) {
        Some(Node::String(s)) => Ok(s),
        _ => Err(QueryError::invalid(format!(
            "argument {} of `{func}` must be a string literal",
            i + 1
        ))),
    }
}

/// Whether `name` may be a label name (Prometheus 3 accepts any non-empty UTF-8).
fn valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// `labels` with `name` set to `value` (removed when `value` is empty).
fn with_label(labels: &Labels, name: &str, value: &str) -> Labels {
    let pairs = labels
        .iter()
        .filter(|l| l.name != name)
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .chain(std::iter::once((name, value)));
    Labels::new(pairs)
}

/// `label_replace(v, dst, replacement, src, regex)`.
pub(crate) fn label_replace(
    ev: &Evaluator<'_>,
    args: &[Node],
    steps: Steps,
) -> Result<Value, QueryError> {
    const F: &str = "label_replace";
    let dst = string_arg(args, 1, F)?;
    let repl = string_arg(args, 2, F)?;
    let src = string_arg(args, 3, F)?;
    let pattern = string_arg(args, 4, F)?;
    let regex = Regex::new(&format!("^(?s:{pattern})$")).map_err(|_| {
        QueryError::invalid(format!(
            "invalid regular expression in label_replace(): {pattern}"
        ))
    })?;
    if !valid_label_name(dst) {
        return Err(QueryError::invalid(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let input = ev.vector(&args[0], steps, F)?;
    let out = input
        .into_iter()
        .map(|s| {
            let value = s.labels.get(src).unwrap_or("");
            let labels = match regex.captures(value) {
                Some(caps) => {
                    let mut res = String::new();
                    caps.expand(repl, &mut res);
                    with_label(&s.labels, dst, &res)
                }
                None => s.labels,
            };
            StepSeries {
                hists: s.hists,
                labels,
                values: s.values,
            }
        })
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// `label_join(v, dst, separator, src…)`.
pub(crate) fn label_join(
    ev: &Evaluator<'_>,
    args: &[Node],
    steps: Steps,
) -> Result<Value, QueryError> {
    const F: &str = "label_join";
    let dst = string_arg(args, 1, F)?;
    let sep = string_arg(args, 2, F)?;
    let srcs = (3..args.len())
        .map(|i| string_arg(args, i, F))
        .collect::<Result<Vec<_>, _>>()?;
    if !valid_label_name(dst) {
        return Err(QueryError::invalid(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let input = ev.vector(&args[0], steps, F)?;
    let out = input
        .into_iter()
        .map(|s| {
            let joined: Vec<&str> = srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
            let labels = with_label(&s.labels, dst, &joined.join(sep));
            StepSeries {
                hists: s.hists,
                labels,
                values: s.values,
            }
        })
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// The `sort` family. Only an instant query's result has an order: with more than one step the
/// series stay sorted by labels, with Prometheus' warning.
pub(crate) fn sort(
    ev: &Evaluator<'_>,
    func: InstantFn,
    args: &[Node],
    pos: &Pos,
    steps: Steps,
) -> Result<Value, QueryError> {
    let name = func.name();
    let input = normalize(
        ev.vector(
            args.first()
                .ok_or_else(|| QueryError::invalid(format!("`{name}` needs an argument")))?,
            steps,
            name,
        )?,
    )?;
    let by: Vec<&str> = (1..args.len())
        .map(|i| string_arg(args, i, name))
        .collect::<Result<_, _>>()?;
    if steps.count != 1 {
        ev.annotations.borrow_mut().warn(
            "sort is ineffective for range queries since results are always ordered by labels",
            pos.call,
        );
        return Ok(Value::Vector(input));
    }
    let mut out = input;
    if matches!(func, InstantFn::Sort | InstantFn::SortDesc) {
        // Histograms have no order by value: Prometheus leaves them out.
        out.retain(|s| s.values[0].is_some());
        out.iter_mut().for_each(|s| s.hists.clear());
    }
    let value = |s: &StepSeries| s.values[0].unwrap_or(f64::NAN);
    match func {
        InstantFn::Sort => out.sort_by(|a, b| by_value(value(a), value(b), false)),
        InstantFn::SortDesc => out.sort_by(|a, b| by_value(value(a), value(b), true)),
        InstantFn::SortByLabel => out.sort_by(|a, b| by_labels(&a.labels, &b.labels, &by)),
        _ => out.sort_by(|a, b| by_labels(&b.labels, &a.labels, &by)),
    }
    Ok(Value::Vector(out))
}

/// Ascending (or descending) by value, NaN last either way.
fn by_value(a: f64, b: f64, desc: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// By the given labels' values in natural order, then by the whole label set.
fn by_labels(a: &Labels, b: &Labels, by: &[&str]) -> Ordering {
    for name in by {
        let (x, y) = (a.get(name).unwrap_or(""), b.get(name).unwrap_or(""));
        if x != y {
            return if natural_less(x, y) {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
    }
    a.cmp(b)
}

/// Splits into runs of ASCII digits and runs of everything else.
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = s.as_bytes();
    for i in 1..=b.len() {
        if i == b.len() || b[i].is_ascii_digit() != b[i - 1].is_ascii_digit() {
            out.push(&s[start..i]);
            start = i;
        }
    }
    out
}

/// Natural order (numbers inside strings compare as numbers), as the natsort package
/// Prometheus uses.
fn natural_less(a: &str, b: &str) -> bool {
    let (ca, cb) = (chunks(a), chunks(b));
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else {
            return false;
        };
        let last = |equal_continue: bool| -> Option<bool> {
            if i == ca.len() - 1 {
                Some(true)
            } else if i == cb.len() - 1 {
                Some(false)
            } else if equal_continue {
                None
            } else {
                Some(false)
            }
        };
        match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(p), Ok(q)) if p != q => return p < q,
            (Ok(_), Ok(_)) => {
                if let Some(r) = last(true) {
                    return r;
                }
            }
            _ if x == y => {
                if let Some(r) = last(true) {
                    return r;
                }
            }
            _ => return x < y,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert!(natural_less("a2", "a10"));
        assert!(!natural_less("a10", "a2"));
        assert!(natural_less("abc", "abd"));
        assert!(natural_less("1", "1.1"));
    }
}
