//! `strata bench spans`: realistic GenAI agent traces, ingested through `Db::append_spans_owned`
//! (WAL on), sealed, and asked the questions of the dashboards. Also the trace generator of
//! `strata demo`.
//!
//! A trace is an agent run: an `invoke_agent` root span, one to four LLM calls (`chat`), and
//! tool calls (`execute_tool`) between them. Services are instrumented differently: some send
//! the current GenAI names (`gen_ai.provider.name`, `gen_ai.usage.input_tokens`, …), others
//! the older ones (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, …). About 2 % of LLM calls
//! fail (rate limits, server errors); a few spans carry prompt and completion content.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Access, CliResult, open, options, stdout};
use strata_engine::spans::{
    AggQuery, AttrValue, GroupBy, KeyValue, ModelPrice, Order, PriceTable, Span, SpanFilter,
    StatusCode,
};

/// One model: name, provider, median latency s, median TTFT s, median output tokens,
/// $/M input, $/M output.
pub type ModelSpec = (&'static str, &'static str, f64, f64, f64, f64, f64);

/// One service: name, agent name, whether it sends the older GenAI attribute names.
pub type ServiceSpec = (&'static str, &'static str, bool);

pub const BENCH_SERVICES: [ServiceSpec; 4] = [
    ("chat-api", "assistant", false),
    ("agent-runner", "planner", false),
    ("search-assistant", "researcher", true),
    ("support-bot", "support-agent", true),
];

pub const BENCH_MODELS: [ModelSpec; 6] = [
    ("gpt-4o", "openai", 2.4, 0.45, 420.0, 2.50, 10.00),
    ("gpt-4o-mini", "openai", 1.1, 0.25, 380.0, 0.15, 0.60),
    (
        "claude-sonnet-4",
        "anthropic",
        3.1,
        0.60,
        510.0,
        3.00,
        15.00,
    ),
    (
        "claude-3-5-haiku",
        "anthropic",
        1.3,
        0.30,
        300.0,
        0.80,
        4.00,
    ),
    (
        "gemini-2.0-flash",
        "gcp.gemini",
        1.0,
        0.20,
        350.0,
        0.10,
        0.40,
    ),
    ("llama-3.1-70b", "vllm", 1.8, 0.30, 300.0, 0.0, 0.0),
];

const TOOLS: [&str; 5] = [
    "web_search",
    "vector_lookup",
    "sql_query",
    "get_weather",
    "send_email",
];

/// The price table of `models` (cached input at half the input price).
pub fn prices(models: &[ModelSpec]) -> PriceTable {
    let mut t = PriceTable::default();
    for &(m, _, _, _, _, pin, pout) in models {
        t.set(
            m,
            ModelPrice {
                input_per_mtok: pin,
                output_per_mtok: pout,
                cached_input_per_mtok: Some(pin / 2.0),
            },
        );
    }
    t
}

/// splitmix64: seeded ids and draws.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seeded generator of agent traces.
pub struct TraceGen {
    state: u64,
    services: Vec<ServiceSpec>,
    models: Vec<ModelSpec>,
    resources: Vec<Vec<KeyValue>>,
    /// Per model: (response model, span name).
    model_names: Vec<(String, String)>,
    traces: u64,
}

impl TraceGen {
    pub fn new(seed: u64, services: &[ServiceSpec], models: &[ModelSpec]) -> TraceGen {
        let resources = services
            .iter()
            .map(|&(name, _, legacy)| {
                vec![
                    KeyValue::new("service.name", AttrValue::Str(name.into())),
                    KeyValue::new("service.version", AttrValue::Str("1.4.2".into())),
                    KeyValue::new("deployment.environment", AttrValue::Str("prod".into())),
                    KeyValue::new("telemetry.sdk.language", AttrValue::Str("python".into())),
                    KeyValue::new(
                        "telemetry.sdk.version",
                        AttrValue::Str(if legacy { "1.22.0" } else { "1.38.0" }.into()),
                    ),
                ]
            })
            .collect();
        let model_names = models
            .iter()
            .map(|&(m, ..)| (format!("{m}-2025-01-01"), format!("chat {m}")))
            .collect();
        TraceGen {
            state: seed,
            services: services.to_vec(),
            models: models.to_vec(),
            resources,
            model_names,
            traces: 0,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(1);
        mix(self.state)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Lognormal around `median` with shape `sigma` (Box–Muller).
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        let (u1, u2) = (self.next_f64().max(1e-12), self.next_f64());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        median * (sigma * z).exp()
    }

    /// Traces generated so far.
    pub fn traces(&self) -> u64 {
        self.traces
    }

    /// Appends one agent trace starting at `start_ns` to `out`; returns its trace id.
    /// `content_share` is the fraction of LLM calls carrying prompt and completion text.
    pub fn trace(&mut self, start_ns: i64, content_share: f64, out: &mut Vec<Span>) -> [u8; 16] {
        self.traces += 1;
        let svc = self.below(self.services.len());
        let (_, agent, legacy) = self.services[svc];
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        trace_id[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        let root_id = self.next_u64().to_be_bytes();
        let root_at = out.len();
        let resource = self.resources[svc].clone();
        let str_kv = |k: &str, v: &str| KeyValue::new(k, AttrValue::Str(v.to_owned()));
        out.push(Span {
            trace_id,
            span_id: root_id,
            parent_span_id: None,
            name: format!("invoke_agent {agent}"),
            kind: 2,
            start_ns,
            end_ns: start_ns,
            status_code: StatusCode::Unset,
            resource: resource.clone(),
            scope: "strata.bench.agent".into(),
            attributes: vec![
                str_kv("gen_ai.operation.name", "invoke_agent"),
                str_kv("gen_ai.agent.name", agent),
            ],
            ..Span::default()
        });
        // Each service prefers two models, and sometimes calls another.
        let llm_calls = 1 + self.below(4);
        let mut t = start_ns + (1e6 * (1.0 + 4.0 * self.next_f64())) as i64;
        let mut failed = false;
        for call in 0..llm_calls {
            let m = if self.next_f64() < 0.8 {
                (svc + self.below(2)) % self.models.len()
            } else {
                self.below(self.models.len())
            };
            let (model, provider, lat, ttft, out_tok, ..) = self.models[m];
            let latency_s = self.lognormal(lat, 0.45);
            let dur = (latency_s * 1e9) as i64;
            let streaming = self.next_f64() < 0.6;
            let error = self.next_f64() < 0.02;
            let input = (600.0 + 2400.0 * self.next_f64()).round() as i64;
            let mut attrs = Vec::with_capacity(12);
            attrs.push(str_kv(
                if legacy {
                    "llm.request.type"
                } else {
                    "gen_ai.operation.name"
                },
                "chat",
            ));
            attrs.push(str_kv(
                if legacy {
                    "gen_ai.system"
                } else {
                    "gen_ai.provider.name"
                },
                provider,
            ));
            attrs.push(str_kv("gen_ai.request.model", model));
            attrs.push(KeyValue::new(
                "gen_ai.request.temperature",
                AttrValue::Double(0.2),
            ));
            attrs.push(KeyValue::new(
                if legacy {
                    "llm.is_streaming"
                } else {
                    "gen_ai.is_streaming"
                },
                AttrValue::Bool(streaming),
            ));
            let (in_key, out_key) = if legacy {
                (
                    "gen_ai.usage.prompt_tokens",
                    "gen_ai.usage.completion_tokens",
                )
            } else {
                ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")
            };
            let (status, end) = if error {
                failed = true;
                let rate_limited = self.next_f64() < 0.7;
                let kind = if rate_limited {
                    "rate_limit"
                } else {
                    "server_error"
                };
                attrs.push(str_kv("error.type", kind));
                let end = t + dur / 10;
                (StatusCode::Error, end)
            } else {
                let output = self.lognormal(out_tok, 0.5).round().max(1.0) as i64;
                attrs.push(str_kv("gen_ai.response.model", &self.model_names[m].0));
                attrs.push(KeyValue::new(in_key, AttrValue::Int(input)));
                attrs.push(KeyValue::new(out_key, AttrValue::Int(output)));
                if !legacy && self.next_f64() < 0.3 {
                    let cached = (input as f64 * 0.5 * self.next_f64()).round() as i64;
                    attrs.push(KeyValue::new(
                        "gen_ai.usage.cache_read.input_tokens",
                        AttrValue::Int(cached),
                    ));
                }
                let tool_next = call + 1 < llm_calls;
                attrs.push(KeyValue::new(
                    "gen_ai.response.finish_reasons",
                    AttrValue::Array(vec![AttrValue::Str(
                        if tool_next { "tool_calls" } else { "stop" }.into(),
                    )]),
                ));
                if streaming {
                    let f = self.lognormal(ttft, 0.35).min(latency_s);
                    attrs.push(KeyValue::new(
                        "gen_ai.server.time_to_first_token",
                        AttrValue::Double((f * 1e3).round() / 1e3),
                    ));
                }
                if self.next_f64() < content_share {
                    if legacy {
                        attrs.push(str_kv("gen_ai.prompt.0.role", "user"));
                        attrs.push(str_kv(
                            "gen_ai.prompt.0.content",
                            "Summarise the open incidents of the payments service this week.",
                        ));
                        attrs.push(str_kv("gen_ai.completion.0.role", "assistant"));
                        attrs.push(str_kv(
                            "gen_ai.completion.0.content",
                            "Three incidents are open: a latency regression in checkout, a \
                             failing card-token refresh job, and a noisy disk alert.",
                        ));
                    } else {
                        attrs.push(str_kv(
                            "gen_ai.input.messages",
                            r#"[{"role":"user","parts":[{"type":"text","content":"Find flights from Paris to Oslo next Friday under 300 EUR."}]}]"#,
                        ));
                        attrs.push(str_kv(
                            "gen_ai.output.messages",
                            r#"[{"role":"assistant","parts":[{"type":"text","content":"Two direct flights match: SK 834 at 07:10 (212 EUR) and AF 1174 at 18:25 (267 EUR)."}],"finish_reason":"stop"}]"#,
                        ));
                    }
                }
                (StatusCode::Ok, t + dur)
            };
            out.push(Span {
                trace_id,
                span_id: self.next_u64().to_be_bytes(),
                parent_span_id: Some(root_id),
                name: self.model_names[m].1.clone(),
                kind: 3,
                start_ns: t,
                end_ns: end,
                status_code: status,
                status_message: if error {
                    "upstream error".into()
                } else {
                    String::new()
                },
                resource: resource.clone(),
                scope: if legacy {
                    "opentelemetry.instrumentation.openai.v1".into()
                } else {
                    "opentelemetry.instrumentation.genai".into()
                },
                attributes: attrs,
                ..Span::default()
            });
            t = end + (1e6 * (0.5 + 2.0 * self.next_f64())) as i64;
            if error {
                break;
            }
            if call + 1 < llm_calls && self.next_f64() < 0.8 {
                let tool = TOOLS[self.below(TOOLS.len())];
                let dur = (self.lognormal(0.15, 0.8) * 1e9) as i64;
                let tool_error = self.next_f64() < 0.01;
                let mut attrs = vec![
                    str_kv("gen_ai.operation.name", "execute_tool"),
                    str_kv("gen_ai.tool.name", tool),
                    str_kv("gen_ai.tool.type", "function"),
                ];
                if tool_error {
                    attrs.push(str_kv("error.type", "timeout"));
                }
                out.push(Span {
                    trace_id,
                    span_id: self.next_u64().to_be_bytes(),
                    parent_span_id: Some(root_id),
                    name: format!("execute_tool {tool}"),
                    kind: 1,
                    start_ns: t,
                    end_ns: t + dur,
                    status_code: if tool_error {
                        StatusCode::Error
                    } else {
                        StatusCode::Ok
                    },
                    resource: resource.clone(),
                    scope: "strata.bench.tools".into(),
                    attributes: attrs,
                    ..Span::default()
                });
                t += dur + (1e6 * (0.5 + 2.0 * self.next_f64())) as i64;
            }
        }
        let root = &mut out[root_at];
        root.end_ns = t;
        if failed {
            root.status_code = StatusCode::Error;
            root.attributes.push(KeyValue::new(
                "error.type",
                AttrValue::Str("llm_error".into()),
            ));
        } else {
            root.status_code = StatusCode::Ok;
        }
        trace_id
    }
}

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
