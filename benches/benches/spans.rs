//! Criterion: spans in — OTLP `ExportTraceServiceRequest` decode of the real OpenLLMetry payloads
//! (`../shared/data/genai-otlp-openllmetry/v1_traces_*.pb`), and `Db::append_spans` of the
//! decoded spans (WAL on, default options) into a fresh database. Throughput in spans.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use strata_engine::otlp::decode_traces;
use strata_engine::spans::Span;
use strata_engine::{Db, Options};

fn payloads() -> Vec<Vec<u8>> {
    strata_testkit::payloads("genai-otlp-openllmetry", "v1_traces")
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn decode(c: &mut Criterion) {
    let payloads = payloads();
    let spans: usize = payloads
        .iter()
        .map(|p| decode_traces(p).unwrap().len())
        .sum();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("otlp_decode");
    g.throughput(Throughput::Elements(spans as u64));
    g.sample_size(10);
    g.bench_function(
        format!("traces_{}_payloads_{bytes}_bytes", payloads.len()),
        |b| {
            b.iter(|| {
                for p in &payloads {
                    black_box(decode_traces(p).unwrap());
                }
            })
        },
    );
    g.finish();
}

fn append(c: &mut Criterion) {
    let spans: Vec<Span> = payloads()
        .iter()
        .flat_map(|p| decode_traces(p).unwrap())
        .collect();
    let mut g = c.benchmark_group("spans_ingest");
    g.throughput(Throughput::Elements(spans.len() as u64));
    g.sample_size(10);
    g.bench_function(format!("append_spans_{}_wal_on", spans.len()), |b| {
        b.iter_batched(
            || {
                let dir = tempdir("spans");
                let db = Db::open(&dir, Options::default()).unwrap();
                (dir, db)
            },
            |(dir, db)| {
                for chunk in spans.chunks(4096) {
                    black_box(db.append_spans(chunk).unwrap());
                }
                db.sync().unwrap();
                drop(db);
                let _ = std::fs::remove_dir_all(dir);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, decode, append);
criterion_main!(benches);
