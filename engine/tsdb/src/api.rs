//! Exemplars and metadata in the JSON shapes of Prometheus' HTTP API
//! (`/api/v1/query_exemplars`, `/api/v1/metadata`), shared by `strata exemplars`, `strata
//! metadata` and the C ABI so that each prints the same bytes.

use serde_json::{Map, Value, json};
use strata_model::MetricMetadata;

use crate::exemplars::ExemplarSeries;

fn label_map(labels: &[(String, String)]) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A float as the API writes sample values: a string, `NaN`, `+Inf`, `-Inf`, else the
/// shortest digits that read back as the value.
pub fn api_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        v.to_string()
    }
}

/// `{"status":"success","data":[{"seriesLabels":{…},"exemplars":[{"labels":{…},"value":"…",
/// "timestamp":seconds}]}]}`.
pub fn exemplars_json(found: &[ExemplarSeries]) -> Value {
    let data: Vec<Value> = found
        .iter()
        .map(|s| {
            let exemplars: Vec<Value> = s
                .exemplars
                .iter()
                .map(|e| {
                    json!({
                        "labels": label_map(&e.labels),
                        "value": api_float(e.value),
                        "timestamp": e.t_ms as f64 / 1000.0,
                    })
                })
                .collect();
            json!({"seriesLabels": label_map(&s.labels), "exemplars": exemplars})
        })
        .collect();
    json!({"status": "success", "data": data})
}

/// `{"status":"success","data":{"<metric>":[{"type":"…","help":"…","unit":"…"}]}}`.
pub fn metadata_json(entries: &[(String, MetricMetadata)]) -> Value {
    let mut data = Map::new();
    for (name, m) in entries {
        let entry = json!({"type": m.kind.as_str(), "help": m.help, "unit": m.unit});
        data.insert(name.clone(), Value::Array(vec![entry]));
    }
    json!({"status": "success", "data": data})
}
