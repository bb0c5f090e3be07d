use super::*;
use crate::error::Error;
use strata_model::native::CUSTOM_BUCKETS_SCHEMA;
use strata_model::{BucketSpan, CounterResetHint};

fn span(offset: i32, length: u32) -> BucketSpan {
    BucketSpan { offset, length }
}

/// Schema 3, zero bucket, two positive spans and one negative span.
fn exp(counts: [f64; 5], zero: f64, sum: f64) -> NativeHistogram {
    NativeHistogram {
        schema: 3,
        zero_threshold: 1e-9,
        zero_count: zero,
        count: zero + counts.iter().sum::<f64>(),
        sum,
        positive_spans: vec![span(-2, 2), span(3, 1)],
        positive_buckets: counts[..3].to_vec(),
        negative_spans: vec![span(0, 2)],
        negative_buckets: counts[3..].to_vec(),
        ..NativeHistogram::default()
    }
}

fn bits(h: &NativeHistogram) -> Vec<u64> {
    let mut v = vec![
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
    let floats = h
        .positive_buckets
        .iter()
        .chain(&h.negative_buckets)
        .chain(&h.custom_values);
    v.extend(floats.map(|f| f.to_bits()));
    v
}

fn round_trip(ts: &[i64], hs: &[NativeHistogram]) -> Vec<u8> {
    let bytes = encode_chunk(ts, hs).unwrap();
    let got = decode(&bytes).unwrap();
    assert_eq!(got.len(), ts.len());
    assert_eq!(got.timestamps(), ts);
    for (i, (t, h)) in got.iter().enumerate() {
        assert_eq!(t, ts[i]);
        assert_eq!(bits(&h), bits(&hs[i]), "sample {i}");
    }
    let head = read_header(&bytes).unwrap();
    assert_eq!(head.count, ts.len());
    assert_eq!(head.first_timestamp, ts[0]);
    assert_eq!(head.last_timestamp, *ts.last().unwrap());
    bytes
}

#[test]
fn cost_predictions_match_what_is_written() {
    // The appender's byte budget relies on these being exact.
    let mut x = crate::gorilla::XorState::new();
    let mut d = crate::gorilla::DodEncoder::new(5);
    let mut w = crate::bits::BitWriter::new();
    let mut seed = 7u64;
    for i in 0..5000u64 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = match i % 4 {
            0 => seed,
            1 => x.prev() ^ (seed >> (seed % 64)),
            2 => x.prev(),
            _ => (i as f64 * 0.25).to_bits(),
        };
        assert_eq!(x.encoded_bits(v), x.encode(&mut w, v));
        let t = d
            .prev
            .wrapping_add(((seed >> (i % 64)) as i64).wrapping_mul((i % 3) as i64));
        assert_eq!(d.encoded_bits(t), d.encode(&mut w, t));
    }
}

#[test]
fn integer_and_float_chunks_round_trip() {
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let ints = vec![
        exp([1.0, 2.0, 0.0, 4.0, 0.0], 3.0, 17.5),
        exp([1.0, 2.0, 0.0, 4.0, 0.0], 3.0, 17.5),
        exp([5.0, 2.0, 9.0, 4.0, 1.0], 3.0, -0.0),
        exp([0.0, 0.0, 0.0, 0.0, 0.0], 0.0, stale),
    ];
    let ts = [-5, 14_995, 29_995, 44_998];
    let bytes = round_trip(&ts, &ints);
    assert_eq!(bytes[0], ENCODING_NATIVE_INT_V1);

    let mut floats = ints.clone();
    floats[1].positive_buckets[1] = 2.5;
    floats[2].negative_buckets[1] = -0.0;
    floats[3].count = f64::NAN;
    floats[3].zero_count = f64::INFINITY;
    let bytes = round_trip(&ts, &floats);
    assert_eq!(bytes[0], ENCODING_NATIVE_FLOAT_V1);
}

#[test]
fn negative_zero_counts_go_to_a_float_chunk() {
    let mut h = exp([1.0, 0.0, 0.0, 0.0, 0.0], 0.0, 1.0);
    assert!(fits_integer(&h));
    h.positive_buckets[1] = -0.0;
    assert!(h.is_integer() && !fits_integer(&h));
    assert_eq!(NativeKind::of(&h), NativeKind::Float);
    assert_eq!(round_trip(&[0], &[h])[0], ENCODING_NATIVE_FLOAT_V1);
}

#[test]
fn empty_and_custom_histograms_round_trip() {
    let empty = NativeHistogram::default();
    round_trip(&[1, 2, 3], &[empty.clone(), empty.clone(), empty]);
    let custom = NativeHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 6.0,
        sum: 12.0,
        positive_spans: vec![span(0, 2), span(1, 1)],
        positive_buckets: vec![1.0, 2.0, 3.0],
        custom_values: vec![0.5, 1.0, 2.5],
        ..NativeHistogram::default()
    };
    let mut later = custom.clone();
    later.positive_buckets[2] = 7.0;
    later.count = 10.0;
    round_trip(&[0, 60_000], &[custom, later]);
}

#[test]
fn hints_follow_the_chunk_header() {
    use CounterResetHint::*;
    let with = |hint| NativeHistogram {
        counter_reset_hint: hint,
        ..exp([1.0; 5], 0.0, 1.0)
    };
    // A counter chunk: a reset first, then unknown and not-a-reset samples.
    let hs = [with(CounterReset), with(Unknown), with(NotCounterReset)];
    let bytes = round_trip(&[0, 1, 2], &hs);
    assert_eq!(
        read_header(&bytes).unwrap().counter_reset_hint,
        CounterReset
    );
    let gauges = [with(Gauge), with(Gauge)];
    let bytes = round_trip(&[0, 1], &gauges);
    assert_eq!(bytes[3], Gauge.as_u8());

    let mut a = NativeAppender::new(NativeLimits::default()).unwrap();
    a.append(0, &with(Unknown)).unwrap();
    for bad in [CounterReset, Gauge] {
        assert!(!a.accepts(&with(bad)));
        assert!(matches!(
            a.append(1, &with(bad)),
            Err(Error::InvalidInput {
                what: HINT_MISMATCH,
                ..
            })
        ));
    }
    let mut g = NativeAppender::new(NativeLimits::default()).unwrap();
    g.append(0, &with(Gauge)).unwrap();
    assert!(!g.accepts(&with(Unknown)));
    assert_eq!(a.len() + g.len(), 2);
}

#[test]
fn mismatches_are_typed_and_leave_the_chunk_unchanged() {
    let mut a = NativeAppender::new(NativeLimits::default()).unwrap();
    assert!(a.is_empty() && a.kind().is_none() && a.layout().is_none());
    let first = exp([1.0, 2.0, 3.0, 4.0, 5.0], 1.0, 2.0);
    a.append(10, &first).unwrap();
    assert_eq!(a.kind(), Some(NativeKind::Integer));
    let before = a.to_bytes().unwrap();
    let mut other_layouts = Vec::new();
    for change in 0..5 {
        let mut h = first.clone();
        match change {
            0 => h.schema = 2,
            1 => h.zero_threshold = 1e-8,
            2 => h.positive_spans = vec![span(-2, 1), span(4, 1), span(0, 1)],
            3 => h.negative_spans = vec![span(1, 2)],
            // The same buckets, spelled with two spans: still a different layout.
            _ => h.negative_spans = vec![span(0, 1), span(0, 1)],
        }
        other_layouts.push(h);
    }
    for h in &other_layouts {
        assert!(!a.accepts(h));
        assert!(matches!(
            a.append(20, h),
            Err(Error::InvalidInput {
                what: LAYOUT_MISMATCH,
                ..
            })
        ));
    }
    let mut float = first.clone();
    float.sum = 3.0;
    float.positive_buckets[0] = 0.5;
    assert!(!a.accepts(&float));
    assert!(matches!(
        a.append(20, &float),
        Err(Error::InvalidInput {
            what: KIND_MISMATCH,
            ..
        })
    ));
    let mut invalid = first.clone();
    invalid.positive_buckets.pop();
    assert!(matches!(
        a.append(20, &invalid),
        Err(Error::InvalidInput {
            what: "native histogram",
            ..
        })
    ));
    assert_eq!(a.to_bytes().unwrap(), before);
    assert_eq!(a.last_timestamp(), Some(10));

    let mut f = NativeAppender::with_kind(NativeKind::Float, NativeLimits::default()).unwrap();
    f.append(0, &first).unwrap();
    f.append(1, &float).unwrap();
    assert_eq!(f.to_bytes().unwrap()[0], ENCODING_NATIVE_FLOAT_V1);
    let i = NativeAppender::with_kind(NativeKind::Integer, NativeLimits::default()).unwrap();
    assert!(!i.accepts(&float) && i.accepts(&first));
}

#[test]
fn limits_are_kept() {
    let limits = NativeLimits {
        max_samples: 3,
        max_bytes: 4096,
    };
    let mut a = NativeAppender::new(limits).unwrap();
    for t in 0..3 {
        a.append(t, &exp([t as f64; 5], 0.0, 1.0)).unwrap();
    }
    assert!(a.is_full());
    assert!(matches!(
        a.append(3, &exp([3.0; 5], 0.0, 1.0)),
        Err(Error::LimitExceeded { .. })
    ));
    for bad in [(0, 4096), (65536, 4096), (10, 63)] {
        let l = NativeLimits {
            max_samples: bad.0,
            max_bytes: bad.1,
        };
        assert!(NativeAppender::new(l).is_err());
    }

    // The byte budget is exact: a chunk never exceeds it, and a refused sample would have.
    let mut a = NativeAppender::new(NativeLimits {
        max_samples: 65535,
        max_bytes: 200,
    })
    .unwrap();
    let mut t = 0;
    let mut h = exp([0.0; 5], 0.0, 0.0);
    loop {
        t += 15_000 + (t % 7);
        h.positive_buckets[0] += 3.0;
        h.negative_buckets[1] += 1.0;
        h.count += 4.0;
        h.sum += 0.1;
        let before = a.encoded_len();
        match a.append(t, &h) {
            Ok(()) => assert!(a.encoded_len() <= 200),
            Err(Error::LimitExceeded { value, .. }) => {
                assert!(value > 200 && a.encoded_len() == before);
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(a.encoded_len() > 180, "{}", a.encoded_len());
    decode(&a.to_bytes().unwrap()).unwrap();
}

#[test]
fn header_problems_are_typed() {
    let bytes = round_trip(&[0, 5], &[exp([1.0; 5], 0.0, 1.0), exp([2.0; 5], 0.0, 1.0)]);
    let mut c = bytes.clone();
    c[0] = 0x05;
    assert!(matches!(
        decode(&c),
        Err(Error::UnsupportedVersion { version: 5, .. })
    ));
    let mut c = bytes.clone();
    c[3] |= 0x04;
    assert!(matches!(
        read_header(&c),
        Err(Error::Corrupt { offset: 3, .. })
    ));
    let mut c = bytes.clone();
    c[1] = 0;
    assert!(decode(&c).is_err());
    let mut c = bytes.clone();
    c[1] = 0xff;
    assert!(matches!(read_header(&c), Err(Error::Corrupt { .. })));
    // The last timestamp (the byte before the stream) must be the last sample's.
    let head = read_header(&bytes).unwrap();
    let mut c = bytes.clone();
    c[head.stream_offset - 1] = 12; // zvarint 6, not 5
    assert!(matches!(decode(&c), Err(Error::Corrupt { offset: 1, .. })));
    assert!(encode_chunk(&[], &[]).is_err());
    assert!(encode_chunk(&[1], &[]).is_err());
}
