//! The query layer's one error type.

use std::error::Error as StdError;
use std::fmt;

/// Everything that can go wrong between a PromQL string and its result.
///
/// Evaluation never panics on bad input: an unparsable expression, a construct outside Strata's
/// subset, a limit that would be exceeded or nonsensical arguments each come back as a variant
/// that names what happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum QueryError {
    /// The expression is not valid PromQL; `message` is the parser's.
    Parse { message: String },
    /// Valid PromQL, but outside the subset Strata evaluates; `what` names the construct, e.g.
    /// "function `predict_linear`", "`@` modifier", "subquery".
    Unsupported { what: String },
    /// The storage behind the [`Querier`](super::Querier) failed.
    Storage(Box<dyn StdError + Send + Sync + 'static>),
    /// Answering would exceed a limit of [`EvalOptions`](super::EvalOptions).
    Limit {
        /// What is limited, e.g. "points per series".
        what: &'static str,
        /// The configured maximum.
        limit: u64,
        /// What the query asked for (at least this much).
        requested: u64,
    },
    /// The arguments or the data make the query meaningless, e.g. a step of zero, an invalid
    /// regex, or two series that end up with the same label set.
    Invalid { message: String },
    /// The query ran longer than [`EvalOptions::timeout`](super::EvalOptions).
    Timeout { limit_ms: u64 },
    /// The query was cancelled through [`EvalOptions::cancel`](super::EvalOptions).
    Cancelled,
}

impl QueryError {
    /// Wraps a storage failure.
    pub fn storage(err: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        QueryError::Storage(err.into())
    }

    /// The message without the kind prefix (the parser's message, the reason a query is
    /// invalid), as Prometheus would phrase it.
    pub fn message(&self) -> String {
        match self {
            QueryError::Parse { message } | QueryError::Invalid { message } => message.clone(),
            QueryError::Unsupported { what } => what.clone(),
            other => other.to_string(),
        }
    }

    pub(crate) fn unsupported(what: impl Into<String>) -> Self {
        QueryError::Unsupported { what: what.into() }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        QueryError::Invalid {
            message: message.into(),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Parse { message } => write!(f, "cannot parse query: {message}"),
            QueryError::Unsupported { what } => {
                write!(f, "unsupported in Strata's PromQL subset: {what}")
            }
            QueryError::Storage(err) => write!(f, "storage error during query: {err}"),
            QueryError::Limit {
                what,
                limit,
                requested,
            } => write!(
                f,
                "query exceeds the limit of {limit} {what} (needs at least {requested})"
            ),
            QueryError::Invalid { message } => write!(f, "invalid query: {message}"),
            QueryError::Timeout { limit_ms } => {
                write!(f, "query timed out after {limit_ms} ms")
            }
            QueryError::Cancelled => f.write_str("query cancelled"),
        }
    }
}

impl StdError for QueryError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            QueryError::Storage(err) => Some(err.as_ref()),
            _ => None,
        }
    }
}
