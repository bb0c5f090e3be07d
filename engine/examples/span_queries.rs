//! Times span queries on an existing database, from a fresh process:
//!
//! ```text
//! cargo run --release -p strata-cli -- bench spans --count 10000000 --keep /tmp/spans10m
//! cargo run --release -p strata-engine --example span_queries -- /tmp/spans10m
//! ```
//!
//! For every sealed partition: `find_columns` and `find` of one service × model × provider
//! (the first LLM span's) over the partition's window, then `trace` of 100 traces and one
//! per-model aggregate over everything. Prints medians.

use std::time::{Duration, Instant};

use strata_engine::spans::{AggQuery, GroupBy, SpanFilter};
use strata_engine::{Db, Options};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: span_queries DB_DIR")?;
    let db = Db::open(std::path::Path::new(&dir), Options::default())?;
    let spans = db.spans();
    let stats = spans.stats();
    println!(
        "{} sealed spans in {} partitions, {} in memory",
        stats.sealed_spans, stats.sealed_partitions, stats.open_spans
    );
    let sample = spans.find(&SpanFilter {
        limit: 5000,
        ..SpanFilter::default()
    })?;
    let llm = sample
        .iter()
        .find(|h| !h.genai.model().is_empty())
        .ok_or("no LLM span to filter on")?;
    let (svc, model, provider) = (
        llm.genai.service.clone(),
        llm.genai.model().to_owned(),
        llm.genai.provider.clone(),
    );
    let (mut cols, mut hits, mut found) = (Vec::new(), Vec::new(), 0usize);
    for p in spans.partitions() {
        let f = SpanFilter {
            start_ns: p.window_start_ms.saturating_mul(1_000_000),
            end_ns: p.window_end_ms().saturating_mul(1_000_000),
            service: Some(svc.clone()),
            model: Some(model.clone()),
            provider: Some(provider.clone()),
            limit: usize::MAX,
            ..SpanFilter::default()
        };
        let t = Instant::now();
        found += spans.find_columns(&f)?.len();
        cols.push(t.elapsed());
        let t = Instant::now();
        drop(spans.find(&f)?);
        hits.push(t.elapsed());
    }
    println!(
        "find {svc} x {model} x {provider} per partition window: median {:.3} ms as columns, {:.3} ms as span structs ({:.0} spans each)",
        median(cols.clone()),
        median(hits),
        found as f64 / cols.len().max(1) as f64
    );
    let mut ids: Vec<[u8; 16]> = sample.iter().map(|h| h.span.trace_id).collect();
    ids.sort();
    ids.dedup();
    let (mut times, mut n) = (Vec::new(), 0usize);
    for id in ids.iter().step_by((ids.len() / 100).max(1)).take(100) {
        let t = Instant::now();
        n += spans.trace(id)?.len();
        times.push(t.elapsed());
    }
    println!(
        "trace by id: median {:.3} ms over {} traces ({:.1} spans each)",
        median(times.clone()),
        times.len(),
        n as f64 / times.len().max(1) as f64
    );
    let t = Instant::now();
    let rows = spans.aggregate(&AggQuery {
        filter: SpanFilter::default(),
        by: vec![GroupBy::Model],
        step_ns: None,
        only_llm_calls: true,
    })?;
    println!(
        "per-model aggregate over everything: {:.3} ms, {} models",
        t.elapsed().as_secs_f64() * 1e3,
        rows.len()
    );
    Ok(())
}
