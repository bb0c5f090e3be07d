//! The EVENTS WAL payload (`docs/format/events.md`, "Event records"): little-endian, varints
//! LEB128, values and attribute lists encoded as in span records.

use strata_codec::bytes::{ByteReader, put_uvarint, put_varint};

use super::super::codec::{
    COPY_FLAG, get_array, get_count, get_kvs, get_str, get_value, put_kvs, put_str, put_value,
};
use super::super::model::AttrValue;
use super::model::LogEvent;

/// Version byte of an EVENTS WAL payload (bit 7 is [`COPY_FLAG`], as for spans).
pub const EVENTS_PAYLOAD_VERSION: u8 = 1;
/// Bytes the smallest event takes: id 1, time 1, observed 1, severity 1, text 1, name 1,
/// ids 24, flags 1, body flag 1, resource 1, scope 1, scope version 1, attributes 1.
const MIN_EVENT_BYTES: usize = 36;

type CResult<T> = strata_codec::Result<T>;

fn put_event(out: &mut Vec<u8>, e: &LogEvent) {
    put_uvarint(out, e.id);
    put_varint(out, e.time_ns);
    put_varint(out, e.observed_ns);
    out.push(e.severity_number);
    put_str(out, &e.severity_text);
    put_str(out, &e.event_name);
    out.extend_from_slice(&e.trace_id);
    out.extend_from_slice(&e.span_id);
    put_uvarint(out, u64::from(e.flags));
    match &e.body {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_value(out, v);
        }
    }
    put_kvs(out, &e.resource);
    put_str(out, &e.scope);
    put_str(out, &e.scope_version);
    put_kvs(out, &e.attributes);
}

fn get_event(r: &mut ByteReader<'_>) -> CResult<LogEvent> {
    let mut e = LogEvent {
        id: r.uvarint()?,
        time_ns: r.varint()?,
        observed_ns: r.varint()?,
        severity_number: r.u8()?,
        severity_text: get_str(r)?,
        event_name: get_str(r)?,
        trace_id: get_array::<16>(r)?,
        span_id: get_array::<8>(r)?,
        ..LogEvent::default()
    };
    e.flags = u32::try_from(r.uvarint()?).map_err(|_| r.corrupt("event flags over 32 bits"))?;
    e.body = match r.u8()? {
        0 => None,
        1 => Some(get_value(r, 0)?),
        t => return Err(r.corrupt(format!("bad body flag {t}"))),
    };
    e.resource = get_kvs(r, 0)?;
    e.scope = get_str(r)?;
    e.scope_version = get_str(r)?;
    e.attributes = get_kvs(r, 0)?;
    Ok(e)
}

/// An EVENTS WAL payload: version byte, event count, events.
pub fn encode_events_payload(events: &[LogEvent]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + events.len() * 512);
    out.push(EVENTS_PAYLOAD_VERSION);
    put_uvarint(&mut out, events.len() as u64);
    for e in events {
        put_event(&mut out, e);
    }
    out
}

/// A checkpoint's copies: an EVENTS payload whose version byte carries [`COPY_FLAG`].
pub fn encode_events_copy_payload(events: &[LogEvent]) -> Vec<u8> {
    let mut out = encode_events_payload(events);
    out[0] |= COPY_FLAG;
    out
}

/// Decodes an EVENTS WAL payload.
pub fn decode_events_payload(bytes: &[u8]) -> CResult<Vec<LogEvent>> {
    let mut r = ByteReader::new(bytes, "events WAL payload");
    let v = r.u8()? & !COPY_FLAG;
    if v != EVENTS_PAYLOAD_VERSION {
        return Err(strata_codec::Error::UnsupportedVersion {
            what: "events WAL payload",
            version: v,
        });
    }
    let n = get_count(&mut r, MIN_EVENT_BYTES)?;
    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        events.push(get_event(&mut r)?);
    }
    if !r.is_empty() {
        return Err(r.corrupt(format!("{} trailing bytes", r.remaining())));
    }
    Ok(events)
}

/// The encoding of one event's body (the `body` column of an event partition): empty for
/// none, else a flag byte 1 and the value.
pub(crate) fn body_blob(body: &Option<AttrValue>) -> Vec<u8> {
    match body {
        None => Vec::new(),
        Some(v) => {
            let mut out = vec![1];
            put_value(&mut out, v);
            out
        }
    }
}

pub(crate) fn read_body_blob(b: &[u8]) -> CResult<Option<AttrValue>> {
    if b.is_empty() {
        return Ok(None);
    }
    let mut r = ByteReader::new(b, "event body");
    if r.u8()? != 1 {
        return Err(r.corrupt("bad body flag"));
    }
    let v = get_value(&mut r, 0)?;
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes after event body"));
    }
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyValue;

    #[test]
    fn the_smallest_event_round_trips() {
        let events = vec![LogEvent::default(); 3];
        let bytes = encode_events_payload(&events);
        assert_eq!(bytes.len(), 2 + 3 * MIN_EVENT_BYTES);
        assert_eq!(decode_events_payload(&bytes).unwrap(), events);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let e = LogEvent {
            id: 7,
            time_ns: 0,
            observed_ns: 1_796_288_568_958_663_873,
            event_name: "gen_ai.client.inference.operation.details".into(),
            trace_id: [1; 16],
            span_id: [2; 8],
            flags: 3,
            body: Some(AttrValue::Array(vec![AttrValue::Int(-4)])),
            attributes: vec![KeyValue::new(
                "gen_ai.input.messages",
                AttrValue::Map(vec![KeyValue::new("role", AttrValue::Str("user".into()))]),
            )],
            ..LogEvent::default()
        };
        let bytes = encode_events_copy_payload(std::slice::from_ref(&e));
        assert_eq!(decode_events_payload(&bytes).unwrap(), vec![e]);
        for n in 0..bytes.len() {
            assert!(decode_events_payload(&bytes[..n]).is_err(), "cut at {n}");
        }
    }
}
