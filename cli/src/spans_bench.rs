//! `strata bench spans`: realistic GenAI agent traces (the test kit's `TraceGen`: services
//! instrumented with the current and the older GenAI names, ~2 % failed LLM calls, a few with
//! content), ingested through `Db::append_spans_owned` (WAL on), sealed, and asked the
//! questions of the dashboards.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Access, CliResult, open, options, stdout};
use strata_engine::spans::{AggQuery, GroupBy, Order, Span, SpanFilter};
use strata_testkit::rng::mix;
use strata_testkit::spans::{BENCH_MODELS, BENCH_SERVICES, TraceGen, prices};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// (bytes without content files, content bytes) under `dir`.
fn dir_bytes(dir: &Path) -> std::io::Result<(u64, u64)> {
    let (mut main, mut content) = (0, 0);
    if !dir.exists() {
        return Ok((0, 0));
    }
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let meta = e.metadata()?;
        if meta.is_dir() {
            let (m, c) = dir_bytes(&e.path())?;
            main += m;
            content += c;
        } else if e.file_name() == "content.col" {
            content += meta.len();
        } else {
            main += meta.len();
        }
    }
    Ok((main, content))
}

pub fn run(count: usize, keep: Option<&Path>, now: Option<i64>) -> CliResult {
    if let Some(dir) = keep {
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            return Err(format!("--keep {}: directory is not empty", dir.display()).into());
        }
        return bench(dir, count, now);
    }
    // The process id names the directory (a leftover of an earlier process is removed first).
    let tmp = std::env::temp_dir().join(format!("strata-bench-spans-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = bench(&tmp, count, now);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn bench(dir: &Path, count: usize, now: Option<i64>) -> CliResult {
    const DAY_NS: i64 = 86_400_000_000_000;
    const HOUR_NS: i64 = 3_600_000_000_000;
    let db = open(dir, options(Access::Create, now))?;
    db.spans().set_prices(prices(&BENCH_MODELS))?;
    // Data time from the database's clock (`--now` pins it); `Instant` times the work.
    let now_ns = db.options().clock.now_ms().saturating_mul(1_000_000);
    // A day of traffic ending an hour ago, in time order.
    let end_ns = now_ns - now_ns % HOUR_NS - HOUR_NS;
    let start_ns = end_ns - DAY_NS;
    // ~4.7 spans per trace.
    let traces_est = (count as u64 * 10 / 47).max(1);
    let mut tg = TraceGen::new(0x5EED_5BA5, &BENCH_SERVICES, &BENCH_MODELS);
    let mut batch: Vec<Span> = Vec::with_capacity(4096 + 16);
    let mut sample_ids: Vec<[u8; 16]> = Vec::new();
    let sample_every = (traces_est / 1000).max(1);
    let (mut spans, mut append_time, mut t) = (0usize, Duration::ZERO, start_ns);
    let window_ns = db.spans().partition_ms() * 1_000_000;
    let (mut seal_time, mut sealed_through) = (Duration::ZERO, start_ns);
    if count == 0 {
        return Err("--count must be positive".into());
    }
    while spans < count {
        batch.clear();
        while batch.len() < 4096 && spans + batch.len() < count {
            let id = tg.trace(t, 0.05, &mut batch);
            if tg.traces().is_multiple_of(sample_every) {
                sample_ids.push(id);
            }
            // Spread evenly over the day by span count.
            let done = (spans + batch.len()) as i128;
            t = start_ns + (i128::from(DAY_NS) * done / count as i128) as i64;
        }
        batch.truncate(count - spans);
        let n = batch.len();
        let owned = std::mem::replace(&mut batch, Vec::with_capacity(4096 + 16));
        let a0 = Instant::now();
        let appended = db.append_spans_owned(owned)?;
        append_time += a0.elapsed();
        if let Some(why) = appended.first_rejection {
            return Err(format!("bench: a generated span was refused: {why}").into());
        }
        spans += n;
        // Seal windows as the generated clock leaves them, as the background thread would
        // with live traffic (timed apart from the appends).
        let window = t - t.rem_euclid(window_ns);
        if window > sealed_through {
            let s0 = Instant::now();
            db.seal_spans_through(window / 1_000_000)?;
            seal_time += s0.elapsed();
            sealed_through = window;
        }
    }
    let a0 = Instant::now();
    db.sync()?;
    append_time += a0.elapsed();
    let c0 = Instant::now();
    db.compact()?;
    let compact_s = (c0.elapsed() + seal_time).as_secs_f64();
    let stats = db.spans().stats();
    let mut out = stdout();
    let (main_bytes, content_bytes) = dir_bytes(&dir.join("spans"))?;
    let per_sec = spans as f64 / append_time.as_secs_f64();
    writeln!(
        out,
        "ingested {spans} spans in {} traces ({} services x {} models, WAL on, batches of 4096) in {:.2}s: {per_sec:.0} spans/s",
        tg.traces(),
        BENCH_SERVICES.len(),
        BENCH_MODELS.len(),
        append_time.as_secs_f64()
    )?;
    writeln!(
        out,
        "sealed {} spans into {} partitions in {compact_s:.2}s",
        stats.sealed_spans, stats.sealed_partitions
    )?;
    writeln!(
        out,
        "on disk: {main_bytes} bytes without content = {:.1} bytes/span; content {content_bytes} bytes",
        main_bytes as f64 / spans.max(1) as f64
    )?;

    // Find: service x model x provider in a 1 h window (several windows and combinations).
    let (mut times, mut hit_times) = (Vec::new(), Vec::new());
    let mut found = 0usize;
    for i in 0..20usize {
        let (svc, ..) = BENCH_SERVICES[i % BENCH_SERVICES.len()];
        let (model, provider, ..) =
            BENCH_MODELS[(i % BENCH_SERVICES.len() + i / 4 % 2) % BENCH_MODELS.len()];
        let w = start_ns + (i as i64 % 23) * HOUR_NS;
        let f = SpanFilter {
            start_ns: w,
            end_ns: w + HOUR_NS,
            service: Some(svc.into()),
            model: Some(model.into()),
            provider: Some(provider.into()),
            order: Order::Newest,
            limit: usize::MAX,
            ..SpanFilter::default()
        };
        let q0 = Instant::now();
        found += db.spans().find_columns(&f)?.len();
        times.push(q0.elapsed());
        let q0 = Instant::now();
        let hits = db.spans().find(&f)?;
        drop(hits);
        hit_times.push(q0.elapsed());
    }
    let find_ms = median(times).as_secs_f64() * 1e3;
    let hits_ms = median(hit_times).as_secs_f64() * 1e3;
    writeln!(
        out,
        "find service x model x provider, 1 h window: median {find_ms:.3} ms as columns (find_columns), {hits_ms:.3} ms as span structs (find), over 20 queries ({:.0} spans each on average)",
        found as f64 / 20.0
    )?;

    // Trace by id: 100 random sampled ids.
    let mut times = Vec::new();
    let mut trace_spans = 0usize;
    let mut pick = 0x7777u64;
    for _ in 0..100 {
        pick = mix(pick);
        let id = sample_ids[(pick % sample_ids.len() as u64) as usize];
        let q0 = Instant::now();
        let hits = db.spans().trace(&id)?;
        times.push(q0.elapsed());
        if hits.is_empty() {
            return Err("bench: a generated trace was not found".into());
        }
        trace_spans += hits.len();
    }
    let trace_ms = median(times).as_secs_f64() * 1e3;
    writeln!(
        out,
        "trace by id: median {trace_ms:.3} ms over 100 random ids ({:.1} spans per trace)",
        trace_spans as f64 / 100.0
    )?;

    // Per-model aggregate over the whole day.
    let mut times = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..5 {
        let q = AggQuery {
            filter: SpanFilter {
                start_ns,
                end_ns,
                ..SpanFilter::default()
            },
            by: vec![GroupBy::Model],
            step_ns: None,
            only_llm_calls: true,
        };
        let q0 = Instant::now();
        rows = db.spans().aggregate(&q)?;
        times.push(q0.elapsed());
    }
    let agg_ms = median(times).as_secs_f64() * 1e3;
    let llm_calls: u64 = rows.iter().map(|r| r.count).sum();
    writeln!(
        out,
        "per-model aggregate over 24 h (count, errors, tokens, cost, latency and TTFT percentiles): median {agg_ms:.2} ms, {} models, {llm_calls} LLM calls",
        rows.len()
    )?;
    db.close()?;
    writeln!(out, "spans_per_sec={per_sec:.0}")?;
    out.flush()?;
    Ok(())
}
