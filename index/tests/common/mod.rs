//! Shared by the integration tests.

use strata_index::MemIndex;

/// Eleven series: five services × models × providers, two token types each, plus `up`.
pub fn small_index() -> MemIndex {
    let mut idx = MemIndex::new();
    for (service, model, provider) in [
        ("checkout", "gpt-4o", "openai"),
        ("checkout", "gpt-4o-mini", "azure"),
        ("search", "claude-3.5-sonnet", "anthropic"),
        ("search", "gpt-4.1", "openai"),
        ("日本", "gemini-2.5-pro", "gcp.vertex_ai"),
    ] {
        for token in ["input", "output"] {
            idx.get_or_insert(&[
                ("__name__", "gen_ai_client_token_usage_sum"),
                ("service", service),
                ("model", model),
                ("provider", provider),
                ("gen_ai_token_type", token),
            ])
            .unwrap();
        }
    }
    idx.get_or_insert(&[("__name__", "up"), ("job", "node")])
        .unwrap();
    idx
}
