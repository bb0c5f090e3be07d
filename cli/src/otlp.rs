//! `strata import-otlp`, `strata spans`, `strata trace` and `strata genai`: OTLP payloads in,
//! spans, traces and GenAI aggregates out (tables that fit 120 columns, or `--json`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strata_engine::OtlpMetricsOutcome;
use strata_engine::spans::events_json::trace_json;
use strata_engine::spans::json::{hits_json, rows_json};
use strata_engine::spans::{
    AggQuery, EventAppendOutcome, EventHit, GroupBy, Order, Percentiles, SpanFilter, SpanHit,
};
use strata_engine::{MatchOp, Matcher};

use crate::common::{
    Access, AnyError, CliResult, Out, any_expired, close, close_read, expired_text, open, options,
    stdout, utc_minute, write_json,
};

/// What an `import-otlp` run stored, refused and stored already outside retention.
#[derive(Default)]
struct Tally {
    spans: usize,
    samples: usize,
    histograms: usize,
    exemplars: usize,
    spans_rejected: usize,
    first_span_rejection: Option<String>,
    spans_outside_retention: usize,
    points_rejected: usize,
    first_point_rejection: Option<String>,
    points_outside_retention: usize,
    events: usize,
    events_rejected: usize,
    first_event_rejection: Option<String>,
    events_outside_retention: usize,
}

impl Tally {
    fn events(&mut self, o: EventAppendOutcome) {
        self.events += o.events;
        self.events_rejected += o.rejected;
        self.events_outside_retention += o.outside_retention;
        if self.first_event_rejection.is_none() {
            self.first_event_rejection = o.first_rejection;
        }
    }

    fn metrics(&mut self, o: OtlpMetricsOutcome) {
        self.samples += o.samples;
        self.histograms += o.histograms;
        self.exemplars += o.exemplars;
        self.points_rejected += o.rejected;
        self.points_outside_retention += o.outside_retention;
        if self.first_point_rejection.is_none() {
            self.first_point_rejection = o.first_rejection;
        }
    }
}

/// Imports raw OTLP/HTTP protobuf bodies: `ExportTraceServiceRequest` (files named
/// `v1_traces_*`), `ExportMetricsServiceRequest` (`v1_metrics_*`) or
/// `ExportLogsServiceRequest` (`v1_logs_*`, stored as events); other names are tried as
/// traces, then as metrics, then as logs.
pub fn import(
    dir: &Path,
    files: &[PathBuf],
    reject_outside_retention: bool,
    now: Option<i64>,
) -> CliResult {
    let db = open(
        dir,
        strata_engine::Options {
            reject_outside_retention,
            ..options(Access::Create, now)
        },
    )?;
    let t0 = Instant::now();
    let mut n = Tally::default();
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result: Result<(), AnyError> = if name.starts_with("v1_metrics") {
            db.import_otlp_metrics(&bytes)
                .map(|o| n.metrics(o))
                .map_err(Into::into)
        } else if name.starts_with("v1_logs") {
            db.import_otlp_logs(&bytes)
                .map(|o| n.events(o))
                .map_err(Into::into)
        } else {
            match db.import_otlp_traces(&bytes) {
                Ok(o) => {
                    n.spans += o.spans;
                    n.spans_rejected += o.rejected;
                    n.spans_outside_retention += o.outside_retention;
                    if n.first_span_rejection.is_none() {
                        n.first_span_rejection = o.first_rejection;
                    }
                    Ok(())
                }
                Err(trace_err) => match db.import_otlp_metrics(&bytes) {
                    Ok(o) => {
                        n.metrics(o);
                        Ok(())
                    }
                    Err(metrics_err) => db.import_otlp_logs(&bytes).map(|o| n.events(o)).map_err(
                        |e| {
                            format!(
                                "neither traces ({trace_err}) nor metrics ({metrics_err}) nor logs ({e})"
                            )
                            .into()
                        },
                    ),
                },
            }
        };
        result.map_err(|e| format!("{}: {e}", f.display()))?;
    }
    db.sync()?;
    let expired = close(db)?;
    let secs = t0.elapsed().as_secs_f64();
    let mut out = stdout();
    writeln!(
        out,
        "imported {} spans, {} events, {} samples, {} histogram points and {} exemplars from {} files in {secs:.2}s ({:.0} spans/s)",
        n.spans,
        n.events,
        n.samples,
        n.histograms,
        n.exemplars,
        files.len(),
        n.spans as f64 / secs
    )?;
    if n.spans_outside_retention + n.points_outside_retention + n.events_outside_retention > 0 {
        writeln!(
            out,
            "outside retention: {} of these spans, {} of these events and {} of these samples/histogram points are older than their bucket keeps: the next retention pass (strata compact, or the background thread) deletes them; --now MS imports at the data's own time, --reject-outside-retention refuses them",
            n.spans_outside_retention, n.events_outside_retention, n.points_outside_retention
        )?;
    }
    if n.events_rejected > 0 {
        writeln!(
            out,
            "rejected {} events; first: {}",
            n.events_rejected,
            n.first_event_rejection.unwrap_or_default()
        )?;
    }
    if n.spans_rejected > 0 {
        writeln!(
            out,
            "rejected {} spans; first: {}",
            n.spans_rejected,
            n.first_span_rejection.unwrap_or_default()
        )?;
    }
    if n.points_rejected > 0 {
        writeln!(
            out,
            "rejected {} metric points; first: {}",
            n.points_rejected,
            n.first_point_rejection.unwrap_or_default()
        )?;
    }
    if any_expired(&expired) {
        writeln!(
            out,
            "retention expired during the import (a background pass): {}",
            expired_text(&expired)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// What `strata spans` shows.
pub struct SpanQuery {
    pub service: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub operation: Option<String>,
    pub error_type: Option<String>,
    /// Start and end of the time range, Unix ms.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub min_ms: Option<f64>,
    /// `KEY=VALUE`, `KEY!=VALUE`, `KEY=~REGEX`, `KEY!~REGEX`.
    pub attrs: Vec<String>,
    pub slowest: Option<usize>,
    pub failed: bool,
    pub trace: Option<String>,
    pub limit: usize,
    pub json: bool,
}

/// `KEY=VALUE`, `KEY!=VALUE`, `KEY=~REGEX` or `KEY!~REGEX` as a matcher.
pub(crate) fn parse_attr(s: &str) -> Result<Matcher, String> {
    let at = s.find(['=', '!']).filter(|i| *i > 0).ok_or_else(|| {
        format!("--attr {s:?}: expected KEY=VALUE, KEY!=VALUE, KEY=~RE or KEY!~RE")
    })?;
    let (key, rest) = s.split_at(at);
    let (op, value) = if let Some(v) = rest.strip_prefix("!=") {
        (MatchOp::NotEqual, v)
    } else if let Some(v) = rest.strip_prefix("=~") {
        (MatchOp::RegexMatch, v)
    } else if let Some(v) = rest.strip_prefix("!~") {
        (MatchOp::RegexNoMatch, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (MatchOp::Equal, v)
    } else {
        return Err(format!(
            "--attr {s:?}: expected =, !=, =~ or !~ after the key"
        ));
    };
    Matcher::new(op, key, value).map_err(|e| format!("--attr {s:?}: {e}"))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn parse_trace_id(s: &str) -> Result<[u8; 16], String> {
    let s = s.trim();
    if s.len() != 32 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("trace id {s:?}: expected 32 hex digits"));
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(id)
}

/// `s` cut to `w` characters (the last one `…` when cut).
pub(crate) fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

pub(crate) fn opt_u64(v: Option<u64>) -> String {
    v.map_or("-".to_owned(), |v| v.to_string())
}

fn cost_text(c: Option<f64>) -> String {
    c.map_or("?".to_owned(), |c| format!("{c:.4}"))
}

fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

fn print_hits(out: &mut Out, hits: &[SpanHit]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<32} {:>8} {:<14} {:<16} {:<9} {:>6} {:>6} {:>7} name",
        "trace", "ms", "service", "model", "provider", "in", "out", "cost $"
    )?;
    for h in hits {
        let g = &h.genai;
        let mut name = h.span.name.clone();
        if !g.error_type.is_empty() {
            name = format!("[{}] {name}", g.error_type);
        }
        writeln!(
            out,
            "{:<32} {:>8.1} {:<14} {:<16} {:<9} {:>6} {:>6} {:>7} {}",
            hex(&h.span.trace_id),
            ms(h.span.duration_ns()),
            fit(&g.service, 14),
            fit(g.model(), 16),
            fit(&g.provider, 9),
            opt_u64(g.input_tokens),
            opt_u64(g.output_tokens),
            cost_text(g.cost_usd),
            fit(&name, 120 - 106),
        )?;
    }
    writeln!(out, "({} spans)", hits.len())
}

pub fn query(dir: &Path, now: Option<i64>, q: SpanQuery) -> CliResult {
    let db = open(dir, options(Access::Existing, now))?;
    let t0 = Instant::now();
    let hits = match &q.trace {
        Some(id) => db.spans().trace(&parse_trace_id(id)?)?,
        None => {
            let filter = SpanFilter {
                start_ns: q.start.map_or(i64::MIN, |t| t.saturating_mul(1_000_000)),
                end_ns: q.end.map_or(i64::MAX, |t| t.saturating_mul(1_000_000)),
                service: q.service,
                model: q.model,
                provider: q.provider,
                operation: q.operation,
                error_type: q.error_type,
                min_duration_ns: q.min_ms.map(|m| (m * 1e6) as i64),
                attributes: q
                    .attrs
                    .iter()
                    .map(|a| parse_attr(a))
                    .collect::<Result<_, _>>()?,
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
    let took = t0.elapsed().as_secs_f64() * 1e3;
    let mut out = stdout();
    if q.json {
        write_json(&mut out, &hits_json(&hits, q.trace.is_some()))?;
    } else {
        print_hits(&mut out, &hits)?;
        writeln!(out, "query took {took:.1} ms")?;
    }
    out.flush()?;
    close_read(db)
}

/// `strata trace`: every span of a trace, as a tree of parent links, each with its events.
pub fn trace(dir: &Path, id: &str, json: bool, now: Option<i64>) -> CliResult {
    let id = parse_trace_id(id)?;
    let db = open(dir, options(Access::Existing, now))?;
    let t0 = Instant::now();
    let hits = db.spans().trace(&id)?;
    let events = db.trace_events(&id)?;
    let took = t0.elapsed().as_secs_f64() * 1e3;
    close_read(db)?;
    if hits.is_empty() && events.is_empty() {
        return Err(format!("trace {} not found", hex(&id)).into());
    }
    let mut out = stdout();
    if json {
        write_json(&mut out, &trace_json(&hits, &events))?;
        out.flush()?;
        return Ok(());
    }
    let t_first = hits.iter().map(|h| h.span.start_ns).min().unwrap_or(0);
    let t_last = hits.iter().map(|h| h.span.end_ns).max().unwrap_or(0);
    writeln!(
        out,
        "trace {}: {} spans, {} events, {:.1} ms, {}",
        hex(&id),
        hits.len(),
        events.len(),
        ms(t_last.saturating_sub(t_first)),
        hits.first().map_or("", |h| h.genai.service.as_str())
    )?;
    writeln!(
        out,
        "{:<32} {:>8} {:>8} {:<18} {:>6} {:>6} {:>7} {:<12} span id",
        "span", "+ms", "ms", "model / tool", "in", "out", "cost $", "status"
    )?;
    print_tree(&mut out, &hits, &events, t_first)?;
    let known: std::collections::HashSet<[u8; 8]> = hits.iter().map(|h| h.span.span_id).collect();
    for e in events.iter().filter(|e| !known.contains(&e.event.span_id)) {
        print_event(&mut out, e, 0, t_first, true)?;
    }
    writeln!(out, "query took {took:.2} ms")?;
    out.flush()?;
    Ok(())
}

/// The spans of a trace as a tree (roots: spans without a parent, or whose parent is not in
/// the trace; children in start order), each followed by its events.
fn print_tree(out: &mut Out, hits: &[SpanHit], events: &[EventHit], t_first: i64) -> CliResult {
    let known: std::collections::HashSet<[u8; 8]> = hits.iter().map(|h| h.span.span_id).collect();
    let mut children: std::collections::HashMap<[u8; 8], Vec<usize>> = Default::default();
    let mut roots = Vec::new();
    for (i, h) in hits.iter().enumerate() {
        match h.span.parent_span_id {
            Some(p) if known.contains(&p) && p != h.span.span_id => {
                children.entry(p).or_default().push(i)
            }
            _ => roots.push(i),
        }
    }
    let by_start = |v: &mut Vec<usize>| v.sort_by_key(|&i| (hits[i].span.start_ns, i));
    by_start(&mut roots);
    for v in children.values_mut() {
        by_start(v);
    }
    let mut seen = vec![false; hits.len()];
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let (s, g) = (&hits[i].span, &hits[i].genai);
        let what = if !g.tool_name.is_empty() {
            g.tool_name.as_str()
        } else {
            g.model()
        };
        let status = if g.error_type.is_empty() {
            s.status_code.as_str().to_owned()
        } else {
            g.error_type.clone()
        };
        let indent = "  ".repeat(depth.min(12));
        writeln!(
            out,
            "{:<32} {:>8.1} {:>8.1} {:<18} {:>6} {:>6} {:>7} {:<12} {}",
            fit(&format!("{indent}{}", s.name), 32),
            ms(s.start_ns.saturating_sub(t_first)),
            ms(s.duration_ns()),
            fit(what, 18),
            opt_u64(g.input_tokens),
            opt_u64(g.output_tokens),
            cost_text(g.cost_usd),
            fit(&status, 12),
            hex(&s.span_id),
        )?;
        for e in events.iter().filter(|e| e.event.span_id == s.span_id) {
            print_event(out, e, depth + 1, t_first, false)?;
        }
        if let Some(c) = children.get(&s.span_id) {
            stack.extend(c.iter().rev().map(|&c| (c, depth + 1)));
        }
    }
    Ok(())
}

/// One event line under its span (or, `unlinked`, naming the span it points at).
fn print_event(
    out: &mut Out,
    e: &EventHit,
    depth: usize,
    t_first: i64,
    unlinked: bool,
) -> CliResult {
    let indent = "  ".repeat(depth.min(12));
    let name = if e.event.event_name.is_empty() {
        "(log record)"
    } else {
        &e.event.event_name
    };
    let content: Vec<&str> = e.content.iter().map(|kv| kv.key.as_str()).collect();
    let span = if unlinked {
        format!("  span {} not stored", hex(&e.event.span_id))
    } else {
        String::new()
    };
    writeln!(
        out,
        "{:<32} {:>8.1} {:>8} {:<18} {:>6} {:>6} {:>7} {:<12} content: {}{span}",
        fit(&format!("{indent}· {name}"), 32),
        ms(e.event.timestamp_ns().saturating_sub(t_first)),
        "event",
        fit(e.genai.model(), 18),
        opt_u64(e.genai.input_tokens),
        opt_u64(e.genai.output_tokens),
        "",
        fit(
            if e.genai.error_type.is_empty() {
                ""
            } else {
                &e.genai.error_type
            },
            12
        ),
        if content.is_empty() {
            "none".to_owned()
        } else {
            content.join(", ")
        },
    )?;
    Ok(())
}

/// What `strata genai` aggregates.
pub struct GenAiQuery {
    /// Comma-separated: model, provider, service, operation, agent, tool.
    pub by: String,
    /// Unix ms.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub step: Option<i64>,
    pub service: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    /// Every span, not only LLM calls (spans with a model).
    pub all: bool,
    pub json: bool,
}

/// `strata genai`: count, error rate, tokens, cost, latency and TTFT percentiles per group.
pub fn genai(dir: &Path, now: Option<i64>, q: GenAiQuery) -> CliResult {
    let mut by = Vec::new();
    for name in q.by.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let g = GroupBy::parse(name).ok_or_else(|| {
            format!("--by {name:?}: expected model, provider, service, operation, agent or tool")
        })?;
        by.push((g, name));
    }
    if by.is_empty() {
        return Err(
            "--by: name at least one of model, provider, service, operation, agent, tool".into(),
        );
    }
    if q.step.is_some_and(|s| s <= 0) {
        return Err("--step must be positive (milliseconds)".into());
    }
    let db = open(dir, options(Access::Existing, now))?;
    let agg = AggQuery {
        filter: SpanFilter {
            start_ns: q.start.map_or(i64::MIN, |t| t.saturating_mul(1_000_000)),
            end_ns: q.end.map_or(i64::MAX, |t| t.saturating_mul(1_000_000)),
            service: q.service,
            model: q.model,
            provider: q.provider,
            ..SpanFilter::default()
        },
        by: by.iter().map(|b| b.0).collect(),
        step_ns: q.step.map(|s| s.saturating_mul(1_000_000)),
        only_llm_calls: !q.all,
    };
    let t0 = Instant::now();
    let rows = db.spans().aggregate(&agg)?;
    let took = t0.elapsed().as_secs_f64() * 1e3;
    close_read(db)?;
    let mut out = stdout();
    if q.json {
        let groups: Vec<GroupBy> = by.iter().map(|b| b.0).collect();
        write_json(&mut out, &rows_json(&groups, &rows))?;
        out.flush()?;
        return Ok(());
    }
    let stepped = q.step.is_some();
    let gw = if stepped { 11 } else { 20 };
    let title: Vec<&str> = by.iter().map(|b| b.1).collect();
    let head = title.join("/");
    if stepped {
        write!(out, "{:<11} ", "step UTC")?;
    }
    writeln!(
        out,
        "{:<gw$} {:>6} {:>5} {:>9} {:>8} {:>7} {:>8} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}",
        fit(&head, gw),
        "count",
        "err%",
        "in tok",
        "out tok",
        "cached",
        "cost $",
        "lat50",
        "lat90",
        "lat95",
        "lat99",
        "ttf50",
        "ttf90",
        "ttf95",
        "ttf99",
    )?;
    let secs = |p: &Option<Percentiles>| -> [String; 4] {
        match p {
            None => ["-".into(), "-".into(), "-".into(), "-".into()],
            Some(p) => [p.p50, p.p90, p.p95, p.p99].map(|v| format!("{:.2}", v / 1e9)),
        }
    };
    for r in &rows {
        if let Some(t) = r.step_start_ns {
            write!(out, "{:<11} ", &utc_minute(t.div_euclid(1_000_000))[5..])?;
        }
        let group = r
            .group
            .iter()
            .map(|g| if g.is_empty() { "-" } else { g.as_str() })
            .collect::<Vec<_>>()
            .join("/");
        // Calls without a price or without token counts (failed calls) add nothing.
        let cost = if r.cost_unknown == r.count {
            "?".to_owned()
        } else {
            format!("{:.2}", r.cost_usd)
        };
        let [l50, l90, l95, l99] = secs(&r.latency_ns);
        let [f50, f90, f95, f99] = secs(&r.ttft_ns);
        writeln!(
            out,
            "{:<gw$} {:>6} {:>5.1} {:>9} {:>8} {:>7} {:>8} {l50:>5} {l90:>5} {l95:>5} {l99:>5} {f50:>5} {f90:>5} {f95:>5} {f99:>5}",
            fit(&group, gw),
            r.count,
            r.error_rate() * 100.0,
            r.input_tokens,
            r.output_tokens,
            r.cache_read_tokens,
            cost,
        )?;
    }
    writeln!(
        out,
        "({} groups; lat/ttf = latency/time-to-first-token percentiles in s; cost ? = no price; {took:.1} ms)",
        rows.len()
    )?;
    out.flush()?;
    Ok(())
}
