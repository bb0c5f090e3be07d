//! Aggregation operators with `by (…)` / `without (…)`: `sum`, `avg`, `min`, `max`, `count`,
//! `group`, `stddev`, `stdvar`, `quantile`, `count_values`, `topk`, `bottomk`, `limitk`.

use super::annotations::Pos;
use super::error::QueryError;
use super::eval::Evaluator;
use super::hist::aggregate::{self as hist_agg, Folded, Notes};
use super::instant::{format_f, format_g};
use super::labels::Labels;
use super::plan::Node;
use super::stats::{Mean, Sum, nan_max, nan_min, quantile};
use super::value::{StepSeries, Steps, Value, normalize};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Group,
    Stddev,
    Stdvar,
    Quantile,
    CountValues,
    Topk,
    Bottomk,
    Limitk,
}

impl AggOp {
    pub(crate) fn from_name(name: &str) -> Option<AggOp> {
        Some(match name {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "count" => AggOp::Count,
            "group" => AggOp::Group,
            "stddev" => AggOp::Stddev,
            "stdvar" => AggOp::Stdvar,
            "quantile" => AggOp::Quantile,
            "count_values" => AggOp::CountValues,
            "topk" => AggOp::Topk,
            "bottomk" => AggOp::Bottomk,
            "limitk" => AggOp::Limitk,
            _ => return None,
        })
    }
}

/// Which labels identify a group. `By` keeps exactly the listed labels; `Without` drops the
/// listed ones and `__name__`. `sum(x)` is `By` nothing: one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grouping {
    By(Vec<String>),
    Without(Vec<String>),
}

impl Grouping {
    fn key(&self, labels: &Labels) -> Labels {
        match self {
            Grouping::By(names) => labels.keep_only(names),
            Grouping::Without(names) => labels.drop_names(names, true),
        }
    }
}

/// Evaluates an aggregation at every step.
pub(crate) fn eval(
    ev: &Evaluator<'_>,
    op: AggOp,
    grouping: &Grouping,
    (param, pos): (Option<&Node>, &Pos),
    input: &Node,
    steps: Steps,
) -> Result<Value, QueryError> {
    let param = match (op, param) {
        (AggOp::CountValues, Some(Node::String(label))) => Param::Label(label.clone()),
        (AggOp::CountValues, _) => {
            return Err(QueryError::invalid(
                "count_values needs a string label name",
            ));
        }
        (_, Some(p)) => Param::Scalar(ev.scalar(p, steps, "an aggregation parameter")?),
        (_, None) => Param::None,
    };
    let input = ev.vector(input, steps, "an aggregation")?;
    let (keys, groups) = group(grouping, &input);
    match (op, param) {
        (AggOp::CountValues, Param::Label(label)) => count_values(&label, &keys, &input, steps),
        (AggOp::Topk | AggOp::Bottomk | AggOp::Limitk, Param::Scalar(k)) => {
            if op != AggOp::Limitk && input.iter().any(StepSeries::has_hists) {
                let mut notes = Notes::default();
                notes.ignore();
                notes.report(
                    op,
                    &mut ev.annotations.borrow_mut(),
                    pos.args.last().copied(),
                );
            }
            select_k(op, &k, &groups, input, steps)
        }
        (AggOp::Quantile, Param::Scalar(phi)) => {
            for &q in &phi {
                if !(0.0..=1.0).contains(&q) {
                    ev.annotations.borrow_mut().warn(
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            format_g(q)
                        ),
                        pos.arg(0),
                    );
                }
            }
            fold_groups(op, &phi, groups, &input, steps, hist_at(ev, pos))
        }
        (_, _) => fold_groups(op, &[], groups, &input, steps, hist_at(ev, pos)),
    }
}

enum Param {
    None,
    Scalar(Vec<f64>),
    Label(String),
}

/// The group key of every series, and the groups (key, members) in order of first appearance.
fn group(grouping: &Grouping, input: &[StepSeries]) -> (Vec<Labels>, Vec<(Labels, Vec<usize>)>) {
    // Labels are the same at every step, so groups are formed once, not once per step.
    let keys: Vec<Labels> = input
        .par_iter()
        .with_min_len(256)
        .map(|s| grouping.key(&s.labels))
        .collect();
    let mut index: HashMap<&Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<usize>)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let g = *index.entry(key).or_insert_with(|| {
            groups.push((key.clone(), Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i);
    }
    (keys, groups)
}

/// Where histogram annotations of an aggregation go: the position of its input expression.
fn hist_at<'e, 'a>(ev: &'e Evaluator<'a>, pos: &Pos) -> (&'e Evaluator<'a>, Option<(u32, u32)>) {
    (ev, pos.args.last().copied())
}

fn fold_groups(
    op: AggOp,
    phi: &[f64],
    groups: Vec<(Labels, Vec<usize>)>,
    input: &[StepSeries],
    steps: Steps,
    (ev, at): (&Evaluator<'_>, Option<(u32, u32)>),
) -> Result<Value, QueryError> {
    if input.iter().any(StepSeries::has_hists) {
        let (out, notes): (Vec<StepSeries>, Vec<Notes>) = groups
            .into_par_iter()
            .map(|(labels, members)| fold_with_hists(op, phi, labels, &members, input, steps))
            .unzip();
        let mut all = Notes::default();
        notes.into_iter().for_each(|n| all.merge(n));
        all.report(op, &mut ev.annotations.borrow_mut(), at);
        return Ok(Value::Vector(normalize(out)?));
    }
    let out = groups
        .into_par_iter()
        .map(|(labels, members)| StepSeries {
            hists: Vec::new(),
            labels,
            values: (0..steps.count)
                .map(|step| {
                    let values = members.iter().filter_map(|&m| input[m].values[step]);
                    fold(op, phi.get(step).copied().unwrap_or(0.0), values)
                })
                .collect(),
        })
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// One group's aggregation over input that holds histograms somewhere.
fn fold_with_hists(
    op: AggOp,
    phi: &[f64],
    labels: Labels,
    members: &[usize],
    input: &[StepSeries],
    steps: Steps,
) -> (StepSeries, Notes) {
    let mut notes = Notes::default();
    let mut hists = vec![None; steps.count];
    let values = (0..steps.count)
        .map(|step| {
            let floats = members.iter().filter_map(|&m| input[m].values[step]);
            let phi = phi.get(step).copied().unwrap_or(0.0);
            if !hist_agg::any_hist(members, input, step) {
                return fold(op, phi, floats);
            }
            if !hist_agg::folds_histograms(op) {
                notes.ignore();
                return fold(op, phi, floats);
            }
            if matches!(op, AggOp::Count | AggOp::Group) {
                let n = members
                    .iter()
                    .filter(|&&m| input[m].values[step].is_some() || input[m].hist(step).is_some())
                    .count();
                return Some(if op == AggOp::Count { n as f64 } else { 1.0 });
            }
            let has_floats = floats.clone().next().is_some();
            match hist_agg::fold_step(op, members, input, step, has_floats, &mut notes) {
                Folded::Hist(h) => hists[step] = Some(h),
                Folded::Skip => {}
            }
            None
        })
        .collect();
    (
        StepSeries {
            labels,
            values,
            hists,
        },
        notes,
    )
}

/// Folds the values present at one step, in input order (which fixes the rounding of sums).
fn fold(op: AggOp, phi: f64, mut values: impl Iterator<Item = f64>) -> Option<f64> {
    let first = values.next()?;
    Some(match op {
        AggOp::Sum => {
            let mut s = Sum::default();
            s.add(first);
            values.for_each(|v| s.add(v));
            s.value()
        }
        AggOp::Avg => {
            let mut m = Mean::default();
            m.add(first);
            values.for_each(|v| m.add(v));
            m.value()
        }
        AggOp::Min => values.fold(first, nan_min),
        AggOp::Max => values.fold(first, nan_max),
        AggOp::Count => 1.0 + values.count() as f64,
        AggOp::Group => 1.0,
        AggOp::Stddev | AggOp::Stdvar => {
            // Welford, as Prometheus: an infinite or NaN first value makes the result NaN.
            let (mut count, mut mean) = (1.0, first);
            let mut acc = if first.is_finite() { 0.0 } else { f64::NAN };
            for v in values {
                count += 1.0;
                let delta = v - mean;
                mean += delta / count;
                acc += delta * (v - mean);
            }
            let var = acc / count;
            if op == AggOp::Stddev { var.sqrt() } else { var }
        }
        AggOp::Quantile => {
            let mut all: Vec<f64> = std::iter::once(first).chain(values).collect();
            quantile(phi, &mut all)
        }
        AggOp::CountValues | AggOp::Topk | AggOp::Bottomk | AggOp::Limitk => return None,
    })
}

/// `count_values("label", v)`: per group and distinct value, how many series have it.
fn count_values(
    label: &str,
    keys: &[Labels],
    input: &[StepSeries],
    steps: Steps,
) -> Result<Value, QueryError> {
    if label.is_empty() {
        return Err(QueryError::invalid(format!("invalid label name {label:?}")));
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<StepSeries> = Vec::new();
    for (s, key) in input.iter().zip(keys) {
        for (i, v) in s.values.iter().enumerate() {
            let text = match (v, s.hist(i)) {
                (Some(v), _) => format_f(*v),
                (None, Some(h)) => hist_agg::display(h),
                (None, None) => continue,
            };
            let pairs = key
                .iter()
                .filter(|l| l.name != label)
                .map(|l| (l.name.clone(), l.value.clone()))
                .chain(std::iter::once((label.to_owned(), text)));
            let labels = Labels::new(pairs);
            let g = *index.entry(labels.clone()).or_insert_with(|| {
                out.push(StepSeries {
                    hists: Vec::new(),
                    labels,
                    values: vec![None; steps.count],
                });
                out.len() - 1
            });
            let slot = &mut out[g].values[i];
            *slot = Some(slot.unwrap_or(0.0) + 1.0);
        }
    }
    Ok(Value::Vector(normalize(out)?))
}

/// `topk`, `bottomk`, `limitk`: per group and step, which k series keep their value. The
/// result keeps the input series' labels; an instant query's result is in group order, best
/// first.
fn select_k(
    op: AggOp,
    k: &[f64],
    groups: &[(Labels, Vec<usize>)],
    input: Vec<StepSeries>,
    steps: Steps,
) -> Result<Value, QueryError> {
    if k.iter().any(|k| k.is_nan()) {
        return Err(QueryError::invalid("Parameter value is NaN"));
    }
    if let Some(k) = k.iter().find(|k| k.abs() >= 9.223_372_036_854_776e18) {
        return Err(QueryError::invalid(format!(
            "Scalar value {} {} int64",
            format_g(*k),
            if *k < 0.0 { "underflows" } else { "overflows" }
        )));
    }
    let mut keep = vec![vec![false; steps.count]; input.len()];
    let mut order: Vec<usize> = Vec::new();
    #[allow(clippy::needless_range_loop)] // `step` indexes the values of many series
    for step in 0..steps.count {
        let k = k.get(step).copied().unwrap_or(0.0) as i64;
        if k < 1 {
            continue;
        }
        for (_, members) in groups {
            let limit = op == AggOp::Limitk;
            let mut present: Vec<(usize, f64)> = members
                .iter()
                .filter_map(|&m| match (input[m].values[step], input[m].hist(step)) {
                    (Some(v), _) => Some((m, v)),
                    (None, Some(_)) if limit => Some((m, f64::NAN)),
                    _ => None,
                })
                .collect();
            match op {
                AggOp::Topk => present.sort_by(|a, b| rank(a.1, b.1, true)),
                AggOp::Bottomk => present.sort_by(|a, b| rank(a.1, b.1, false)),
                _ => {}
            }
            present.truncate(usize::try_from(k).unwrap_or(usize::MAX));
            for (m, _) in present {
                keep[m][step] = true;
                if steps.count == 1 {
                    order.push(m);
                }
            }
        }
    }
    let mut input: Vec<Option<StepSeries>> = input.into_iter().map(Some).collect();
    let take = |m: usize, input: &mut Vec<Option<StepSeries>>, keep: &[Vec<bool>]| {
        input[m].take().map(|s| StepSeries {
            hists: s
                .hists
                .iter()
                .zip(&keep[m])
                .map(|(h, &k)| {
                    if k && op == AggOp::Limitk {
                        h.clone()
                    } else {
                        None
                    }
                })
                .collect(),
            labels: s.labels,
            values: s
                .values
                .iter()
                .zip(&keep[m])
                .map(|(v, &k)| if k { *v } else { None })
                .collect(),
        })
    };
    if steps.count == 1 {
        return Ok(Value::Vector(
            order
                .into_iter()
                .filter_map(|m| take(m, &mut input, &keep))
                .collect(),
        ));
    }
    let out = (0..input.len())
        .filter_map(|m| take(m, &mut input, &keep))
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// Best first (highest for `topk`, lowest for `bottomk`), NaN last.
fn rank(a: f64, b: f64, highest: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if highest => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)], values: &[Option<f64>]) -> StepSeries {
        StepSeries {
            hists: Vec::new(),
            labels: Labels::new(pairs.iter().copied()),
            values: values.to_vec(),
        }
    }

    #[test]
    fn groups_by_and_without() {
        let input = vec![
            s(&[("__name__", "x"), ("a", "1"), ("b", "1")], &[Some(1.0)]),
            s(&[("__name__", "x"), ("a", "1"), ("b", "2")], &[Some(2.0)]),
            s(&[("__name__", "x"), ("a", "2"), ("b", "1")], &[Some(4.0)]),
        ];
        let (_, groups) = group(&Grouping::By(vec!["a".into()]), &input);
        assert_eq!(groups.len(), 2);
        let (_, groups) = group(&Grouping::Without(vec!["b".into()]), &input);
        assert_eq!(groups[0].0, Labels::new([("a", "1")]));
        assert_eq!(fold(AggOp::Stdvar, 0.0, [1.0, 3.0].into_iter()), Some(1.0));
        assert_eq!(fold(AggOp::Group, 0.0, [5.0].into_iter()), Some(1.0));
        assert!(
            fold(AggOp::Stddev, 0.0, [f64::INFINITY, 1.0].into_iter())
                .unwrap()
                .is_nan()
        );
    }
}
