//! `sum`, `avg`, `min`, `max`, `count` with `by (…)` / `without (…)`.

use super::labels::Labels;
use super::stats::{Mean, Sum, nan_max, nan_min};
use super::value::StepSeries;
use rayon::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
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

/// Aggregates `input` (each series `steps` long) into one series per group, in order of
/// first appearance. A group has a value at a step if any member has one there.
pub(crate) fn aggregate(
    op: AggOp,
    grouping: &Grouping,
    input: &[StepSeries],
    steps: usize,
) -> Vec<StepSeries> {
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
    groups
        .into_par_iter()
        .map(|(labels, members)| StepSeries {
            labels,
            values: (0..steps)
                .map(|step| fold(op, members.iter().filter_map(|&m| input[m].values[step])))
                .collect(),
        })
        .collect()
}

/// Folds the values present at one step, in input order (which fixes the rounding of sums).
fn fold(op: AggOp, mut values: impl Iterator<Item = f64>) -> Option<f64> {
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
    })
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

    #[test]
    fn groups_by_and_without() {
        let input = [
            s(
                &[("__name__", "m"), ("a", "1"), ("b", "x")],
                &[Some(1.0), None],
            ),
            s(
                &[("__name__", "m"), ("a", "1"), ("b", "y")],
                &[Some(2.0), Some(5.0)],
            ),
            s(
                &[("__name__", "m"), ("a", "2"), ("b", "x")],
                &[Some(4.0), None],
            ),
        ];
        let by_a = aggregate(AggOp::Sum, &Grouping::By(vec!["a".into()]), &input, 2);
        assert_eq!(by_a[0].labels, Labels::new([("a", "1")]));
        assert_eq!(by_a[0].values, [Some(3.0), Some(5.0)]);
        assert_eq!(by_a[1].values, [Some(4.0), None]);
        let without_b = aggregate(
            AggOp::Count,
            &Grouping::Without(vec!["b".into()]),
            &input,
            2,
        );
        assert_eq!(without_b[0].labels, Labels::new([("a", "1")]));
        assert_eq!(without_b[0].values, [Some(2.0), Some(1.0)]);
        let all = aggregate(AggOp::Avg, &Grouping::By(vec![]), &input, 2);
        assert_eq!(all.len(), 1);
        assert!(all[0].labels.is_empty());
        assert_eq!(all[0].values, [Some(7.0 / 3.0), Some(5.0)]);
        let max = aggregate(AggOp::Max, &Grouping::By(vec![]), &input, 2);
        assert_eq!(max[0].values, [Some(4.0), Some(5.0)]);
        let min = aggregate(AggOp::Min, &Grouping::By(vec![]), &input, 2);
        assert_eq!(min[0].values, [Some(1.0), Some(5.0)]);
    }

    #[test]
    fn by_can_keep_the_metric_name() {
        let input = [s(&[("__name__", "m"), ("a", "1")], &[Some(1.0)])];
        let out = aggregate(
            AggOp::Sum,
            &Grouping::By(vec!["__name__".into()]),
            &input,
            1,
        );
        assert_eq!(out[0].labels, Labels::new([("__name__", "m")]));
    }
}
