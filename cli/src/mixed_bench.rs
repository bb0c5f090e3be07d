//! `strata bench mixed`: metric appends from two threads at a fixed rate while spans are
//! appended and sealed and metric blocks are cut and merged — what a server embedding the
//! engine does all day. Prints metric append latency (p50/p99/p999/max per `append_batch`
//! call) and span seal throughput; last line `append_p99_ms=X seal_spans_per_sec=Y`.
//!
//! Data time runs `speedup` times faster than wall time (the database's clock is the bench's
//! data clock), so an ordinary run of seconds crosses several block cuts, merges and span
//! windows.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use strata_engine::spans::Span;
use strata_engine::{Clock, Db, Fsync, Options};

use crate::common::{CliResult, open};
use strata_testkit::spans::{BENCH_MODELS, BENCH_SERVICES, TraceGen, prices};

/// What to run.
#[derive(Debug, Clone)]
pub struct MixedArgs {
    pub series: usize,
    pub seconds: u64,
    pub scrape_ms: i64,
    pub speedup: i64,
    pub spans_per_sec: usize,
    pub block_minutes: i64,
}

/// Series per `append_batch` call (promtool's shard size).
const SHARD: usize = 1000;

pub fn run(args: &MixedArgs) -> CliResult {
    if args.series < 2 || args.seconds == 0 || args.speedup < 1 || args.scrape_ms < 1 {
        return Err("--series ≥ 2, --seconds, --speedup and --scrape-ms must be positive".into());
    }
    let tmp = std::env::temp_dir().join(format!("strata-bench-mixed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = bench(&tmp, args);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Data time: starts at a fixed instant and runs `speedup` times faster than wall time.
fn data_clock(speedup: i64) -> (Clock, i64) {
    const T0_MS: i64 = 1_795_000_000_000;
    let start = Instant::now();
    let clock = Clock::from_fn(move || T0_MS + start.elapsed().as_millis() as i64 * speedup);
    (clock, T0_MS)
}

fn bench(dir: &Path, args: &MixedArgs) -> CliResult {
    let (clock, t0_ms) = data_clock(args.speedup);
    let options = Options {
        clock: clock.clone(),
        fsync: Fsync::IntervalMs(100),
        block_duration_ms: args.block_minutes * 60_000,
        create_if_missing: true,
        ..Options::default()
    };
    let db = open(dir, options)?;
    db.spans().set_prices(prices(&BENCH_MODELS))?;
    let stop = AtomicBool::new(false);
    let wall = Duration::from_secs(args.seconds);
    let started = Instant::now();
    let (latencies, samples, spans, seal) = std::thread::scope(|s| {
        let (db, stop) = (&db, &stop);
        let metrics: Vec<_> = (0..2)
            .map(|k| s.spawn(move || metric_writer(db, args, k, t0_ms, stop)))
            .collect();
        let spans = s.spawn(|| span_writer(db, args, &clock, stop));
        let seal = s.spawn(|| maintainer(db, stop));
        std::thread::sleep(wall);
        stop.store(true, Ordering::Release);
        let mut latencies = Vec::new();
        let mut samples = 0;
        for m in metrics {
            let (l, n) = m.join().expect("metric writer")?;
            latencies.extend(l);
            samples += n;
        }
        let spans = spans.join().expect("span writer")?;
        let seal = seal.join().expect("maintainer")?;
        Ok::<_, strata_engine::Error>((latencies, samples, spans, seal))
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let stats = db.stats()?;
    let (p99, seal_rate) = report(&latencies, samples, spans, &seal, elapsed, &stats);
    let metas = db.block_metas();
    let merged = metas.iter().filter(|m| m.level > 0).count();
    let replaced: usize = metas.iter().map(|m| m.sources.len()).sum();
    println!(
        "blocks at the end: {} ({merged} of them merges of {replaced} cut blocks; the background \
         thread cuts when the head spans 1.5 block durations)",
        metas.len()
    );
    println!("append_p99_ms={p99:.3} seal_spans_per_sec={seal_rate:.0}");
    db.close()?;
    Ok(())
}

/// One metric writer: half the series, one scrape per `scrape_ms` of data time, paced to
/// wall time; returns each call's latency (µs) and the samples appended.
fn metric_writer(
    db: &Db,
    args: &MixedArgs,
    half: usize,
    t0_ms: i64,
    stop: &AtomicBool,
) -> strata_engine::Result<(Vec<u32>, u64)> {
    let per_thread = args.series / 2;
    let refs: Vec<_> = (0..per_thread)
        .map(|i| {
            let id = (half * per_thread + i).to_string();
            let shard = (i % 50).to_string();
            db.series_ref(&[
                ("__name__", "gen_ai_client_token_usage"),
                ("series", id.as_str()),
                ("shard", shard.as_str()),
            ])
        })
        .collect::<strata_engine::Result<_>>()?;
    let tick_wall = Duration::from_micros((args.scrape_ms * 1000 / args.speedup).max(1) as u64);
    let start = Instant::now();
    let (mut latencies, mut samples) = (Vec::new(), 0u64);
    let mut values = vec![0.0; SHARD];
    let mut tick = 0u64;
    while !stop.load(Ordering::Acquire) {
        let due = start + tick_wall * tick as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let t = t0_ms + tick as i64 * args.scrape_ms;
        for chunk in refs.chunks(SHARD) {
            for (k, v) in values.iter_mut().enumerate().take(chunk.len()) {
                *v = (tick * 7 + k as u64) as f64;
            }
            let ts = vec![t; chunk.len()];
            let a0 = Instant::now();
            let out = db.append_batch(chunk, &ts, &values[..chunk.len()])?;
            latencies.push(a0.elapsed().as_micros().min(u32::MAX as u128) as u32);
            samples += out.accepted as u64;
        }
        tick += 1;
    }
    Ok((latencies, samples))
}

/// Appends generated agent traces at `spans_per_sec` (wall), stamped with data time.
fn span_writer(
    db: &Db,
    args: &MixedArgs,
    clock: &Clock,
    stop: &AtomicBool,
) -> strata_engine::Result<u64> {
    let mut tg = TraceGen::new(0x5EED_0417, &BENCH_SERVICES, &BENCH_MODELS);
    let batch_spans = 1000usize;
    let per_batch = Duration::from_secs_f64(batch_spans as f64 / args.spans_per_sec.max(1) as f64);
    let start = Instant::now();
    let (mut appended, mut k) = (0u64, 0u32);
    while !stop.load(Ordering::Acquire) {
        if let Some(wait) = (start + per_batch * k).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        k += 1;
        let now_ns = clock.now_ms().saturating_sub(60_000) * 1_000_000;
        let mut batch: Vec<Span> = Vec::with_capacity(batch_spans + 16);
        while batch.len() < batch_spans {
            tg.trace(now_ns, 0.05, &mut batch);
        }
        appended += db.append_spans_owned(batch)?.spans as u64;
    }
    Ok(appended)
}

/// What the maintenance calls did.
#[derive(Debug, Default)]
struct SealFigures {
    calls: u64,
    spans_sealed: u64,
    seal_time: Duration,
    longest: Duration,
    blocks_written: usize,
    blocks_merged: usize,
}

/// Runs `Db::maintain` (head cuts, merges, span seals of passed windows) every 200 ms.
fn maintainer(db: &Db, stop: &AtomicBool) -> strata_engine::Result<SealFigures> {
    let mut f = SealFigures::default();
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(200));
        let before = db.spans().stats().sealed_spans;
        let m0 = Instant::now();
        let r = db.maintain()?;
        let took = m0.elapsed();
        let sealed = db.spans().stats().sealed_spans.saturating_sub(before);
        f.calls += 1;
        f.longest = f.longest.max(took);
        f.blocks_written += r.blocks_written;
        f.blocks_merged += r.blocks_merged;
        if sealed > 0 {
            f.spans_sealed += sealed;
            f.seal_time += took;
        }
    }
    Ok(f)
}

fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// Prints the figures; returns (append p99 ms, seal spans/s) for the last line.
fn report(
    latencies: &[u32],
    samples: u64,
    spans: u64,
    seal: &SealFigures,
    elapsed_s: f64,
    stats: &strata_engine::Stats,
) -> (f64, f64) {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let (p50, p99, p999) = (
        percentile_ms(&sorted, 0.50),
        percentile_ms(&sorted, 0.99),
        percentile_ms(&sorted, 0.999),
    );
    let max = percentile_ms(&sorted, 1.0);
    let seal_rate = if seal.seal_time.is_zero() {
        0.0
    } else {
        seal.spans_sealed as f64 / seal.seal_time.as_secs_f64()
    };
    println!(
        "metric appends: {samples} samples in {} calls over {elapsed_s:.1} s ({:.0} samples/s); \
         latency per call p50 {p50:.3} ms, p99 {p99:.3} ms, p999 {p999:.3} ms, max {max:.3} ms",
        latencies.len(),
        samples as f64 / elapsed_s
    );
    println!(
        "spans: {spans} appended ({:.0}/s); {} sealed in {:.2} s of maintenance → {seal_rate:.0} spans/s",
        spans as f64 / elapsed_s,
        seal.spans_sealed,
        seal.seal_time.as_secs_f64()
    );
    println!(
        "bench maintenance: {} passes, longest {:.1} ms; blocks written {}, merged {}; {} blocks, {} series",
        seal.calls,
        seal.longest.as_secs_f64() * 1000.0,
        seal.blocks_written,
        seal.blocks_merged,
        stats.blocks,
        stats.series
    );
    (p99, seal_rate)
}
