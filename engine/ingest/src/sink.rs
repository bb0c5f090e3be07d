//! Where decoded metrics go: a [`MetricsSink`] (the engine's `Db`, or a test double) and
//! [`apply_metrics`], which writes a decoded OTLP batch into one — samples as one batch,
//! histogram points one by one (a refused point is counted, the rest still land), then
//! exemplars in time order per series and metadata. Servers reuse it for every protocol that
//! decodes into a [`MetricsBatch`].

use strata_codec::histogram::Histogram;
use strata_model::{Exemplar, MetricMetadata, NativeHistogram};

use crate::otlp::{LabelPairs, MetricsBatch};

/// What [`apply_metrics`] stored and refused.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MetricsOutcome {
    pub samples: usize,
    pub histograms: usize,
    /// Native histogram points stored (from OTLP exponential histograms).
    pub native_histograms: usize,
    /// Exemplars stored (repeats and refusals are not counted).
    pub exemplars: usize,
    /// Samples or points refused (out of order, duplicates, …), with the first reason.
    pub rejected: usize,
    pub first_rejection: Option<String>,
    /// Stored samples and points already older than the metrics bucket's retention.
    pub outside_retention: usize,
}

/// What a store offers metric ingest. `Ref` names a series; `E` is the store's error.
pub trait MetricsSink {
    type Ref: Copy + Ord;
    type Error: std::fmt::Display;
    fn series_ref(&self, labels: &LabelPairs) -> Result<Self::Ref, Self::Error>;
    /// Appends a batch; returns (stored, outside retention, refusal reasons).
    fn append_samples(
        &self,
        refs: &[Self::Ref],
        ts: &[i64],
        vs: &[f64],
    ) -> Result<(usize, usize, Vec<String>), Self::Error>;
    fn append_histogram(&self, r: Self::Ref, t_ms: i64, h: &Histogram) -> Result<(), Self::Error>;
    fn append_native(
        &self,
        r: Self::Ref,
        t_ms: i64,
        h: &NativeHistogram,
    ) -> Result<(), Self::Error>;
    /// Whether an error concerns one sample only (the rest of a batch may still be stored).
    fn is_sample_error(e: &Self::Error) -> bool;
    /// Whether `t_ms` is older than retention keeps.
    fn outside_retention(&self, t_ms: i64) -> bool;
    /// Appends exemplars (sorted by series and time); returns how many were stored.
    fn append_exemplars(&self, exemplars: &[(Self::Ref, Exemplar)]) -> Result<usize, Self::Error>;
    /// Sets metadata; `Ok(Some(why))` when it was refused over a limit.
    fn set_metadata(
        &self,
        entries: &[(&str, MetricMetadata)],
    ) -> Result<Option<String>, Self::Error>;
}

/// Writes `batch` into `sink`.
pub fn apply_metrics<S: MetricsSink>(
    sink: &S,
    batch: MetricsBatch,
) -> Result<MetricsOutcome, S::Error> {
    let mut out = MetricsOutcome::default();
    let mut refs = Vec::with_capacity(batch.samples.len());
    let (mut ts, mut vs) = (
        Vec::with_capacity(refs.capacity()),
        Vec::with_capacity(refs.capacity()),
    );
    for (labels, t, v) in &batch.samples {
        refs.push(sink.series_ref(labels)?);
        ts.push(*t);
        vs.push(*v);
    }
    let (stored, outside, refused) = sink.append_samples(&refs, &ts, &vs)?;
    (out.samples, out.outside_retention, out.rejected) = (stored, outside, refused.len());
    out.first_rejection = refused.into_iter().next();
    let mut note = |r: Result<(), S::Error>, t_ms: i64| match r {
        Ok(()) => {
            out.outside_retention += usize::from(sink.outside_retention(t_ms));
            Ok(true)
        }
        Err(e) if S::is_sample_error(&e) => {
            out.rejected += 1;
            out.first_rejection.get_or_insert_with(|| e.to_string());
            Ok(false)
        }
        Err(e) => Err(e),
    };
    let (mut histograms, mut natives) = (0, 0);
    for p in &batch.histograms {
        let r = sink.series_ref(&p.labels)?;
        histograms += usize::from(note(
            sink.append_histogram(r, p.t_ms, &p.histogram),
            p.t_ms,
        )?);
    }
    for p in &batch.native_histograms {
        let r = sink.series_ref(&p.labels)?;
        natives += usize::from(note(sink.append_native(r, p.t_ms, &p.histogram), p.t_ms)?);
    }
    (out.histograms, out.native_histograms) = (histograms, natives);
    let mut exemplars = Vec::with_capacity(batch.exemplars.len());
    for (labels, e) in batch.exemplars {
        exemplars.push((sink.series_ref(&labels)?, e));
    }
    // A point's exemplars come in bucket order; stores keep each series in time order.
    exemplars.sort_by_key(|(r, e)| (*r, e.t_ms));
    out.exemplars = sink.append_exemplars(&exemplars)?;
    let meta: Vec<(&str, MetricMetadata)> = batch
        .metadata
        .iter()
        .map(|(n, m)| (n.as_str(), m.clone()))
        .collect();
    if let Some(why) = sink.set_metadata(&meta)? {
        out.first_rejection.get_or_insert(why);
    }
    Ok(out)
}
