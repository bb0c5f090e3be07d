//! The event commands end to end, through the `strata` binary, on the official OpenTelemetry
//! GenAI capture (`genai-otlp-otel-v2-events`: traces, metrics and logs): `import-otlp` takes
//! the `v1_logs_*.pb` payloads, `events --json` lists every log record (counted here straight
//! from the protobuf), and `trace --json` returns each event under its span — for every trace
//! of the capture, sealed and read from disk.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use strata_engine::otlp::decode_logs;
use strata_engine::spans::hex;

const NOW: &str = "1796400000000";

fn strata(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "strata {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn json(args: &[&str]) -> Vec<Value> {
    let out = strata(args);
    match serde_json::from_str(&out).unwrap_or_else(|e| panic!("strata {args:?}: {e}")) {
        Value::Array(a) => a,
        other => panic!("strata {args:?}: not an array: {other}"),
    }
}

#[test]
fn every_event_of_the_capture_comes_back_with_its_span() {
    let capture = strata_testkit::shared_data("genai-otlp-otel-v2-events");
    let mut files: Vec<String> = std::fs::read_dir(&capture)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".pb"))
        .collect();
    files.sort();
    // Trace id → span ids of its records, from the protobuf.
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files.iter().filter(|f| f.contains("v1_logs_")) {
        for e in decode_logs(&std::fs::read(f).unwrap()).unwrap() {
            want.entry(hex(&e.trace_id))
                .or_default()
                .push(hex(&e.span_id));
        }
    }
    let total: usize = want.values().map(Vec::len).sum();
    let dir = std::env::temp_dir().join(format!("strata-events-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = dir.to_string_lossy().into_owned();
    let mut args = vec!["import-otlp", "--db", &db, "--now", NOW];
    args.extend(files.iter().map(String::as_str));
    let out = strata(&args);
    assert!(out.contains(&format!("{total} events")), "{out}");
    strata(&["compact", "--db", &db, "--now", NOW]);
    let events = json(&[
        "events", "--db", &db, "--now", NOW, "--limit", "1000000", "--json",
    ]);
    assert_eq!(events.len(), total);
    assert!(
        events
            .iter()
            .all(|e| e["content"]["gen_ai.input.messages"].is_array())
    );
    for (trace, spans) in &want {
        let doc = json(&["trace", "--db", &db, "--now", NOW, "--json", trace]);
        let mut got = Vec::new();
        for s in &doc {
            for e in s["log_events"].as_array().expect("log_events") {
                assert_eq!(e["span_id"], s["span_id"], "trace {trace}");
                got.push(e["span_id"].as_str().unwrap().to_owned());
            }
        }
        let (mut got, mut spans) = (got, spans.clone());
        got.sort();
        spans.sort();
        assert_eq!(got, spans, "trace {trace}: events under their spans");
    }
    let text = strata(&[
        "trace",
        "--db",
        &db,
        "--now",
        NOW,
        want.keys().next().unwrap(),
    ]);
    assert!(text.contains("gen_ai.client.inference.o"), "{text}");
    let by_service = json(&[
        "events",
        "--db",
        &db,
        "--now",
        NOW,
        "--service",
        "rag-search",
        "--limit",
        "5",
        "--json",
    ]);
    assert_eq!(by_service.len(), 5);
    assert!(by_service.iter().all(|e| e["service"] == "rag-search"));
    let _ = std::fs::remove_dir_all(&dir);
}
