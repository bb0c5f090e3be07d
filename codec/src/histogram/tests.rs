use super::*;

fn h(bounds: &[f64], counts: &[u64], sum: f64) -> Histogram {
    Histogram {
        bounds: bounds.to_vec(),
        counts: counts.to_vec(),
        count: counts.iter().sum(),
        sum,
        min: None,
        max: None,
    }
}

/// Bit patterns of every field, so NaN payloads and -0.0 compare exactly.
#[derive(Debug, PartialEq, Eq)]
struct SampleBits {
    t: i64,
    bounds: Vec<u64>,
    counts: Vec<u64>,
    count: u64,
    sum: u64,
    min: Option<u64>,
    max: Option<u64>,
}

fn bits_of(t: i64, s: &HistogramSample<'_>) -> SampleBits {
    SampleBits {
        t,
        bounds: s.bounds.iter().map(|b| b.to_bits()).collect(),
        counts: s.counts.to_vec(),
        count: s.count,
        sum: s.sum.to_bits(),
        min: s.min.map(f64::to_bits),
        max: s.max.map(f64::to_bits),
    }
}

fn round_trip(ts: &[i64], hs: &[Histogram]) -> Vec<u8> {
    let samples: Vec<_> = hs.iter().map(Histogram::as_sample).collect();
    let bytes = encode_chunk(ts, &samples).unwrap();
    let cols = decode(&bytes).unwrap();
    assert_eq!(cols.len(), ts.len());
    let got: Vec<_> = cols.iter().map(|(t, s)| bits_of(t, &s)).collect();
    let want: Vec<_> = ts
        .iter()
        .zip(&samples)
        .map(|(&t, s)| bits_of(t, s))
        .collect();
    assert_eq!(got, want);
    bytes
}

#[test]
fn unchanged_samples_cost_six_bits() {
    let bounds = [1.0, 2.0, 4.0];
    let x = h(&bounds, &[1, 2, 3, 4], 17.0);
    let ts: Vec<i64> = (0..101).map(|i| 1_000 + i * 10_000).collect();
    let one = round_trip(&ts[..1], std::slice::from_ref(&x)).len();
    let hs = vec![x; ts.len()];
    let many = round_trip(&ts, &hs);
    // The second sample pays a 20-bit delta; every later one 1 (ts) + 1 (flag) + 1 (count) +
    // 1 (sum) + 2 (presence) = 6 bits.
    let extra_bits = (20 + 5) + 99 * 6;
    assert!(
        many.len() <= one + (extra_bits as usize).div_ceil(8) + 1,
        "{}",
        many.len()
    );
}

#[test]
fn special_floats_keep_their_bits() {
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let specials = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        stale,
        f64::from_bits(1),
        f64::MAX,
        f64::MIN,
    ];
    let bounds = [f64::NEG_INFINITY, -0.0, f64::from_bits(1), f64::MAX];
    let hs: Vec<Histogram> = specials
        .iter()
        .enumerate()
        .map(|(i, &v)| Histogram {
            bounds: bounds.to_vec(),
            counts: vec![i as u64, 0, u64::MAX, 1, 2],
            count: i as u64 * 7,
            sum: v,
            min: (i % 2 == 0).then_some(specials[(i + 3) % specials.len()]),
            max: (i % 3 != 0).then_some(v),
        })
        .collect();
    let ts: Vec<i64> = (0..hs.len() as i64).map(|i| i * i * 1000 - 5).collect();
    round_trip(&ts, &hs);
}

#[test]
fn extreme_counts_and_timestamps_wrap_exactly() {
    let hs = vec![
        Histogram {
            counts: vec![u64::MAX],
            count: 0,
            ..Histogram::default()
        },
        Histogram {
            counts: vec![0],
            count: u64::MAX,
            ..Histogram::default()
        },
        Histogram {
            counts: vec![u64::MAX / 2 + 3],
            count: 12,
            ..Histogram::default()
        },
    ];
    round_trip(&[i64::MIN, i64::MAX, 0], &hs);
}

#[test]
fn appender_reports_state_and_limits() {
    let bounds = [1.0, 10.0];
    let mut a = HistogramAppender::new(HistogramLimits {
        max_samples: 3,
        max_bytes: 4096,
    })
    .unwrap();
    assert!(a.is_empty() && a.bounds().is_none() && a.encoded_len() == 0);
    assert!(a.accepts_bounds(&[5.0]));
    for i in 0..3 {
        a.append(10 - i, &h(&bounds, &[1, 2, i as u64], 1.0).as_sample())
            .unwrap();
    }
    assert_eq!(a.len(), 3);
    assert_eq!(a.bounds(), Some(&bounds[..]));
    assert_eq!(a.first_timestamp(), Some(10));
    assert_eq!(a.max_timestamp(), Some(10));
    assert!(a.is_full());
    let before = a.to_bytes().unwrap();
    assert!(matches!(
        a.append(20, &h(&bounds, &[1, 2, 3], 1.0).as_sample()),
        Err(Error::LimitExceeded { .. })
    ));
    assert_eq!(a.to_bytes().unwrap(), before);
    assert_eq!(a.encoded_len(), before.len());
}

#[test]
fn appender_stops_at_max_bytes() {
    let bounds: Vec<f64> = (0..40).map(|i| i as f64).collect();
    let mut a = HistogramAppender::new(HistogramLimits {
        max_samples: 65535,
        max_bytes: 600,
    })
    .unwrap();
    let mut x = 7u64;
    let mut counts = vec![0u64; 41];
    let mut refused = 0;
    for t in 0..10_000 {
        if a.is_full() {
            break;
        }
        for c in counts.iter_mut() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *c = c.wrapping_add(x >> 50);
        }
        let s = HistogramSample {
            bounds: &bounds,
            counts: &counts,
            count: x,
            sum: f64::from_bits(x.rotate_left(9)),
            min: Some(f64::from_bits(x.rotate_left(3))),
            max: Some(f64::from_bits(x)),
        };
        let len = a.len();
        match a.append(t, &s) {
            Ok(()) => {}
            Err(Error::LimitExceeded { .. }) => {
                refused += 1;
                assert_eq!(a.len(), len);
                break;
            }
            Err(e) => panic!("{e}"),
        }
        assert!(a.encoded_len() <= 600, "{}", a.encoded_len());
    }
    assert!(refused == 1 || a.is_full());
    let bytes = a.to_bytes().unwrap();
    assert_eq!(bytes.len(), a.encoded_len());
    assert!(bytes.len() <= 600);
    assert_eq!(decode(&bytes).unwrap().len(), a.len());
}

#[test]
fn first_sample_is_accepted_even_if_larger_than_max_bytes() {
    let bounds: Vec<f64> = (0..MAX_BOUNDS).map(|i| i as f64).collect();
    let counts: Vec<u64> = (0..MAX_BUCKETS as u64).map(|i| i << 40).collect();
    let x = Histogram {
        bounds,
        count: 1,
        counts,
        ..Histogram::default()
    };
    let mut a = HistogramAppender::new(HistogramLimits {
        max_samples: 120,
        max_bytes: 64,
    })
    .unwrap();
    a.append(0, &x.as_sample()).unwrap();
    assert!(a.is_full());
    assert!(matches!(
        a.append(1, &x.as_sample()),
        Err(Error::LimitExceeded { .. })
    ));
    assert_eq!(decode(&a.to_bytes().unwrap()).unwrap().len(), 1);
}

#[test]
fn typed_errors_on_bad_samples() {
    let mut a = HistogramAppender::new(HistogramLimits::default()).unwrap();
    let unsorted = h(&[1.0, 3.0, 2.0], &[0; 4], 0.0);
    let nan = h(&[1.0, f64::NAN], &[0; 3], 0.0);
    let inf = h(&[1.0, f64::INFINITY], &[0; 3], 0.0);
    let dup_zero = h(&[-0.0, 0.0], &[0; 3], 0.0);
    for bad in [&unsorted, &nan, &inf, &dup_zero] {
        let e = a.append(0, &bad.as_sample()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    what: "histogram bounds",
                    ..
                }
            ),
            "{e:?}"
        );
    }
    let short = h(&[1.0, 2.0], &[0; 2], 0.0);
    assert!(matches!(
        a.append(0, &short.as_sample()),
        Err(Error::InvalidInput {
            what: "histogram counts",
            ..
        })
    ));
    let wide = h(
        &(0..=MAX_BOUNDS).map(|i| i as f64).collect::<Vec<_>>(),
        &[0; MAX_BUCKETS + 1],
        0.0,
    );
    assert!(matches!(
        a.append(0, &wide.as_sample()),
        Err(Error::LimitExceeded {
            what: "histogram bounds",
            value: 257,
            max: 256
        })
    ));
    assert!(a.is_empty());

    a.append(0, &h(&[1.0, 2.0], &[1, 2, 3], 0.0).as_sample())
        .unwrap();
    for other in [&[1.0, 2.5][..], &[1.0], &[1.0, 2.0, 3.0]] {
        let counts = vec![0; other.len() + 1];
        assert!(!a.accepts_bounds(other));
        assert!(matches!(
            a.append(1, &h(other, &counts, 0.0).as_sample()),
            Err(Error::InvalidInput {
                what: BOUNDS_MISMATCH,
                ..
            })
        ));
    }
    // Same bounds, wrong counts length.
    assert!(matches!(
        a.append(1, &h(&[1.0, 2.0], &[1, 2], 0.0).as_sample()),
        Err(Error::InvalidInput {
            what: "histogram counts",
            ..
        })
    ));
    assert_eq!(a.len(), 1);
}

#[test]
fn bad_limits_and_empty_chunks_are_errors() {
    for (max_samples, max_bytes) in [(0, 100), (70_000, 100), (10, 63)] {
        assert!(
            HistogramAppender::new(HistogramLimits {
                max_samples,
                max_bytes
            })
            .is_err()
        );
    }
    let a = HistogramAppender::new(HistogramLimits::default()).unwrap();
    assert!(a.to_bytes().is_err());
    let x = h(&[], &[1], 0.0);
    assert!(encode_chunk(&[1, 2], &[x.as_sample()]).is_err());
    assert!(encode_chunk(&[], &[]).is_err());
}

#[test]
fn header_errors() {
    assert!(matches!(read_header(&[]), Err(Error::Truncated { .. })));
    assert!(matches!(
        read_header(&[1, 1, 0, 0, 0, 0]),
        Err(Error::UnsupportedVersion { version: 1, .. })
    ));
    // Zero samples.
    assert!(matches!(
        read_header(&[2, 0, 0, 0, 0, 0]),
        Err(Error::Corrupt { .. })
    ));
    // 257 bounds.
    assert!(matches!(
        read_header(&[2, 1, 0, 0x81, 0x02, 0]),
        Err(Error::Corrupt { .. })
    ));
    // 2 bounds promised, 1 present.
    let mut c = vec![2, 1, 0, 2];
    c.extend_from_slice(&1.0f64.to_bits().to_le_bytes());
    assert!(matches!(read_header(&c), Err(Error::Truncated { .. })));
    // Descending and NaN bounds.
    for pair in [[2.0, 1.0], [1.0, f64::NAN], [1.0, f64::INFINITY]] {
        let mut c = vec![2, 1, 0, 2];
        for b in pair {
            c.extend_from_slice(&b.to_bits().to_le_bytes());
        }
        c.extend_from_slice(&[0, 0]);
        assert!(matches!(
            read_header(&c),
            Err(Error::Corrupt { offset: 4, .. })
        ));
    }
    // 1000 samples claimed in a 1-byte stream.
    assert!(matches!(
        read_header(&[2, 0xe8, 0x03, 0, 0, 0]),
        Err(Error::Corrupt { .. })
    ));
    // The smallest valid chunk: no bounds, one all-zero sample.
    let bytes = encode_chunk(&[0], &[h(&[], &[0], 0.0).as_sample()]).unwrap();
    assert_eq!(bytes, [2, 1, 0, 0, 0, 0]);
}

#[test]
fn trailing_and_missing_bytes_are_rejected_and_leave_output_alone() {
    let x = h(&[1.0], &[3, 4], 2.5);
    let y = h(&[1.0], &[5, 4], 3.5);
    let bytes = encode_chunk(&[1, 2], &[x.as_sample(), y.as_sample()]).unwrap();
    let mut cols = decode(&bytes).unwrap();
    let before = cols.clone();
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        decode_into(&long, &mut cols),
        Err(Error::Corrupt { .. })
    ));
    assert_eq!(cols, before);
    assert!(decode_into(&bytes[..bytes.len() - 1], &mut cols).is_err());
    assert_eq!(cols, before);
    let mut empty = HistogramColumns::new();
    assert!(decode_into(&long, &mut empty).is_err());
    assert!(empty.is_empty() && empty.bounds().is_empty());
}

#[test]
fn decode_into_appends_chunks_with_the_same_bounds() {
    let a = encode_chunk(&[1], &[h(&[1.0, 2.0], &[1, 2, 3], 1.0).as_sample()]).unwrap();
    let b = encode_chunk(&[2], &[h(&[1.0, 2.0], &[4, 5, 6], 2.0).as_sample()]).unwrap();
    let c = encode_chunk(&[3], &[h(&[1.0], &[4, 5], 2.0).as_sample()]).unwrap();
    let mut cols = HistogramColumns::new();
    assert_eq!(decode_into(&a, &mut cols).unwrap(), 1);
    assert_eq!(decode_into(&b, &mut cols).unwrap(), 1);
    assert!(matches!(
        decode_into(&c, &mut cols),
        Err(Error::InvalidInput {
            what: BOUNDS_MISMATCH,
            ..
        })
    ));
    assert_eq!(cols.timestamps(), [1, 2]);
    assert_eq!(cols.all_bucket_counts(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(cols.bucket_counts(1), Some(&[4, 5, 6][..]));
    assert_eq!(cols.bucket_counts(2), None);
    assert_eq!(cols.counts(), [6, 15]);
    assert_eq!(cols.sums(), [1.0, 2.0]);
    assert_eq!(cols.mins(), [None, None]);
    assert_eq!(cols.maxs(), [None, None]);
    assert_eq!(cols.buckets(), 3);
    assert_eq!(
        cols.get(0).unwrap().1.to_histogram(),
        h(&[1.0, 2.0], &[1, 2, 3], 1.0)
    );
    cols.clear();
    assert_eq!(decode_into(&c, &mut cols).unwrap(), 1);
    assert_eq!(cols.bounds(), [1.0]);
}

#[test]
fn count_apart_from_bucket_sum_round_trips() {
    let bounds = [10.0];
    let hs: Vec<Histogram> = [(0u64, 5u64), (3, 9), (9, 0), (9, 1), (u64::MAX, 2)]
        .iter()
        .map(|&(count, c0)| Histogram {
            bounds: bounds.to_vec(),
            counts: vec![c0, 1],
            count,
            ..Histogram::default()
        })
        .collect();
    round_trip(&[1, 2, 3, 4, 5], &hs);
}
