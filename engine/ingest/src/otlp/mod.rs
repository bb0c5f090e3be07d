//! OTLP protobuf decoding, without generated code: `ExportTraceServiceRequest` into
//! [`Span`](strata_spans::Span)s, `ExportLogsServiceRequest` into
//! [`LogEvent`](strata_spans::LogEvent)s, and `ExportMetricsServiceRequest` into metric samples and
//! histograms named the way Prometheus' OTLP receiver names them.
//!
//! The decoder is hand-written over the wire format (`wire.rs`): it borrows from the payload,
//! checks every length against the bytes present before allocating, and bounds everything a
//! payload could make large ([`Limits`]). Bad input is an [`OtlpError`], never a panic.
//! Unknown fields are skipped, as protobuf requires.

mod exemplars;
mod exponential;
mod logs;
mod metrics;
mod naming;
mod traces;
mod wire;

use std::fmt;

pub use logs::{decode_logs, decode_logs_with};
pub use metrics::{
    DeltaState, HistogramPoint, LabelPairs, MetricsBatch, MetricsReport, NativeHistogramPoint,
    decode_metrics,
};
pub use naming::{metric_name, sanitize_label_name};
pub use traces::{decode_traces, decode_traces_with};

/// The most levels of nested arrays and maps any decode accepts, whatever
/// [`Limits::max_value_depth`] says: a hostile payload can nest `AnyValue`s 100,000 levels deep
/// in under a megabyte, and each level takes one frame of the recursive decoder (array) or two
/// (map): about 0.8 KB and 1.3 KB of stack in the dev profile, several times that unoptimised.
/// At 32 levels a value decodes on a 256 KiB thread in either build
/// (`engine/tests/otlp_limits.rs`); real attributes nest two or three levels.
pub const MAX_VALUE_DEPTH: usize = 32;

/// Bounds on what one payload may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Spans, log records or data points in one request.
    pub max_items: usize,
    /// Attributes on one span, event, link, log record, resource or data point.
    pub max_attributes: usize,
    pub max_events_per_span: usize,
    pub max_links_per_span: usize,
    /// Levels of arrays and maps inside one attribute value: an attribute whose value is an
    /// array of scalars has one. Deeper values are [`OtlpError::LimitExceeded`] (the payload is
    /// refused, nothing is truncated). The decoder recurses once or twice per level, so
    /// whatever is set here, at most [`MAX_VALUE_DEPTH`] levels are decoded. The span store
    /// keeps at most 8 levels (the default), so only raise this for decoding without storing.
    pub max_value_depth: usize,
    /// Elements of one array or map value.
    pub max_array_len: usize,
    /// Buckets of one histogram point.
    pub max_buckets: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_items: 1 << 22,
            max_attributes: 1024,
            max_events_per_span: 4096,
            max_links_per_span: 1024,
            max_value_depth: 8,
            max_array_len: 65_536,
            max_buckets: 4096,
        }
    }
}

/// Why an OTLP payload was refused.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OtlpError {
    /// The bytes are not a valid protobuf encoding of the message.
    Malformed { offset: usize, detail: String },
    /// A field holds a value the message does not allow (e.g. a 15-byte trace id).
    InvalidField {
        offset: usize,
        field: &'static str,
        detail: String,
    },
    /// The payload holds more of something than [`Limits`] allows.
    LimitExceeded {
        what: &'static str,
        value: u64,
        max: u64,
    },
}

impl fmt::Display for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OtlpError::Malformed { offset, detail } => {
                write!(f, "malformed OTLP protobuf at byte {offset}: {detail}")
            }
            OtlpError::InvalidField {
                offset,
                field,
                detail,
            } => write!(f, "invalid OTLP field {field} at byte {offset}: {detail}"),
            OtlpError::LimitExceeded { what, value, max } => {
                write!(
                    f,
                    "OTLP payload has {value} {what}, more than the limit {max}"
                )
            }
        }
    }
}

impl std::error::Error for OtlpError {}
