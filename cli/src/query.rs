//! `strata query`: evaluates the PromQL subset at a step over a range and prints the result.

use std::path::Path;
use strata_engine::Options;
use strata_engine::query::eval_range;

use crate::common::{CliResult, open};

pub fn run(dir: &Path, start: i64, end: i64, step: i64, expr: &str) -> CliResult {
    let db = open(dir, Options::default().fsync)?;
    let result = eval_range(&db, expr, start, end, step)?;
    for s in &result {
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|l| format!("{}={:?}", l.name, l.value))
            .collect();
        println!("{{{}}}", labels.join(", "));
        for (t, v) in &s.points {
            println!("  {t} {v}");
        }
    }
    if result.is_empty() {
        println!("(no series)");
    }
    db.close()?;
    Ok(())
}
