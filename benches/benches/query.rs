//! Criterion: the query layer over an in-memory querier holding an hour of LLM telemetry at
//! 1 s resolution — 200 token counters and 800 latency-histogram buckets (1,000 series ×
//! 3,600 samples) — evaluated over that hour at 15 s steps (241 steps), the two dashboard
//! queries of MISSION.md. Throughput is in samples read by the query.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use strata_engine::query::{
    EvalOptions, LabelMatcher, Labels, MatchOp, MemQuerier, Querier, Series, parse,
};

const SAMPLES_PER_SERIES: i64 = 3_600;
const INTERVAL_MS: i64 = 1_000;
const STEP_MS: i64 = 15_000;
const MODELS: usize = 10;
/// Latency bucket bounds in seconds (OpenTelemetry GenAI operation duration, shortened).
const LE_BOUNDS: [&str; 16] = [
    "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "2.56", "5.12", "10.24",
    "20.48", "40.96", "81.92", "163.84", "+Inf",
];

/// Deterministic pseudo-random numbers (64-bit LCG), so every run sees the same data.
struct Lcg(u64);

impl Lcg {
    fn next_unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn timestamps() -> Vec<i64> {
    (0..SAMPLES_PER_SERIES).map(|i| i * INTERVAL_MS).collect()
}

fn telemetry() -> MemQuerier {
    let mut rng = Lcg(42);
    let mut series = Vec::new();
    // tokens_total{model, service, type}: 10 × 10 × 2 counters, a few restarting mid-hour.
    for m in 0..MODELS {
        for s in 0..10 {
            for kind in ["input", "output"] {
                let mut v = rng.next_unit() * 1e6;
                let restart_at = (s == 3).then_some(1_800);
                let values = (0..SAMPLES_PER_SERIES)
                    .map(|i| {
                        if Some(i) == restart_at {
                            v = 0.0;
                        }
                        v += (rng.next_unit() * 400.0).floor();
                        v
                    })
                    .collect();
                series.push(Series {
                    labels: Labels::new([
                        ("__name__", "tokens_total".to_string()),
                        ("model", format!("model-{m}")),
                        ("service", format!("svc-{s}")),
                        ("type", kind.to_string()),
                    ]),
                    timestamps: timestamps(),
                    values,
                });
            }
        }
    }
    // latency_bucket{model, service, le}: 10 × 5 histograms × 16 cumulative buckets.
    for m in 0..MODELS {
        for s in 0..5 {
            let mut counts = [0.0f64; LE_BOUNDS.len()];
            let mut per_bucket: Vec<Vec<f64>> = vec![Vec::new(); LE_BOUNDS.len()];
            for _ in 0..SAMPLES_PER_SERIES {
                // A few requests per second, latency roughly log-uniform around 1 s per model.
                let requests = (rng.next_unit() * 8.0) as usize;
                for _ in 0..requests {
                    let bucket = ((rng.next_unit() * 6.0) + (m % 6) as f64) as usize;
                    for c in counts.iter_mut().skip(bucket.min(LE_BOUNDS.len() - 1)) {
                        *c += 1.0;
                    }
                }
                for (b, c) in counts.iter().enumerate() {
                    per_bucket[b].push(*c);
                }
            }
            for (le, values) in LE_BOUNDS.iter().zip(per_bucket) {
                series.push(Series {
                    labels: Labels::new([
                        ("__name__", "latency_bucket".to_string()),
                        ("model", format!("model-{m}")),
                        ("service", format!("svc-{s}")),
                        ("le", le.to_string()),
                    ]),
                    timestamps: timestamps(),
                    values,
                });
            }
        }
    }
    MemQuerier::new(series).expect("valid generated series")
}

fn query(c: &mut Criterion) {
    let q = telemetry();
    let opts = EvalOptions::default();
    let (start_ms, end_ms) = (0, (SAMPLES_PER_SERIES - 1) * INTERVAL_MS);
    let cases = [
        (
            "sum_by_model_rate",
            "sum by (model) (rate(tokens_total[5m]))",
            200,
        ),
        (
            "histogram_quantile_p95",
            "histogram_quantile(0.95, sum by (le, model) (rate(latency_bucket[5m])))",
            800,
        ),
    ];
    let mut g = c.benchmark_group("query_1h_15s_steps");
    g.sample_size(20);
    for (name, expr, series) in cases {
        let plan = parse(expr).expect("supported query");
        let result = plan
            .eval_range(&q, start_ms, end_ms, STEP_MS, &opts)
            .expect("evaluates");
        assert_eq!(result.len(), MODELS, "{name}: one series per model");
        g.throughput(Throughput::Elements(series * SAMPLES_PER_SERIES as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(plan.eval_range(&q, start_ms, end_ms, STEP_MS, &opts)))
        });
    }
    // The storage side alone: matching and copying the counters out of the querier.
    let tokens = [LabelMatcher::new(
        "__name__",
        MatchOp::Equal,
        "tokens_total",
    )];
    g.throughput(Throughput::Elements(200 * SAMPLES_PER_SERIES as u64));
    g.bench_function("select_only_tokens", |b| {
        b.iter(|| black_box(q.select(&tokens, start_ms - 299_999, end_ms)))
    });
    g.finish();
}

criterion_group!(benches, query);
criterion_main!(benches);
