//! `ExportTraceServiceRequest` → spans.
//!
//! Field numbers from opentelemetry-proto `trace/v1/trace.proto`, `common/v1/common.proto`,
//! `resource/v1/resource.proto`.

use super::wire::{Reader, Value, as_fixed64, as_len, as_str, as_varint};
use super::{Limits, MAX_VALUE_DEPTH, OtlpError};
use strata_spans::{AttrValue, Event, KeyValue, Link, Span, StatusCode};

/// Decodes an `ExportTraceServiceRequest` with the default [`Limits`].
pub fn decode_traces(bytes: &[u8]) -> Result<Vec<Span>, OtlpError> {
    decode_traces_with(bytes, &Limits::default())
}

/// Decodes an `ExportTraceServiceRequest`. Each span carries its resource's attributes and its
/// scope's name.
pub fn decode_traces_with(bytes: &[u8], limits: &Limits) -> Result<Vec<Span>, OtlpError> {
    let mut out = Vec::new();
    let mut r = Reader::new(bytes, 0);
    while let Some((field, at, v)) = r.next()? {
        if field == 1 {
            resource_spans(as_len(v, at, "resource_spans")?, at, limits, &mut out)?;
        }
    }
    Ok(out)
}

fn resource_spans(
    b: &[u8],
    base: usize,
    limits: &Limits,
    out: &mut Vec<Span>,
) -> Result<(), OtlpError> {
    // The resource may come after the scope spans on the wire: collect the scopes first.
    let mut resource = Vec::new();
    let mut scopes = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => resource = resource_attrs(as_len(v, at, "resource")?, at, limits)?,
            2 => scopes.push((as_len(v, at, "scope_spans")?, at)),
            _ => {}
        }
    }
    for (b, at) in scopes {
        scope_spans(b, at, &resource, limits, out)?;
    }
    Ok(())
}

pub(super) fn resource_attrs(
    b: &[u8],
    base: usize,
    limits: &Limits,
) -> Result<Vec<KeyValue>, OtlpError> {
    let mut attrs = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        if field == 1 {
            push_attr(
                &mut attrs,
                as_len(v, at, "resource.attributes")?,
                at,
                limits,
            )?;
        }
    }
    Ok(attrs)
}

fn scope_spans(
    b: &[u8],
    base: usize,
    resource: &[KeyValue],
    limits: &Limits,
    out: &mut Vec<Span>,
) -> Result<(), OtlpError> {
    let mut scope = String::new();
    let mut spans = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => scope = scope_name(as_len(v, at, "scope")?, at)?,
            2 => spans.push((as_len(v, at, "span")?, at)),
            _ => {}
        }
    }
    for (b, at) in spans {
        if out.len() >= limits.max_items {
            return Err(OtlpError::LimitExceeded {
                what: "spans",
                value: out.len() as u64 + 1,
                max: limits.max_items as u64,
            });
        }
        let mut s = span(b, at, limits)?;
        s.resource = resource.to_vec();
        s.scope.clone_from(&scope);
        out.push(s);
    }
    Ok(())
}

pub(super) fn scope_name(b: &[u8], base: usize) -> Result<String, OtlpError> {
    let mut name = String::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        if field == 1 {
            name = as_str(v, at, "scope.name")?.to_owned();
        }
    }
    Ok(name)
}

pub(super) fn id<const N: usize>(
    v: Value<'_>,
    at: usize,
    field: &'static str,
) -> Result<[u8; N], OtlpError> {
    let b = as_len(v, at, field)?;
    b.try_into().map_err(|_| OtlpError::InvalidField {
        offset: at,
        field,
        detail: format!("{} bytes, expected {N}", b.len()),
    })
}

pub(super) fn time_ns(v: Value<'_>, at: usize, field: &'static str) -> Result<i64, OtlpError> {
    let t = as_fixed64(v, at, field)?;
    i64::try_from(t).map_err(|_| OtlpError::InvalidField {
        offset: at,
        field,
        detail: format!("{t} ns is past the year 2262"),
    })
}

fn span(b: &[u8], base: usize, limits: &Limits) -> Result<Span, OtlpError> {
    let mut s = Span::default();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => s.trace_id = id::<16>(v, at, "span.trace_id")?,
            2 => s.span_id = id::<8>(v, at, "span.span_id")?,
            // An empty parent id means a root span.
            4 if !as_len(v, at, "span.parent_span_id")?.is_empty() => {
                s.parent_span_id = Some(id::<8>(v, at, "span.parent_span_id")?);
            }
            5 => s.name = as_str(v, at, "span.name")?.to_owned(),
            6 => s.kind = as_varint(v, at, "span.kind")?.min(255) as u8,
            7 => s.start_ns = time_ns(v, at, "span.start_time_unix_nano")?,
            8 => s.end_ns = time_ns(v, at, "span.end_time_unix_nano")?,
            9 => push_attr(
                &mut s.attributes,
                as_len(v, at, "span.attributes")?,
                at,
                limits,
            )?,
            11 => {
                if s.events.len() >= limits.max_events_per_span {
                    return Err(OtlpError::LimitExceeded {
                        what: "events in one span",
                        value: s.events.len() as u64 + 1,
                        max: limits.max_events_per_span as u64,
                    });
                }
                s.events
                    .push(event(as_len(v, at, "span.events")?, at, limits)?);
            }
            13 => {
                if s.links.len() >= limits.max_links_per_span {
                    return Err(OtlpError::LimitExceeded {
                        what: "links in one span",
                        value: s.links.len() as u64 + 1,
                        max: limits.max_links_per_span as u64,
                    });
                }
                s.links
                    .push(link(as_len(v, at, "span.links")?, at, limits)?);
            }
            15 => status(as_len(v, at, "span.status")?, at, &mut s)?,
            _ => {}
        }
    }
    Ok(s)
}

fn status(b: &[u8], base: usize, s: &mut Span) -> Result<(), OtlpError> {
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            2 => s.status_message = as_str(v, at, "status.message")?.to_owned(),
            3 => {
                s.status_code = StatusCode::from_u8(as_varint(v, at, "status.code")?.min(255) as u8)
            }
            _ => {}
        }
    }
    Ok(())
}

fn event(b: &[u8], base: usize, limits: &Limits) -> Result<Event, OtlpError> {
    let mut e = Event {
        time_ns: 0,
        name: String::new(),
        attributes: Vec::new(),
    };
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => e.time_ns = time_ns(v, at, "event.time_unix_nano")?,
            2 => e.name = as_str(v, at, "event.name")?.to_owned(),
            3 => push_attr(
                &mut e.attributes,
                as_len(v, at, "event.attributes")?,
                at,
                limits,
            )?,
            _ => {}
        }
    }
    Ok(e)
}

fn link(b: &[u8], base: usize, limits: &Limits) -> Result<Link, OtlpError> {
    let mut l = Link {
        trace_id: [0; 16],
        span_id: [0; 8],
        attributes: Vec::new(),
    };
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => l.trace_id = id::<16>(v, at, "link.trace_id")?,
            2 => l.span_id = id::<8>(v, at, "link.span_id")?,
            4 => push_attr(
                &mut l.attributes,
                as_len(v, at, "link.attributes")?,
                at,
                limits,
            )?,
            _ => {}
        }
    }
    Ok(l)
}

/// Decodes one `KeyValue` and appends it, enforcing the attribute-count limit.
pub(super) fn push_attr(
    attrs: &mut Vec<KeyValue>,
    b: &[u8],
    base: usize,
    limits: &Limits,
) -> Result<(), OtlpError> {
    if attrs.len() >= limits.max_attributes {
        return Err(OtlpError::LimitExceeded {
            what: "attributes on one item",
            value: attrs.len() as u64 + 1,
            max: limits.max_attributes as u64,
        });
    }
    attrs.push(key_value(b, base, limits, 0)?);
    Ok(())
}

fn key_value(b: &[u8], base: usize, limits: &Limits, depth: usize) -> Result<KeyValue, OtlpError> {
    let mut key = String::new();
    // An absent value is an empty AnyValue: OTLP calls that "empty"; we keep it as "".
    let mut value = AttrValue::Str(String::new());
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => key = as_str(v, at, "key_value.key")?.to_owned(),
            2 => value = any_value(as_len(v, at, "key_value.value")?, at, limits, depth)?,
            _ => {}
        }
    }
    Ok(KeyValue { key, value })
}

/// Decodes one `AnyValue` inside `depth` arrays and maps. Recursive through arrays and maps;
/// an array or map that would be level `depth + 1` past [`Limits::max_value_depth`] (capped at
/// [`MAX_VALUE_DEPTH`]) is refused before anything inside it is read.
pub(super) fn any_value(
    b: &[u8],
    base: usize,
    limits: &Limits,
    depth: usize,
) -> Result<AttrValue, OtlpError> {
    let max_depth = limits.max_value_depth.min(MAX_VALUE_DEPTH);
    let mut value = AttrValue::Str(String::new());
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        if (field == 5 || field == 6) && depth >= max_depth {
            return Err(OtlpError::LimitExceeded {
                what: "levels of nested attribute values",
                value: depth as u64 + 1,
                max: max_depth as u64,
            });
        }
        value = match field {
            1 => AttrValue::Str(as_str(v, at, "any_value.string_value")?.to_owned()),
            2 => AttrValue::Bool(as_varint(v, at, "any_value.bool_value")? != 0),
            3 => AttrValue::Int(as_varint(v, at, "any_value.int_value")? as i64),
            4 => AttrValue::Double(f64::from_bits(as_fixed64(v, at, "any_value.double_value")?)),
            5 => {
                let mut items = Vec::new();
                let mut ar = Reader::new(as_len(v, at, "any_value.array_value")?, at);
                while let Some((f, at2, v2)) = ar.next()? {
                    if f == 1 {
                        if items.len() >= limits.max_array_len {
                            return Err(OtlpError::LimitExceeded {
                                what: "elements in one array value",
                                value: items.len() as u64 + 1,
                                max: limits.max_array_len as u64,
                            });
                        }
                        items.push(any_value(
                            as_len(v2, at2, "array_value.values")?,
                            at2,
                            limits,
                            depth + 1,
                        )?);
                    }
                }
                AttrValue::Array(items)
            }
            6 => {
                let mut items = Vec::new();
                let mut mr = Reader::new(as_len(v, at, "any_value.kvlist_value")?, at);
                while let Some((f, at2, v2)) = mr.next()? {
                    if f == 1 {
                        if items.len() >= limits.max_array_len {
                            return Err(OtlpError::LimitExceeded {
                                what: "entries in one map value",
                                value: items.len() as u64 + 1,
                                max: limits.max_array_len as u64,
                            });
                        }
                        items.push(key_value(
                            as_len(v2, at2, "kvlist_value.values")?,
                            at2,
                            limits,
                            depth + 1,
                        )?);
                    }
                }
                AttrValue::Map(items)
            }
            7 => AttrValue::Bytes(as_len(v, at, "any_value.bytes_value")?.to_vec()),
            _ => continue,
        };
    }
    Ok(value)
}
