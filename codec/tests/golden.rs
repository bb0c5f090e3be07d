//! Golden files: encoded chunks committed under `tests/golden/`. A change to the encoder that
//! alters any byte fails here; so does a decoder that no longer reads the committed bytes.
//! Regenerate deliberately (a format change needs a new version byte) with `STRATA_BLESS=1`.

use std::path::PathBuf;
use strata_codec::gorilla;

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
