//! Criterion: the query layer over an in-memory querier holding an hour of LLM telemetry at
//! 1 s resolution — the test kit's `LlmMetrics` scrape of the spans bench's 4 services × 6
//! models: token counters (one service restarting mid-hour), latency and TTFT histograms, 938
//! series × 3,600 samples — evaluated over that hour at 15 s steps (241 steps), the two
//! dashboard queries of MISSION.md. Throughput is in samples read by the query.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use strata_engine::query::{
    EvalOptions, LabelMatcher, Labels, MatchOp, MemQuerier, Querier, Series, parse,
};
use strata_testkit::series::LlmMetrics;
use strata_testkit::spans::{BENCH_MODELS, BENCH_SERVICES};

const SAMPLES_PER_SERIES: i64 = 3_600;
const INTERVAL_MS: i64 = 1_000;
const STEP_MS: i64 = 15_000;

fn telemetry() -> MemQuerier {
    let services = BENCH_SERVICES.map(|(s, ..)| s);
    let mut g = LlmMetrics::new(42, &services, &BENCH_MODELS);
    let n = g.labels().len();
    let mut values: Vec<Vec<f64>> = vec![Vec::with_capacity(SAMPLES_PER_SERIES as usize); n];
    for i in 0..SAMPLES_PER_SERIES {
        if i == SAMPLES_PER_SERIES / 2 {
            g.restart(3);
        }
        g.scrape(1.0);
        for (v, x) in values.iter_mut().zip(g.values()) {
            v.push(x);
        }
    }
    let timestamps: Vec<i64> = (0..SAMPLES_PER_SERIES).map(|i| i * INTERVAL_MS).collect();
    let series = g
        .labels()
        .iter()
        .zip(values)
        .map(|(l, values)| Series {
            labels: Labels::new(l.iter().cloned()),
            timestamps: timestamps.clone(),
            values,
        })
        .collect();
    MemQuerier::new(series).expect("valid generated series")
}

/// Series of metric `name` in the querier's data.
fn series_named(name: &str) -> u64 {
    let services = BENCH_SERVICES.map(|(s, ..)| s);
    let g = LlmMetrics::new(42, &services, &BENCH_MODELS);
    g.labels()
        .iter()
        .filter(|l| l.iter().any(|(k, v)| k == "__name__" && v == name))
        .count() as u64
}

fn query(c: &mut Criterion) {
    let q = telemetry();
    let opts = EvalOptions::default();
    let (start_ms, end_ms) = (0, (SAMPLES_PER_SERIES - 1) * INTERVAL_MS);
    let cases = [
        (
            "sum_by_model_rate",
            "sum by (model) (rate(llm_output_tokens_total[5m]))",
            series_named("llm_output_tokens_total"),
        ),
        (
            "histogram_quantile_p95",
            "histogram_quantile(0.95, sum by (le, model) (rate(gen_ai_client_operation_duration_seconds_bucket[5m])))",
            series_named("gen_ai_client_operation_duration_seconds_bucket"),
        ),
    ];
    let mut g = c.benchmark_group("query_1h_15s_steps");
    g.sample_size(20);
    for (name, expr, series) in cases {
        let plan = parse(expr).expect("supported query");
        let result = plan
            .eval_range(&q, start_ms, end_ms, STEP_MS, &opts)
            .expect("evaluates");
        assert_eq!(
            result.len(),
            BENCH_MODELS.len(),
            "{name}: one series per model"
        );
        g.throughput(Throughput::Elements(series * SAMPLES_PER_SERIES as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(plan.eval_range(&q, start_ms, end_ms, STEP_MS, &opts)))
        });
    }
    // The storage side alone: matching and copying the counters out of the querier.
    let tokens = [LabelMatcher::new(
        "__name__",
        MatchOp::Equal,
        "llm_output_tokens_total",
    )];
    let token_series = series_named("llm_output_tokens_total");
    g.throughput(Throughput::Elements(
        token_series * SAMPLES_PER_SERIES as u64,
    ));
    g.bench_function("select_only_tokens", |b| {
        b.iter(|| black_box(q.select(&tokens, start_ms - 299_999, end_ms)))
    });
    g.finish();
}

criterion_group!(benches, query);
criterion_main!(benches);
