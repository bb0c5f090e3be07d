//! Criterion: the engine's hot paths — columnar batch ingest (WAL on, interval fsync) and a
//! full `select` of the real node-1s data from the head and from blocks.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use strata_benches::{prom, shared_data_dir};
use strata_engine::{Db, Matcher, Options, SeriesRef};

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn ingest(c: &mut Criterion) {
    const SERIES: usize = 1000;
    let mut g = c.benchmark_group("engine_ingest");
    g.throughput(Throughput::Elements(SERIES as u64 * 100));
    g.sample_size(10);
    g.bench_function("append_batch_1000x100", |b| {
        b.iter_batched(
            || {
                let dir = tempdir("ingest");
                let db = Db::open(&dir, Options::default()).unwrap();
                let refs: Vec<SeriesRef> = (0..SERIES)
                    .map(|i| {
                        db.series_ref(&[
                            ("__name__", "tokens_total".to_owned()),
                            ("i", i.to_string()),
                        ])
                        .unwrap()
                    })
                    .collect();
                (dir, db, refs)
            },
            |(dir, db, refs)| {
                let mut vs = vec![0.0; SERIES];
                for step in 0..100i64 {
                    vs.iter_mut().for_each(|v| *v += 17.0);
                    black_box(
                        db.append_batch(&refs, &vec![step * 15_000; SERIES], &vs)
                            .unwrap(),
                    );
                }
                drop(db);
                let _ = std::fs::remove_dir_all(dir);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn select(c: &mut Criterion) {
    let series = prom::load(&shared_data_dir().join("node-1s.prom.zst"))
        .expect("real data in ../shared/data");
    let samples: usize = series.iter().map(|s| s.values.len()).sum();
    let dir = tempdir("select");
    let db = Db::open(
        &dir,
        Options {
            auto_cut: false,
            ..Options::default()
        },
    )
    .unwrap();
    for s in &series {
        let labels = strata_engine::ingest::prom_text::parse_series(&s.key, 0).unwrap();
        let r = db.series_ref(&labels).unwrap();
        db.append_batch(&vec![r; s.timestamps.len()], &s.timestamps, &s.values)
            .unwrap();
    }
    let all = [Matcher::regex("__name__", ".+").unwrap()];
    let mut g = c.benchmark_group("engine_select_node_1s");
    g.throughput(Throughput::Elements(samples as u64));
    g.sample_size(10);
    g.bench_function("head", |b| {
        b.iter(|| black_box(db.select(&all, i64::MIN, i64::MAX).unwrap()))
    });
    db.compact().unwrap();
    g.bench_function("blocks", |b| {
        b.iter(|| black_box(db.select(&all, i64::MIN, i64::MAX).unwrap()))
    });
    g.finish();
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, ingest, select);
criterion_main!(benches);
