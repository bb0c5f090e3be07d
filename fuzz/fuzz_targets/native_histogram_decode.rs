//! Untrusted bytes into the native histogram chunk decoder: an error or valid histograms, never
//! a panic; what decoded re-encodes into a chunk that decodes to the same samples, bit for bit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_codec::native;

/// Every field of a sample as bits, so NaN payloads and -0.0 compare exactly.
fn bits(t: i64, h: &strata_model::NativeHistogram) -> Vec<u64> {
    let mut v = vec![
        t as u64,
        u64::from(h.counter_reset_hint.as_u8()),
        h.schema as u64,
        h.zero_threshold.to_bits(),
        h.zero_count.to_bits(),
        h.count.to_bits(),
        h.sum.to_bits(),
    ];
    for s in h.positive_spans.iter().chain(&h.negative_spans) {
        v.extend([s.offset as u64, u64::from(s.length)]);
    }
    v.push(h.positive_spans.len() as u64);
    let floats = h
        .positive_buckets
        .iter()
        .chain(&h.negative_buckets)
        .chain(&h.custom_values);
    v.extend(floats.map(|f| f.to_bits()));
    v
}

fuzz_target!(|data: &[u8]| {
    let Ok(samples) = native::decode(data) else {
        return;
    };
    assert!(samples.len() <= data.len() * 8);
    let header = native::read_header(data).expect("a chunk that decodes has a header");
    assert_eq!(header.count, samples.len());
    let mut ts = Vec::with_capacity(samples.len());
    let mut hs = Vec::with_capacity(samples.len());
    for (t, h) in samples.iter() {
        assert_eq!(h.validate(), Ok(()), "decoded an invalid histogram");
        ts.push(t);
        hs.push(h);
    }
    let again = native::encode_chunk(&ts, &hs).expect("decoded samples re-encode");
    let again = native::decode(&again).expect("own output decodes");
    let first: Vec<Vec<u64>> = samples.iter().map(|(t, h)| bits(t, &h)).collect();
    let second: Vec<Vec<u64>> = again.iter().map(|(t, h)| bits(t, &h)).collect();
    assert_eq!(first, second);
});
