//! `strata exemplars` and `strata metadata`: what Prometheus' `/api/v1/query_exemplars` and
//! `/api/v1/metadata` return, as the same JSON.

use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::Path;

use crate::common::{Access, CliResult, close_read, open, options, stdout};
use crate::export::selector_matchers;

fn label_map(labels: &[(String, String)]) -> Value {
    let m: Map<String, Value> = labels
        .iter()
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect();
    Value::Object(m)
}

/// Prints the exemplars of the series `selector` matches, `{"status":"success","data":[…]}`
/// with `seriesLabels` and `exemplars` (labels, value as a string, timestamp in seconds).
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
    let data: Vec<Value> = found
        .iter()
        .map(|s| {
            let exemplars: Vec<Value> = s
                .exemplars
                .iter()
                .map(|e| {
                    json!({
                        "labels": label_map(&e.labels),
                        "value": crate::query_json::sample_value(e.value),
                        "timestamp": e.t_ms as f64 / 1000.0,
                    })
                })
                .collect();
            json!({"seriesLabels": label_map(&s.labels), "exemplars": exemplars})
        })
        .collect();
    let mut out = stdout();
    writeln!(out, "{}", json!({"status": "success", "data": data}))?;
    out.flush()?;
    drop(out);
    close_read(db)
}

/// Prints metric metadata, `{"status":"success","data":{"metric":[{"type","help","unit"}]}}`.
pub fn metadata(
    dir: &Path,
    metric: Option<&str>,
    limit: Option<usize>,
    now: Option<i64>,
) -> CliResult {
    let db = open(dir, options(Access::Existing, now))?;
    let mut data = Map::new();
    for (name, m) in db.metadata(metric, limit.unwrap_or(usize::MAX)) {
        let entry = json!({"type": m.kind.as_str(), "help": m.help, "unit": m.unit});
        data.insert(name, Value::Array(vec![entry]));
    }
    let mut out = stdout();
    writeln!(out, "{}", json!({"status": "success", "data": data}))?;
    out.flush()?;
    drop(out);
    close_read(db)
}
