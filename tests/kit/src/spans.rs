//! Generated spans: [`TraceGen`], seeded GenAI agent traces (the data of `strata bench spans`,
//! `strata bench mixed`, `strata demo` and the bulk of the span-partition fuzz template), and
//! [`numbered_span`], spans rebuilt from their number alone (what a crash test's parent
//! expects its killed child to have written).
//!
//! A trace is an agent run: an `invoke_agent` root span, one to four LLM calls (`chat`), and
//! tool calls (`execute_tool`) between them. Services are instrumented differently: some send
//! the current GenAI names (`gen_ai.provider.name`, `gen_ai.usage.input_tokens`, …), others
//! the older ones (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, …). About 2 % of LLM calls
//! fail (rate limits, server errors); a share of them carries prompt and completion content.
//!
//! The same seed and specs give the same spans, bit for bit: published bench figures rest on
//! that, so a change to the draws here is a change to those figures.

use crate::rng::{Draw, Rng};
use strata_spans::{AttrValue, KeyValue, ModelPrice, PriceTable, Span, StatusCode};

/// One model: name, provider, median latency s, median TTFT s, median output tokens,
/// $/M input, $/M output.
pub type ModelSpec = (&'static str, &'static str, f64, f64, f64, f64, f64);

/// One service: name, agent name, whether it sends the older GenAI attribute names.
pub type ServiceSpec = (&'static str, &'static str, bool);

/// The services of `strata bench spans` (the demo uses the first three).
pub const BENCH_SERVICES: [ServiceSpec; 4] = [
    ("chat-api", "assistant", false),
    ("agent-runner", "planner", false),
    ("search-assistant", "researcher", true),
    ("support-bot", "support-agent", true),
];

/// The models of `strata bench spans`, with list prices.
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

fn str_kv(k: &str, v: &str) -> KeyValue {
    KeyValue::new(k, AttrValue::Str(v.to_owned()))
}

/// The trace being generated: what its child spans share.
struct Run {
    trace_id: [u8; 16],
    root_id: [u8; 8],
    service: usize,
    legacy: bool,
    resource: Vec<KeyValue>,
}

/// Seeded generator of agent traces.
#[derive(Debug, Clone)]
pub struct TraceGen {
    rng: Rng,
    services: Vec<ServiceSpec>,
    models: Vec<ModelSpec>,
    resources: Vec<Vec<KeyValue>>,
    /// Per model: (response model, span name).
    model_names: Vec<(String, String)>,
    traces: u64,
}

impl TraceGen {
    /// Traces of `services` calling `models` (both non-empty), drawn from `seed`.
    pub fn new(seed: u64, services: &[ServiceSpec], models: &[ModelSpec]) -> TraceGen {
        let resources = services
            .iter()
            .map(|&(name, _, legacy)| {
                vec![
                    str_kv("service.name", name),
                    str_kv("service.version", "1.4.2"),
                    str_kv("deployment.environment", "prod"),
                    str_kv("telemetry.sdk.language", "python"),
                    str_kv(
                        "telemetry.sdk.version",
                        if legacy { "1.22.0" } else { "1.38.0" },
                    ),
                ]
            })
            .collect();
        let model_names = models
            .iter()
            .map(|&(m, ..)| (format!("{m}-2025-01-01"), format!("chat {m}")))
            .collect();
        TraceGen {
            rng: Rng::new(seed),
            services: services.to_vec(),
            models: models.to_vec(),
            resources,
            model_names,
            traces: 0,
        }
    }

    /// Traces generated so far.
    pub fn traces(&self) -> u64 {
        self.traces
    }

    /// Appends one agent trace starting at `start_ns` to `out`; returns its trace id.
    /// `content_share` is the fraction of LLM calls carrying prompt and completion text.
    pub fn trace(&mut self, start_ns: i64, content_share: f64, out: &mut Vec<Span>) -> [u8; 16] {
        self.traces += 1;
        let service = self.rng.index(self.services.len());
        let (_, agent, legacy) = self.services[service];
        let run = Run {
            trace_id: self.rng.id(),
            root_id: self.rng.id(),
            service,
            legacy,
            resource: self.resources[service].clone(),
        };
        let root_at = out.len();
        out.push(Span {
            trace_id: run.trace_id,
            span_id: run.root_id,
            parent_span_id: None,
            name: format!("invoke_agent {agent}"),
            kind: 2,
            start_ns,
            end_ns: start_ns,
            status_code: StatusCode::Unset,
            resource: run.resource.clone(),
            scope: "strata.bench.agent".into(),
            attributes: vec![
                str_kv("gen_ai.operation.name", "invoke_agent"),
                str_kv("gen_ai.agent.name", agent),
            ],
            ..Span::default()
        });
        let llm_calls = 1 + self.rng.index(4);
        let mut t = start_ns + (1e6 * (1.0 + 4.0 * self.rng.next_f64())) as i64;
        let mut failed = false;
        for call in 0..llm_calls {
            let more = call + 1 < llm_calls;
            let span = self.llm_call(&run, t, more, content_share);
            let error = span.status_code == StatusCode::Error;
            t = span.end_ns + (1e6 * (0.5 + 2.0 * self.rng.next_f64())) as i64;
            out.push(span);
            if error {
                failed = true;
                break;
            }
            if more && self.rng.next_f64() < 0.8 {
                let span = self.tool_call(&run, t);
                t = span.end_ns + (1e6 * (0.5 + 2.0 * self.rng.next_f64())) as i64;
                out.push(span);
            }
        }
        let root = &mut out[root_at];
        root.end_ns = t;
        if failed {
            root.status_code = StatusCode::Error;
            root.attributes.push(str_kv("error.type", "llm_error"));
        } else {
            root.status_code = StatusCode::Ok;
        }
        run.trace_id
    }

    /// One LLM call starting at `t`; `more`: another call follows (its finish reason is a
    /// tool call). Each service prefers two models, and sometimes calls another. A failed
    /// call has status `Error`.
    fn llm_call(&mut self, run: &Run, t: i64, more: bool, content_share: f64) -> Span {
        let m = if self.rng.next_f64() < 0.8 {
            (run.service + self.rng.index(2)) % self.models.len()
        } else {
            self.rng.index(self.models.len())
        };
        let (model, provider, lat, ttft, out_tok, ..) = self.models[m];
        let legacy = run.legacy;
        let latency_s = self.rng.lognormal(lat, 0.45);
        let dur = (latency_s * 1e9) as i64;
        let streaming = self.rng.next_f64() < 0.6;
        let error = self.rng.next_f64() < 0.02;
        let input = (600.0 + 2400.0 * self.rng.next_f64()).round() as i64;
        let mut attrs = Vec::with_capacity(12);
        let (op_key, provider_key, streaming_key) = if legacy {
            ("llm.request.type", "gen_ai.system", "llm.is_streaming")
        } else {
            (
                "gen_ai.operation.name",
                "gen_ai.provider.name",
                "gen_ai.is_streaming",
            )
        };
        attrs.push(str_kv(op_key, "chat"));
        attrs.push(str_kv(provider_key, provider));
        attrs.push(str_kv("gen_ai.request.model", model));
        attrs.push(KeyValue::new(
            "gen_ai.request.temperature",
            AttrValue::Double(0.2),
        ));
        attrs.push(KeyValue::new(streaming_key, AttrValue::Bool(streaming)));
        let (status, end) = if error {
            let kind = if self.rng.next_f64() < 0.7 {
                "rate_limit"
            } else {
                "server_error"
            };
            attrs.push(str_kv("error.type", kind));
            (StatusCode::Error, t + dur / 10)
        } else {
            let output = self.rng.lognormal(out_tok, 0.5).round().max(1.0) as i64;
            self.usage(&mut attrs, m, legacy, input, output);
            attrs.push(KeyValue::new(
                "gen_ai.response.finish_reasons",
                AttrValue::Array(vec![AttrValue::Str(
                    if more { "tool_calls" } else { "stop" }.into(),
                )]),
            ));
            if streaming {
                let f = self.rng.lognormal(ttft, 0.35).min(latency_s);
                attrs.push(KeyValue::new(
                    "gen_ai.server.time_to_first_token",
                    AttrValue::Double((f * 1e3).round() / 1e3),
                ));
            }
            if self.rng.next_f64() < content_share {
                content(&mut attrs, legacy);
            }
            (StatusCode::Ok, t + dur)
        };
        Span {
            trace_id: run.trace_id,
            span_id: self.rng.id(),
            parent_span_id: Some(run.root_id),
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
            resource: run.resource.clone(),
            scope: if legacy {
                "opentelemetry.instrumentation.openai.v1".into()
            } else {
                "opentelemetry.instrumentation.genai".into()
            },
            attributes: attrs,
            ..Span::default()
        }
    }

    /// The response model and token counts of a successful call to model `m`.
    fn usage(
        &mut self,
        attrs: &mut Vec<KeyValue>,
        m: usize,
        legacy: bool,
        input: i64,
        output: i64,
    ) {
        let (in_key, out_key) = if legacy {
            (
                "gen_ai.usage.prompt_tokens",
                "gen_ai.usage.completion_tokens",
            )
        } else {
            ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")
        };
        attrs.push(str_kv("gen_ai.response.model", &self.model_names[m].0));
        attrs.push(KeyValue::new(in_key, AttrValue::Int(input)));
        attrs.push(KeyValue::new(out_key, AttrValue::Int(output)));
        if !legacy && self.rng.next_f64() < 0.3 {
            let cached = (input as f64 * 0.5 * self.rng.next_f64()).round() as i64;
            attrs.push(KeyValue::new(
                "gen_ai.usage.cache_read.input_tokens",
                AttrValue::Int(cached),
            ));
        }
    }

    /// A tool call starting at `t`; about 1 % time out.
    fn tool_call(&mut self, run: &Run, t: i64) -> Span {
        let tool = *self.rng.pick(&TOOLS);
        let dur = (self.rng.lognormal(0.15, 0.8) * 1e9) as i64;
        let tool_error = self.rng.next_f64() < 0.01;
        let mut attrs = vec![
            str_kv("gen_ai.operation.name", "execute_tool"),
            str_kv("gen_ai.tool.name", tool),
            str_kv("gen_ai.tool.type", "function"),
        ];
        if tool_error {
            attrs.push(str_kv("error.type", "timeout"));
        }
        Span {
            trace_id: run.trace_id,
            span_id: self.rng.id(),
            parent_span_id: Some(run.root_id),
            name: format!("execute_tool {tool}"),
            kind: 1,
            start_ns: t,
            end_ns: t + dur,
            status_code: if tool_error {
                StatusCode::Error
            } else {
                StatusCode::Ok
            },
            resource: run.resource.clone(),
            scope: "strata.bench.tools".into(),
            attributes: attrs,
            ..Span::default()
        }
    }
}

/// Prompt and completion text, under the older or the current names.
fn content(attrs: &mut Vec<KeyValue>, legacy: bool) {
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

/// Span `k` of a numbered stream, rebuilt from `k` and its start alone: span id `k + 1`
/// (big-endian); trace `k / 4 + 1`, whose first span is the root and the other three its
/// children; an LLM call `chat m{k % 3}` of service `crash` with `k` input tokens, 250 ms long.
pub fn numbered_span(k: u64, start_ns: i64) -> Span {
    let mut trace_id = [0u8; 16];
    trace_id[..8].copy_from_slice(&(k / 4 + 1).to_be_bytes());
    let model = format!("m{}", k % 3);
    Span {
        trace_id,
        span_id: (k + 1).to_be_bytes(),
        parent_span_id: (!k.is_multiple_of(4)).then(|| (k - k % 4 + 1).to_be_bytes()),
        name: format!("chat {model}"),
        kind: 3,
        start_ns,
        end_ns: start_ns + 250_000_000,
        status_code: StatusCode::Ok,
        resource: vec![str_kv("service.name", "crash")],
        attributes: vec![
            KeyValue::new("gen_ai.request.model", AttrValue::Str(model)),
            KeyValue::new("gen_ai.usage.input_tokens", AttrValue::Int(k as i64)),
        ],
        ..Span::default()
    }
}

/// The number `k` of a span [`numbered_span`] made, from its span id.
pub fn span_number(span_id: [u8; 8]) -> u64 {
    u64::from_be_bytes(span_id).wrapping_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_traces() {
        let gen_spans = |seed| {
            let mut g = TraceGen::new(seed, &BENCH_SERVICES, &BENCH_MODELS);
            let mut out = Vec::new();
            for i in 0..200 {
                g.trace(1_795_000_000_000_000_000 + i * 1_000_000_000, 0.1, &mut out);
            }
            (out, g.traces())
        };
        let (a, traces) = gen_spans(1);
        assert_eq!(traces, 200);
        assert_eq!(a, gen_spans(1).0);
        assert_ne!(a, gen_spans(2).0);
        // Every child names its trace's root; roots close after their last child.
        for s in &a {
            if let Some(p) = s.parent_span_id {
                let root = a
                    .iter()
                    .find(|r| r.span_id == p && r.trace_id == s.trace_id)
                    .expect("root");
                assert!(root.end_ns >= s.start_ns && root.parent_span_id.is_none());
            }
        }
    }

    #[test]
    fn numbered_spans_round_trip() {
        for k in [0, 1, 3, 4, 1_000_003] {
            let s = numbered_span(k, 5);
            assert_eq!(span_number(s.span_id), k);
            assert_eq!(s.parent_span_id.is_none(), k % 4 == 0);
        }
    }
}
