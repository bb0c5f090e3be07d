use super::*;

fn round_trip(ts: &[i64], vs: &[f64]) -> Vec<u8> {
    let bytes = encode_chunk(ts, vs).unwrap();
    let (mut t2, mut v2) = (Vec::new(), Vec::new());
    assert_eq!(decode_into(&bytes, &mut t2, &mut v2).unwrap(), ts.len());
    assert_eq!(t2, ts);
    let b1: Vec<u64> = vs.iter().map(|v| v.to_bits()).collect();
    let b2: Vec<u64> = v2.iter().map(|v| v.to_bits()).collect();
    assert_eq!(b1, b2);
    let it: Vec<(i64, u64)> = ChunkIter::new(&bytes)
        .unwrap()
        .map(|s| s.map(|(t, v)| (t, v.to_bits())).unwrap())
        .collect();
    let want: Vec<(i64, u64)> = ts.iter().copied().zip(b1).collect();
    assert_eq!(it, want);
    bytes
}

#[test]
fn regular_constant_series_is_tiny() {
    let ts: Vec<i64> = (0..120).map(|i| 1_795_322_189_462 + i * 1000).collect();
    let vs = vec![1.0; 120];
    let bytes = round_trip(&ts, &vs);
    // 9 header bytes, then bits: 23 for 1.0, 20 for the second sample (prefix 2, delta 17,
    // value 1), 1 per further sample: 161 bits = 21 bytes.
    assert_eq!(bytes.len(), 30);
}

#[test]
fn special_floats_keep_their_bits() {
    let stale = f64::from_bits(0x7ff0_0000_0000_0002); // Prometheus staleness marker
    let vs = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        stale,
        f64::from_bits(1),
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        -f64::NAN,
        1.5,
    ];
    let ts: Vec<i64> = (0..vs.len() as i64).collect();
    round_trip(&ts, &vs);
}

#[test]
fn extreme_timestamps_wrap_exactly() {
    let ts = [i64::MIN, i64::MAX, 0, -1, i64::MAX, i64::MIN, 5];
    round_trip(&ts, &[1.0; 7]);
}

#[test]
fn appender_respects_limits() {
    let mut a = ChunkAppender::new(ChunkLimits {
        max_samples: 3,
        max_bytes: 4096,
    })
    .unwrap();
    for i in 0..3 {
        a.append(i, i as f64).unwrap();
    }
    assert!(a.is_full());
    assert!(matches!(a.append(3, 3.0), Err(Error::LimitExceeded { .. })));

    let mut a = ChunkAppender::new(ChunkLimits {
        max_samples: 65535,
        max_bytes: 64,
    })
    .unwrap();
    let mut x = 1u64;
    while !a.is_full() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        a.append(x as i64, f64::from_bits(x.rotate_left(17)))
            .unwrap();
    }
    assert!(a.to_bytes().unwrap().len() <= 64);
    assert_eq!(a.encoded_len(), a.to_bytes().unwrap().len());
}

#[test]
fn bad_limits_and_empty_chunks_are_errors() {
    assert!(
        ChunkAppender::new(ChunkLimits {
            max_samples: 0,
            max_bytes: 100
        })
        .is_err()
    );
    assert!(
        ChunkAppender::new(ChunkLimits {
            max_samples: 70000,
            max_bytes: 100
        })
        .is_err()
    );
    let a = ChunkAppender::new(ChunkLimits::default()).unwrap();
    assert!(a.to_bytes().is_err());
    assert!(encode_chunk(&[1, 2], &[1.0]).is_err());
}

#[test]
fn header_errors() {
    assert!(matches!(read_header(&[]), Err(Error::Truncated { .. })));
    assert!(matches!(
        read_header(&[9, 1, 0, 0, 0]),
        Err(Error::UnsupportedVersion { .. })
    ));
    assert!(matches!(
        read_header(&[1, 0, 0, 0, 0]),
        Err(Error::Corrupt { .. })
    ));
    // 1000 samples claimed in a 1-byte stream.
    assert!(matches!(
        read_header(&[1, 0xe8, 0x03, 0, 0]),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = encode_chunk(&[1, 2, 3], &[1.0, 2.0, 3.0]).unwrap();
    bytes.push(0);
    let (mut t, mut v) = (Vec::new(), Vec::new());
    assert!(decode_into(&bytes, &mut t, &mut v).is_err());
    assert!(t.is_empty() && v.is_empty());
}
