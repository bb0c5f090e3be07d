//! `strata query`: evaluates a PromQL expression at one instant (`--time`, else the clock's
//! now) or at a step over a range (`--start`, `--end`, `--step`), and prints the result as text
//! or (`--json`) as Prometheus' HTTP API would answer it.
//!
//! Warnings and infos ("metric might not be a counter", …) go to standard error as text, and
//! into the `warnings` and `infos` arrays with `--json`.

use std::io::Write;
use std::path::Path;
use strata_engine::query::{Annotations, EvalOptions, InstantValue, Matrix, parse};

use crate::common::{Access, CliResult, Out, close_read, open, options, stdout};
use crate::query_json::{self, sample_value};

/// When to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// An instant query at this Unix ms; `None` for the clock's now (`--now`, else the system
    /// clock).
    Instant(Option<i64>),
    /// A range query: every `step` ms from `start` to `end` (Unix ms).
    Range { start: i64, end: i64, step: i64 },
}

pub fn run(dir: &Path, when: When, expr: &str, json: bool, now: Option<i64>) -> CliResult {
    // Parse first: a typo in the query is reported without opening the database.
    let plan = parse(expr)?;
    let db = open(dir, options(Access::Existing, now))?;
    let opts = EvalOptions::default();
    let mut out = stdout();
    let annotations = match when {
        When::Instant(t) => {
            let t_ms = t.unwrap_or_else(|| db.options().clock.now_ms());
            let result = plan.instant(&db, t_ms, &opts)?;
            if json {
                let body = query_json::instant(&result.value, t_ms, &result.annotations);
                writeln!(out, "{body}")?;
            } else {
                print_instant(&mut out, &result.value)?;
            }
            result.annotations
        }
        When::Range { start, end, step } => {
            let result = plan.range(&db, start, end, step, &opts)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    query_json::range(&result.value, &result.annotations)
                )?;
            } else {
                print_matrix(&mut out, &result.value)?;
            }
            result.annotations
        }
    };
    out.flush()?;
    if !json {
        print_annotations(&annotations);
    }
    close_read(db)
}

/// `{name="value", …}`, labels in order.
fn labels_text(labels: &strata_engine::query::Labels) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// A vector as `{labels} value` lines (in the result's order), a scalar as its value, a string
/// as itself, a range vector as [`print_matrix`] does.
fn print_instant(out: &mut Out, value: &InstantValue) -> CliResult {
    match value {
        InstantValue::Vector(v) => {
            for s in v {
                let value = match &s.histogram {
                    Some(h) => histogram_text(h),
                    None => sample_value(s.value),
                };
                writeln!(out, "{} {value}", labels_text(&s.labels))?;
            }
            if v.is_empty() {
                writeln!(out, "(no series)")?;
            }
        }
        InstantValue::Scalar(v) => writeln!(out, "{}", sample_value(*v))?,
        InstantValue::String(s) => writeln!(out, "{s}")?,
        InstantValue::Matrix(m) => print_matrix(out, m)?,
    }
    Ok(())
}

/// Each series' labels, then one `  t_ms value` line per point.
fn print_matrix(out: &mut Out, m: &Matrix) -> CliResult {
    for s in m {
        writeln!(out, "{}", labels_text(&s.labels))?;
        for &(t, v) in &s.points {
            writeln!(out, "  {t} {}", sample_value(v))?;
        }
        for (t, h) in &s.histograms {
            writeln!(out, "  {t} {}", histogram_text(h))?;
        }
    }
    if m.is_empty() {
        writeln!(out, "(no series)")?;
    }
    Ok(())
}

/// `{count:…, sum:…, (lower,upper]:count, …}`: the buckets with observations, from the lowest.
fn histogram_text(h: &strata_engine::NativeHistogram) -> String {
    let f = strata_engine::FloatHistogram::from_native(h);
    let mut s = format!(
        "{{count:{}, sum:{}",
        sample_value(h.count),
        sample_value(h.sum)
    );
    for b in f.all_buckets().into_iter().filter(|b| b.count != 0.0) {
        let (open, close) = match (b.lower < 0.0 && b.upper > 0.0, b.upper <= 0.0) {
            (true, _) => ('[', ']'),
            (false, true) => ('[', ')'),
            _ => ('(', ']'),
        };
        s += &format!(
            ", {open}{},{}{close}:{}",
            sample_value(b.lower),
            sample_value(b.upper),
            sample_value(b.count)
        );
    }
    s + "}"
}

/// `PromQL warning: …` / `PromQL info: …` lines on standard error, warnings first.
fn print_annotations(annotations: &Annotations) {
    for line in annotations.warnings().chain(annotations.infos()) {
        eprintln!("{line}");
    }
}
