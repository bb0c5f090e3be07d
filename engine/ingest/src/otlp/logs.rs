//! `ExportLogsServiceRequest` → events ([`LogEvent`]).
//!
//! Field numbers from opentelemetry-proto `logs/v1/logs.proto` (and `common/v1`,
//! `resource/v1`): `ResourceLogs { resource = 1, scope_logs = 2 }`,
//! `ScopeLogs { scope = 1, log_records = 2 }`, `LogRecord { time_unix_nano = 1 (fixed64),
//! severity_number = 2, severity_text = 3, body = 5, attributes = 6, flags = 8 (fixed32),
//! trace_id = 9, span_id = 10, observed_time_unix_nano = 11 (fixed64), event_name = 12 }`.

use super::traces::{any_value, id, push_attr, resource_attrs, time_ns};
use super::wire::{Reader, as_fixed32, as_len, as_str, as_varint};
use super::{Limits, OtlpError};
use strata_spans::{AttrValue, LogEvent};

/// Decodes an `ExportLogsServiceRequest` with the default [`Limits`].
pub fn decode_logs(bytes: &[u8]) -> Result<Vec<LogEvent>, OtlpError> {
    decode_logs_with(bytes, &Limits::default())
}

/// Decodes an `ExportLogsServiceRequest`. Each record carries its resource's attributes and
/// its scope's name and version. A record without `event_name` takes its `event.name`
/// attribute's (older SDKs put the name there). Empty trace and span ids mean "no trace
/// context" (all zeros); other lengths than 16 and 8 bytes are refused.
pub fn decode_logs_with(bytes: &[u8], limits: &Limits) -> Result<Vec<LogEvent>, OtlpError> {
    let mut out = Vec::new();
    let mut r = Reader::new(bytes, 0);
    while let Some((field, at, v)) = r.next()? {
        if field == 1 {
            resource_logs(as_len(v, at, "resource_logs")?, at, limits, &mut out)?;
        }
    }
    Ok(out)
}

fn resource_logs(
    b: &[u8],
    base: usize,
    limits: &Limits,
    out: &mut Vec<LogEvent>,
) -> Result<(), OtlpError> {
    // The resource may come after the scope logs on the wire: collect the scopes first.
    let mut resource = Vec::new();
    let mut scopes = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => resource = resource_attrs(as_len(v, at, "resource")?, at, limits)?,
            2 => scopes.push((as_len(v, at, "scope_logs")?, at)),
            _ => {}
        }
    }
    for (b, at) in scopes {
        scope_logs(b, at, &resource, limits, out)?;
    }
    Ok(())
}

fn scope_logs(
    b: &[u8],
    base: usize,
    resource: &[strata_spans::KeyValue],
    limits: &Limits,
    out: &mut Vec<LogEvent>,
) -> Result<(), OtlpError> {
    let mut scope = (String::new(), String::new());
    let mut records = Vec::new();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => scope = scope_of(as_len(v, at, "scope")?, at)?,
            2 => records.push((as_len(v, at, "log_record")?, at)),
            _ => {}
        }
    }
    for (b, at) in records {
        if out.len() >= limits.max_items {
            return Err(OtlpError::LimitExceeded {
                what: "log records",
                value: out.len() as u64 + 1,
                max: limits.max_items as u64,
            });
        }
        let mut e = log_record(b, at, limits)?;
        e.resource = resource.to_vec();
        e.scope.clone_from(&scope.0);
        e.scope_version.clone_from(&scope.1);
        out.push(e);
    }
    Ok(())
}

/// An `InstrumentationScope`'s name and version.
fn scope_of(b: &[u8], base: usize) -> Result<(String, String), OtlpError> {
    let (mut name, mut version) = (String::new(), String::new());
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => name = as_str(v, at, "scope.name")?.to_owned(),
            2 => version = as_str(v, at, "scope.version")?.to_owned(),
            _ => {}
        }
    }
    Ok((name, version))
}

fn log_record(b: &[u8], base: usize, limits: &Limits) -> Result<LogEvent, OtlpError> {
    let mut e = LogEvent::default();
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            1 => e.time_ns = time_ns(v, at, "log_record.time_unix_nano")?,
            11 => e.observed_ns = time_ns(v, at, "log_record.observed_time_unix_nano")?,
            2 => e.severity_number = as_varint(v, at, "log_record.severity_number")?.min(255) as u8,
            3 => e.severity_text = as_str(v, at, "log_record.severity_text")?.to_owned(),
            5 => e.body = Some(any_value(as_len(v, at, "log_record.body")?, at, limits, 0)?),
            6 => push_attr(
                &mut e.attributes,
                as_len(v, at, "log_record.attributes")?,
                at,
                limits,
            )?,
            8 => e.flags = as_fixed32(v, at, "log_record.flags")?,
            9 if !as_len(v, at, "log_record.trace_id")?.is_empty() => {
                e.trace_id = id::<16>(v, at, "log_record.trace_id")?;
            }
            10 if !as_len(v, at, "log_record.span_id")?.is_empty() => {
                e.span_id = id::<8>(v, at, "log_record.span_id")?;
            }
            12 => e.event_name = as_str(v, at, "log_record.event_name")?.to_owned(),
            _ => {}
        }
    }
    if e.event_name.is_empty()
        && let Some(AttrValue::Str(name)) = e.attribute("event.name")
    {
        e.event_name = name.clone();
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(out: &mut Vec<u8>, num: u32, wire: u8) {
        let mut key = u64::from(num) << 3 | u64::from(wire);
        while key >= 0x80 {
            out.push(key as u8 | 0x80);
            key >>= 7;
        }
        out.push(key as u8);
    }

    fn len(out: &mut Vec<u8>, num: u32, bytes: &[u8]) {
        field(out, num, 2);
        let mut n = bytes.len() as u64;
        while n >= 0x80 {
            out.push(n as u8 | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(bytes);
    }

    fn request(record: &[u8]) -> Vec<u8> {
        let mut scope_logs = Vec::new();
        len(&mut scope_logs, 2, record);
        let mut rl = Vec::new();
        len(&mut rl, 2, &scope_logs);
        let mut req = Vec::new();
        len(&mut req, 1, &rl);
        req
    }

    #[test]
    fn a_record_decodes_with_every_field() {
        let mut rec = Vec::new();
        field(&mut rec, 11, 1);
        rec.extend_from_slice(&7u64.to_le_bytes());
        field(&mut rec, 8, 5);
        rec.extend_from_slice(&3u32.to_le_bytes());
        len(&mut rec, 9, &[1; 16]);
        len(&mut rec, 10, &[2; 8]);
        len(&mut rec, 12, b"gen_ai.x");
        field(&mut rec, 2, 0);
        rec.push(9);
        len(&mut rec, 5, &[]);
        let got = decode_logs(&request(&rec)).unwrap();
        assert_eq!(got.len(), 1);
        let e = &got[0];
        assert_eq!((e.time_ns, e.observed_ns, e.timestamp_ns()), (0, 7, 7));
        assert_eq!((e.flags, e.severity_number), (3, 9));
        assert_eq!((e.trace_id, e.span_id), ([1; 16], [2; 8]));
        assert_eq!(e.event_name, "gen_ai.x");
        assert_eq!(e.body, Some(AttrValue::Str(String::new())));
    }

    #[test]
    fn bad_ids_and_deep_bodies_are_typed_errors() {
        let mut rec = Vec::new();
        len(&mut rec, 9, &[1; 15]);
        assert!(matches!(
            decode_logs(&request(&rec)),
            Err(OtlpError::InvalidField { .. })
        ));
        // A body of arrays nested 2,000 deep: refused at the depth limit, not recursed.
        let mut body = Vec::new();
        for _ in 0..2_000 {
            let mut arr = Vec::new();
            len(&mut arr, 1, &body);
            let mut any = Vec::new();
            len(&mut any, 5, &arr);
            body = any;
            if body.len() > 1 << 20 {
                break;
            }
        }
        let mut rec = Vec::new();
        len(&mut rec, 5, &body);
        assert!(matches!(
            decode_logs(&request(&rec)),
            Err(OtlpError::LimitExceeded { .. })
        ));
    }

    #[test]
    fn every_truncation_is_an_error_or_a_value() {
        let mut rec = Vec::new();
        len(&mut rec, 9, &[1; 16]);
        len(&mut rec, 12, b"name");
        let req = request(&rec);
        for n in 0..req.len() {
            let _ = decode_logs(&req[..n]);
        }
        assert_eq!(decode_logs(&req).unwrap().len(), 1);
    }
}
