//! Criterion: WAL append throughput (records/s and bytes/s) from 1, 2 and 8 threads under each
//! sync policy with 64 B, 1 KiB and 64 KiB records, and replay throughput. Every measurement is
//! short (10 samples, about a second) so the whole matrix runs in a few minutes.
//!
//! The log lives in `STRATA_WAL_BENCH_DIR` (default: the system temp dir); put it on the disk
//! you want to measure. For the side-by-side figures against `dd`, run
//! `cargo run --release -p strata-wal --example wal_figures`.

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};
use strata_wal::{Options, Position, RecordType, SyncPolicy, Wal};

fn bench_dir(name: &str) -> PathBuf {
    let root =
        std::env::var_os("STRATA_WAL_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = root.join(format!("strata-wal-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn short<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g
}

fn append(c: &mut Criterion) {
    let policies = [
        ("always", SyncPolicy::Always),
        (
            "interval_100ms",
            SyncPolicy::Interval(Duration::from_millis(100)),
        ),
        ("never", SyncPolicy::Never),
    ];
    let mut summary = Vec::new();
    for (policy_name, sync) in policies {
        let group = format!("wal_append_{policy_name}");
        let mut g = short(c, &group);
        for threads in [1u64, 2, 8] {
            for record_bytes in [64usize, 1 << 10, 64 << 10] {
                let dir = bench_dir(&format!("{policy_name}-{threads}-{record_bytes}"));
                let options = Options {
                    sync,
                    ..Options::default()
                };
                let wal = Wal::open_dir(&dir, options).expect("open");
                let payload = vec![0xA5u8; record_bytes];
                // One iteration = one record from each thread. Criterion reports bytes/s; the
                // summary at the end adds records/s from the same runs.
                g.throughput(Throughput::BytesDecimal(threads * record_bytes as u64));
                let id = BenchmarkId::new(format!("{threads}t"), format!("{record_bytes}B"));
                let (mut records, mut elapsed_total) = (0u64, Duration::ZERO);
                g.bench_function(id, |b| {
                    b.iter_custom(|iters| {
                        let elapsed = timed_appends(&wal, threads, iters, &payload);
                        records += threads * iters;
                        elapsed_total += elapsed;
                        // Keep the disk from filling up: drop what this sample wrote.
                        wal.truncate_before(wal.end()).expect("truncate");
                        elapsed
                    })
                });
                let secs = elapsed_total.as_secs_f64().max(1e-9);
                summary.push(format!(
                    "{group}/{threads}t/{record_bytes}B: {:.0} records/s, {:.1} MB/s, {:.2} records per fsync",
                    records as f64 / secs,
                    (records * record_bytes as u64) as f64 / 1e6 / secs,
                    wal.stats().records as f64 / wal.stats().syncs.max(1) as f64,
                ));
                drop(wal);
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        g.finish();
    }
    println!("\nwal append summary (warm-up included in the fsync ratio):");
    for line in summary {
        println!("  {line}");
    }
}

/// `threads` threads append `iters` records each; the clock runs from a common start until the
/// last one is done.
fn timed_appends(wal: &Wal, threads: u64, iters: u64, payload: &[u8]) -> Duration {
    let barrier = Barrier::new(threads as usize + 1);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..iters {
                    black_box(wal.append(RecordType::METRICS, payload).expect("append"));
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // The scope joins every thread before returning.
        start
    })
    .elapsed()
}

fn replay(c: &mut Criterion) {
    let mut g = short(c, "wal_replay");
    for record_bytes in [64usize, 1 << 10, 64 << 10] {
        let dir = bench_dir(&format!("replay-{record_bytes}"));
        let options = Options {
            sync: SyncPolicy::Never,
            ..Options::default()
        };
        let wal = Wal::open_dir(&dir, options).expect("open");
        let payload = vec![0x3Cu8; record_bytes];
        let total_bytes = 64usize << 20;
        for _ in 0..total_bytes / record_bytes {
            wal.append(RecordType::SPANS, &payload).expect("append");
        }
        let log_bytes: u64 = std::fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").metadata().expect("stat").len())
            .sum();
        g.throughput(Throughput::BytesDecimal(log_bytes));
        g.bench_function(
            BenchmarkId::new("page_cache", format!("{record_bytes}B")),
            |b| {
                b.iter(|| {
                    let mut replay = wal.replay(Position::ZERO);
                    let mut n = 0usize;
                    while let Some(r) = replay.next_record() {
                        n += black_box(r.expect("replay").payload.len());
                    }
                    n
                })
            },
        );
        drop(wal);
        let _ = std::fs::remove_dir_all(&dir);
    }
    g.finish();
}

criterion_group!(benches, append, replay);
criterion_main!(benches);
