//! `strata events`: events (OTLP log records, GenAI events) by trace, span, service, model,
//! provider, name, time and attributes; a table (oldest first), or `--json`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use strata_engine::spans::EventFilter;
use strata_engine::spans::events_json::events_json;

use crate::common::{Access, CliResult, close_read, open, options, stdout, utc_minute, write_json};
use crate::otlp::{fit, hex, opt_u64, parse_attr, parse_trace_id};

/// The arguments of `strata events`.
#[derive(Args, Debug)]
pub struct EventsArgs {
    #[arg(long)]
    pub db: PathBuf,
    /// Events of this trace (32 hex digits).
    #[arg(long)]
    pub trace: Option<String>,
    /// Events of this span (16 hex digits; with `--trace`).
    #[arg(long)]
    pub span: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    /// Request model, else response model.
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub operation: Option<String>,
    /// Event name (`gen_ai.client.inference.operation.details`, …).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long = "error-type")]
    pub error_type: Option<String>,
    /// Start of the time range, Unix ms.
    #[arg(long)]
    pub start: Option<i64>,
    /// End of the time range (exclusive), Unix ms.
    #[arg(long)]
    pub end: Option<i64>,
    /// An attribute condition (event attribute, else resource attribute, by its text):
    /// `KEY=VALUE`, `KEY!=VALUE`, `KEY=~REGEX`, `KEY!~REGEX`; repeatable (all must hold).
    #[arg(long = "attr")]
    pub attrs: Vec<String>,
    /// The newest N events (all of a trace's with `--trace`).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Also show the stored content (input/output messages, …).
    #[arg(long)]
    pub content: bool,
    /// Print JSON (one array of events) instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_span_id(s: &str) -> Result<[u8; 8], String> {
    let s = s.trim();
    let bad = || format!("span id {s:?}: expected 16 hex digits");
    if s.len() != 16 || !s.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 8];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn filter(a: &EventsArgs) -> Result<EventFilter, String> {
    if a.span.is_some() && a.trace.is_none() {
        return Err("--span needs --trace".into());
    }
    Ok(EventFilter {
        start_ns: a.start.map_or(i64::MIN, |t| t.saturating_mul(1_000_000)),
        end_ns: a.end.map_or(i64::MAX, |t| t.saturating_mul(1_000_000)),
        trace_id: a.trace.as_deref().map(parse_trace_id).transpose()?,
        span_id: a.span.as_deref().map(parse_span_id).transpose()?,
        service: a.service.clone(),
        model: a.model.clone(),
        provider: a.provider.clone(),
        operation: a.operation.clone(),
        event_name: a.name.clone(),
        error_type: a.error_type.clone(),
        attributes: a
            .attrs
            .iter()
            .map(|x| parse_attr(x))
            .collect::<Result<_, _>>()?,
        with_content: a.content || a.json,
        limit: a.limit,
    })
}

/// `strata events`.
pub fn run(a: EventsArgs, now: Option<i64>) -> CliResult {
    let f = filter(&a)?;
    let db = open(&a.db, options(Access::Existing, now))?;
    let t0 = Instant::now();
    let hits = db.find_events(&f)?;
    let took = t0.elapsed().as_secs_f64() * 1e3;
    close_read(db)?;
    let mut out = stdout();
    if a.json {
        write_json(&mut out, &events_json(&hits))?;
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<16} {:<28} {:<14} {:<16} {:>6} {:>6} {:<14} {:<32} span id",
        "time (UTC)", "event", "service", "model", "in", "out", "error", "trace id"
    )?;
    for h in &hits {
        let (e, g) = (&h.event, &h.genai);
        writeln!(
            out,
            "{:<16} {:<28} {:<14} {:<16} {:>6} {:>6} {:<14} {:<32} {}",
            utc_minute(e.timestamp_ns().div_euclid(1_000_000)),
            fit(&e.event_name, 28),
            fit(&g.service, 14),
            fit(g.model(), 16),
            opt_u64(g.input_tokens),
            opt_u64(g.output_tokens),
            fit(&g.error_type, 14),
            hex(&e.trace_id),
            hex(&e.span_id),
        )?;
        if a.content {
            for kv in &h.content {
                let v = strata_engine::spans::json::attr_json(&kv.value);
                writeln!(out, "    {}: {v}", kv.key)?;
            }
        }
    }
    writeln!(out, "{} events; query took {took:.1} ms", hits.len())?;
    out.flush()?;
    Ok(())
}
