//! Property, corruption and size tests for native histogram chunks.

use proptest::prelude::*;
use strata_codec::Error;
use strata_codec::native::{
    ENCODING_NATIVE_FLOAT_V1, ENCODING_NATIVE_INT_V1, HINT_MISMATCH, KIND_MISMATCH,
    LAYOUT_MISMATCH, NativeAppender, NativeKind, NativeLayout, NativeLimits, decode, encode_chunk,
    fits_integer, read_header,
};
use strata_model::native::{CUSTOM_BUCKETS_SCHEMA, MAX_NATIVE_BUCKETS};
use strata_model::{BucketSpan, CounterResetHint, NativeHistogram};

/// Every field as bits, so NaN payloads and -0.0 compare exactly.
fn bits(t: i64, h: &NativeHistogram) -> Vec<u64> {
    let mut v = vec![
        t as u64,
        u64::from(h.counter_reset_hint.as_u8()),
        h.schema as u64,
        h.zero_threshold.to_bits(),
        h.zero_count.to_bits(),
        h.count.to_bits(),
        h.sum.to_bits(),
        h.positive_spans.len() as u64,
        h.positive_buckets.len() as u64,
        h.negative_spans.len() as u64,
        h.custom_values.len() as u64,
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

fn all_bits(ts: &[i64], hs: &[NativeHistogram]) -> Vec<Vec<u64>> {
    ts.iter().zip(hs).map(|(&t, h)| bits(t, h)).collect()
}

fn decoded_bits(bytes: &[u8]) -> Vec<Vec<u64>> {
    let got = decode(bytes).expect("decodes");
    got.iter().map(|(t, h)| bits(t, &h)).collect()
}

fn assert_round_trip(ts: &[i64], hs: &[NativeHistogram]) -> Vec<u8> {
    let bytes = encode_chunk(ts, hs).expect("encodes");
    assert_eq!(decoded_bits(&bytes), all_bits(ts, hs));
    let want = if hs.iter().all(fits_integer) {
        ENCODING_NATIVE_INT_V1
    } else {
        ENCODING_NATIVE_FLOAT_V1
    };
    assert_eq!(bytes[0], want);
    let h = read_header(&bytes).expect("header");
    assert_eq!(
        (h.count, h.first_timestamp, h.last_timestamp),
        (ts.len(), ts[0], ts[ts.len() - 1])
    );
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

    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        (-2.0 * self.unit().ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

fn span(offset: i32, length: u32) -> BucketSpan {
    BucketSpan { offset, length }
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

/// A float bucket count: not negative, not NaN (so `-0.0`, `+Inf`, subnormals, fractions).
fn float_count() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (0u32..1_000_000).prop_map(|v| f64::from(v) / 8.0),
        2 => any::<f64>().prop_map(f64::abs),
        1 => prop_oneof![
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::from_bits(1)),
            Just(f64::MAX),
            Just(9_007_199_254_740_992.0),
        ],
    ]
}

/// Spans of an exponential layout: any first offset, later offsets ≥ 0, lengths 0..8.
fn exp_spans(max_spans: usize) -> impl Strategy<Value = Vec<BucketSpan>> {
    let first = prop_oneof![4 => -40i32..40, 1 => any::<i32>()];
    (
        first,
        prop::collection::vec((0i32..4, 0u32..8), 0..=max_spans),
    )
        .prop_map(|(first, mut v)| {
            if let Some(s) = v.first_mut() {
                s.0 = first;
            }
            v.into_iter().map(|(o, l)| span(o, l)).collect()
        })
}

/// Spans covering the present buckets of `present` (index order), as one run per group.
fn spans_of(present: &[bool]) -> Vec<BucketSpan> {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut gap = 0i32;
    for &p in present {
        if p {
            match spans.last_mut() {
                Some(s) if gap == 0 => s.length += 1,
                _ => spans.push(span(gap, 1)),
            }
            gap = 0;
        } else {
            gap += 1;
        }
    }
    spans
}

fn layout() -> impl Strategy<Value = NativeLayout> {
    let threshold = prop_oneof![
        2 => Just(2.938_735_877_055_719e-39),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => (0u32..1000).prop_map(|v| f64::from(v) * 1e-3),
        1 => any::<f64>().prop_map(|v| if v.is_finite() { v.abs() } else { 0.0 }),
    ];
    let exponential = (-4i32..=8, threshold, exp_spans(6), exp_spans(3)).prop_map(
        |(schema, zero_threshold, positive_spans, negative_spans)| NativeLayout {
            schema,
            zero_threshold,
            positive_spans,
            negative_spans,
            custom_values: Vec::new(),
        },
    );
    let custom = prop::collection::vec(-1000i32..1000, 0..12).prop_flat_map(|mut b| {
        b.sort_unstable();
        b.dedup();
        let bounds: Vec<f64> = b.into_iter().map(|v| f64::from(v) / 4.0).collect();
        let n = bounds.len() + 1;
        (Just(bounds), prop::collection::vec(any::<bool>(), n)).prop_map(|(bounds, present)| {
            NativeLayout {
                schema: CUSTOM_BUCKETS_SCHEMA,
                positive_spans: spans_of(&present),
                custom_values: bounds,
                ..NativeLayout::default()
            }
        })
    });
    let wide = (1u32..=MAX_NATIVE_BUCKETS as u32).prop_map(|n| NativeLayout {
        schema: 3,
        positive_spans: vec![span(-7, n / 2)],
        negative_spans: vec![span(3, n - n / 2)],
        ..NativeLayout::default()
    });
    prop_oneof![8 => exponential, 3 => custom, 1 => wide, 1 => Just(NativeLayout::default())]
}

/// How one sample's counts follow from the previous sample's (zero bucket last).
#[derive(Debug, Clone)]
enum Step {
    Grow(Vec<u64>),
    Same,
    Reset(Vec<u64>),
    Random(Vec<u64>),
}

fn step(n: usize) -> impl Strategy<Value = Step> {
    let inc = prop_oneof![3 => Just(0u64), 3 => 0u64..20, 1 => 0u64..100_000];
    prop_oneof![
        8 => prop::collection::vec(inc, n).prop_map(Step::Grow),
        4 => Just(Step::Same),
        1 => prop::collection::vec(0u64..10, n).prop_map(Step::Reset),
        1 => prop::collection::vec(prop_oneof![8 => 0u64..1 << 40, 1 => 0u64..1 << 53], n).prop_map(Step::Random),
    ]
}

#[derive(Debug, Clone)]
struct Spec {
    dt: i64,
    step: Step,
    /// `count` minus every bucket (the NaN observations; mostly 0).
    extra: u64,
    sum: f64,
    not_reset: bool,
    /// Float series: overrides of bucket, zero and total counts.
    floats: Vec<Option<f64>>,
    float_count: Option<f64>,
}

fn spec(n: usize, float: bool) -> impl Strategy<Value = Spec> {
    let over = if float {
        prop::option::weighted(0.5, float_count()).boxed()
    } else {
        Just(None).boxed()
    };
    let count = if float {
        prop::option::weighted(0.3, any_float()).boxed()
    } else {
        Just(None).boxed()
    };
    (
        prop_oneof![6 => Just(15_000i64), 3 => 14_990i64..15_010, 1 => any::<i64>()],
        step(n),
        prop_oneof![8 => Just(0u64), 1 => 0u64..3, 1 => 0u64..1 << 50],
        any_float(),
        any::<bool>(),
        prop::collection::vec(over, n),
        count,
    )
        .prop_map(
            |(dt, step, extra, sum, not_reset, floats, float_count)| Spec {
                dt,
                step,
                extra,
                sum,
                not_reset,
                floats,
                float_count,
            },
        )
}

fn hint() -> impl Strategy<Value = CounterResetHint> {
    (0u8..4).prop_map(|v| CounterResetHint::from_u8(v).unwrap_or_default())
}

/// One chunk's worth of samples: one layout, hints a chunk can carry, integer or float counts.
fn series(max_len: usize) -> impl Strategy<Value = (Vec<i64>, Vec<NativeHistogram>)> {
    (layout(), any::<i64>(), hint(), any::<bool>()).prop_flat_map(move |(l, t0, h0, float)| {
        let n = l.buckets() + 1;
        let len = prop_oneof![1 => Just(1usize), 1 => 1..=3usize, 4 => 1..=max_len];
        let specs = len.prop_flat_map(move |k| prop::collection::vec(spec(n, float), k));
        (Just(l), specs).prop_map(move |(l, specs)| build(&l, t0, h0, &specs))
    })
}

fn build(
    l: &NativeLayout,
    t0: i64,
    h0: CounterResetHint,
    specs: &[Spec],
) -> (Vec<i64>, Vec<NativeHistogram>) {
    let custom = l.uses_custom_buckets();
    let mut counts = vec![0u64; l.buckets() + 1];
    let mut t = t0;
    let (mut ts, mut hs) = (Vec::new(), Vec::new());
    for (i, s) in specs.iter().enumerate() {
        if i > 0 {
            t = t.wrapping_add(s.dt);
        }
        match &s.step {
            Step::Grow(inc) => {
                for (c, d) in counts.iter_mut().zip(inc) {
                    *c = (*c + d).min((1 << 53) - 1);
                }
            }
            Step::Same => {}
            Step::Reset(v) | Step::Random(v) => counts.clone_from(v),
        }
        if custom {
            counts[l.buckets()] = 0;
        }
        let mut values: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
        for (v, o) in values.iter_mut().zip(&s.floats) {
            if let Some(o) = o {
                *v = *o;
            }
        }
        if custom {
            values[l.buckets()] = 0.0;
        }
        let mut h = l.empty_histogram();
        let npos = l.positive_buckets();
        h.positive_buckets.copy_from_slice(&values[..npos]);
        h.negative_buckets
            .copy_from_slice(&values[npos..l.buckets()]);
        h.zero_count = values[l.buckets()];
        h.count = values.iter().sum::<f64>() + s.extra as f64;
        if let Some(c) = s.float_count {
            h.count = c;
        }
        h.sum = s.sum;
        h.counter_reset_hint = match (i, h0) {
            (0, h0) => h0,
            (_, CounterResetHint::Gauge) => CounterResetHint::Gauge,
            _ if s.not_reset => CounterResetHint::NotCounterReset,
            _ => CounterResetHint::Unknown,
        };
        ts.push(t);
        hs.push(h);
    }
    (ts, hs)
}

// ---------------------------------------------------------------------------------------------
// Round trips

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_of_any_series((ts, hs) in series(150)) {
        for h in &hs {
            prop_assert_eq!(h.validate(), Ok(()));
        }
        assert_round_trip(&ts, &hs);
    }

    /// Series that change layout, hint and encoding: an appender with small limits, cutting a
    /// new chunk whenever a sample is refused as needing one, keeps every sample.
    #[test]
    fn cutting_chunks_keeps_every_sample(
        parts in prop::collection::vec(series(30), 1..5),
        resets in prop::collection::vec(hint(), 1..20),
        max_samples in 1usize..40,
        max_bytes in 64usize..3000,
    ) {
        let (mut ts, mut hs) = (Vec::new(), Vec::new());
        for (p, r) in parts.into_iter().zip(resets.iter().cycle()) {
            let (t, mut h) = p;
            h[0].counter_reset_hint = *r;
            ts.extend(t);
            hs.extend(h);
        }
        let limits = NativeLimits { max_samples, max_bytes };
        let mut chunks = Vec::new();
        let mut app = NativeAppender::new(limits).unwrap();
        for (&t, h) in ts.iter().zip(&hs) {
            let accepts = app.accepts(h);
            match app.append(t, h) {
                Ok(()) => prop_assert!(accepts),
                Err(e) => {
                    let cut = matches!(
                        e,
                        Error::InvalidInput { what: LAYOUT_MISMATCH | HINT_MISMATCH | KIND_MISMATCH, .. }
                    );
                    prop_assert_eq!(cut, !accepts, "{}", e);
                    prop_assert!(cut || matches!(e, Error::LimitExceeded { .. }), "{}", e);
                    chunks.push(app.to_bytes().unwrap());
                    app = NativeAppender::new(limits).unwrap();
                    app.append(t, h).unwrap();
                }
            }
        }
        chunks.push(app.to_bytes().unwrap());
        let mut got = Vec::new();
        for c in &chunks {
            let n = read_header(c).unwrap().count;
            prop_assert!(n <= max_samples);
            prop_assert!(n == 1 || c.len() <= max_bytes, "{} samples in {} bytes", n, c.len());
            got.extend(decoded_bits(c));
        }
        prop_assert_eq!(got, all_bits(&ts, &hs));
    }
}

#[test]
fn max_samples_and_max_buckets() {
    let l = NativeLayout {
        schema: 8,
        zero_threshold: 1e-3,
        positive_spans: vec![span(-100, 3000)],
        negative_spans: vec![span(0, 1), span(2, MAX_NATIVE_BUCKETS as u32 - 3001)],
        ..NativeLayout::default()
    };
    let mut rng = Lcg(3);
    let mut h = l.empty_histogram();
    let (mut ts, mut hs) = (Vec::new(), Vec::new());
    for i in 0..40 {
        for c in h.positive_buckets.iter_mut().chain(&mut h.negative_buckets) {
            *c += rng.below(3) as f64;
        }
        h.count = h.positive_buckets.iter().chain(&h.negative_buckets).sum();
        h.sum = i as f64;
        ts.push(i * 15_000);
        hs.push(h.clone());
    }
    assert_round_trip(&ts, &hs);

    let small = NativeHistogram {
        count: 1.0,
        zero_count: 1.0,
        ..NativeHistogram::default()
    };
    let n = strata_codec::native::MAX_SAMPLES_PER_CHUNK;
    let ts: Vec<i64> = (0..n as i64 + 1).map(|i| i * 1000).collect();
    let hs = vec![small; n + 1];
    let bytes = assert_round_trip(&ts[..n], &hs[..n]);
    assert_eq!(read_header(&bytes).unwrap().count, n);
    assert!(matches!(
        encode_chunk(&ts, &hs),
        Err(Error::LimitExceeded { .. })
    ));
}

#[test]
fn too_many_spans_fit_no_chunk() {
    let n = strata_codec::native::MAX_SPANS + 1;
    let h = NativeHistogram {
        positive_spans: vec![span(0, 0); n],
        ..NativeHistogram::default()
    };
    assert_eq!(h.validate(), Ok(()));
    assert!(matches!(
        encode_chunk(&[0], &[h]),
        Err(Error::LimitExceeded {
            what: "native histogram spans",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Realistic data

/// An OpenTelemetry-shaped exponential histogram as Prometheus scrapes it: scale 3 (schema 3),
/// request latencies around 100 ms (log-normal, σ = 0.35), one span of 20 buckets (tails are
/// folded into the edge buckets so the layout stays fixed), Prometheus' default zero threshold,
/// cumulative counts, `per_scrape` ± 50% observations per 15 s scrape with a few ms of jitter.
fn otel_series(samples: usize, per_scrape: u64, seed: u64) -> (Vec<i64>, Vec<NativeHistogram>) {
    let first_index = -30; // bucket -30 of schema 3 ends at 2^(-30/8) ≈ 0.074 s
    let mut rng = Lcg(seed);
    let mut h = NativeHistogram {
        schema: 3,
        zero_threshold: 2.938_735_877_055_719e-39,
        positive_spans: vec![span(first_index, 20)],
        positive_buckets: vec![0.0; 20],
        ..NativeHistogram::default()
    };
    // The series has been running for a while.
    h.positive_buckets.iter_mut().for_each(|c| *c = 500.0);
    h.count = 10_000.0;
    h.sum = 1_000.0;
    let (mut ts, mut hs) = (Vec::new(), Vec::new());
    for i in 0..samples {
        let n = per_scrape / 2 + rng.below(per_scrape + 1);
        for _ in 0..n {
            let latency = (0.1f64.ln() + 0.35 * rng.normal()).exp();
            let index = (latency.log2() * 8.0).ceil() as i32;
            let k = (index - first_index).clamp(0, 19) as usize;
            h.positive_buckets[k] += 1.0;
            h.count += 1.0;
            h.sum += latency;
        }
        ts.push(1_795_322_180_000 + i as i64 * 15_000 + rng.below(7) as i64);
        hs.push(h.clone());
    }
    (ts, hs)
}

/// Bytes per sample of a 120-sample chunk of `otel_series`, integer and float encodings.
fn otel_bytes_per_sample(per_scrape: u64) -> (f64, f64) {
    let (ts, hs) = otel_series(120, per_scrape, 42);
    let int = assert_round_trip(&ts, &hs);
    let mut app = NativeAppender::with_kind(
        NativeKind::Float,
        NativeLimits {
            max_samples: 120,
            max_bytes: 1 << 20,
        },
    )
    .unwrap();
    for (&t, h) in ts.iter().zip(&hs) {
        app.append(t, h).unwrap();
    }
    let float = app.to_bytes().unwrap();
    assert_eq!(decoded_bits(&float), all_bits(&ts, &hs));
    (int.len() as f64 / 120.0, float.len() as f64 / 120.0)
}

/// The figures quoted in `docs/format/chunks.md` ("What samples cost").
#[test]
fn otel_exponential_histogram_is_compact() {
    for rate in [0, 15, 150, 1500] {
        let (i, f) = otel_bytes_per_sample(rate);
        eprintln!("{rate} obs/scrape: {i:.1} B/sample integer, {f:.1} B/sample float");
    }
    // Measured (the doc's table): 22.1 B/sample integer, 34.1 float at 150 observations per
    // scrape; 2.0 B/sample for an idle histogram. A little slack for tuning the codes.
    let (int, float) = otel_bytes_per_sample(150);
    assert!(int < 24.0, "{int:.2} B/sample");
    assert!(float < 40.0, "{float:.2} B/sample");
    let (idle, _) = otel_bytes_per_sample(0);
    assert!(idle < 2.5, "{idle:.2} B/sample");

    // Where the bytes go: without timestamp jitter, then also with a constant sum.
    let (ts, mut hs) = otel_series(120, 150, 42);
    let full = encode_chunk(&ts, &hs).unwrap();
    let regular: Vec<i64> = (0..120).map(|i| i * 15_000).collect();
    let no_jitter = encode_chunk(&regular, &hs).unwrap().len();
    hs.iter_mut().for_each(|h| h.sum = 1.0);
    let no_sum = encode_chunk(&regular, &hs).unwrap().len();
    let header = read_header(&full).unwrap().stream_offset;
    eprintln!(
        "{} bytes: header {header}, jitter {}, sum {}, the rest {}",
        full.len(),
        full.len() - no_jitter,
        no_jitter - no_sum,
        no_sum - header
    );
    assert!(no_sum - header < 120 * 15, "bucket codes grew: {no_sum}");
}

// ---------------------------------------------------------------------------------------------
// Corruption

fn corpus() -> Vec<Vec<u8>> {
    let (ts, hs) = otel_series(30, 150, 5);
    let realistic = assert_round_trip(&ts, &hs);
    let specials = [
        f64::NAN,
        -0.0,
        f64::INFINITY,
        f64::from_bits(0x7ff0_0000_0000_0002),
    ];
    let floats: Vec<NativeHistogram> = (0..6)
        .map(|i| NativeHistogram {
            counter_reset_hint: CounterResetHint::Gauge,
            schema: -4,
            zero_threshold: 0.5,
            zero_count: 0.25 * i as f64,
            count: specials[i % 4],
            sum: specials[(i + 1) % 4],
            positive_spans: vec![span(i32::MIN, 1), span(0, 0), span(7, 2)],
            positive_buckets: vec![i as f64, -0.0, 1e300],
            negative_spans: vec![span(2, 1)],
            negative_buckets: vec![f64::INFINITY],
            ..NativeHistogram::default()
        })
        .collect();
    let floats = assert_round_trip(&[5, -5, i64::MAX, i64::MIN, 0, 10_000], &floats);
    let custom: Vec<NativeHistogram> = (0..4)
        .map(|i| NativeHistogram {
            counter_reset_hint: [
                CounterResetHint::CounterReset,
                CounterResetHint::Unknown,
                CounterResetHint::NotCounterReset,
                CounterResetHint::Unknown,
            ][i],
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 10.0 * i as f64 + 1.0,
            sum: i as f64,
            positive_spans: vec![span(1, 2)],
            positive_buckets: vec![i as f64, 2.0 * i as f64],
            custom_values: vec![-1.0, 0.5, 1e9],
            ..NativeHistogram::default()
        })
        .collect();
    let custom = assert_round_trip(&[0, 60_000, 120_000, 180_001], &custom);
    let single = assert_round_trip(&[7], &[NativeHistogram::default()]);
    vec![realistic, floats, custom, single]
}

/// Decodes; whatever decodes is a run of valid histograms that re-encodes to the same samples
/// (the fuzz target's property).
fn decode_checked(bytes: &[u8]) -> Result<usize, Error> {
    let got = decode(bytes)?;
    let samples = got.to_vec();
    for (_, h) in &samples {
        assert_eq!(h.validate(), Ok(()));
    }
    let ts: Vec<i64> = samples.iter().map(|s| s.0).collect();
    let hs: Vec<NativeHistogram> = samples.into_iter().map(|s| s.1).collect();
    let again = encode_chunk(&ts, &hs).expect("decoded samples re-encode");
    assert_eq!(decoded_bits(&again), all_bits(&ts, &hs));
    Ok(hs.len())
}

#[test]
fn truncating_or_extending_is_an_error() {
    for bytes in corpus() {
        for len in 0..bytes.len() {
            assert!(decode_checked(&bytes[..len]).is_err(), "len {len}");
            if len > 0 {
                let _ = read_header(&bytes[..len]);
            }
        }
        for extra in [0u8, 0xff] {
            let mut c = bytes.clone();
            c.push(extra);
            assert!(decode_checked(&c).is_err());
        }
        assert!(decode_checked(&bytes).is_ok());
    }
}

#[test]
fn flipping_any_bit_never_panics() {
    for bytes in corpus() {
        let mut ok = 0;
        for bit in 0..bytes.len() * 8 {
            let mut c = bytes.clone();
            c[bit / 8] ^= 1 << (bit % 8);
            if decode_checked(&c).is_ok() {
                ok += 1;
            }
        }
        // Most flips land in payload bits and decode to other values; some must be caught.
        assert!(ok < bytes.len() * 8, "every flip decoded");
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = Lcg(99);
    for _ in 0..20_000 {
        let len = rng.below(80) as usize;
        let mut c: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Some(b) = c.first_mut() {
            *b = 3 + rng.below(2) as u8;
        }
        if c.len() > 13 && rng.below(2) == 0 {
            // A plausible header start: flags 0, schema 0, threshold 0, few spans, no bounds.
            c[3] = 0;
            c[4] = 0;
            c[5..13].fill(0);
            c[13] = rng.below(3) as u8;
        }
        let _ = decode_checked(&c);
    }
}
