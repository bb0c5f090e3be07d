//! The JSON form of events ([`event_json`]) and of a trace with its events
//! ([`trace_json`]): one renderer for `strata events|trace --json` and the C ABI
//! (`strata_db_events_json`, `strata_db_trace_json`). Shapes in `ffi/README.md`.

use serde_json::{Value, json};

use super::model::EventHit;
use crate::json::{attr_json, attributes_json, hits_json};
use crate::model::hex;
use crate::query::SpanHit;

/// One event: identity, times (`time_ns` is the time it is stored by: `time_unix_nano`, else
/// the observed time; `time_unix_nano` as sent beside it), severity, name, body, the GenAI
/// columns (`null` when absent), scope, resource, attributes and content.
pub fn event_json(h: &EventHit) -> Value {
    let (e, g) = (&h.event, &h.genai);
    let none_if_empty = |v: &str| if v.is_empty() { Value::Null } else { json!(v) };
    let (trace, span) = if e.trace_id == [0; 16] {
        (Value::Null, Value::Null)
    } else {
        (json!(hex(&e.trace_id)), json!(hex(&e.span_id)))
    };
    json!({
        "id": e.id,
        "bucket": h.bucket,
        "time_ns": e.timestamp_ns(),
        "time_unix_nano": e.time_ns,
        "observed_ns": e.observed_ns,
        "event_name": none_if_empty(&e.event_name),
        "severity_number": e.severity_number,
        "severity_text": none_if_empty(&e.severity_text),
        "trace_id": trace,
        "span_id": span,
        "flags": e.flags,
        "body": e.body.as_ref().map(attr_json),
        "service": none_if_empty(&g.service),
        "provider": none_if_empty(&g.provider),
        "model": none_if_empty(g.model()),
        "request_model": none_if_empty(&g.request_model),
        "response_model": none_if_empty(&g.response_model),
        "operation": none_if_empty(&g.operation),
        "input_tokens": g.input_tokens,
        "output_tokens": g.output_tokens,
        "error_type": none_if_empty(&g.error_type),
        "scope": e.scope,
        "scope_version": none_if_empty(&e.scope_version),
        "resource": attributes_json(&e.resource),
        "attributes": attributes_json(&e.attributes),
        "content": attributes_json(&h.content),
    })
}

/// Events as a JSON array of [`event_json`] objects, in the order given.
pub fn events_json(hits: &[EventHit]) -> Value {
    Value::Array(hits.iter().map(event_json).collect())
}

/// A trace's spans as [`hits_json`] renders them (whole), each with a `log_events` array of
/// its events (oldest first). The document stays an array of spans: events of the trace
/// naming no stored span are not in it (`strata events --trace`, [`events_json`], lists them).
pub fn trace_json(spans: &[SpanHit], events: &[EventHit]) -> Value {
    let mut out = hits_json(spans, true);
    if let Value::Array(items) = &mut out {
        for (item, s) in items.iter_mut().zip(spans) {
            let mine: Vec<Value> = events
                .iter()
                .filter(|e| e.event.span_id == s.span.span_id)
                .map(event_json)
                .collect();
            if let Value::Object(o) = item {
                o.insert("log_events".into(), Value::Array(mine));
            }
        }
    }
    out
}
