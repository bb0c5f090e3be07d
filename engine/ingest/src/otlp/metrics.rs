//! `ExportMetricsServiceRequest` → float samples and explicit-bucket histograms, named as
//! Prometheus' OTLP receiver names them (with metric suffixes, underscore escaping):
//!
//! - metric names: split into words on every character outside `[A-Za-z0-9:]`, the unit's
//!   words appended unless already present (`s` → `seconds`, `ms` → `milliseconds`, `By` →
//!   `bytes`, `1` → nothing (`ratio` on gauges), `%` → `percent`, `{token}` → nothing, `a/b` →
//!   `<a>_per_<b>`), `total` appended to monotonic sums, words joined by `_`; a leading digit
//!   gets a `_` in front.
//! - label names: characters outside `[A-Za-z0-9_]` become `_`; a leading digit gets `key_` in
//!   front, a single leading `_` gets `key`. Two attributes mapping to one name have their
//!   values joined by `;` (in attribute order).
//! - resource: `service.name` (prefixed `namespace/` by `service.namespace`) → `job` and
//!   `service`; `service.instance.id` → `instance`. Other resource attributes are not labels.
//! - gauges and sums → one float sample per point; histograms → one [`HistogramPoint`];
//!   summaries → `name{quantile=…}`, `name_sum`, `name_count`; exponential histograms → one
//!   [`NativeHistogramPoint`] (`exponential.rs`).
//! - points flagged "no recorded value" are skipped ([`MetricsReport::no_value_points`]).
//!
//! **Delta temporality.** A delta point is added to the running total its series (its full
//! output label set) has in the caller's [`DeltaState`], and the total is emitted as a
//! cumulative sample at the point's time. A delta histogram whose bounds differ from the running
//! total's restarts the total. The state lives in memory: after a restart totals start again
//! from zero, which `rate()` reads as a counter reset.

use std::collections::HashMap;

use strata_codec::histogram::Histogram;
use strata_model::{Exemplar, MetricKind, MetricMetadata, NativeHistogram};

use super::exemplars::exemplar;
use super::exponential::{add_delta, exponential_point};
use super::naming::{metric_name, sanitize_label_name};
use super::traces::{push_attr, resource_attrs};
use super::wire::{Reader, Value, as_fixed64, as_len, as_str, as_varint, push_packed_fixed64};
use super::{Limits, OtlpError};
use strata_spans::{AttrValue, KeyValue};

/// A label set: `(name, value)` pairs, `__name__` included, not sorted.
pub type LabelPairs = Vec<(String, String)>;

/// One native histogram point (cumulative), from an OTLP exponential histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHistogramPoint {
    pub labels: LabelPairs,
    pub t_ms: i64,
    pub histogram: NativeHistogram,
}

/// One histogram point (cumulative).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramPoint {
    pub labels: LabelPairs,
    pub t_ms: i64,
    pub histogram: Histogram,
}

/// What decoding found besides the points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsReport {
    pub metrics: u64,
    pub points: u64,
    pub no_value_points: u64,
    pub unsupported_points: u64,
    /// Points refused (e.g. histogram bounds not ascending), with the first reason.
    pub invalid_points: u64,
    pub first_invalid: Option<String>,
}

/// The decoded payload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsBatch {
    /// `(labels, t_ms, value)`.
    pub samples: Vec<(LabelPairs, i64, f64)>,
    pub histograms: Vec<HistogramPoint>,
    /// Exponential histogram points as native histograms.
    pub native_histograms: Vec<NativeHistogramPoint>,
    /// Exemplars of number and histogram points, by the label set of their point's series.
    pub exemplars: Vec<(LabelPairs, Exemplar)>,
    /// Type, unit and help of each metric (by its Prometheus name), from the metric's kind,
    /// `unit` and `description`.
    pub metadata: Vec<(String, MetricMetadata)>,
    pub report: MetricsReport,
}

/// Running totals of delta series (see the module docs).
#[derive(Debug, Default)]
pub struct DeltaState {
    sums: HashMap<LabelPairs, f64>,
    histograms: HashMap<LabelPairs, Histogram>,
    natives: HashMap<LabelPairs, NativeHistogram>,
}

impl DeltaState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Series with a running total.
    pub fn len(&self) -> usize {
        self.sums.len() + self.histograms.len() + self.natives.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const DELTA: u64 = 1;
const FLAG_NO_RECORDED_VALUE: u64 = 1;

/// Decodes an `ExportMetricsServiceRequest`, accumulating delta series into `delta`.
pub fn decode_metrics(bytes: &[u8], delta: &mut DeltaState) -> Result<MetricsBatch, OtlpError> {
    let limits = Limits::default();
    let mut out = MetricsBatch::default();
    let mut r = Reader::new(bytes, 0);
    while let Some((field, at, v)) = r.next()? {
        if field == 1 {
            resource_metrics(
                as_len(v, at, "resource_metrics")?,
                at,
                &limits,
                delta,
                &mut out,
            )?;
        }
    }
    Ok(out)
}

fn resource_metrics(
    b: &[u8],
    base: usize,
    limits: &Limits,
    delta: &mut DeltaState,
    out: &mut MetricsBatch,
) -> Result<(), OtlpError> {
    let mut resource = Vec::new();
    let mut scopes = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => resource = resource_attrs(as_len(v, at, "resource")?, at, limits)?,
            2 => scopes.push((as_len(v, at, "scope_metrics")?, at)),
            _ => {}
        }
    }
    let base_labels = resource_labels(&resource);
    for (b, base) in scopes {
        let mut r = Reader::new(b, base);
        while let Some((field, at, v)) = r.next()? {
            if field == 2 {
                metric(
                    as_len(v, at, "metric")?,
                    at,
                    &base_labels,
                    limits,
                    delta,
                    out,
                )?;
            }
        }
    }
    Ok(())
}

fn resource_labels(resource: &[KeyValue]) -> LabelPairs {
    let get = |k: &str| {
        resource
            .iter()
            .find(|kv| kv.key == k)
            .map(|kv| kv.value.to_text())
            .filter(|s| !s.is_empty())
    };
    let mut labels = Vec::new();
    if let Some(service) = get("service.name") {
        let job = match get("service.namespace") {
            Some(ns) => format!("{ns}/{service}"),
            None => service.clone(),
        };
        labels.push(("job".to_owned(), job));
        labels.push(("service".to_owned(), service));
    }
    if let Some(instance) = get("service.instance.id") {
        labels.push(("instance".to_owned(), instance));
    }
    labels
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Sum { monotonic: bool },
    Histogram,
    Exponential,
    Summary,
}

fn metric(
    b: &[u8],
    base: usize,
    base_labels: &LabelPairs,
    limits: &Limits,
    delta: &mut DeltaState,
    out: &mut MetricsBatch,
) -> Result<(), OtlpError> {
    let (mut name, mut unit, mut help) = ("", "", "");
    let mut data: Option<(Kind, &[u8], usize)> = None;
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => name = as_str(v, at, "metric.name")?,
            2 => help = as_str(v, at, "metric.description")?,
            3 => unit = as_str(v, at, "metric.unit")?,
            5 => data = Some((Kind::Gauge, as_len(v, at, "metric.gauge")?, at)),
            7 => {
                let body = as_len(v, at, "metric.sum")?;
                let monotonic = sum_is_monotonic(body, at)?;
                data = Some((Kind::Sum { monotonic }, body, at));
            }
            9 => data = Some((Kind::Histogram, as_len(v, at, "metric.histogram")?, at)),
            10 => {
                let body = as_len(v, at, "metric.exponential_histogram")?;
                data = Some((Kind::Exponential, body, at));
            }
            11 => data = Some((Kind::Summary, as_len(v, at, "metric.summary")?, at)),
            _ => {}
        }
    }
    let Some((kind, body, at)) = data else {
        return Ok(());
    };
    if name.is_empty() {
        return Err(OtlpError::InvalidField {
            offset: base,
            field: "metric.name",
            detail: "empty metric name".into(),
        });
    }
    out.report.metrics += 1;
    let full_name = metric_name(
        name,
        unit,
        kind == Kind::Gauge,
        matches!(kind, Kind::Sum { monotonic: true }),
    );
    out.metadata
        .push((full_name.clone(), metadata_of(kind, unit, help)));
    let (temporality, points) = data_points(body, at, kind)?;
    for (p, at) in points {
        out.report.points += 1;
        if out.report.points > limits.max_items as u64 {
            return Err(OtlpError::LimitExceeded {
                what: "data points",
                value: out.report.points,
                max: limits.max_items as u64,
            });
        }
        match kind {
            Kind::Gauge | Kind::Sum { .. } => {
                number_point(
                    p,
                    at,
                    &full_name,
                    base_labels,
                    kind,
                    temporality,
                    limits,
                    delta,
                    out,
                )?;
            }
            Kind::Histogram => histogram_point(
                p,
                at,
                &full_name,
                base_labels,
                temporality,
                limits,
                delta,
                out,
            )?,
            Kind::Exponential => native_point(
                p,
                at,
                &full_name,
                base_labels,
                temporality,
                limits,
                delta,
                out,
            )?,
            Kind::Summary => summary_point(p, at, &full_name, base_labels, limits, out)?,
        }
    }
    Ok(())
}

/// Data point messages, each with the offset it starts at.
type Points<'a> = Vec<(&'a [u8], usize)>;

/// The aggregation temporality (2, cumulative, unless said) and the data points of a metric's
/// data message.
fn data_points(body: &[u8], at: usize, kind: Kind) -> Result<(u64, Points<'_>), OtlpError> {
    let mut temporality = 2;
    let mut points = Vec::new();
    let mut r = Reader::new(body, at);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => points.push((as_len(v, at, "data_points")?, at)),
            2 if kind != Kind::Gauge && kind != Kind::Summary => {
                temporality = as_varint(v, at, "aggregation_temporality")?;
            }
            _ => {}
        }
    }
    Ok((temporality, points))
}

/// What `/api/v1/metadata` says of a metric of this kind, OTLP unit and description.
fn metadata_of(kind: Kind, unit: &str, help: &str) -> MetricMetadata {
    let kind = match kind {
        Kind::Sum { monotonic: true } => MetricKind::Counter,
        Kind::Gauge | Kind::Sum { .. } => MetricKind::Gauge,
        Kind::Histogram | Kind::Exponential => MetricKind::Histogram,
        Kind::Summary => MetricKind::Summary,
    };
    MetricMetadata {
        kind,
        unit: unit.to_owned(),
        help: help.to_owned(),
    }
}

fn sum_is_monotonic(b: &[u8], base: usize) -> Result<bool, OtlpError> {
    let mut r = Reader::new(b, base);
    let mut monotonic = false;
    while let Some((field, at, v)) = r.next()? {
        if field == 3 {
            monotonic = as_varint(v, at, "sum.is_monotonic")? != 0;
        }
    }
    Ok(monotonic)
}

/// Labels of a point: the resource's, then the point's attributes (sanitised, colliding names
/// joined by `;`), then `__name__`.
fn point_labels(name: &str, base_labels: &LabelPairs, attrs: &[KeyValue]) -> LabelPairs {
    let mut labels: LabelPairs = Vec::with_capacity(base_labels.len() + attrs.len() + 1);
    labels.extend(base_labels.iter().cloned());
    for kv in attrs {
        let n = sanitize_label_name(&kv.key);
        let v = kv.value.to_text();
        if n.is_empty() || n == "__name__" {
            continue;
        }
        match labels.iter_mut().find(|(k, _)| *k == n) {
            Some((_, old)) => {
                old.push(';');
                old.push_str(&v);
            }
            None => labels.push((n, v)),
        }
    }
    labels.push(("__name__".to_owned(), name.to_owned()));
    labels
}

fn time_ms(v: Value<'_>, at: usize, field: &'static str) -> Result<i64, OtlpError> {
    let ns = as_fixed64(v, at, field)?;
    Ok((ns / 1_000_000).min(i64::MAX as u64) as i64)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the context is all needed"
)]
fn number_point(
    b: &[u8],
    base: usize,
    name: &str,
    base_labels: &LabelPairs,
    kind: Kind,
    temporality: u64,
    limits: &Limits,
    delta: &mut DeltaState,
    out: &mut MetricsBatch,
) -> Result<(), OtlpError> {
    let mut attrs = Vec::new();
    let mut t_ms = 0;
    let mut value = None;
    let mut flags = 0;
    let mut exemplars = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            3 => t_ms = time_ms(v, at, "number_data_point.time_unix_nano")?,
            4 => {
                value = Some(f64::from_bits(as_fixed64(
                    v,
                    at,
                    "number_data_point.as_double",
                )?))
            }
            6 => value = Some(as_fixed64(v, at, "number_data_point.as_int")? as i64 as f64),
            7 => push_attr(
                &mut attrs,
                as_len(v, at, "number_data_point.attributes")?,
                at,
                limits,
            )?,
            5 => exemplars.extend(exemplar(
                as_len(v, at, "number_data_point.exemplars")?,
                at,
                limits,
            )?),
            8 => flags = as_varint(v, at, "number_data_point.flags")?,
            _ => {}
        }
    }
    let Some(mut value) = value.filter(|_| flags & FLAG_NO_RECORDED_VALUE == 0) else {
        out.report.no_value_points += 1;
        return Ok(());
    };
    let labels = point_labels(name, base_labels, &attrs);
    if matches!(kind, Kind::Sum { .. }) && temporality == DELTA {
        let total = delta.sums.entry(labels.clone()).or_insert(0.0);
        *total += value;
        value = *total;
    }
    out.exemplars
        .extend(exemplars.into_iter().map(|e| (labels.clone(), e)));
    out.samples.push((labels, t_ms, value));
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the context is all needed"
)]
fn histogram_point(
    b: &[u8],
    base: usize,
    name: &str,
    base_labels: &LabelPairs,
    temporality: u64,
    limits: &Limits,
    delta: &mut DeltaState,
    out: &mut MetricsBatch,
) -> Result<(), OtlpError> {
    let HistogramFields {
        attrs,
        t_ms,
        flags,
        histogram: mut h,
        bounds_bits,
        exemplars,
    } = histogram_fields(b, base, limits)?;
    if flags & FLAG_NO_RECORDED_VALUE != 0 {
        out.report.no_value_points += 1;
        return Ok(());
    }
    set_bounds(&mut h, bounds_bits);
    if let Err(e) = h.validate() {
        out.report.invalid_points += 1;
        if out.report.first_invalid.is_none() {
            out.report.first_invalid = Some(format!("{name} at byte {base}: {e}"));
        }
        return Ok(());
    }
    let labels = point_labels(name, base_labels, &attrs);
    if temporality == DELTA {
        let total = delta.histograms.entry(labels.clone()).or_default();
        add_delta_histogram(total, &h);
        h = total.clone();
    }
    out.exemplars
        .extend(exemplars.into_iter().map(|e| (labels.clone(), e)));
    out.histograms.push(HistogramPoint {
        labels,
        t_ms,
        histogram: h,
    });
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the context is all needed"
)]
fn native_point(
    b: &[u8],
    base: usize,
    name: &str,
    base_labels: &LabelPairs,
    temporality: u64,
    limits: &Limits,
    delta: &mut DeltaState,
    out: &mut MetricsBatch,
) -> Result<(), OtlpError> {
    let p = exponential_point(b, base, limits)?;
    if p.flags & FLAG_NO_RECORDED_VALUE != 0 {
        out.report.no_value_points += 1;
        return Ok(());
    }
    let mut h = match p.histogram {
        Ok(h) => h,
        Err(e) => {
            out.report.invalid_points += 1;
            out.report
                .first_invalid
                .get_or_insert_with(|| format!("{name} at byte {base}: {e}"));
            return Ok(());
        }
    };
    let labels = point_labels(name, base_labels, &p.attrs);
    if temporality == DELTA {
        let total = delta.natives.entry(labels.clone()).or_default();
        add_delta(total, &h);
        h = total.clone();
    }
    out.exemplars
        .extend(p.exemplars.into_iter().map(|e| (labels.clone(), e)));
    out.native_histograms.push(NativeHistogramPoint {
        labels,
        t_ms: p.t_ms,
        histogram: h,
    });
    Ok(())
}

/// The fields of one `HistogramDataPoint` as decoded: the histogram without its bounds, which
/// are still raw bits.
struct HistogramFields {
    attrs: Vec<KeyValue>,
    t_ms: i64,
    flags: u64,
    histogram: Histogram,
    bounds_bits: Vec<u64>,
    exemplars: Vec<Exemplar>,
}

/// Decodes the fields of the `HistogramDataPoint` at `b` (which starts at byte `base`).
fn histogram_fields(b: &[u8], base: usize, limits: &Limits) -> Result<HistogramFields, OtlpError> {
    let mut attrs = Vec::new();
    let mut t_ms = 0;
    let mut flags = 0;
    let mut h = Histogram::default();
    let mut bounds_bits = Vec::new();
    let mut exemplars = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            3 => t_ms = time_ms(v, at, "histogram_data_point.time_unix_nano")?,
            4 => h.count = as_fixed64(v, at, "histogram_data_point.count")?,
            5 => h.sum = f64::from_bits(as_fixed64(v, at, "histogram_data_point.sum")?),
            6 => push_packed_fixed64(
                v,
                at,
                "histogram buckets",
                limits.max_buckets + 1,
                &mut h.counts,
            )?,
            7 => push_packed_fixed64(
                v,
                at,
                "histogram bounds",
                limits.max_buckets,
                &mut bounds_bits,
            )?,
            8 => {
                let e = as_len(v, at, "histogram_data_point.exemplars")?;
                exemplars.extend(exemplar(e, at, limits)?);
            }
            9 => push_attr(
                &mut attrs,
                as_len(v, at, "histogram_data_point.attributes")?,
                at,
                limits,
            )?,
            10 => flags = as_varint(v, at, "histogram_data_point.flags")?,
            11 => {
                h.min = Some(f64::from_bits(as_fixed64(
                    v,
                    at,
                    "histogram_data_point.min",
                )?))
            }
            12 => {
                h.max = Some(f64::from_bits(as_fixed64(
                    v,
                    at,
                    "histogram_data_point.max",
                )?))
            }
            _ => {}
        }
    }
    Ok(HistogramFields {
        attrs,
        t_ms,
        flags,
        histogram: h,
        bounds_bits,
        exemplars,
    })
}

/// Sets `h`'s bounds from their bits, folding an explicit `+Inf` last bound into the implicit
/// overflow bucket, and gives a histogram without buckets its single overflow bucket.
fn set_bounds(h: &mut Histogram, bounds_bits: Vec<u64>) {
    h.bounds = bounds_bits.into_iter().map(f64::from_bits).collect();
    // Some exporters send +Inf as the last bound: the overflow bucket is implicit here.
    if h.bounds.last() == Some(&f64::INFINITY) && h.counts.len() == h.bounds.len() + 1 {
        h.bounds.pop();
        let last = h.counts.pop().unwrap_or(0);
        if let Some(c) = h.counts.last_mut() {
            *c = c.saturating_add(last);
        }
    }
    // No buckets at all: a count/sum-only histogram, one overflow bucket.
    if h.bounds.is_empty() && h.counts.is_empty() {
        h.counts.push(h.count);
    }
}

/// Adds the delta histogram `h` to the running `total`; different bounds (or bucket count)
/// restart the total from `h`.
fn add_delta_histogram(total: &mut Histogram, h: &Histogram) {
    if total.bounds != h.bounds || total.counts.len() != h.counts.len() {
        *total = h.clone();
        return;
    }
    for (t, c) in total.counts.iter_mut().zip(&h.counts) {
        *t = t.saturating_add(*c);
    }
    total.count = total.count.saturating_add(h.count);
    total.sum += h.sum;
    total.min = match (total.min, h.min) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    total.max = match (total.max, h.max) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
}

fn summary_point(
    b: &[u8],
    base: usize,
    name: &str,
    base_labels: &LabelPairs,
    limits: &Limits,
    out: &mut MetricsBatch,
) -> Result<(), OtlpError> {
    let mut attrs = Vec::new();
    let mut t_ms = 0;
    let mut count = 0u64;
    let mut sum = 0.0;
    let mut flags = 0;
    let mut quantiles = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            3 => t_ms = time_ms(v, at, "summary_data_point.time_unix_nano")?,
            4 => count = as_fixed64(v, at, "summary_data_point.count")?,
            5 => sum = f64::from_bits(as_fixed64(v, at, "summary_data_point.sum")?),
            6 => {
                let mut q = (0.0, 0.0);
                let mut qr = Reader::new(as_len(v, at, "summary_data_point.quantile_values")?, at);
                while let Some((f, at2, v2)) = qr.next()? {
                    match f {
                        1 => {
                            q.0 = f64::from_bits(as_fixed64(v2, at2, "value_at_quantile.quantile")?)
                        }
                        2 => q.1 = f64::from_bits(as_fixed64(v2, at2, "value_at_quantile.value")?),
                        _ => {}
                    }
                }
                if quantiles.len() >= limits.max_buckets {
                    return Err(OtlpError::LimitExceeded {
                        what: "summary quantiles",
                        value: quantiles.len() as u64 + 1,
                        max: limits.max_buckets as u64,
                    });
                }
                quantiles.push(q);
            }
            7 => push_attr(
                &mut attrs,
                as_len(v, at, "summary_data_point.attributes")?,
                at,
                limits,
            )?,
            8 => flags = as_varint(v, at, "summary_data_point.flags")?,
            _ => {}
        }
    }
    if flags & FLAG_NO_RECORDED_VALUE != 0 {
        out.report.no_value_points += 1;
        return Ok(());
    }
    for (q, v) in quantiles {
        let mut a = attrs.clone();
        a.push(KeyValue::new("quantile", AttrValue::Str(format_float(q))));
        out.samples
            .push((point_labels(name, base_labels, &a), t_ms, v));
    }
    out.samples.push((
        point_labels(&format!("{name}_sum"), base_labels, &attrs),
        t_ms,
        sum,
    ));
    out.samples.push((
        point_labels(&format!("{name}_count"), base_labels, &attrs),
        t_ms,
        count as f64,
    ));
    Ok(())
}

fn format_float(v: f64) -> String {
    let mut s = String::new();
    crate::prom_text::format_value(v, &mut s);
    s
}
