//! Arbitrary samples (any i64 timestamps, any f64 bit patterns) must round-trip bit for bit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_codec::gorilla::{decode_into, encode_chunk};

fuzz_target!(|data: &[u8]| {
    let samples: Vec<(i64, u64)> = data
        .chunks_exact(16)
        .take(65535)
        .map(|c| {
            let t = i64::from_le_bytes(c[..8].try_into().unwrap());
            let v = u64::from_le_bytes(c[8..].try_into().unwrap());
            (t, v)
        })
        .collect();
    if samples.is_empty() {
        return;
    }
    let ts: Vec<i64> = samples.iter().map(|s| s.0).collect();
    let vs: Vec<f64> = samples.iter().map(|s| f64::from_bits(s.1)).collect();
    let bytes = encode_chunk(&ts, &vs).expect("any samples encode");
    let (mut t2, mut v2) = (Vec::new(), Vec::new());
    decode_into(&bytes, &mut t2, &mut v2).expect("own output decodes");
    assert_eq!(t2, ts);
    assert!(v2.iter().zip(&vs).all(|(a, b)| a.to_bits() == b.to_bits()));
});
