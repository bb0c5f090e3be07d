//! Conversions between the chunk's per-bucket counts and Prometheus classic histograms, whose
//! `le` buckets are cumulative and end with an explicit `le="+Inf"` bucket.

use super::{Histogram, validate_bounds};
use crate::error::{Error, Result};

/// Per-bucket counts from cumulative ones: `out[0] = cumulative[0]`,
/// `out[i] = cumulative[i] - cumulative[i - 1]`. Errors with [`Error::InvalidInput`] if a
/// cumulative count is below the one before it (a scrape that raced a reset or a broken
/// exporter: the caller decides whether to repair or drop it).
pub fn counts_from_cumulative(cumulative: &[u64], out: &mut Vec<u64>) -> Result<()> {
    let base = out.len();
    out.reserve(cumulative.len());
    let mut prev = 0u64;
    for (i, &c) in cumulative.iter().enumerate() {
        let Some(d) = c.checked_sub(prev) else {
            out.truncate(base);
            return Err(Error::invalid(
                "cumulative histogram counts",
                format!(
                    "bucket {i} holds {c}, below bucket {} ({prev})",
                    i.saturating_sub(1)
                ),
            ));
        };
        out.push(d);
        prev = c;
    }
    Ok(())
}

/// Cumulative counts from per-bucket ones (the running sum; the last is the `+Inf` bucket).
/// Errors with [`Error::InvalidInput`] if the sum overflows u64.
pub fn cumulative_from_counts(counts: &[u64], out: &mut Vec<u64>) -> Result<()> {
    let base = out.len();
    out.reserve(counts.len());
    let mut acc = 0u64;
    for (i, &c) in counts.iter().enumerate() {
        let Some(next) = acc.checked_add(c) else {
            out.truncate(base);
            return Err(Error::invalid(
                "histogram counts",
                format!("cumulative count overflows u64 at bucket {i}"),
            ));
        };
        acc = next;
        out.push(acc);
    }
    Ok(())
}

impl Histogram {
    /// Builds a histogram from a Prometheus classic histogram: `le` upper bounds (ascending,
    /// the last one `+Inf`, as Prometheus requires) with their cumulative counts, and `_sum`.
    /// The `+Inf` bound is dropped (the chunk's overflow bucket is implicit), `count` is the
    /// `+Inf` bucket's count (set it from `_count` afterwards if that series disagrees), and
    /// min/max are absent (classic histograms have none).
    pub fn from_prometheus(le: &[f64], cumulative: &[u64], sum: f64) -> Result<Histogram> {
        if le.len() != cumulative.len() {
            return Err(Error::invalid(
                "prometheus histogram",
                format!(
                    "{} le bounds but {} cumulative counts",
                    le.len(),
                    cumulative.len()
                ),
            ));
        }
        let Some((&last, bounds)) = le.split_last() else {
            return Err(Error::invalid(
                "prometheus histogram",
                "no buckets: the le=\"+Inf\" bucket is required",
            ));
        };
        if last != f64::INFINITY {
            return Err(Error::invalid(
                "prometheus histogram",
                format!("the last le bound is {last}, not +Inf"),
            ));
        }
        validate_bounds(bounds)?;
        let mut counts = Vec::new();
        counts_from_cumulative(cumulative, &mut counts)?;
        Ok(Histogram {
            bounds: bounds.to_vec(),
            counts,
            count: *cumulative.last().expect("le is not empty"),
            sum,
            min: None,
            max: None,
        })
    }

    /// The Prometheus view: `le` bounds (the chunk's bounds then `+Inf`) and cumulative counts.
    pub fn to_prometheus(&self) -> Result<(Vec<f64>, Vec<u64>)> {
        let mut le = Vec::with_capacity(self.bounds.len() + 1);
        le.extend_from_slice(&self.bounds);
        le.push(f64::INFINITY);
        let mut cumulative = Vec::new();
        cumulative_from_counts(&self.counts, &mut cumulative)?;
        Ok((le, cumulative))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_round_trip() {
        let le = [0.1, 0.5, 1.0, f64::INFINITY];
        let cum = [3u64, 7, 7, 10];
        let h = Histogram::from_prometheus(&le, &cum, 4.25).unwrap();
        assert_eq!(h.bounds, [0.1, 0.5, 1.0]);
        assert_eq!(h.counts, [3, 4, 0, 3]);
        assert_eq!(h.count, 10);
        assert_eq!(h.min, None);
        let (le2, cum2) = h.to_prometheus().unwrap();
        assert_eq!(le2, le);
        assert_eq!(cum2, cum);
    }

    #[test]
    fn bad_prometheus_input_is_an_error() {
        let inf = f64::INFINITY;
        assert!(Histogram::from_prometheus(&[], &[], 0.0).is_err());
        assert!(Histogram::from_prometheus(&[1.0, 2.0], &[1, 2], 0.0).is_err());
        assert!(Histogram::from_prometheus(&[1.0, inf], &[1], 0.0).is_err());
        assert!(Histogram::from_prometheus(&[2.0, 1.0, inf], &[1, 2, 3], 0.0).is_err());
        assert!(Histogram::from_prometheus(&[1.0, inf], &[5, 4], 0.0).is_err());
        let h = Histogram::from_prometheus(&[inf], &[9], 1.0).unwrap();
        assert!(h.bounds.is_empty());
        assert_eq!(h.counts, [9]);
        let mut out = vec![1];
        assert!(cumulative_from_counts(&[u64::MAX, 1], &mut out).is_err());
        assert_eq!(out, [1]);
    }
}
