//! `strata demo`: an hour of LLM telemetry, ingested and asked the dashboard questions.
//!
//! Three services call four models of three providers every 15 s scrape: request and error
//! counters, input/output token counters, classic latency and time-to-first-token histograms
//! (OTel GenAI buckets 0.01 … 81.92 s), and GPU gauges for the self-hosted model; agent traces
//! of the same services and models. The numbers come from the test kit's seeded generators
//! (`LlmMetrics`, `TraceGen`: lognormal latencies, bursty traffic), so every run prints the
//! same answers for the same start time.

use std::io::Write;
use std::path::Path;
use std::time::Instant;
use strata_engine::query::{Matrix, eval_range};
use strata_engine::{Db, SeriesRef};

use strata_testkit::series::LlmMetrics;
use strata_testkit::spans::{
    BENCH_MODELS, BENCH_SERVICES, ModelSpec, ServiceSpec, TraceGen, prices,
};

use crate::common::{
    Access, AnyError, CliResult, any_expired, close, expired_text, open, options, stdout,
};

/// A model's last value and peak over the hour.
type ModelRow = (String, f64, f64);

const SCRAPE_MS: i64 = 15_000;
const HOUR_MS: i64 = 3_600_000;
/// The first three services of `strata bench spans` (the third sends the older GenAI names).
const SERVICES: [ServiceSpec; 3] = [BENCH_SERVICES[0], BENCH_SERVICES[1], BENCH_SERVICES[2]];
/// Four of the bench's models, of three providers (one self-hosted).
const MODELS: [ModelSpec; 4] = [
    BENCH_MODELS[0],
    BENCH_MODELS[1],
    BENCH_MODELS[2],
    BENCH_MODELS[5],
];

pub fn run(dir: &Path, now: Option<i64>) -> CliResult {
    let db = open(dir, options(Access::Create, now))?;
    // "The last hour" by the database's clock (`--now` pins it), the one the engine's
    // retention and future bound read too.
    let now = db.options().clock.now_ms();
    let end = now - now.rem_euclid(SCRAPE_MS);
    // Continue after what an earlier demo run stored, so the demo can run again on one directory.
    let newest = db.stats()?.max_time_ms.unwrap_or(i64::MIN);
    let start =
        (end - HOUR_MS).max(newest.saturating_add(SCRAPE_MS) - newest.rem_euclid(SCRAPE_MS));
    let services = SERVICES.map(|(s, ..)| s);
    let mut metrics = LlmMetrics::new(0x0000_05EE_D0F5_7A7A ^ (start as u64), &services, &MODELS);
    let t0 = Instant::now();
    let mut refs: Vec<SeriesRef> = Vec::new();
    let mut samples = 0usize;
    let mut t = start;
    while t <= end {
        let minute = ((t - start) / 60_000) as f64;
        // Traffic swells and ebbs over the hour, with a burst at minute 40.
        let load = 1.0
            + 0.5 * (minute / 60.0 * std::f64::consts::TAU).sin()
            + if (38.0..44.0).contains(&minute) {
                1.5
            } else {
                0.0
            };
        metrics.scrape(load);
        if refs.is_empty() {
            for labels in metrics.labels() {
                refs.push(db.series_ref(labels)?);
            }
        }
        let out = db.append_batch(&refs, &vec![t; refs.len()], &metrics.values())?;
        if let Some((_, e)) = out.rejected.first() {
            return Err(format!("demo sample refused: {e}").into());
        }
        samples += out.accepted;
        t += SCRAPE_MS;
    }
    db.sync()?;
    let mut out = stdout();
    writeln!(
        out,
        "ingested {samples} samples of {} series ({} services × {} models) in {:.0} ms\n",
        refs.len(),
        SERVICES.len(),
        MODELS.len(),
        t0.elapsed().as_secs_f64() * 1e3
    )?;
    out.flush()?;

    let q0 = Instant::now();
    let step = 60_000;
    let (qs, qe) = (end - HOUR_MS + 5 * 60_000, end);
    let by_model = |expr: &str| -> Result<Vec<ModelRow>, AnyError> {
        let m: Matrix = eval_range(&db, expr, qs, qe, step)?;
        Ok(m.iter()
            .map(|s| {
                let model = s.labels.get("model").unwrap_or("").to_owned();
                let last = s.points.last().map_or(f64::NAN, |p| p.1);
                let peak = s.points.iter().map(|p| p.1).fold(f64::NAN, f64::max);
                (model, last, peak)
            })
            .collect())
    };
    let p95 = by_model(
        "histogram_quantile(0.95, sum by (le, model) (rate(gen_ai_client_operation_duration_seconds_bucket[5m])))",
    )?;
    let ttft = by_model(
        "histogram_quantile(0.95, sum by (le, model) (rate(gen_ai_server_time_to_first_token_seconds_bucket[5m])))",
    )?;
    let out_rate = by_model("sum by (model) (rate(llm_output_tokens_total[5m]))")?;
    let in_rate = by_model("sum by (model) (rate(llm_input_tokens_total[5m]))")?;
    let errors = by_model(
        "sum by (model) (rate(llm_errors_total[5m])) / sum by (model) (rate(llm_requests_total[5m]))",
    )?;
    let hour_in = eval_range(
        &db,
        "sum by (model) (increase(llm_input_tokens_total[1h]))",
        qe,
        qe,
        step,
    )?;
    let hour_out = eval_range(
        &db,
        "sum by (model) (increase(llm_output_tokens_total[1h]))",
        qe,
        qe,
        step,
    )?;
    let query_ms = q0.elapsed().as_secs_f64() * 1e3;

    let find = |rows: &[(String, f64, f64)], m: &str| {
        rows.iter()
            .find(|r| r.0 == m)
            .map_or((f64::NAN, f64::NAN), |r| (r.1, r.2))
    };
    let at_end = |m: &Matrix, model: &str| {
        m.iter()
            .find(|s| s.labels.get("model") == Some(model))
            .and_then(|s| s.points.last())
            .map_or(0.0, |p| p.1)
    };
    writeln!(
        out,
        "Latency and time to first token by model (p95 over 5 m windows; last value, peak of the hour)"
    )?;
    writeln!(
        out,
        "{:<18} {:>12} {:>12} {:>12} {:>12}",
        "model", "p95 s", "p95 peak s", "TTFT p95 s", "TTFT peak s"
    )?;
    for (m, ..) in MODELS {
        let (l, lp) = find(&p95, m);
        let (f, fp) = find(&ttft, m);
        writeln!(out, "{m:<18} {l:>12.2} {lp:>12.2} {f:>12.2} {fp:>12.2}")?;
    }
    writeln!(
        out,
        "\nTokens and estimated cost by model (rates over 5 m windows; totals over the hour)"
    )?;
    writeln!(
        out,
        "{:<18} {:>10} {:>10} {:>12} {:>12} {:>10}",
        "model", "in tok/s", "out tok/s", "in tokens", "out tokens", "cost $"
    )?;
    for (m, _, _, _, _, price_in, price_out) in MODELS {
        let (i, _) = find(&in_rate, m);
        let (o, _) = find(&out_rate, m);
        let (ti, to) = (at_end(&hour_in, m), at_end(&hour_out, m));
        let cost = ti / 1e6 * price_in + to / 1e6 * price_out;
        writeln!(
            out,
            "{m:<18} {i:>10.1} {o:>10.1} {ti:>12.0} {to:>12.0} {cost:>10.2}"
        )?;
    }
    writeln!(
        out,
        "\nError rate by model (errors / requests over 5 m windows)"
    )?;
    writeln!(out, "{:<18} {:>10} {:>10}", "model", "last %", "peak %")?;
    for (m, ..) in MODELS {
        let (e, ep) = find(&errors, m);
        writeln!(out, "{m:<18} {:>10.2} {:>10.2}", e * 100.0, ep * 100.0)?;
    }
    out.flush()?;
    let stats = db.stats()?;
    let spans_out = demo_spans(&db, start, end)?;
    writeln!(
        out,
        "\n7 queries over {} series in {query_ms:.0} ms. Database {}: {} series, {} samples, WAL {} bytes.",
        refs.len(),
        dir.display(),
        stats.series,
        stats.samples,
        stats.wal_bytes
    )?;
    write!(out, "{spans_out}")?;
    let expired = close(db)?;
    if any_expired(&expired) {
        writeln!(
            out,
            "\nRetention deleted older data of {} meanwhile: {}",
            dir.display(),
            expired_text(&expired)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Agent traces over the demo's hour `[start, end]` ms (the same services and models), then the
/// slowest and failed LLM calls and cost by model, from the spans. Returns the printed section.
fn demo_spans(db: &Db, start: i64, end: i64) -> Result<String, AnyError> {
    use std::fmt::Write;
    use strata_engine::spans::{AggQuery, GroupBy, Order, SpanFilter, StatusCode};

    db.spans().set_prices(prices(&MODELS))?;
    let mut tg = TraceGen::new(0x0000_0DE3_0005_9A45 ^ (start as u64), &SERVICES, &MODELS);
    let t0 = Instant::now();
    let traces = 3_000i64;
    let (s_ns, e_ns) = (start * 1_000_000, end * 1_000_000);
    let gap = ((e_ns - s_ns) / traces).max(1);
    let mut spans = Vec::with_capacity(traces as usize * 6);
    let mut t = s_ns;
    while t < e_ns - 120_000_000_000 {
        tg.trace(t, 0.1, &mut spans);
        t += gap;
    }
    let appended = db.append_spans(&spans)?;
    if let Some(why) = appended.first_rejection {
        return Err(format!("demo span refused: {why}").into());
    }
    db.sync()?;
    let mut out = String::new();
    writeln!(
        out,
        "\nIngested {} spans in {} agent traces ({} services x {} models) in {:.0} ms",
        spans.len(),
        tg.traces(),
        SERVICES.len(),
        MODELS.len(),
        t0.elapsed().as_secs_f64() * 1e3
    )?;
    let q0 = Instant::now();
    let hour = SpanFilter {
        start_ns: s_ns,
        end_ns: e_ns + 1,
        operation: Some("chat".into()),
        ..SpanFilter::default()
    };
    let slowest = db.spans().find(&SpanFilter {
        order: Order::Slowest,
        limit: 5,
        ..hour.clone()
    })?;
    let failed = db.spans().find(&SpanFilter {
        status: Some(StatusCode::Error),
        order: Order::Newest,
        limit: usize::MAX,
        ..hour.clone()
    })?;
    let by_model = db.spans().aggregate(&AggQuery {
        filter: SpanFilter {
            operation: None,
            ..hour.clone()
        },
        by: vec![GroupBy::Model],
        step_ns: None,
        only_llm_calls: true,
    })?;
    let query_ms = q0.elapsed().as_secs_f64() * 1e3;
    let line = |out: &mut String, h: &strata_engine::spans::SpanHit| -> std::fmt::Result {
        let g = &h.genai;
        writeln!(
            out,
            "{:<32} {:<18} {:<18} {:>8.2} {:>7} {:>7}  {}",
            strata_engine::spans::hex(&h.span.trace_id),
            g.service,
            g.model(),
            h.span.duration_ns() as f64 / 1e9,
            g.input_tokens.map_or("-".into(), |v| v.to_string()),
            g.output_tokens.map_or("-".into(), |v| v.to_string()),
            if g.error_type.is_empty() {
                "ok"
            } else {
                &g.error_type
            },
        )
    };
    let header = format!(
        "{:<32} {:<18} {:<18} {:>8} {:>7} {:>7}  {}",
        "trace", "service", "model", "s", "in", "out", "status"
    );
    writeln!(out, "\nSlowest LLM calls of the hour (from spans)")?;
    writeln!(out, "{header}")?;
    for h in &slowest {
        line(&mut out, h)?;
    }
    writeln!(
        out,
        "\nFailed LLM calls: {} (the 5 newest; `strata trace --db DIR ID` shows one whole)",
        failed.len()
    )?;
    writeln!(out, "{header}")?;
    for h in failed.iter().take(5) {
        line(&mut out, h)?;
    }
    writeln!(
        out,
        "\nCost by model (from spans; price table per million tokens)"
    )?;
    writeln!(
        out,
        "{:<18} {:>7} {:>6} {:>11} {:>11} {:>10} {:>9} {:>9}",
        "model", "calls", "err%", "in tokens", "out tokens", "cost $", "p95 s", "TTFT p95"
    )?;
    for r in &by_model {
        let p95 = |p: &Option<strata_engine::spans::Percentiles>| {
            p.as_ref()
                .map_or("-".into(), |p| format!("{:.2}", p.p95 / 1e9))
        };
        writeln!(
            out,
            "{:<18} {:>7} {:>6.2} {:>11} {:>11} {:>10.2} {:>9} {:>9}",
            r.group.first().map_or("", String::as_str),
            r.count,
            r.error_rate() * 100.0,
            r.input_tokens,
            r.output_tokens,
            r.cost_usd,
            p95(&r.latency_ns),
            p95(&r.ttft_ns),
        )?;
    }
    writeln!(out, "\n3 span queries in {query_ms:.1} ms.")?;
    Ok(out)
}
