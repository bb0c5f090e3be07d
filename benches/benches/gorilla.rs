//! Criterion: Gorilla chunk encode and decode, Strata against tsz, on the real node-1s series cut
//! into 120-sample chunks. Throughput is in samples.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use strata_benches::{gorilla_cmp as cmp, prom, shared_data_dir};

fn gorilla(c: &mut Criterion) {
    let series = prom::load(&shared_data_dir().join("node-1s.prom.zst"))
        .expect("real data in ../shared/data");
    let chunks = cmp::chunks(&series, 120);
    let samples: usize = chunks.iter().map(|c| c.0.len()).sum();
    let ours = cmp::strata_encode(&chunks);
    let theirs = cmp::tsz_encode(&chunks);
    cmp::verify(&chunks, &ours, &theirs).expect("both round-trip");

    let mut g = c.benchmark_group("gorilla_node_1s");
    g.throughput(Throughput::Elements(samples as u64));
    g.sample_size(10);
    g.bench_function("encode/strata", |b| {
        b.iter(|| black_box(cmp::strata_encode(&chunks)))
    });
    g.bench_function("encode/tsz", |b| {
        b.iter(|| black_box(cmp::tsz_encode(&chunks)))
    });
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    g.bench_function("decode/strata", |b| {
        b.iter(|| black_box(cmp::strata_decode(&ours, &mut ts, &mut vs)))
    });
    let mut dps = Vec::new();
    g.bench_function("decode/tsz", |b| {
        b.iter_batched(
            || theirs.clone(),
            |t| black_box(cmp::tsz_decode(t, &mut dps)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, gorilla);
criterion_main!(benches);
