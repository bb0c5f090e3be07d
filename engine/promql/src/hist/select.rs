//! Histogram samples on their way from storage into the evaluator's series.

use super::{FloatHistogram, Hist};
use crate::eval::STALE_NAN_BITS;
use crate::querier::{HistogramSeries, Series};
use crate::value::{RangeSeries, StepSeries};
use std::collections::HashMap;
use std::sync::Arc;

/// Whether `h` is a staleness marker.
pub(crate) fn is_stale(h: &FloatHistogram) -> bool {
    h.sum.to_bits() == STALE_NAN_BITS
}

/// Float series and histogram series joined by label set; a series' histograms are in `hs`.
pub(crate) fn join(floats: Vec<Series>, hists: Vec<HistogramSeries>) -> Vec<RangeSeries> {
    let mut out: Vec<RangeSeries> = floats
        .into_iter()
        .map(|s| RangeSeries {
            labels: s.labels,
            ts: s.timestamps,
            vs: s.values,
            hs: Vec::new(),
        })
        .collect();
    if hists.is_empty() {
        return out;
    }
    let index: HashMap<_, usize> = out
        .iter()
        .enumerate()
        .map(|(i, s)| (s.labels.clone(), i))
        .collect();
    for h in hists {
        let hs = h
            .samples
            .iter()
            .map(|(t, n)| (*t, Arc::new(FloatHistogram::from_native(n))))
            .collect();
        match index.get(&h.labels) {
            Some(&i) => out[i].hs = hs,
            None => out.push(RangeSeries {
                labels: h.labels,
                ts: Vec::new(),
                vs: Vec::new(),
                hs,
            }),
        }
    }
    out
}

/// Sets the histogram of each step whose latest sample in `(t - lookback, t]` is one of
/// `hs` (a later float sample, or a staleness marker, wins over it).
pub(crate) fn overlay_latest(
    out: &mut StepSeries,
    float_ts: &[i64],
    hs: &[(i64, Hist)],
    times: &[i64],
    lookback_ms: i64,
) {
    out.hists = vec![None; times.len()];
    for (i, &t) in times.iter().enumerate() {
        let k = hs.partition_point(|(ht, _)| *ht <= t);
        let Some((ht, h)) = k.checked_sub(1).map(|k| &hs[k]) else {
            continue;
        };
        if *ht <= t.saturating_sub(lookback_ms) {
            continue;
        }
        let f = float_ts.partition_point(|&ft| ft <= t);
        if f > 0 && float_ts[f - 1] >= *ht {
            continue;
        }
        out.values[i] = None;
        if !is_stale(h) {
            out.hists[i] = Some(h.clone());
        }
    }
}

/// `-h`.
pub(crate) fn negated(h: Hist) -> Hist {
    let mut h = Arc::unwrap_or_clone(h);
    h.mul(-1.0);
    Arc::new(h)
}

/// A histogram series with staleness markers removed.
pub(crate) fn without_stale(hs: Vec<(i64, Hist)>) -> Vec<(i64, Hist)> {
    if !hs.iter().any(|(_, h)| is_stale(h)) {
        return hs;
    }
    hs.into_iter().filter(|(_, h)| !is_stale(h)).collect()
}

/// `h` with a "reset" or "not reset" hint made unknown (for subquery results).
pub(crate) fn unknown_hint(h: Hist) -> Hist {
    use strata_model::CounterResetHint as C;
    if !matches!(h.hint, C::CounterReset | C::NotCounterReset) {
        return h;
    }
    let mut h = Arc::unwrap_or_clone(h);
    h.hint = C::Unknown;
    Arc::new(h)
}

/// Prometheus' `HistogramStatsIterator` for selectors under `histogram_count`/`sum`/`avg`: a
/// sample with an unknown counter-reset hint gets "reset" or "not reset" from the sample read
/// before it.
pub(crate) fn resolve_hints(hs: &mut [(i64, Hist)]) {
    use strata_model::CounterResetHint as C;
    for i in 1..hs.len() {
        if hs[i].1.hint != C::Unknown {
            continue;
        }
        let reset = hs[i].1.detect_reset(&hs[i - 1].1);
        let mut h = FloatHistogram::clone(&hs[i].1);
        h.hint = if reset {
            C::CounterReset
        } else {
            C::NotCounterReset
        };
        hs[i].1 = Arc::new(h);
    }
}
