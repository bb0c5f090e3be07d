//! `strata import` reads OpenMetrics exemplars and `# TYPE`/`# HELP`/`# UNIT`;
//! `strata exemplars` and `strata metadata` print them in the Prometheus API's JSON shapes.

use std::process::Command;

const NOW_MS: i64 = 1_790_000_000_000;

fn strata(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .args(["--now", &NOW_MS.to_string()])
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn imported_exemplars_and_metadata_come_back_as_the_api_returns_them() {
    let dir = std::env::temp_dir().join(format!("strata-cli-exemplars-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let t = NOW_MS - 60_000;
    let text = format!(
        "# HELP llm_latency_seconds Model call latency.\n\
         # TYPE llm_latency_seconds histogram\n\
         # UNIT llm_latency_seconds seconds\n\
         llm_latency_seconds_bucket{{le=\"1\"}} 3 {t} # {{trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"00f067aa0ba902b7\"}} 0.82 {}\n\
         llm_latency_seconds_bucket{{le=\"+Inf\"}} 4 {t}\n",
        t as f64 / 1000.0
    );
    let file = dir.join("data.prom");
    std::fs::write(&file, text).expect("write");
    let db = dir.join("db").to_string_lossy().into_owned();
    let out = strata(&["import", "--db", &db, &file.to_string_lossy()]);
    assert!(
        out.contains("exemplars: 1 stored, 0 repeated, 0 refused; metadata for 1 metrics"),
        "{out}"
    );
    // Importing again repeats the exemplar: not stored twice.
    let out = strata(&["import", "--db", &db, &file.to_string_lossy()]);
    assert!(out.contains("exemplars: 0 stored, 1 repeated"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&strata(&[
        "exemplars",
        "--db",
        &db,
        "llm_latency_seconds_bucket",
    ]))
    .expect("json");
    let data = &json["data"];
    assert_eq!(data.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(data[0]["seriesLabels"]["le"], "1");
    let e = &data[0]["exemplars"][0];
    assert_eq!(e["labels"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(e["value"], "0.82");
    assert_eq!(e["timestamp"].as_f64(), Some(t as f64 / 1000.0));
    let meta: serde_json::Value =
        serde_json::from_str(&strata(&["metadata", "--db", &db])).expect("json");
    assert_eq!(
        meta["data"]["llm_latency_seconds"][0],
        serde_json::json!({"type": "histogram", "help": "Model call latency.", "unit": "seconds"})
    );
    let _ = std::fs::remove_dir_all(&dir);
}
