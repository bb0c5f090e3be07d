//! Binary operators on native histograms (Prometheus' `vectorElemBinop`): `h + h`, `h - h`,
//! `h * f`, `f * h`, `h / f`, and `h == h` / `h != h`; every other pairing with a histogram
//! has no result (an info annotation says why).

use super::{FloatHistogram, Hist};
use crate::binary::BinOp;
use std::sync::Arc;

/// One sample of either kind.
#[derive(Clone, Copy)]
pub(crate) enum Sample<'a> {
    Float(f64),
    Hist(&'a Hist),
}

impl Sample<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Sample::Float(_) => "float",
            Sample::Hist(_) => "histogram",
        }
    }
}

/// What an operation on two samples gives.
pub(crate) struct Elem {
    pub hist: Option<Hist>,
    /// Whether the sample is kept (false: a comparison that did not hold, or no result).
    pub keep: bool,
    /// An annotation: `(is_warning, message)`.
    pub note: Option<(bool, String)>,
    /// The operation is not defined for these sample types: no result, even with `bool`.
    pub incompatible: bool,
}

impl Elem {
    fn none(note: Option<(bool, String)>) -> Elem {
        Elem {
            hist: None,
            keep: false,
            note,
            incompatible: false,
        }
    }

    fn hist(h: FloatHistogram, note: Option<(bool, String)>) -> Elem {
        Elem {
            hist: Some(Arc::new(h)),
            keep: true,
            note,
            incompatible: false,
        }
    }
}

impl Elem {
    /// Adds the annotation, if any.
    pub(crate) fn annotate(&self, ann: &std::cell::RefCell<crate::annotations::Annotations>) {
        if let Some((warn, message)) = &self.note {
            let mut ann = ann.borrow_mut();
            if *warn {
                ann.warn(message.clone(), None);
            } else {
                ann.info(message.clone(), None);
            }
        }
    }
}

/// `l op r` where at least one side is a histogram.
pub(crate) fn elem(op: BinOp, l: Sample<'_>, r: Sample<'_>) -> Elem {
    let incompatible = || {
        let sym = op.symbol();
        let m = format!(
            "incompatible sample types encountered for binary operator {sym:?}: {} {sym} {}",
            l.kind(),
            r.kind()
        );
        Elem {
            incompatible: true,
            ..Elem::none(Some((false, m)))
        }
    };
    match (l, r, op) {
        (Sample::Float(f), Sample::Hist(h), BinOp::Mul)
        | (Sample::Hist(h), Sample::Float(f), BinOp::Mul) => {
            let mut h = FloatHistogram::clone(h);
            h.mul(f);
            Elem::hist(h, None)
        }
        (Sample::Hist(h), Sample::Float(f), BinOp::Div) => {
            let mut h = FloatHistogram::clone(h);
            h.div(f);
            Elem::hist(h, None)
        }
        (Sample::Hist(h), Sample::Float(f), BinOp::TrimUpper | BinOp::TrimLower) => {
            Elem::hist(super::trim::trim(h, f, op == BinOp::TrimUpper), None)
        }
        (Sample::Hist(a), Sample::Hist(b), BinOp::Add | BinOp::Sub) => {
            let mut h = FloatHistogram::clone(a);
            let done = if op == BinOp::Add { h.add(b) } else { h.sub(b) };
            if op == BinOp::Sub {
                h.hint = strata_model::CounterResetHint::Gauge;
            }
            let what = if op == BinOp::Add {
                "addition"
            } else {
                "subtraction"
            };
            match done {
                Err(_) => Elem {
                    incompatible: true,
                    ..Elem::none(Some((
                        true,
                        format!(
                            "incompatible bucket layout encountered for binary operator {}",
                            op.symbol()
                        ),
                    )))
                },
                Ok(n) if n.counter_reset_collision => Elem::hist(
                    h,
                    Some((
                        true,
                        format!("conflicting counter resets during histogram {what}"),
                    )),
                ),
                Ok(n) if n.bounds_reconciled => Elem::hist(
                    h,
                    Some((
                        false,
                        format!("mismatched custom buckets were reconciled during {what}"),
                    )),
                ),
                Ok(_) => Elem::hist(h, None),
            }
        }
        (Sample::Hist(a), Sample::Hist(b), BinOp::Eq | BinOp::Ne) => {
            let (mut x, mut y) = (a.to_native(), b.to_native());
            x.counter_reset_hint = Default::default();
            y.counter_reset_hint = Default::default();
            let equal = x == y;
            Elem {
                hist: Some(Arc::clone(a)),
                keep: equal == (op == BinOp::Eq),
                note: None,
                incompatible: false,
            }
        }
        _ => incompatible(),
    }
}
