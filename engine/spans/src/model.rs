//! The span data model: what OTLP decodes into, what the WAL carries, what queries return.

use serde::{Deserialize, Serialize};

/// An attribute value, typed as OTLP types it. Arrays and maps nest (depth-limited on decode).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Array(Vec<AttrValue>),
    Map(Vec<KeyValue>),
}

impl AttrValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer: an `Int`, a finite integral `Double`, or a decimal string.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            AttrValue::Int(v) => u64::try_from(*v).ok(),
            AttrValue::Double(d) if d.is_finite() && *d >= 0.0 && d.fract() == 0.0 => {
                Some(*d as u64)
            }
            AttrValue::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Int(v) => Some(*v as f64),
            AttrValue::Double(d) => Some(*d),
            AttrValue::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            AttrValue::Bool(b) => Some(*b),
            AttrValue::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            AttrValue::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// A display form: strings as they are, arrays joined by `,`.
    pub fn to_text(&self) -> String {
        match self {
            AttrValue::Str(s) => s.clone(),
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Int(v) => v.to_string(),
            AttrValue::Double(d) => d.to_string(),
            AttrValue::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            AttrValue::Array(a) => a
                .iter()
                .map(AttrValue::to_text)
                .collect::<Vec<_>>()
                .join(","),
            AttrValue::Map(m) => m
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value.to_text()))
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: String,
    pub value: AttrValue,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: AttrValue) -> Self {
        KeyValue {
            key: key.into(),
            value,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time_ns: i64,
    pub name: String,
    pub attributes: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub attributes: Vec<KeyValue>,
}

/// OTLP span kind (0 unspecified … 5 consumer); other values are kept as they came.
pub type SpanKind = u8;

/// OTLP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum StatusCode {
    #[default]
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    pub fn from_u8(v: u8) -> StatusCode {
        match v {
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => StatusCode::Unset,
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            StatusCode::Unset => 0,
            StatusCode::Ok => 1,
            StatusCode::Error => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Unset => "unset",
            StatusCode::Ok => "ok",
            StatusCode::Error => "error",
        }
    }
}

/// One span as received. Times are Unix nanoseconds (`i64`: until the year 2262).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// `None` for a root span.
    pub parent_span_id: Option<[u8; 8]>,
    pub name: String,
    pub kind: SpanKind,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status_code: StatusCode,
    pub status_message: String,
    pub resource: Vec<KeyValue>,
    /// Instrumentation scope name (e.g. `opentelemetry.instrumentation.openai.v1`).
    pub scope: String,
    pub attributes: Vec<KeyValue>,
    pub events: Vec<Event>,
    pub links: Vec<Link>,
}

impl Span {
    /// `end - start`, or 0 when the end precedes the start (clock skew; never negative).
    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns).max(0)
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
}

/// Hex of a trace or span id.
pub fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a 32-digit hex trace id.
pub fn parse_trace_id(s: &str) -> Option<[u8; 16]> {
    let s = s.trim();
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
