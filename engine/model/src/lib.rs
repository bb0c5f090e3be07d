//! The vocabulary every Strata crate shares, and nothing else: how a label matcher compares
//! ([`MatchOp`]), where "now" comes from ([`Clock`]), what a native histogram sample is
//! ([`NativeHistogram`]), exemplars and metric metadata. No dependencies, no I/O, no `unsafe`.
//! The index, the PromQL engine and the engine all use these types, so a matcher or a clock
//! crosses a crate boundary without conversion.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

mod clock;
pub mod float_histogram;
mod metadata;
pub mod native;

pub use clock::{Clock, ManualClock};
pub use metadata::{Exemplar, MAX_EXEMPLAR_LABEL_CHARS, MetricKind, MetricMetadata};
pub use native::{BucketSpan, CounterResetHint, NativeHistogram};

use std::fmt;

/// How a label matcher compares a label's value, with Prometheus semantics: a missing label
/// has the empty value, and regexes match the whole value (`^(?s:…)$`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

impl MatchOp {
    /// The operator as PromQL writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
