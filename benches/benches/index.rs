//! Criterion: the label index over 1M series shaped like LLM telemetry (20 services × 50 models
//! × 8 providers × 2 token types × 15 buckets × 5 tenants, `strata_index::testing::LlmTelemetry`).
//! Build time, the 3-matcher select `{service="service-07", model=~"gpt-4.*",
//! provider!="azure"}` in memory and from the memory-mapped file, and the service × model ×
//! provider select. Bytes per series (memory beyond the label strings, and on disk) are printed
//! once; `cargo run --release -p strata-index --example index_figures` prints every figure of
//! issue 4 in one run.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use strata_index::testing::LlmTelemetry;
use strata_index::{DimensionFilter, IndexFile, LabelIndex, Matcher, MemIndex};

const SERIES: usize = 1_000_000;

fn build(data: &LlmTelemetry) -> MemIndex {
    let mut idx = MemIndex::new();
    for i in 0..data.len() {
        idx.get_or_insert(&data.labels(i)).expect("valid labels");
    }
    idx
}

fn index(c: &mut Criterion) {
    let data = LlmTelemetry::new(SERIES, 42);
    let idx = build(&data);
    let path = std::env::temp_dir().join(format!("strata-index-bench-{}", std::process::id()));
    let disk_bytes = idx
        .write_file(&strata_storage::RealFs, &path)
        .expect("write index");
    let file = IndexFile::open(&strata_storage::RealFs, &path).expect("open index");
    let usage = idx.memory_usage();
    println!(
        "index_1m: {:.1} B/series in memory beyond label strings, {:.1} B/series on disk",
        usage.bytes_per_id_beyond_strings(),
        disk_bytes as f64 / SERIES as f64
    );

    let query = [
        Matcher::equal("service", "service-07"),
        Matcher::regex("model", "gpt-4.*").expect("valid regex"),
        Matcher::not_equal("provider", "azure"),
    ];
    let dims = DimensionFilter::new()
        .service("service-07")
        .model("gpt-4o")
        .provider("openai");

    let mut g = c.benchmark_group("index_1m");
    g.sample_size(10);
    g.bench_function("build", |b| {
        b.iter_batched(|| (), |()| black_box(build(&data)), BatchSize::PerIteration)
    });
    g.sample_size(100);
    g.bench_function("select_3_matchers/memory", |b| {
        b.iter(|| black_box(idx.select(&query).expect("select")))
    });
    g.bench_function("select_3_matchers/mmap_file", |b| {
        b.iter(|| black_box(file.select(&query).expect("select")))
    });
    g.bench_function("select_dimensions/memory", |b| {
        b.iter(|| black_box(idx.select_dimensions(&dims).expect("select")))
    });
    g.bench_function("label_values_model/memory", |b| {
        b.iter(|| black_box(idx.label_values("model", &query[..1]).expect("values")))
    });
    g.finish();
    drop(file);
    std::fs::remove_file(&path).ok();
}

criterion_group!(benches, index);
criterion_main!(benches);
