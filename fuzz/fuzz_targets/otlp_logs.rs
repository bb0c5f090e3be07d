//! Untrusted bytes into the OTLP `ExportLogsServiceRequest` decoder: an error or events, never
//! a panic. Decoded events survive the EVENTS WAL payload codec unchanged, and the payload
//! codec itself refuses (never panics on) the bytes as a payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_engine::otlp::decode_logs;
use strata_engine::spans::{decode_events_payload, encode_events_payload};

fuzz_target!(|data: &[u8]| {
    let _ = decode_events_payload(data);
    let Ok(events) = decode_logs(data) else {
        return;
    };
    // Compared as bytes: attribute doubles may be NaN.
    let payload = encode_events_payload(&events);
    let back = decode_events_payload(&payload).expect("own WAL payload decodes");
    assert_eq!(back.len(), events.len());
    assert_eq!(encode_events_payload(&back), payload);
});
