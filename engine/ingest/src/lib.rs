//! Strata's ingest decoders: wire formats in, label sets, samples and spans out.
//!
//! - [`otlp`]: OTLP protobuf `ExportTraceServiceRequest` into [`strata_spans::Span`]s and
//!   `ExportMetricsServiceRequest` into metric samples and histograms; the caller owns the
//!   delta-to-cumulative state ([`otlp::DeltaState`]).
//! - [`prom_text`]: the Prometheus text exposition format (what `strata import` reads).
//! - [`sink`]: [`sink::apply_metrics`] writes a decoded batch into any [`sink::MetricsSink`].
//!
//! Decoders are pure functions of their input with bounded recursion and size limits; they
//! write nothing and depend on no storage (the span model comes from `strata-spans`).

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

pub mod otlp;
pub mod prom_text;
pub mod sink;
