//! The first-class GenAI columns, derived from a span's attributes at ingest, and the price
//! table behind the cost column.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{AttrValue, KeyValue, Span, StatusCode};

/// The hot columns of a span beyond its identity and times. Empty strings mean absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenAi {
    /// `service.name` of the resource.
    pub service: String,
    /// `gen_ai.provider.name`, else `gen_ai.system`.
    pub provider: String,
    pub request_model: String,
    pub response_model: String,
    /// `gen_ai.operation.name`, else `llm.request.type`.
    pub operation: String,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    /// `gen_ai.response.finish_reasons`, joined by `,`.
    pub finish_reasons: String,
    pub agent_name: String,
    pub tool_name: String,
    /// `error.type`; for a span with status error and no `error.type`, `"error"`.
    pub error_type: String,
    pub streaming: Option<bool>,
    /// Time to first token, from an attribute or the first streamed-chunk event.
    pub ttft_ns: Option<i64>,
    /// US dollars from the price table; `None` when the model or the token counts are unknown.
    pub cost_usd: Option<f64>,
}

impl GenAi {
    /// The model a span is reported under: the request model, else the response model.
    pub fn model(&self) -> &str {
        if self.request_model.is_empty() {
            &self.response_model
        } else {
            &self.request_model
        }
    }
}

/// Prices of one model in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    /// Price of cache-read input tokens; `None` bills them as ordinary input.
    pub cached_input_per_mtok: Option<f64>,
}

/// Model → price. A span's model is looked up as its response model, then its request model,
/// each exactly and then by longest prefix (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PriceTable {
    pub models: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    pub fn set(&mut self, model: impl Into<String>, price: ModelPrice) {
        self.models.insert(model.into(), price);
    }

    pub fn lookup(&self, model: &str) -> Option<&ModelPrice> {
        if model.is_empty() {
            return None;
        }
        if let Some(p) = self.models.get(model) {
            return Some(p);
        }
        // Longest key that is a prefix of `model`, at a `-` boundary.
        self.models
            .range(..=model.to_owned())
            .rev()
            .take_while(|(k, _)| model.as_bytes().first() == k.as_bytes().first())
            .find(|(k, _)| {
                model.starts_with(k.as_str()) && model.as_bytes().get(k.len()) == Some(&b'-')
            })
            .map(|(_, p)| p)
    }

    /// Cost of a call, or `None` when the model has no price or no token count is known.
    /// Cache-read tokens are part of the input tokens (as OpenAI and the GenAI conventions
    /// count them) and billed at the cached price when there is one.
    pub fn cost(&self, g: &GenAi) -> Option<f64> {
        self.price_of(g)?.cost(g)
    }

    /// The price a span's cost is computed from: its response model's, else its request
    /// model's.
    pub fn price_of(&self, g: &GenAi) -> Option<&ModelPrice> {
        self.lookup(&g.response_model)
            .or_else(|| self.lookup(&g.request_model))
    }
}

impl ModelPrice {
    /// Cost of a call at this price, or `None` when no token count is known.
    pub fn cost(&self, g: &GenAi) -> Option<f64> {
        if g.input_tokens.is_none() && g.output_tokens.is_none() {
            return None;
        }
        let input = g.input_tokens.unwrap_or(0) as f64;
        let cached = (g.cache_read_tokens.unwrap_or(0) as f64).min(input);
        let output = g.output_tokens.unwrap_or(0) as f64;
        let cached_price = self.cached_input_per_mtok.unwrap_or(self.input_per_mtok);
        Some(
            ((input - cached) * self.input_per_mtok
                + cached * cached_price
                + output * self.output_per_mtok)
                / 1e6,
        )
    }
}

/// Whether an attribute is prompt or completion content (stored apart, routable, droppable).
pub fn is_content_key(key: &str) -> bool {
    matches!(
        key,
        "gen_ai.input.messages"
            | "gen_ai.output.messages"
            | "gen_ai.system_instructions"
            | "gen_ai.prompt"
            | "gen_ai.completion"
            | "gen_ai.tool.call.arguments"
            | "gen_ai.tool.call.result"
            | "gen_ai.tool.definitions"
            | "llm.prompts"
            | "traceloop.entity.input"
            | "traceloop.entity.output"
    ) || ((key.starts_with("gen_ai.prompt.") || key.starts_with("gen_ai.completion."))
        && (key.ends_with(".content") || key.ends_with(".role") || key.contains(".tool_calls.")))
}

fn text(v: Option<&AttrValue>) -> String {
    v.map(AttrValue::to_text).unwrap_or_default()
}

/// Attributes that become first-class columns, and are therefore not repeated in the generic
/// attribute set of a sealed partition.
pub const FIRST_CLASS_KEYS: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.operation.name",
    "llm.request.type",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.response.finish_reasons",
    "gen_ai.agent.name",
    "gen_ai.tool.name",
    "error.type",
    "gen_ai.is_streaming",
    "llm.is_streaming",
    "gen_ai.server.time_to_first_token",
    "gen_ai.response.time_to_first_chunk",
    "llm.response.time_to_first_token",
];

/// Events whose first occurrence marks the first streamed token.
const FIRST_CHUNK_EVENTS: &[&str] = &[
    "gen_ai.content.completion.chunk",
    "gen_ai.choice",
    "first_token",
];

/// Derives the GenAI columns of `span`: those its attributes name ([`from_attributes`]),
/// `"error"` for a failed span without `error.type`, time to first token from the first
/// streamed-chunk event when no attribute gives it, and the cost.
pub fn extract(span: &Span, prices: &PriceTable) -> GenAi {
    let mut g = from_attributes(&span.attributes, &span.resource);
    if g.error_type.is_empty() && span.status_code == StatusCode::Error {
        g.error_type = "error".to_owned();
    }
    if g.ttft_ns.is_none() {
        g.ttft_ns = span
            .events
            .iter()
            .filter(|e| FIRST_CHUNK_EVENTS.contains(&e.name.as_str()))
            .map(|e| e.time_ns)
            .min()
            .map(|t| t.saturating_sub(span.start_ns).max(0));
    }
    g.cost_usd = prices.cost(&g);
    g
}

/// The GenAI columns named by attributes (new names first, then the older ones) and the
/// resource's `service.name`: what spans and events share. No cost.
pub(crate) fn from_attributes(attrs: &[KeyValue], resource: &[KeyValue]) -> GenAi {
    let mut g = GenAi::default();
    let attr = |k: &str| attrs.iter().find(|kv| kv.key == k).map(|kv| &kv.value);
    let first = |keys: &[&str]| keys.iter().find_map(|k| attr(k));
    g.service = text(
        resource
            .iter()
            .find(|kv| kv.key == "service.name")
            .map(|kv| &kv.value),
    );
    g.provider = text(first(&["gen_ai.provider.name", "gen_ai.system"]));
    g.request_model = text(attr("gen_ai.request.model"));
    g.response_model = text(attr("gen_ai.response.model"));
    g.operation = text(first(&["gen_ai.operation.name", "llm.request.type"]));
    g.input_tokens = first(&["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"])
        .and_then(AttrValue::as_u64);
    g.output_tokens = first(&[
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
    ])
    .and_then(AttrValue::as_u64);
    g.cache_read_tokens = first(&[
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
    ])
    .and_then(AttrValue::as_u64);
    g.finish_reasons = text(attr("gen_ai.response.finish_reasons"));
    g.agent_name = text(attr("gen_ai.agent.name"));
    g.tool_name = text(attr("gen_ai.tool.name"));
    g.error_type = text(attr("error.type"));
    g.streaming = first(&["gen_ai.is_streaming", "llm.is_streaming"]).and_then(AttrValue::as_bool);
    // Attributes in seconds (the GenAI metric's unit).
    g.ttft_ns = first(&[
        "gen_ai.server.time_to_first_token",
        "gen_ai.response.time_to_first_chunk",
        "llm.response.time_to_first_token",
    ])
    .and_then(AttrValue::as_f64)
    .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
    .map(|s| (s * 1e9) as i64);
    g
}

/// Splits the content attributes off `attrs`, in order.
pub fn split_content(attrs: &mut Vec<KeyValue>) -> Vec<KeyValue> {
    if !attrs.iter().any(|kv| is_content_key(&kv.key)) {
        return Vec::new();
    }
    let (content, rest): (Vec<_>, Vec<_>) = std::mem::take(attrs)
        .into_iter()
        .partition(|kv| is_content_key(&kv.key));
    *attrs = rest;
    content
}
