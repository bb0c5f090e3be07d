//! Golden files: encoded chunks committed under `tests/golden/`. A change to the encoder that
//! alters any byte fails here; so does a decoder that no longer reads the committed bytes.
//! Regenerate deliberately (a format change needs a new version byte) with `STRATA_BLESS=1`.

use std::path::PathBuf;
use strata_codec::gorilla;
use strata_codec::native;
use strata_model::{BucketSpan, CounterResetHint, NativeHistogram};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `bytes` with the committed file (or writes it under `STRATA_BLESS=1`).
pub fn check_golden(name: &str, bytes: &[u8]) {
    let path = golden(name);
    if std::env::var_os("STRATA_BLESS").is_some() {
        std::fs::write(&path, bytes).unwrap();
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        bytes,
        want.as_slice(),
        "{name} differs from the committed golden file"
    );
}

fn gorilla_cases() -> Vec<(&'static str, Vec<i64>, Vec<f64>)> {
    let ts: Vec<i64> = (0..120)
        .map(|i| 1_795_322_189_462 + i * 1000 + (i % 4) * 3)
        .collect();
    vec![
        (
            "gorilla_v1_counter.bin",
            ts.clone(),
            (0..120).map(|i| 61234.56 + (i * i) as f64 * 0.01).collect(),
        ),
        ("gorilla_v1_constant.bin", ts.clone(), vec![1.0; 120]),
        (
            "gorilla_v1_special.bin",
            vec![-5, 0, 15_000, 15_001, i64::MAX, i64::MIN],
            vec![
                f64::from_bits(0x7ff0_0000_0000_0002),
                -0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::from_bits(1),
                f64::NAN,
            ],
        ),
    ]
}

#[test]
fn gorilla_v1_golden() {
    for (name, ts, vs) in gorilla_cases() {
        let bytes = gorilla::encode_chunk(&ts, &vs).unwrap();
        check_golden(name, &bytes);
        let (mut t, mut v) = (Vec::new(), Vec::new());
        gorilla::decode_into(&bytes, &mut t, &mut v).unwrap();
        assert_eq!(t, ts);
        assert!(v.iter().zip(&vs).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn column_v1_golden() {
    use strata_codec::column::{self, ColumnOptions};
    let opts = ColumnOptions::default();
    let timestamps: Vec<i64> = (0..300)
        .map(|i| 1_795_322_189_462 + i * 1000 + (i % 5))
        .collect();
    let gauge: Vec<f64> = (0..200).map(|i| ((i * 37) % 1000) as f64 / 100.0).collect();
    let mut mixed = gauge.clone();
    mixed[7] = f64::NAN;
    mixed[8] = -0.0;
    let models: Vec<String> = (0..150)
        .map(|i| ["gpt-4o", "claude-sonnet-4", "llama-3.1-70b"][i % 3].to_owned())
        .collect();

    let bytes = column::encode_i64(&timestamps, &opts).unwrap();
    check_golden("column_v1_i64_timestamps.bin", &bytes);
    let mut ints = Vec::new();
    column::decode_i64(&bytes, &mut ints).unwrap();
    assert_eq!(ints, timestamps);

    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (name, values) in [
        ("column_v1_f64_decimal.bin", &gauge),
        ("column_v1_f64_exceptions.bin", &mixed),
    ] {
        let bytes = column::encode_f64(values, &opts).unwrap();
        check_golden(name, &bytes);
        let mut floats = Vec::new();
        column::decode_f64(&bytes, &mut floats).unwrap();
        assert_eq!(bits(&floats), bits(values), "{name}");
    }

    let bytes = column::encode_str(&models, &opts).unwrap();
    check_golden("column_v1_str_dictionary.bin", &bytes);
    let mut strings = Vec::new();
    column::decode_str(&bytes, &mut strings).unwrap();
    assert_eq!(strings, models);
}

/// The samples of the native histogram goldens (walked through in `docs/format/chunks.md`,
/// section "Native histogram chunks", Example): schema 3, a zero bucket, positive buckets −1,
/// 0 and 2, negative bucket 0; a counter reset, growth, nothing new, and a staleness marker.
fn native_samples(float: bool) -> (Vec<i64>, Vec<NativeHistogram>) {
    let span = |offset, length| BucketSpan { offset, length };
    let h = |hint, zero: f64, pos: [f64; 3], neg: f64, sum: f64| NativeHistogram {
        counter_reset_hint: hint,
        schema: 3,
        zero_threshold: 0.001,
        zero_count: zero,
        count: zero + pos.iter().sum::<f64>() + neg,
        sum,
        positive_spans: vec![span(-1, 2), span(1, 1)],
        positive_buckets: pos.to_vec(),
        negative_spans: vec![span(0, 1)],
        negative_buckets: vec![neg],
        custom_values: Vec::new(),
    };
    use CounterResetHint::{CounterReset, NotCounterReset, Unknown};
    let x = if float { 0.5 } else { 0.0 };
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let ts = vec![1_000, 16_000, 31_000, 46_003];
    let hs = vec![
        h(CounterReset, 1.0, [2.0, 3.0 + x, 0.0], 1.0, 4.5),
        h(NotCounterReset, 1.0, [3.0, 3.0 + x, 1.0], 1.0, 6.25),
        h(Unknown, 1.0, [3.0, 3.0 + x, 1.0], 1.0, 6.25),
        h(Unknown, 1.0, [3.0, 3.0 + x, 1.0], 1.0, stale),
    ];
    (ts, hs)
}

#[test]
fn native_v1_golden() {
    for (name, float, id) in [
        (
            "native_histogram_int_v1.bin",
            false,
            native::ENCODING_NATIVE_INT_V1,
        ),
        (
            "native_histogram_float_v1.bin",
            true,
            native::ENCODING_NATIVE_FLOAT_V1,
        ),
    ] {
        let (ts, hs) = native_samples(float);
        let bytes = native::encode_chunk(&ts, &hs).unwrap();
        assert_eq!(bytes[0], id);
        check_golden(name, &bytes);
        let got = native::decode(&bytes).unwrap().to_vec();
        assert_eq!(got.len(), hs.len());
        for ((t, g), (want_t, w)) in got.iter().zip(ts.iter().zip(&hs)) {
            assert_eq!(t, want_t);
            assert_eq!(g.sum.to_bits(), w.sum.to_bits());
            // Everything else compares numerically once the (NaN) sums are out of the way.
            let (mut g, mut w) = (g.clone(), w.clone());
            (g.sum, w.sum) = (0.0, 0.0);
            assert_eq!(g, w);
        }
    }
}
