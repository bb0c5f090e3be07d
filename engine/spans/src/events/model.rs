//! The event data model: an OTLP log record as the store keeps it, and what queries return.

use super::super::genai::GenAi;
use super::super::model::{AttrValue, KeyValue};

/// One log record (a GenAI event, or any OTLP log). Times are Unix nanoseconds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogEvent {
    /// Assigned by the store at append (unique within a database); 0 before that.
    pub id: u64,
    /// `time_unix_nano` as sent: 0 when the source did not set it.
    pub time_ns: i64,
    /// `observed_time_unix_nano` as sent (the collector's time).
    pub observed_ns: i64,
    /// OTLP `SeverityNumber` (0 unspecified, 1–24); other values kept as they came, up to 255.
    pub severity_number: u8,
    pub severity_text: String,
    /// `event_name` of the record, else its `event.name` attribute (older SDKs), else "".
    pub event_name: String,
    /// All zeros when the record carries no trace context.
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// W3C trace flags (the low byte of OTLP `flags`; the rest reserved, kept as sent).
    pub flags: u32,
    /// `None` when the record has no body; an empty `AnyValue` is `Str("")`.
    pub body: Option<AttrValue>,
    pub resource: Vec<KeyValue>,
    pub scope: String,
    pub scope_version: String,
    pub attributes: Vec<KeyValue>,
}

impl LogEvent {
    /// The time the event is stored, windowed and queried by: `time_ns`, else (when the
    /// source left it 0, as the OTel GenAI instrumentations do) `observed_ns`.
    pub fn timestamp_ns(&self) -> i64 {
        if self.time_ns != 0 {
            self.time_ns
        } else {
            self.observed_ns
        }
    }

    pub fn attribute(&self, key: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| &kv.value)
    }

    pub fn resource_attribute(&self, key: &str) -> Option<&AttrValue> {
        self.resource
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| &kv.value)
    }

    /// Whether the record names a span (non-zero trace and span ids).
    pub fn has_span(&self) -> bool {
        self.trace_id != [0; 16] && self.span_id != [0; 8]
    }
}

/// An event in memory: without its content attributes, its GenAI columns, and its content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventRow {
    pub event: LogEvent,
    pub genai: GenAi,
    pub content: Vec<KeyValue>,
}

impl EventRow {
    /// The event as it was appended: its attributes with the content put back (at the end).
    pub(crate) fn event_with_content(&self) -> LogEvent {
        let mut e = self.event.clone();
        e.attributes.extend(self.content.iter().cloned());
        e
    }
}

/// An event found: the record (attributes without content), its GenAI columns, its bucket,
/// and its content when asked for (and stored).
#[derive(Debug, Clone, PartialEq)]
pub struct EventHit {
    pub bucket: String,
    pub event: LogEvent,
    pub genai: GenAi,
    pub content: Vec<KeyValue>,
}
