//! Series shaped like LLM telemetry, for benchmarks: the token-usage histogram of the
//! OpenTelemetry GenAI conventions across 20 services × 50 models × 8 providers × 2 token types
//! × 15 buckets × 5 tenants (1.2M combinations), registered in a shuffled order so postings
//! are not flattered by insertion locality.

const MODELS: [&str; 50] = [
    "gpt-4",
    "gpt-4-turbo",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-3.5-turbo",
    "gpt-5",
    "gpt-5-mini",
    "o1",
    "o1-mini",
    "o3",
    "o3-mini",
    "o4-mini",
    "claude-3-haiku",
    "claude-3-opus",
    "claude-3-sonnet",
    "claude-3.5-haiku",
    "claude-3.5-sonnet",
    "claude-3.7-sonnet",
    "claude-sonnet-4",
    "claude-opus-4",
    "gemini-1.5-flash",
    "gemini-1.5-pro",
    "gemini-2.0-flash",
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "llama-3-8b",
    "llama-3-70b",
    "llama-3.1-405b",
    "llama-3.3-70b",
    "mistral-large",
    "mistral-small",
    "mixtral-8x7b",
    "command-r",
    "command-r-plus",
    "deepseek-chat",
    "deepseek-reasoner",
    "qwen-2.5-72b",
    "qwen-3-235b",
    "grok-2",
    "grok-3",
    "phi-3-mini",
    "phi-4",
    "jamba-1.5",
    "titan-text",
    "nova-pro",
    "nova-lite",
    "text-embedding-3-small",
];
const PROVIDERS: [&str; 8] = [
    "openai",
    "azure",
    "anthropic",
    "aws.bedrock",
    "gcp.vertex_ai",
    "mistral_ai",
    "groq",
    "deepseek",
];
const TOKEN_TYPES: [&str; 2] = ["input", "output"];
const BUCKETS: [&str; 15] = [
    "1", "4", "16", "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576", "4194304",
    "16777216", "67108864", "+Inf",
];
const SERVICES: usize = 20;
const TENANTS: usize = 5;
/// Labels per series.
pub const LABELS: usize = 8;

/// A deterministic set of up to 1.2M distinct label sets.
#[derive(Debug)]
pub struct LlmTelemetry {
    services: Vec<String>,
    tenants: Vec<String>,
    /// Mixed-radix codes of the combinations, in registration order.
    order: Vec<u32>,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl LlmTelemetry {
    pub const MAX_SERIES: usize =
        SERVICES * MODELS.len() * PROVIDERS.len() * TOKEN_TYPES.len() * BUCKETS.len() * TENANTS;

    /// The first `n` (≤ 1.2M) combinations of a shuffle seeded by `seed`.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut order: Vec<u32> = (0..Self::MAX_SERIES as u32).collect();
        let mut state = seed;
        for i in (1..order.len()).rev() {
            let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        order.truncate(n.min(Self::MAX_SERIES));
        LlmTelemetry {
            services: (0..SERVICES).map(|i| format!("service-{i:02}")).collect(),
            tenants: (0..TENANTS).map(|i| format!("tenant-{i}")).collect(),
            order,
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The label set of the `i`-th series, borrowing shared vocabulary (no allocation).
    pub fn labels(&self, i: usize) -> [(&str, &str); LABELS] {
        let mut c = self.order[i] as usize;
        let mut digit = |radix: usize| {
            let d = c % radix;
            c /= radix;
            d
        };
        let service = digit(SERVICES);
        let model = digit(MODELS.len());
        let provider = digit(PROVIDERS.len());
        let token = digit(TOKEN_TYPES.len());
        let bucket = digit(BUCKETS.len());
        let tenant = digit(TENANTS);
        [
            ("__name__", "gen_ai_client_token_usage_bucket"),
            ("gen_ai_operation_name", "chat"),
            ("service", &self.services[service]),
            ("model", MODELS[model]),
            ("provider", PROVIDERS[provider]),
            ("gen_ai_token_type", TOKEN_TYPES[token]),
            ("le", BUCKETS[bucket]),
            ("tenant", &self.tenants[tenant]),
        ]
    }
}
