//! Native histograms in the evaluator: the histogram math itself is `strata_model`'s
//! [`FloatHistogram`] (shared with the head, which detects counter resets with it); here are
//! PromQL's uses of it — selection, range functions, aggregations, operators, statistics.

pub(crate) mod aggregate;
pub(crate) mod binary;
pub(crate) mod functions;
mod kahan;
pub(crate) mod range;
mod select;
mod stats;
mod trim;

pub(crate) use kahan::{KahanMean, KahanSum};
pub(crate) use select::{
    join, negated, overlay_latest, resolve_hints, unknown_hint, without_stale,
};
pub(crate) use stats::{fraction, quantile, variance};
pub(crate) use strata_model::float_histogram::{Bucket, FloatHistogram};

use std::sync::Arc;

/// A histogram sample as the evaluator passes it around: shared, because an instant selector
/// hands the same sample to every step of its lookback window.
pub(crate) type Hist = Arc<FloatHistogram>;
