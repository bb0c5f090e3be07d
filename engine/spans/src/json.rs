//! The JSON form of span query results: spans found ([`hit_json`]) and GenAI aggregate rows
//! ([`row_json`]). One renderer for every front end, so `strata spans|trace|genai --json` and
//! the C ABI (`strata_db_find_spans_json`, `strata_db_trace_json`, `strata_db_genai_json`, and
//! through them the Go package) hand out the same documents. The shapes are documented in
//! `ffi/README.md`; changing a field here changes the CLI's output and the C API's.
//!
//! Conventions: ids are lowercase hex; times are Unix nanoseconds (`start_ns`, `end_ns`) or
//! milliseconds where the name says so (`duration_ms`, `ttft_ms`, `step_start_ms`, latency
//! percentiles); an absent GenAI column is `null`, never `""` (except inside `group`, where an
//! empty key is a group of its own).

use serde_json::{Map, Value, json};

use super::model::{AttrValue, KeyValue, hex};
use super::query::{AggRow, GroupBy, Percentiles, SpanHit};

fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// The most levels of arrays and maps inside one attribute value that [`attr_json`] renders.
/// Rendering recurses per level (and so do serializing and dropping the `Value` it builds), so
/// deeper levels are truncated: an array or map that would be level 65 is rendered as the
/// string [`TOO_DEEP_MARKER`] instead, and the document is still produced. Values from the
/// OTLP decoder and the span store never come near this (they keep at most 8 levels); only an
/// `AttrValue` built by hand can.
pub const MAX_JSON_DEPTH: usize = 64;

/// What an array or map deeper than [`MAX_JSON_DEPTH`] is rendered as.
pub const TOO_DEEP_MARKER: &str = "[nested too deep]";

/// An attribute value: strings, booleans and numbers as themselves, bytes as hex, arrays as
/// arrays, maps as objects; arrays and maps past [`MAX_JSON_DEPTH`] levels as
/// [`TOO_DEEP_MARKER`].
pub fn attr_json(v: &AttrValue) -> Value {
    attr_json_at(v, 0)
}

/// `v` inside `depth` arrays and maps.
fn attr_json_at(v: &AttrValue, depth: usize) -> Value {
    match v {
        AttrValue::Str(s) => json!(s),
        AttrValue::Bool(b) => json!(b),
        AttrValue::Int(i) => json!(i),
        AttrValue::Double(d) => json!(d),
        AttrValue::Bytes(b) => json!(hex(b)),
        AttrValue::Array(_) | AttrValue::Map(_) if depth >= MAX_JSON_DEPTH => {
            json!(TOO_DEEP_MARKER)
        }
        AttrValue::Array(a) => Value::Array(a.iter().map(|x| attr_json_at(x, depth + 1)).collect()),
        AttrValue::Map(m) => kvs_json_at(m, depth + 1),
    }
}

/// Key/value pairs as one object (a repeated key keeps its last value); values as
/// [`attr_json`] renders them.
pub fn attributes_json(kvs: &[KeyValue]) -> Value {
    kvs_json_at(kvs, 0)
}

fn kvs_json_at(kvs: &[KeyValue], depth: usize) -> Value {
    Value::Object(
        kvs.iter()
            .map(|kv| (kv.key.clone(), attr_json_at(&kv.value, depth)))
            .collect(),
    )
}

/// One span as JSON: identity, times, status, bucket and the GenAI columns; with `whole` (what
/// [`SpanStore::trace`](super::SpanStore::trace) returns), also its scope, resource,
/// attributes, events, links and content.
pub fn hit_json(h: &SpanHit, whole: bool) -> Value {
    let (s, g) = (&h.span, &h.genai);
    let none_if_empty = |v: &str| if v.is_empty() { Value::Null } else { json!(v) };
    let mut v = json!({
        "trace_id": hex(&s.trace_id),
        "span_id": hex(&s.span_id),
        "parent_span_id": s.parent_span_id.map(|p| hex(&p)),
        "name": s.name,
        "kind": s.kind,
        "start_ns": s.start_ns,
        "end_ns": s.end_ns,
        "duration_ms": ms(s.duration_ns()),
        "status": s.status_code.as_str(),
        "status_message": none_if_empty(&s.status_message),
        "bucket": h.bucket,
        "service": none_if_empty(&g.service),
        "provider": none_if_empty(&g.provider),
        "model": none_if_empty(g.model()),
        "request_model": none_if_empty(&g.request_model),
        "response_model": none_if_empty(&g.response_model),
        "operation": none_if_empty(&g.operation),
        "input_tokens": g.input_tokens,
        "output_tokens": g.output_tokens,
        "cache_read_tokens": g.cache_read_tokens,
        "finish_reasons": none_if_empty(&g.finish_reasons),
        "agent": none_if_empty(&g.agent_name),
        "tool": none_if_empty(&g.tool_name),
        "error_type": none_if_empty(&g.error_type),
        "streaming": g.streaming,
        "ttft_ms": g.ttft_ns.map(ms),
        "cost_usd": g.cost_usd,
    });
    if whole && let Value::Object(o) = &mut v {
        o.insert("scope".into(), json!(s.scope));
        o.insert("resource".into(), attributes_json(&s.resource));
        o.insert("attributes".into(), attributes_json(&s.attributes));
        o.insert(
            "events".into(),
            Value::Array(
                s.events
                    .iter()
                    .map(|e| {
                        json!({
                            "name": e.name,
                            "time_ns": e.time_ns,
                            "attributes": attributes_json(&e.attributes),
                        })
                    })
                    .collect(),
            ),
        );
        o.insert(
            "links".into(),
            Value::Array(
                s.links
                    .iter()
                    .map(|l| {
                        json!({
                            "trace_id": hex(&l.trace_id),
                            "span_id": hex(&l.span_id),
                            "attributes": attributes_json(&l.attributes),
                        })
                    })
                    .collect(),
            ),
        );
        o.insert("content".into(), attributes_json(&h.content));
    }
    v
}

/// Spans as a JSON array of [`hit_json`] objects, in the order given.
pub fn hits_json(hits: &[SpanHit], whole: bool) -> Value {
    Value::Array(hits.iter().map(|h| hit_json(h, whole)).collect())
}

/// Percentiles of nanosecond values as `{"p50", "p90", "p95", "p99"}` in milliseconds, or
/// `null` when there were no values.
pub fn percentiles_ms_json(p: Option<&Percentiles>) -> Value {
    match p {
        None => Value::Null,
        Some(p) => {
            json!({"p50": p.p50 / 1e6, "p90": p.p90 / 1e6, "p95": p.p95 / 1e6, "p99": p.p99 / 1e6})
        }
    }
}

/// The name a [`GroupBy`] is spelled as (the inverse of [`GroupBy::parse`]); the keys of a
/// row's `group` object.
pub fn group_by_name(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Model => "model",
        GroupBy::Provider => "provider",
        GroupBy::Service => "service",
        GroupBy::Operation => "operation",
        GroupBy::Agent => "agent",
        GroupBy::Tool => "tool",
    }
}

/// One aggregate row: `group` (`{name: value}` per `by`, `""` for spans without the value),
/// `step_start_ms` (`null` without a step), counts, tokens, cost, and latency and
/// time-to-first-token percentiles in milliseconds.
pub fn row_json(by: &[GroupBy], r: &AggRow) -> Value {
    let group: Map<String, Value> = by
        .iter()
        .zip(&r.group)
        .map(|(g, v)| (group_by_name(*g).to_owned(), json!(v)))
        .collect();
    json!({
        "group": group,
        "step_start_ms": r.step_start_ns.map(|t| t.div_euclid(1_000_000)),
        "count": r.count,
        "errors": r.errors,
        "error_rate": r.error_rate(),
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "cache_read_tokens": r.cache_read_tokens,
        "cost_usd": r.cost_usd,
        "cost_unknown": r.cost_unknown,
        "latency_ms": percentiles_ms_json(r.latency_ns.as_ref()),
        "ttft_ms": percentiles_ms_json(r.ttft_ns.as_ref()),
    })
}

/// Aggregate rows as a JSON array of [`row_json`] objects, in the order given.
pub fn rows_json(by: &[GroupBy], rows: &[AggRow]) -> Value {
    Value::Array(rows.iter().map(|r| row_json(by, r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, GenAi, Link, Span, StatusCode};

    fn hit() -> SpanHit {
        SpanHit {
            bucket: "default_spans".into(),
            span: Span {
                trace_id: [0xab; 16],
                span_id: [1; 8],
                parent_span_id: Some([2; 8]),
                name: "chat gpt-4o".into(),
                kind: 3,
                start_ns: 1_000_000_000,
                end_ns: 1_250_000_000,
                status_code: StatusCode::Error,
                status_message: String::new(),
                resource: vec![KeyValue::new("service.name", AttrValue::Str("gw".into()))],
                scope: "openai".into(),
                attributes: vec![
                    KeyValue::new("n", AttrValue::Int(-3)),
                    KeyValue::new("b", AttrValue::Bytes(vec![0, 255])),
                    KeyValue::new(
                        "a",
                        AttrValue::Array(vec![AttrValue::Bool(true), AttrValue::Double(0.5)]),
                    ),
                ],
                events: vec![Event {
                    time_ns: 5,
                    name: "e".into(),
                    attributes: vec![],
                }],
                links: vec![Link {
                    trace_id: [3; 16],
                    span_id: [4; 8],
                    attributes: vec![],
                }],
            },
            genai: GenAi {
                service: "gw".into(),
                response_model: "gpt-4o-2024".into(),
                input_tokens: Some(7),
                error_type: "429".into(),
                ttft_ns: Some(2_500_000),
                ..GenAi::default()
            },
            content: vec![KeyValue::new(
                "gen_ai.input.messages",
                AttrValue::Str("hi".into()),
            )],
        }
    }

    #[test]
    fn a_hit_has_its_columns_and_nulls_for_absent_ones() {
        let v = hit_json(&hit(), false);
        assert_eq!(v["trace_id"], "ab".repeat(16));
        assert_eq!(v["parent_span_id"], "0202020202020202");
        assert_eq!(v["duration_ms"], 250.0);
        assert_eq!(v["status"], "error");
        assert_eq!(v["status_message"], Value::Null);
        assert_eq!(
            v["model"], "gpt-4o-2024",
            "the response model when no request model"
        );
        assert_eq!(v["request_model"], Value::Null);
        assert_eq!(v["input_tokens"], 7);
        assert_eq!(v["output_tokens"], Value::Null);
        assert_eq!(v["ttft_ms"], 2.5);
        assert_eq!(v["error_type"], "429");
        assert!(v.get("attributes").is_none() && v.get("content").is_none());
    }

    #[test]
    fn a_whole_hit_adds_resource_attributes_events_links_and_content() {
        let v = hit_json(&hit(), true);
        assert_eq!(v["scope"], "openai");
        assert_eq!(v["resource"]["service.name"], "gw");
        assert_eq!(v["attributes"]["n"], -3);
        assert_eq!(v["attributes"]["b"], "00ff");
        assert_eq!(v["attributes"]["a"], json!([true, 0.5]));
        assert_eq!(v["events"][0]["time_ns"], 5);
        assert_eq!(v["links"][0]["span_id"], "0404040404040404");
        assert_eq!(v["content"]["gen_ai.input.messages"], "hi");
        assert_eq!(
            hits_json(&[hit(), hit()], true).as_array().unwrap().len(),
            2
        );
    }

    #[test]
    fn values_deeper_than_the_limit_are_truncated_with_a_marker() {
        fn nested(levels: usize) -> AttrValue {
            let mut v = AttrValue::Int(1);
            for i in 0..levels {
                v = if i % 2 == 0 {
                    AttrValue::Array(vec![v])
                } else {
                    AttrValue::Map(vec![KeyValue::new("k", v)])
                };
            }
            v
        }
        fn levels(v: &Value) -> (usize, &Value) {
            match v {
                Value::Array(a) => {
                    let (n, leaf) = levels(&a[0]);
                    (n + 1, leaf)
                }
                Value::Object(o) => {
                    let (n, leaf) = levels(&o["k"]);
                    (n + 1, leaf)
                }
                leaf => (0, leaf),
            }
        }
        let at = attr_json(&nested(MAX_JSON_DEPTH));
        assert_eq!(levels(&at), (MAX_JSON_DEPTH, &json!(1)));
        let over = attr_json(&nested(MAX_JSON_DEPTH + 1));
        assert_eq!(levels(&over), (MAX_JSON_DEPTH, &json!(TOO_DEEP_MARKER)));
        // Inside an attribute map the count is the same: the map of attributes is level 0.
        let kvs = vec![KeyValue::new("a", nested(MAX_JSON_DEPTH + 1))];
        assert_eq!(attributes_json(&kvs)["a"], over);
    }

    #[test]
    fn a_row_names_its_groups_and_gives_milliseconds() {
        let r = AggRow {
            group: vec!["gpt-4o".into(), String::new()],
            step_start_ns: Some(-1),
            count: 4,
            errors: 1,
            latency_ns: Some(Percentiles {
                p50: 1e6,
                p90: 2e6,
                p95: 3e6,
                p99: 4e6,
            }),
            ..AggRow::default()
        };
        let v = row_json(&[GroupBy::Model, GroupBy::Tool], &r);
        assert_eq!(v["group"], json!({"model": "gpt-4o", "tool": ""}));
        assert_eq!(v["step_start_ms"], -1, "floored, not truncated");
        assert_eq!(v["error_rate"], 0.25);
        assert_eq!(v["latency_ms"]["p99"], 4.0);
        assert_eq!(v["ttft_ms"], Value::Null);
        for name in ["model", "provider", "service", "operation", "agent", "tool"] {
            assert_eq!(group_by_name(GroupBy::parse(name).unwrap()), name);
        }
    }
}
