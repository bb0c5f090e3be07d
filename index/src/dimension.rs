//! First-class dimensions: service, model and provider, whatever label names carry them.
//!
//! Instrumentations disagree on names (OpenTelemetry resource `service.name`, its Prometheus
//! translation `service_name`, hand-written `service`; `gen_ai.request.model` vs `model`;
//! `gen_ai.provider.name` vs the older `gen_ai.system`), so a dimension is a list of alias label
//! names. A series belongs to a dimension value if *any* of its alias labels has that value.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Service,
    Model,
    Provider,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [Dimension::Service, Dimension::Model, Dimension::Provider];
}

/// The label names that map to each dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionAliases {
    pub service: Vec<String>,
    pub model: Vec<String>,
    pub provider: Vec<String>,
}

impl Default for DimensionAliases {
    /// OpenTelemetry GenAI conventions, their Prometheus translations and common short names.
    fn default() -> Self {
        let own = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect();
        DimensionAliases {
            service: own(&["service.name", "service_name", "service"]),
            model: own(&[
                "gen_ai.request.model",
                "gen_ai_request_model",
                "model",
                "model_name",
            ]),
            provider: own(&[
                "gen_ai.provider.name",
                "gen_ai_provider_name",
                "gen_ai.system",
                "gen_ai_system",
                "provider",
            ]),
        }
    }
}

impl DimensionAliases {
    /// The default aliases, built once.
    pub fn standard() -> &'static DimensionAliases {
        static STANDARD: OnceLock<DimensionAliases> = OnceLock::new();
        STANDARD.get_or_init(DimensionAliases::default)
    }

    pub fn names(&self, d: Dimension) -> &[String] {
        match d {
            Dimension::Service => &self.service,
            Dimension::Model => &self.model,
            Dimension::Provider => &self.provider,
        }
    }
}

/// "Series of this service × model × provider": each dimension left `None` is unconstrained.
#[derive(Debug, Clone, Copy)]
pub struct DimensionFilter<'a> {
    pub service: Option<&'a str>,
    pub model: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub aliases: &'a DimensionAliases,
}

impl Default for DimensionFilter<'_> {
    fn default() -> Self {
        DimensionFilter {
            service: None,
            model: None,
            provider: None,
            aliases: DimensionAliases::standard(),
        }
    }
}

impl<'a> DimensionFilter<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn service(mut self, v: &'a str) -> Self {
        self.service = Some(v);
        self
    }

    pub fn model(mut self, v: &'a str) -> Self {
        self.model = Some(v);
        self
    }

    pub fn provider(mut self, v: &'a str) -> Self {
        self.provider = Some(v);
        self
    }

    pub fn with_aliases(mut self, aliases: &'a DimensionAliases) -> Self {
        self.aliases = aliases;
        self
    }

    pub(crate) fn constraints(&self) -> impl Iterator<Item = (Dimension, &'a str)> + '_ {
        [
            (Dimension::Service, self.service),
            (Dimension::Model, self.model),
            (Dimension::Provider, self.provider),
        ]
        .into_iter()
        .filter_map(|(d, v)| Some((d, v?)))
    }
}
