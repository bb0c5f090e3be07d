//! Property and corruption tests for Gorilla chunks.

use proptest::prelude::*;
use strata_codec::gorilla::{ChunkAppender, ChunkIter, ChunkLimits, decode_into, encode_chunk};

fn assert_round_trip(ts: &[i64], vs: &[f64]) -> Vec<u8> {
    let bytes = encode_chunk(ts, vs).expect("encodes");
    let (mut t2, mut v2) = (vec![7i64], vec![7.0f64]); // pre-filled: decode must append
    let n = decode_into(&bytes, &mut t2, &mut v2).expect("decodes");
    assert_eq!(n, ts.len());
    assert_eq!(&t2[1..], ts);
    let want: Vec<u64> = vs.iter().map(|v| v.to_bits()).collect();
    let got: Vec<u64> = v2[1..].iter().map(|v| v.to_bits()).collect();
    assert_eq!(got, want);
    let iter: Vec<(i64, u64)> = ChunkIter::new(&bytes)
        .unwrap()
        .map(|r| r.map(|(t, v)| (t, v.to_bits())).unwrap())
        .collect();
    assert_eq!(iter, ts.iter().copied().zip(want).collect::<Vec<_>>());
    bytes
}

/// Any f64 bit pattern, weighted towards the special ones.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => any::<u64>().prop_map(f64::from_bits),
        1 => prop::sample::select(vec![
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0002), // Prometheus staleness marker
            f64::from_bits(0x7ff8_dead_beef_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::MAX,
            f64::MIN,
        ]),
    ]
}

/// Timestamp series: regular with jitter, huge jumps, arbitrary, and backwards steps.
fn timestamps(len: usize) -> impl Strategy<Value = Vec<i64>> {
    prop_oneof![
        (
            any::<i64>(),
            1i64..120_000,
            prop::collection::vec(-50i64..50, len)
        )
            .prop_map(|(start, step, jitter)| {
                let mut t = start;
                jitter
                    .into_iter()
                    .map(|j| {
                        t = t.wrapping_add(step);
                        t.wrapping_add(j)
                    })
                    .collect()
            }),
        prop::collection::vec(any::<i64>(), len),
        (
            any::<i64>(),
            prop::collection::vec(
                prop_oneof![
                    Just(0i64),
                    Just(1),
                    Just(1 << 40),
                    Just(-(1 << 40)),
                    any::<i64>()
                ],
                len
            )
        )
            .prop_map(|(start, steps)| {
                let mut t = start;
                steps
                    .into_iter()
                    .map(|d| {
                        t = t.wrapping_add(d);
                        t
                    })
                    .collect()
            }),
    ]
}

/// Value series shaped like metrics: constant, counters with resets, gauges, random bits.
fn values(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        any_f64().prop_map(move |v| vec![v; len]),
        (
            0u64..1_000_000,
            prop::collection::vec(0u64..1000, len),
            prop::collection::vec(prop::bool::weighted(0.02), len)
        )
            .prop_map(|(start, incs, resets)| {
                let mut c = start as f64;
                incs.into_iter()
                    .zip(resets)
                    .map(|(i, r)| {
                        c = if r { 0.0 } else { c + i as f64 };
                        c
                    })
                    .collect()
            }),
        prop::collection::vec(-1000i32..1000, len)
            .prop_map(|v| v.into_iter().map(|x| x as f64 / 100.0).collect()),
        prop::collection::vec(any_f64(), len),
    ]
}

fn series() -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
    (1usize..400).prop_flat_map(|n| (timestamps(n), values(n)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn round_trips_bit_exact((ts, vs) in series()) {
        assert_round_trip(&ts, &vs);
    }

    #[test]
    fn appender_copy_matches_at_every_length((ts, vs) in series()) {
        let mut app = ChunkAppender::new(ChunkLimits { max_samples: 65535, max_bytes: 1 << 20 }).unwrap();
        for (i, (&t, &v)) in ts.iter().zip(&vs).enumerate() {
            app.append(t, v).unwrap();
            if i % 37 == 0 {
                let bytes = app.to_bytes().unwrap();
                prop_assert_eq!(bytes.len(), app.encoded_len());
                assert_round_trip(&ts[..=i], &vs[..=i]);
                prop_assert_eq!(bytes, encode_chunk(&ts[..=i], &vs[..=i]).unwrap());
            }
        }
    }

    #[test]
    fn limits_bound_the_encoding((ts, vs) in series(), max_samples in 1usize..200, max_bytes in 64usize..2000) {
        let mut app = ChunkAppender::new(ChunkLimits { max_samples, max_bytes }).unwrap();
        for (&t, &v) in ts.iter().zip(&vs) {
            if app.is_full() {
                prop_assert!(app.append(t, v).is_err());
                break;
            }
            app.append(t, v).unwrap();
        }
        let bytes = app.to_bytes().unwrap();
        prop_assert!(bytes.len() <= max_bytes);
        prop_assert!(app.len() <= max_samples);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let (mut t, mut v) = (Vec::new(), Vec::new());
        if let Ok(n) = decode_into(&bytes, &mut t, &mut v) {
            prop_assert_eq!(t.len(), n);
            // Allocation is earned: at most 8 samples per input byte.
            prop_assert!(n <= bytes.len() * 8);
        }
        for s in ChunkIter::new(&bytes).into_iter().flatten() {
            if s.is_err() { break; }
        }
    }
}

fn sample_chunks() -> Vec<Vec<u8>> {
    let ts: Vec<i64> = (0..120)
        .map(|i| 1_795_322_189_462 + i * 1000 + (i % 3))
        .collect();
    let counter: Vec<f64> = (0..120).map(|i| 61234.56 + i as f64 * 0.37).collect();
    let weird = [
        f64::NAN,
        -0.0,
        f64::INFINITY,
        1e-310,
        42.0,
        f64::from_bits(0x7ff0_0000_0000_0002),
    ];
    vec![
        encode_chunk(&ts, &counter).unwrap(),
        encode_chunk(&ts[..6], &weird).unwrap(),
        encode_chunk(&[i64::MIN, i64::MAX], &[1.0, 2.0]).unwrap(),
        encode_chunk(&[5], &[0.5]).unwrap(),
    ]
}

#[test]
fn flipping_any_bit_never_panics() {
    for chunk in sample_chunks() {
        for bit in 0..chunk.len() * 8 {
            let mut c = chunk.clone();
            c[bit / 8] ^= 1 << (bit % 8);
            let (mut t, mut v) = (Vec::new(), Vec::new());
            if let Ok(n) = decode_into(&c, &mut t, &mut v) {
                assert!(n <= c.len() * 8);
            }
            let _ = ChunkIter::new(&c).map(|it| it.take_while(Result::is_ok).count());
        }
    }
}

#[test]
fn every_truncation_is_an_error() {
    for chunk in sample_chunks() {
        for len in 0..chunk.len() {
            let (mut t, mut v) = (Vec::new(), Vec::new());
            assert!(
                decode_into(&chunk[..len], &mut t, &mut v).is_err(),
                "a chunk cut to {len} of {} bytes decoded",
                chunk.len()
            );
            assert!(t.is_empty() && v.is_empty(), "nothing appended on error");
            let errs = ChunkIter::new(&chunk[..len]).map(|it| it.filter(Result::is_err).count());
            assert!(errs.is_err() || errs == Ok(1));
        }
    }
}
