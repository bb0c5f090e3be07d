//! `strata exemplars` and `strata metadata`: what Prometheus' `/api/v1/query_exemplars` and
//! `/api/v1/metadata` return, as the same JSON (`strata_engine::api`).

use std::io::Write;
use std::path::Path;
use strata_engine::api::{exemplars_json, metadata_json};

use crate::common::{Access, CliResult, close_read, open, options, stdout};
use crate::export::selector_matchers;

/// Prints the exemplars of the series `selector` matches.
pub fn exemplars(
    dir: &Path,
    selector: &str,
    start: Option<i64>,
    end: Option<i64>,
    now: Option<i64>,
) -> CliResult {
    let matchers = selector_matchers(Some(selector))?;
    let db = open(dir, options(Access::Existing, now))?;
    let found = db.exemplars(
        &matchers,
        start.unwrap_or(i64::MIN),
        end.unwrap_or(i64::MAX),
    )?;
    let mut out = stdout();
    writeln!(out, "{}", exemplars_json(&found))?;
    out.flush()?;
    drop(out);
    close_read(db)
}

/// Prints metric metadata: one metric, or all (at most `limit`).
pub fn metadata(
    dir: &Path,
    metric: Option<&str>,
    limit: Option<usize>,
    now: Option<i64>,
) -> CliResult {
    let db = open(dir, options(Access::Existing, now))?;
    let entries = db.metadata(metric, limit.unwrap_or(usize::MAX));
    let mut out = stdout();
    writeln!(out, "{}", metadata_json(&entries))?;
    out.flush()?;
    drop(out);
    close_read(db)
}
