//! `strata query`: evaluates the PromQL subset at a step over a range and prints the result.

use std::io::Write;
use std::path::Path;
use strata_engine::query::eval_range;

use crate::common::{Access, CliResult, close_read, open, options, stdout};

pub fn run(dir: &Path, start: i64, end: i64, step: i64, expr: &str, now: Option<i64>) -> CliResult {
    let db = open(dir, options(Access::Existing, now))?;
    let result = eval_range(&db, expr, start, end, step)?;
    let mut out = stdout();
    for s in &result {
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|l| format!("{}={:?}", l.name, l.value))
            .collect();
        writeln!(out, "{{{}}}", labels.join(", "))?;
        for (t, v) in &s.points {
            writeln!(out, "  {t} {v}")?;
        }
    }
    if result.is_empty() {
        writeln!(out, "(no series)")?;
    }
    out.flush()?;
    close_read(db)
}
