//! Property, corruption, error and size tests of histogram chunks.

use proptest::prelude::*;
use strata_codec::Error;
use strata_codec::histogram::{
    BOUNDS_MISMATCH, Histogram, HistogramAppender, HistogramColumns, HistogramLimits,
    HistogramSample, MAX_BOUNDS, MAX_BUCKETS, MAX_SAMPLES_PER_CHUNK, decode, decode_into,
    encode_chunk, read_header, validate_bounds,
};

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

fn want_bits(ts: &[i64], hs: &[Histogram]) -> Vec<SampleBits> {
    ts.iter()
        .zip(hs)
        .map(|(&t, h)| bits_of(t, &h.as_sample()))
        .collect()
}

fn got_bits(cols: &HistogramColumns) -> Vec<SampleBits> {
    cols.iter().map(|(t, s)| bits_of(t, &s)).collect()
}

fn encode(ts: &[i64], hs: &[Histogram]) -> Vec<u8> {
    let samples: Vec<_> = hs.iter().map(Histogram::as_sample).collect();
    encode_chunk(ts, &samples).unwrap()
}

fn assert_round_trip(ts: &[i64], hs: &[Histogram]) -> Vec<u8> {
    let bytes = encode(ts, hs);
    let cols = decode(&bytes).unwrap();
    assert_eq!(got_bits(&cols), want_bits(ts, hs));
    bytes
}

/// A small deterministic generator for the fixed-data tests.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 ^ (self.0 >> 29)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Any f64, with the awkward ones over-represented.
fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => any::<u64>().prop_map(f64::from_bits),
        1 => prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(f64::from_bits(0x7ff0_0000_0000_0002)), // Prometheus staleness marker
            Just(f64::from_bits(0x7ff4_0000_0000_0001)), // signalling NaN
            Just(f64::from_bits(1)),
        ],
        3 => (0u32..1_000_000).prop_map(f64::from),
    ]
}

/// Valid bounds: strictly ascending, no NaN, no +Inf; widths 0..=20 or the maximum.
fn bounds() -> impl Strategy<Value = Vec<f64>> {
    let value = prop_oneof![
        4 => (-1000i32..1000).prop_map(|v| f64::from(v) / 8.0),
        2 => any::<f64>(),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(f64::MAX),
    ];
    let wide = Just(
        (0..MAX_BOUNDS)
            .map(|i| (i as f64) * 0.25 - 3.0)
            .collect::<Vec<f64>>(),
    );
    prop_oneof![
        10 => prop::collection::vec(value, 0..=20).prop_map(|mut v| {
            v.retain(|b| !b.is_nan() && *b != f64::INFINITY);
            v.sort_by(f64::total_cmp);
            v.dedup_by(|a, b| a == b);
            v
        }),
        1 => wide,
    ]
}

/// How one sample's bucket counts follow from the previous sample's.
#[derive(Debug, Clone)]
enum Step {
    /// Cumulative growth by small amounts (the common case).
    Grow(Vec<u64>),
    /// No new observations.
    Same,
    /// A counter reset: counts start again from small values.
    Reset(Vec<u64>),
    /// Anything at all.
    Random(Vec<u64>),
}

#[derive(Debug, Clone)]
struct SampleSpec {
    dt: i64,
    step: Step,
    /// `count` minus the sum of the buckets (mostly 0).
    count_offset: i64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
}

fn step(buckets: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => prop::collection::vec(prop_oneof![3 => Just(0u64), 3 => 0u64..20, 1 => 0u64..100_000], buckets).prop_map(Step::Grow),
        4 => Just(Step::Same),
        1 => prop::collection::vec(0u64..10, buckets).prop_map(Step::Reset),
        1 => prop::collection::vec(any::<u64>(), buckets).prop_map(Step::Random),
    ]
}

fn sample_spec(buckets: usize) -> impl Strategy<Value = SampleSpec> {
    (
        prop_oneof![
            6 => Just(10_000i64),
            3 => 9_990i64..10_010,
            1 => any::<i64>(),
        ],
        step(buckets),
        prop_oneof![8 => Just(0i64), 1 => -3i64..3, 1 => any::<i64>()],
        any_float(),
        prop::option::of(any_float()),
        prop::option::of(any_float()),
    )
        .prop_map(|(dt, step, count_offset, sum, min, max)| SampleSpec {
            dt,
            step,
            count_offset,
            sum,
            min,
            max,
        })
}

/// A series: first timestamp, bounds, and 1..=max_len samples built from steps.
fn series(max_len: usize) -> impl Strategy<Value = (Vec<i64>, Vec<Histogram>)> {
    (bounds(), any::<i64>()).prop_flat_map(move |(bounds, t0)| {
        let buckets = bounds.len() + 1;
        let len = prop_oneof![1 => Just(1usize), 1 => 1..=3usize, 4 => 1..=max_len];
        (
            Just(bounds),
            Just(t0),
            len.prop_flat_map(move |n| prop::collection::vec(sample_spec(buckets), n)),
        )
            .prop_map(|(bounds, t0, specs)| build(&bounds, t0, &specs))
    })
}

fn build(bounds: &[f64], t0: i64, specs: &[SampleSpec]) -> (Vec<i64>, Vec<Histogram>) {
    let mut t = t0;
    let mut counts = vec![0u64; bounds.len() + 1];
    let mut ts = Vec::with_capacity(specs.len());
    let mut hs = Vec::with_capacity(specs.len());
    for (i, s) in specs.iter().enumerate() {
        if i > 0 {
            t = t.wrapping_add(s.dt);
        }
        match &s.step {
            Step::Grow(inc) => {
                for (c, d) in counts.iter_mut().zip(inc) {
                    *c = c.wrapping_add(*d);
                }
            }
            Step::Same => {}
            Step::Reset(v) | Step::Random(v) => counts.clone_from(v),
        }
        let total = counts.iter().fold(0u64, |a, &c| a.wrapping_add(c));
        ts.push(t);
        hs.push(Histogram {
            bounds: bounds.to_vec(),
            counts: counts.clone(),
            count: total.wrapping_add(s.count_offset as u64),
            sum: s.sum,
            min: s.min,
            max: s.max,
        });
    }
    (ts, hs)
}

// ---------------------------------------------------------------------------------------------
// Round trips

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_of_any_series((ts, hs) in series(150)) {
        let bytes = encode(&ts, &hs);
        let cols = decode(&bytes).unwrap();
        prop_assert_eq!(got_bits(&cols), want_bits(&ts, &hs));
        let h = read_header(&bytes).unwrap();
        prop_assert_eq!(h.count, ts.len());
        prop_assert_eq!(h.first_timestamp, ts[0]);
    }

    /// An appender with tight limits: whenever it refuses a sample, cut a new chunk. The chunks
    /// hold every sample in order, and only single-sample chunks may exceed `max_bytes`.
    #[test]
    fn cutting_chunks_keeps_every_sample(
        (ts, hs) in series(150),
        max_samples in 1usize..40,
        max_bytes in 64usize..1500,
    ) {
        let limits = HistogramLimits { max_samples, max_bytes };
        let mut chunks = Vec::new();
        let mut app = HistogramAppender::new(limits).unwrap();
        for (&t, h) in ts.iter().zip(&hs) {
            if app.is_full() {
                chunks.push(app.to_bytes().unwrap());
                app = HistogramAppender::new(limits).unwrap();
            }
            match app.append(t, &h.as_sample()) {
                Ok(()) => {}
                Err(Error::LimitExceeded { .. }) => {
                    prop_assert!(!app.is_empty());
                    chunks.push(app.to_bytes().unwrap());
                    app = HistogramAppender::new(limits).unwrap();
                    app.append(t, &h.as_sample()).unwrap();
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
            prop_assert_eq!(app.encoded_len(), app.to_bytes().unwrap().len());
        }
        chunks.push(app.to_bytes().unwrap());
        let mut cols = HistogramColumns::new();
        for c in &chunks {
            let n = decode_into(c, &mut cols).unwrap();
            prop_assert!(n <= max_samples);
            prop_assert!(n == 1 || c.len() <= max_bytes, "{} samples in {} bytes", n, c.len());
        }
        prop_assert_eq!(got_bits(&cols), want_bits(&ts, &hs));
    }

    /// Bounds that differ from the chunk's in any way are refused with the typed error.
    #[test]
    fn other_bounds_are_refused(a in bounds(), b in bounds()) {
        let same = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
        let mut app = HistogramAppender::new(HistogramLimits::default()).unwrap();
        let first = Histogram { counts: vec![1; a.len() + 1], bounds: a, ..Histogram::default() };
        app.append(0, &first.as_sample()).unwrap();
        let second = Histogram { counts: vec![2; b.len() + 1], bounds: b, ..Histogram::default() };
        let res = app.append(1, &second.as_sample());
        prop_assert_eq!(app.accepts_bounds(&second.bounds), same);
        if same {
            prop_assert!(res.is_ok());
        } else {
            prop_assert!(
                matches!(res, Err(Error::InvalidInput { what: BOUNDS_MISMATCH, .. })),
                "{:?}", res
            );
            prop_assert_eq!(app.len(), 1);
        }
    }

    #[test]
    fn prometheus_conversion_round_trips(
        counts in prop::collection::vec(0u64..1_000_000, 1..30),
        sum in any_float(),
    ) {
        let le: Vec<f64> = (1..counts.len())
            .map(|i| i as f64 * 0.5)
            .chain([f64::INFINITY])
            .collect();
        let mut cumulative = Vec::new();
        strata_codec::histogram::cumulative_from_counts(&counts, &mut cumulative).unwrap();
        let h = Histogram::from_prometheus(&le, &cumulative, sum).unwrap();
        prop_assert_eq!(&h.counts, &counts);
        prop_assert_eq!(h.count, *cumulative.last().unwrap());
        let (le2, cum2) = h.to_prometheus().unwrap();
        prop_assert_eq!(le2, le);
        prop_assert_eq!(cum2, cumulative);
    }
}

#[test]
fn one_sample() {
    let h = Histogram {
        bounds: vec![0.5, 1.0],
        counts: vec![1, 0, 2],
        count: 3,
        sum: 7.25,
        min: Some(0.1),
        max: Some(3.0),
    };
    let bytes = assert_round_trip(&[1_795_322_189_462], &[h]);
    assert_eq!(read_header(&bytes).unwrap().count, 1);
}

#[test]
fn constant_series() {
    let h = Histogram {
        bounds: vec![1.0, 10.0, 100.0],
        counts: vec![5, 6, 7, 8],
        count: 26,
        sum: 1234.5,
        min: Some(0.5),
        max: Some(900.0),
    };
    let ts: Vec<i64> = (0..120).map(|i| i * 15_000).collect();
    let hs = vec![h; 120];
    let bytes = assert_round_trip(&ts, &hs);
    // After the first two samples each costs 1 (ts) + 1 (flag) + 1 (count) + 1 (sum) +
    // 2 (presence) + 1 + 1 (min, max) = 8 bits: one byte per sample.
    let two = encode(&ts[..2], &hs[..2]).len();
    assert!(bytes.len() <= two + 118 + 1, "{} bytes", bytes.len());
}

#[test]
fn max_samples() {
    let bounds = vec![1.0, 2.0, 3.0];
    let mut rng = Lcg(3);
    let mut counts = vec![0u64; 4];
    let mut ts = Vec::new();
    let mut hs = Vec::new();
    for i in 0..MAX_SAMPLES_PER_CHUNK {
        for c in &mut counts {
            *c += rng.below(3);
        }
        ts.push(i as i64 * 1000);
        hs.push(Histogram {
            bounds: bounds.clone(),
            counts: counts.clone(),
            count: counts.iter().sum(),
            sum: i as f64,
            min: None,
            max: Some(i as f64),
        });
    }
    let bytes = assert_round_trip(&ts, &hs);
    assert_eq!(read_header(&bytes).unwrap().count, MAX_SAMPLES_PER_CHUNK);

    ts.push(0);
    hs.push(hs[0].clone());
    let samples: Vec<_> = hs.iter().map(Histogram::as_sample).collect();
    assert!(matches!(
        encode_chunk(&ts, &samples),
        Err(Error::LimitExceeded { .. })
    ));
    assert!(
        HistogramAppender::new(HistogramLimits {
            max_samples: MAX_SAMPLES_PER_CHUNK + 1,
            max_bytes: 4096
        })
        .is_err()
    );
}

#[test]
fn max_buckets() {
    let bounds: Vec<f64> = (0..MAX_BOUNDS).map(|i| 2f64.powi(i as i32 - 128)).collect();
    validate_bounds(&bounds).unwrap();
    let mut rng = Lcg(11);
    let mut counts = vec![0u64; MAX_BUCKETS];
    let mut ts = Vec::new();
    let mut hs = Vec::new();
    for i in 0..50 {
        for c in &mut counts {
            if rng.below(4) == 0 {
                *c += rng.below(1000);
            }
        }
        ts.push(i * 10_000);
        hs.push(Histogram {
            bounds: bounds.clone(),
            counts: counts.clone(),
            count: counts.iter().sum(),
            sum: rng.next() as f64,
            min: Some(f64::MIN_POSITIVE),
            max: Some(f64::MAX),
        });
    }
    assert_round_trip(&ts, &hs);
}

// ---------------------------------------------------------------------------------------------
// Typed errors

#[test]
fn typed_errors() {
    let ok = Histogram {
        bounds: vec![1.0, 2.0],
        counts: vec![0, 0, 0],
        ..Histogram::default()
    };
    let with = |bounds: Vec<f64>, counts: usize| Histogram {
        bounds,
        counts: vec![0; counts],
        ..Histogram::default()
    };
    let bad_bounds = [
        ("unsorted", with(vec![2.0, 1.0], 3)),
        ("repeated", with(vec![1.0, 1.0], 3)),
        ("NaN", with(vec![1.0, f64::NAN], 3)),
        ("+Inf", with(vec![1.0, f64::INFINITY], 3)),
    ];
    for (name, h) in &bad_bounds {
        assert!(
            matches!(
                h.validate(),
                Err(Error::InvalidInput {
                    what: "histogram bounds",
                    ..
                })
            ),
            "{name}"
        );
        let mut app = HistogramAppender::new(HistogramLimits::default()).unwrap();
        assert!(
            matches!(
                app.append(0, &h.as_sample()),
                Err(Error::InvalidInput {
                    what: "histogram bounds",
                    ..
                })
            ),
            "{name}"
        );
        assert!(encode_chunk(&[0], &[h.as_sample()]).is_err(), "{name}");
    }
    for n in [0, 2, 4] {
        assert!(matches!(
            encode_chunk(&[0], &[with(vec![1.0, 2.0], n).as_sample()]),
            Err(Error::InvalidInput {
                what: "histogram counts",
                ..
            })
        ));
    }
    let wide = with(
        (0..=MAX_BOUNDS).map(|i| i as f64).collect(),
        MAX_BUCKETS + 1,
    );
    assert!(matches!(
        encode_chunk(&[0], &[wide.as_sample()]),
        Err(Error::LimitExceeded {
            what: "histogram bounds",
            value: 257,
            max: 256
        })
    ));
    let other = with(vec![1.0, 3.0], 3);
    assert!(matches!(
        encode_chunk(&[0, 1], &[ok.as_sample(), other.as_sample()]),
        Err(Error::InvalidInput {
            what: BOUNDS_MISMATCH,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Corruption

fn token_usage_bounds() -> Vec<f64> {
    (0..14).map(|i| 4f64.powi(i)).collect()
}

/// `gen_ai.client.token.usage`-like data: cumulative, every 10 s, a few active buckets.
fn token_usage_series(samples: usize, seed: u64) -> (Vec<i64>, Vec<Histogram>) {
    let bounds = token_usage_bounds();
    let mut rng = Lcg(seed);
    let mut counts = vec![0u64; bounds.len() + 1];
    let (mut sum, mut min, mut max) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    let mut ts = Vec::new();
    let mut hs = Vec::new();
    for i in 0..samples {
        // 0..=12 requests per 10 s, each 40..~6000 tokens (log-uniform-ish).
        for _ in 0..rng.below(13) {
            let tokens = (40.0 * 150f64.powf(rng.below(1000) as f64 / 1000.0)).round();
            let bucket = bounds
                .iter()
                .position(|&b| tokens <= b)
                .unwrap_or(bounds.len());
            counts[bucket] += 1;
            sum += tokens;
            min = min.min(tokens);
            max = max.max(tokens);
        }
        let n: u64 = counts.iter().sum();
        ts.push(1_795_322_180_000 + i as i64 * 10_000 + rng.below(5) as i64);
        hs.push(Histogram {
            bounds: bounds.clone(),
            counts: counts.clone(),
            count: n,
            sum,
            min: (n > 0).then_some(min),
            max: (n > 0).then_some(max),
        });
    }
    (ts, hs)
}

fn corpus() -> Vec<Vec<u8>> {
    let (ts, hs) = token_usage_series(40, 5);
    let realistic = encode(&ts, &hs);
    let specials = [
        f64::NAN,
        -0.0,
        f64::INFINITY,
        f64::from_bits(0x7ff0_0000_0000_0002),
    ];
    let hs2: Vec<Histogram> = (0..6)
        .map(|i| Histogram {
            bounds: vec![f64::NEG_INFINITY, -1.5, 0.0, 1e300],
            counts: vec![i, u64::MAX - i, 3 * i, 0, 1 << (i * 9)],
            count: i * 1000,
            sum: specials[i as usize % 4],
            min: (i % 2 == 0).then_some(specials[(i as usize + 1) % 4]),
            max: (i % 3 == 0).then_some(-1e-300),
        })
        .collect();
    let odd = encode(&[5, -5, i64::MAX, i64::MIN, 0, 10_000], &hs2);
    let single = encode(
        &[0],
        &[Histogram {
            counts: vec![1],
            count: 1,
            sum: 2.0,
            ..Histogram::default()
        }],
    );
    vec![realistic, odd, single]
}

/// Decodes into columns already holding a sample with the same bounds, so an error must also
/// leave them as they were.
fn decode_checked(bytes: &[u8], prefill: &[u8]) -> Result<usize, Error> {
    let mut cols = HistogramColumns::new();
    let mut fresh = HistogramColumns::new();
    let _ = decode_into(prefill, &mut cols);
    let before = got_bits(&cols);
    let fresh_res = decode_into(bytes, &mut fresh);
    let res = decode_into(bytes, &mut cols);
    match &fresh_res {
        Ok(n) => {
            assert_eq!(fresh.len(), *n);
            assert_eq!(fresh.all_bucket_counts().len(), n * fresh.buckets());
        }
        Err(_) => assert!(fresh.is_empty() && fresh.bounds().is_empty()),
    }
    match (&res, &fresh_res) {
        (Ok(n), Ok(m)) => assert_eq!(n, m),
        // A flip in the bounds: (maybe) a valid chunk, but not one for the prefilled columns,
        // which is checked before the stream is decoded.
        (Err(Error::InvalidInput { what, .. }), _) if *what == BOUNDS_MISMATCH => {}
        (Err(e), Err(f)) => assert_eq!(e, f),
        (res, fresh_res) => panic!("{res:?} vs {fresh_res:?}"),
    }
    if res.is_err() {
        assert_eq!(got_bits(&cols), before);
    }
    fresh_res
}

#[test]
fn flipping_any_bit_never_panics() {
    for bytes in corpus() {
        let mut ok = 0;
        for bit in 0..bytes.len() * 8 {
            let mut c = bytes.clone();
            c[bit / 8] ^= 1 << (bit % 8);
            if decode_checked(&c, &bytes).is_ok() {
                ok += 1;
            }
        }
        // Most flips land in payload bits and decode to other values; some must be caught.
        assert!(ok < bytes.len() * 8, "every flip decoded");
    }
}

#[test]
fn truncating_or_extending_is_an_error() {
    for bytes in corpus() {
        for len in 0..bytes.len() {
            assert!(decode_checked(&bytes[..len], &bytes).is_err(), "len {len}");
        }
        for extra in [0u8, 0xff] {
            let mut c = bytes.clone();
            c.push(extra);
            assert!(decode_checked(&c, &bytes).is_err());
        }
        assert!(decode_checked(&bytes, &bytes).is_ok());
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = Lcg(99);
    for _ in 0..20_000 {
        let len = rng.below(64) as usize;
        let mut c: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Some(b) = c.first_mut() {
            *b = 0x02;
        }
        if c.len() > 3 && rng.below(2) == 0 {
            c[3] = rng.below(4) as u8; // few bounds, so the stream is reached
        }
        let _ = decode(&c);
    }
}

// ---------------------------------------------------------------------------------------------
// Size

/// OTel `gen_ai.client.token.usage`: 14 bounds (15 buckets), 120 samples 10 s apart, a few
/// buckets growing, sum/min/max present.
#[test]
fn token_usage_histogram_is_compact() {
    let (ts, hs) = token_usage_series(120, 42);
    let bytes = assert_round_trip(&ts, &hs);
    let bucket_samples = 120 * 15;
    let per_bucket_sample = bytes.len() as f64 / bucket_samples as f64;
    let per_sample = bytes.len() as f64 / 120.0;
    // Measured: 1_113 bytes = 9.3 bytes per sample, 0.62 bytes per bucket-sample, of which the
    // header (the 14 bounds alone are 112 bytes) is 122. The issue asks for well under 8 bytes
    // per bucket-sample; this keeps a little slack for tuning the codes.
    assert!(
        per_bucket_sample < 0.7,
        "{} bytes, {per_sample:.1} B/sample, {per_bucket_sample:.3} B/bucket-sample",
        bytes.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Golden bytes

fn golden_samples() -> (Vec<i64>, Vec<Histogram>) {
    let bounds = vec![1.0, 4.0];
    let h =
        |counts: [u64; 3], count: u64, sum: f64, min: Option<f64>, max: Option<f64>| Histogram {
            bounds: bounds.clone(),
            counts: counts.to_vec(),
            count,
            sum,
            min,
            max,
        };
    let ts = vec![-5, 9_995, 19_995, 29_996];
    let hs = vec![
        h([1, 2, 0], 3, 6.5, Some(0.5), Some(f64::INFINITY)),
        h([1, 2, 0], 3, 6.5, Some(0.5), Some(f64::INFINITY)),
        h(
            [3, 2, 1],
            7,
            f64::from_bits(0x7ff0_0000_0000_0002),
            None,
            Some(-0.0),
        ),
        h([0, 0, 1], 0, f64::NAN, None, None),
    ];
    (ts, hs)
}

/// Pins version 1 of the format: a change that alters any byte needs a new encoding id.
#[test]
fn histogram_v1_golden() {
    let (ts, hs) = golden_samples();
    let bytes = assert_round_trip(&ts, &hs);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, GOLDEN_V1);
}

/// `golden_samples()` encoded; walked through in the format doc (section "Histogram chunks", Example).
const GOLDEN_V1: &str = concat!(
    "020400",                           // id 2, count 4
    "02",                               // 2 bounds
    "000000000000f03f",                 // 1.0
    "0000000000001040",                 // 4.0
    "09",                               // first timestamp zvarint(-5)
    "938843d300be40fe1f94ff3f8813c018", // bit stream
    "4992051f000000000050ff1d2cff5f60",
    "d5680a0000000000200000",
);
