//! Aggregations over vectors holding native histograms: `sum` and `avg` add them (a group
//! mixing floats and histograms has no result, with a warning), `count` and `group` count
//! them, the others ignore them with an info annotation — Prometheus' rules.

use super::{FloatHistogram, Hist, KahanMean, KahanSum};
use crate::aggregate::AggOp;
use crate::annotations::Annotations;
use crate::labels::METRIC_NAME;
use crate::value::StepSeries;
use std::sync::Arc;
use strata_model::CounterResetHint;

/// The result of a group at one step: a float, a histogram, or nothing.
pub(crate) enum Folded {
    Hist(Hist),
    Skip,
}

/// What one group's fold at one step reported, to be added as annotations afterwards (the
/// folds run in parallel).
#[derive(Debug, Default)]
pub(crate) struct Notes {
    mixed: bool,
    incompatible: Option<String>,
    collision: bool,
    ignored: bool,
}

impl Notes {
    pub(crate) fn report(&self, op: AggOp, ann: &mut Annotations, pos: Option<(u32, u32)>) {
        if self.mixed {
            ann.warn(
                "encountered a mix of histograms and floats for aggregation",
                pos,
            );
        }
        if let Some(name) = &self.incompatible {
            ann.warn(
                format!(
                    "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {name:?}"
                ),
                pos,
            );
        }
        if self.collision {
            ann.warn(
                "conflicting counter resets during histogram aggregation",
                pos,
            );
        }
        if self.ignored {
            ann.info(
                format!("ignored histogram in {} aggregation", op_name(op)),
                pos,
            );
        }
    }

    /// A histogram was left out of an aggregation that takes floats only.
    pub(crate) fn ignore(&mut self) {
        self.ignored = true;
    }

    pub(crate) fn merge(&mut self, other: Notes) {
        self.mixed |= other.mixed;
        self.collision |= other.collision;
        self.ignored |= other.ignored;
        if self.incompatible.is_none() {
            self.incompatible = other.incompatible;
        }
    }
}

fn op_name(op: AggOp) -> &'static str {
    match op {
        AggOp::Min => "min",
        AggOp::Max => "max",
        AggOp::Stddev => "stddev",
        AggOp::Stdvar => "stdvar",
        AggOp::Quantile => "quantile",
        AggOp::Topk => "topk",
        AggOp::Bottomk => "bottomk",
        _ => "an",
    }
}

/// Whether `op` has a histogram rule of its own (the rest ignore histograms).
pub(crate) fn folds_histograms(op: AggOp) -> bool {
    matches!(op, AggOp::Sum | AggOp::Avg | AggOp::Count | AggOp::Group)
}

/// Folds the histograms of `members` at `step` for `sum`/`avg`, or reports why not.
/// `floats` says whether some member has a float there.
pub(crate) fn fold_step(
    op: AggOp,
    members: &[usize],
    input: &[StepSeries],
    step: usize,
    floats: bool,
    notes: &mut Notes,
) -> Folded {
    let mut hists = members
        .iter()
        .filter_map(|&m| Some((m, input[m].hist(step)?)));
    let Some((first_m, first)) = hists.next() else {
        return Folded::Skip;
    };
    if floats {
        notes.mixed = true;
        return Folded::Skip;
    }
    let (mut reset, mut not_reset) = (false, false);
    let mut seen = |h: &FloatHistogram| match h.hint {
        CounterResetHint::CounterReset => reset = true,
        CounterResetHint::NotCounterReset => not_reset = true,
        _ => {}
    };
    seen(first);
    let mut acc = Acc::new(op, first);
    for (m, h) in hists {
        seen(h);
        if acc.add(h).is_err() {
            let name = input[m].labels.get(METRIC_NAME).unwrap_or_default();
            let name = if name.is_empty() {
                input[first_m].labels.get(METRIC_NAME).unwrap_or_default()
            } else {
                name
            };
            notes.incompatible = Some(name.to_owned());
            return Folded::Skip;
        }
    }
    if reset && not_reset {
        notes.collision = true;
    }
    Folded::Hist(Arc::new(acc.value()))
}

/// A sum or a mean of histograms.
pub(crate) enum Acc {
    Sum(KahanSum),
    Mean(KahanMean),
}

impl Acc {
    pub(crate) fn new(op: AggOp, first: &FloatHistogram) -> Acc {
        if op == AggOp::Avg {
            Acc::Mean(KahanMean::new(first))
        } else {
            Acc::Sum(KahanSum::new(first))
        }
    }

    pub(crate) fn add(
        &mut self,
        h: &FloatHistogram,
    ) -> Result<strata_model::float_histogram::AddNotes, strata_model::float_histogram::Incompatible>
    {
        match self {
            Acc::Sum(s) => s.add(h),
            Acc::Mean(m) => m.add(h),
        }
    }

    pub(crate) fn value(self) -> FloatHistogram {
        match self {
            Acc::Sum(s) => s.value(),
            Acc::Mean(m) => m.value(),
        }
    }
}

/// Whether any member has a histogram at `step` (for the ops that ignore them).
pub(crate) fn any_hist(members: &[usize], input: &[StepSeries], step: usize) -> bool {
    members.iter().any(|&m| input[m].hist(step).is_some())
}

/// Prometheus' `FloatHistogram.String()`: `{count:…, sum:…, [lower,upper):count, …}` with
/// the non-empty buckets from the lowest up (what `count_values` labels a histogram with).
pub(crate) fn display(h: &FloatHistogram) -> String {
    use crate::instant::format_g as g;
    let mut out = format!("{{count:{}, sum:{}", g(h.count), g(h.sum));
    for &(i, c) in h.negative.iter().rev() {
        if c != 0.0 {
            out += &format!(", [{},{}):{}", g(-h.bound(i)), g(-h.bound(i - 1)), g(c));
        }
    }
    if h.zero_count != 0.0 {
        let zt = h.zero_threshold;
        out += &format!(", [{},{}]:{}", g(-zt), g(zt), g(h.zero_count));
    }
    for &(i, c) in &h.positive {
        if c != 0.0 {
            out += &format!(", ({},{}]:{}", g(h.bound(i - 1)), g(h.bound(i)), g(c));
        }
    }
    out + "}"
}
