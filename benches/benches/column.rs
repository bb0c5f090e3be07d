//! Criterion: column codecs (sealed-block path) on the real node-1s series, one column pair
//! (timestamps as i64, values as f64) per series. Throughput is in samples.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use strata_benches::{prom, shared_data_dir};
use strata_codec::column::{self, ColumnOptions};

fn columns(c: &mut Criterion) {
    let series = prom::load(&shared_data_dir().join("node-1s.prom.zst"))
        .expect("real data in ../shared/data");
    let samples: usize = series.iter().map(|s| s.values.len()).sum();
    let opts = ColumnOptions::default();
    let encode_all = || -> Vec<(Vec<u8>, Vec<u8>)> {
        series
            .iter()
            .map(|s| {
                let t = column::encode_i64(&s.timestamps, &opts).expect("encodes");
                let v = column::encode_f64(&s.values, &opts).expect("encodes");
                (t, v)
            })
            .collect()
    };
    let encoded = encode_all();

    let mut g = c.benchmark_group("columns_node_1s");
    g.throughput(Throughput::Elements(samples as u64));
    g.sample_size(10);
    g.bench_function("encode/choose_smallest", |b| {
        b.iter(|| black_box(encode_all()))
    });
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut n = 0;
            for (t, v) in &encoded {
                ts.clear();
                vs.clear();
                n += column::decode_i64(t, &mut ts).expect("decodes");
                column::decode_f64(v, &mut vs).expect("decodes");
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, columns);
criterion_main!(benches);
