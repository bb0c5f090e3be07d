//! Buckets, routing rules, the content policy and the price table: persisted as
//! `DIR/spans/config.json` (written to a temporary file, fsynced, renamed).

use std::path::Path;
use strata_storage::Fs;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::events::LogEvent;
use super::genai::PriceTable;
use super::model::Span;
use crate::error::{Error, Result};

pub const CONFIG_FILE: &str = "config.json";
pub const CONFIG_VERSION: u32 = 1;
pub const DEFAULT_BUCKET: &str = "default_spans";
pub const AUDIT_BUCKET: &str = "gen_ai_audit";
const DAY_MS: i64 = 86_400_000;

/// A named retention bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub retention_ms: i64,
}

/// How a rule compares an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleOp {
    Equals,
    /// Anchored regular expression (`^(?:…)$`), as Prometheus matchers.
    Regex,
}

/// A routing rule: spans and events whose `key` matches go to `bucket`. `key` is looked up
/// among the span's (event's) attributes, then the resource attributes; `span.name` and
/// `span.status` name a span's name and status (`unset` / `ok` / `error`), `event.name` an
/// event's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub key: String,
    pub op: RuleOp,
    pub value: String,
    pub bucket: String,
}

/// What happens to prompt and completion content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ContentPolicy {
    /// Stored compressed in the span's own partition, in a file apart from the hot columns.
    #[default]
    Keep,
    /// Not stored.
    Drop,
    /// Stored in the named bucket's partitions (its own retention).
    Bucket(String),
}

/// Everything persisted in `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanConfig {
    pub version: u32,
    pub buckets: Vec<Bucket>,
    /// First match wins; no match → [`DEFAULT_BUCKET`].
    pub rules: Vec<Rule>,
    pub content: ContentPolicy,
    pub prices: PriceTable,
}

impl Default for SpanConfig {
    fn default() -> Self {
        SpanConfig {
            version: CONFIG_VERSION,
            buckets: vec![
                Bucket {
                    name: DEFAULT_BUCKET.into(),
                    retention_ms: 10 * DAY_MS,
                },
                Bucket {
                    name: AUDIT_BUCKET.into(),
                    retention_ms: 1825 * DAY_MS,
                },
            ],
            rules: vec![Rule {
                key: "event.type".into(),
                op: RuleOp::Equals,
                value: "gen_ai.auditing".into(),
                bucket: AUDIT_BUCKET.into(),
            }],
            content: ContentPolicy::Keep,
            prices: PriceTable::default(),
        }
    }
}

/// Bucket names become directory names.
pub fn check_bucket_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::options(
            "bucket name",
            format!("{name:?}: use 1-64 characters of [A-Za-z0-9_-], not starting with '-'"),
        ))
    }
}

/// Rules compiled for matching.
#[derive(Debug)]
pub(crate) struct Router {
    rules: Vec<(Rule, Option<Regex>)>,
}

impl Router {
    pub(crate) fn new(config: &SpanConfig) -> Result<Router> {
        let mut rules = Vec::with_capacity(config.rules.len());
        for r in &config.rules {
            if !config.buckets.iter().any(|b| b.name == r.bucket) {
                return Err(Error::options(
                    "span config rules",
                    format!(
                        "rule on {:?} routes to unknown bucket {:?}",
                        r.key, r.bucket
                    ),
                ));
            }
            let re = match r.op {
                RuleOp::Equals => None,
                RuleOp::Regex => Some(Regex::new(&format!("^(?:{})$", r.value)).map_err(|e| {
                    Error::options("span config rules", format!("regex {:?}: {e}", r.value))
                })?),
            };
            rules.push((r.clone(), re));
        }
        if let ContentPolicy::Bucket(b) = &config.content
            && !config.buckets.iter().any(|x| &x.name == b)
        {
            return Err(Error::options(
                "span config content policy",
                format!("routes to unknown bucket {b:?}"),
            ));
        }
        Ok(Router { rules })
    }

    /// The bucket of `span`.
    pub(crate) fn route<'a>(&'a self, span: &Span) -> &'a str {
        self.route_by(|key| match key {
            "span.name" => Some(span.name.clone()),
            "span.status" => Some(span.status_code.as_str().to_owned()),
            k => span
                .attribute(k)
                .or_else(|| span.resource_attribute(k))
                .map(|v| v.to_text()),
        })
    }

    /// The bucket of an event: rules on `event.name` see its event name (the LogRecord
    /// field, else an `event.name` attribute); other keys its attributes, then its
    /// resource's; `span.*` keys never match an event.
    pub(crate) fn route_event<'a>(&'a self, event: &LogEvent) -> &'a str {
        self.route_by(|key| match key {
            "event.name" if !event.event_name.is_empty() => Some(event.event_name.clone()),
            "span.name" | "span.status" => None,
            k => event
                .attribute(k)
                .or_else(|| event.resource_attribute(k))
                .map(|v| v.to_text()),
        })
    }

    /// The bucket of the first rule whose key's value (as `value_of` finds it) matches.
    fn route_by(&self, value_of: impl Fn(&str) -> Option<String>) -> &str {
        for (rule, re) in &self.rules {
            let Some(value) = value_of(rule.key.as_str()) else {
                continue;
            };
            let hit = match re {
                None => value == rule.value,
                Some(re) => re.is_match(&value),
            };
            if hit {
                return &rule.bucket;
            }
        }
        DEFAULT_BUCKET
    }
}

pub(crate) fn load(fs: &Fs, root: &Path) -> Result<Option<SpanConfig>> {
    let path = root.join(CONFIG_FILE);
    let bytes = match fs.read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let config: SpanConfig = serde_json::from_slice(&bytes)
        .map_err(|e| Error::corrupt(&path, format!("span config: {e}")))?;
    if config.version != CONFIG_VERSION {
        return Err(Error::corrupt(
            &path,
            format!(
                "span config version {} (this build reads {CONFIG_VERSION})",
                config.version
            ),
        ));
    }
    Ok(Some(config))
}

pub(crate) fn save(fs: &Fs, root: &Path, config: &SpanConfig) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(config)
        .map_err(|e| Error::Internal(format!("span config does not serialize: {e}")))?;
    fs.replace_synced(root, CONFIG_FILE, &bytes)
        .map_err(|e| Error::io(root.join(CONFIG_FILE), e))
}
