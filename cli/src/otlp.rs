//! `strata import-otlp` and `strata spans`: OTLP payloads in, spans out.

use std::path::{Path, PathBuf};
use std::time::Instant;
use strata_engine::spans::{Order, SpanFilter, SpanHit};
use strata_engine::{Db, Options};

use crate::common::{AnyError, CliResult};

/// Imports raw OTLP/HTTP protobuf bodies: `ExportTraceServiceRequest` (files named
/// `v1_traces_*`) or `ExportMetricsServiceRequest` (`v1_metrics_*`); other names are tried as
/// traces, then as metrics.
pub fn import(dir: &Path, files: &[PathBuf]) -> CliResult {
    let db = Db::open(dir, Options::default())?;
    let t0 = Instant::now();
    let (mut spans, mut samples, mut histograms, mut rejected) = (0usize, 0usize, 0usize, 0usize);
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let metrics_first = name.starts_with("v1_metrics");
        let as_traces = |db: &Db| db.import_otlp_traces(&bytes).map(|o| o.spans);
        let result: Result<(), AnyError> = if metrics_first {
            db.import_otlp_metrics(&bytes)
                .map(|o| {
                    samples += o.samples;
                    histograms += o.histograms;
                    rejected += o.rejected;
                })
                .map_err(Into::into)
        } else {
            match as_traces(&db) {
                Ok(n) => {
                    spans += n;
                    Ok(())
                }
                Err(trace_err) => db
                    .import_otlp_metrics(&bytes)
                    .map(|o| {
                        samples += o.samples;
                        histograms += o.histograms;
                        rejected += o.rejected;
                    })
                    .map_err(|e| format!("neither traces ({trace_err}) nor metrics ({e})").into()),
            }
        };
        result.map_err(|e| format!("{}: {e}", f.display()))?;
    }
    db.sync()?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "imported {spans} spans, {samples} samples and {histograms} histogram points from {} files in {secs:.2}s ({:.0} spans/s)",
        files.len(),
        spans as f64 / secs
    );
    if rejected > 0 {
        println!("rejected {rejected} metric points (out of order or duplicate)");
    }
    db.close()?;
    Ok(())
}

/// What `strata spans` shows.
pub struct SpanQuery {
    pub service: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub slowest: Option<usize>,
    pub failed: bool,
    pub trace: Option<String>,
    pub limit: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_trace_id(s: &str) -> Result<[u8; 16], String> {
    let s = s.trim();
    if s.len() != 32 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("--trace {s:?}: expected 32 hex digits"));
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(id)
}

fn print_hits(hits: &[SpanHit]) {
    println!(
        "{:<32} {:<16} {:>10} {:<18} {:<18} {:<10} {:>7} {:>7} {:>9}  name",
        "trace", "span", "ms", "service", "model", "provider", "in", "out", "cost $"
    );
    for h in hits {
        let g = &h.genai;
        let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        println!(
            "{:<32} {:<16} {:>10.1} {:<18} {:<18} {:<10} {:>7} {:>7} {:>9}  {}{}",
            hex(&h.span.trace_id),
            hex(&h.span.span_id),
            h.span.duration_ns() as f64 / 1e6,
            g.service,
            g.model(),
            g.provider,
            opt(g.input_tokens),
            opt(g.output_tokens),
            g.cost_usd
                .map_or("unknown".to_owned(), |c| format!("{c:.5}")),
            h.span.name,
            if g.error_type.is_empty() {
                String::new()
            } else {
                format!("  [{}]", g.error_type)
            }
        );
    }
    println!("({} spans)", hits.len());
}

pub fn query(dir: &Path, q: SpanQuery) -> CliResult {
    let db = Db::open(dir, Options::default())?;
    let t0 = Instant::now();
    let hits = match &q.trace {
        Some(id) => db.spans().trace(&parse_trace_id(id)?)?,
        None => {
            let filter = SpanFilter {
                service: q.service,
                model: q.model,
                provider: q.provider,
                order: if q.failed {
                    Order::FailedFirst
                } else if q.slowest.is_some() {
                    Order::Slowest
                } else {
                    Order::Newest
                },
                limit: q.slowest.unwrap_or(q.limit),
                ..SpanFilter::default()
            };
            db.spans().find(&filter)?
        }
    };
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    print_hits(&hits);
    println!("query took {ms:.1} ms");
    db.close()?;
    Ok(())
}
