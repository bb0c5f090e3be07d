//! Untrusted bytes into the OTLP `ExportTraceServiceRequest` decoder: an error or spans, never a
//! panic. Decoded spans survive the span WAL payload codec unchanged, their ids print and parse
//! back, and the GenAI columns derive from them without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_engine::otlp::decode_traces;
use strata_engine::spans::{
    PriceTable, decode_payload, encode_payload, extract_genai, hex, parse_trace_id,
};

fuzz_target!(|data: &[u8]| {
    let Ok(spans) = decode_traces(data) else {
        return;
    };
    let prices = PriceTable::default();
    for s in &spans {
        assert!(s.duration_ns() >= 0);
        assert_eq!(parse_trace_id(&hex(&s.trace_id)), Some(s.trace_id));
        let g = extract_genai(s, &prices);
        assert!(g.cost_usd.is_none(), "no prices, no cost");
    }
    // Compared as bytes: attribute doubles may be NaN.
    let payload = encode_payload(&spans);
    let back = decode_payload(&payload).expect("own WAL payload decodes");
    assert_eq!(back.len(), spans.len());
    assert_eq!(encode_payload(&back), payload);
});
