//! The span commands end to end, through the `strata` binary: `import-otlp` of the real
//! OpenLLMetry payloads, then `spans --json`, `trace` and `genai --by model --json`, checked
//! against an independent count made here from the decoded protobuf.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use strata_engine::otlp::decode_traces;
use strata_engine::spans::{AttrValue, Span, StatusCode};

fn data_dir() -> PathBuf {
    strata_testkit::shared_data_dir()
}

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
    match serde_json::from_str(&out).unwrap_or_else(|e| panic!("strata {args:?}: {e}: {out}")) {
        Value::Array(a) => a,
        other => panic!("strata {args:?}: not an array: {other}"),
    }
}

fn attr<'a>(s: &'a Span, keys: &[&str]) -> Option<&'a AttrValue> {
    keys.iter().find_map(|k| s.attribute(k))
}

fn u64_of(v: Option<&AttrValue>) -> Option<u64> {
    match v? {
        AttrValue::Int(i) => u64::try_from(*i).ok(),
        AttrValue::Double(d) => Some(*d as u64),
        AttrValue::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// Per model, computed straight from the decoded spans: (calls, errors, input, output tokens).
#[derive(Debug, Default, PartialEq)]
struct ModelFigures {
    count: u64,
    errors: u64,
    input: u64,
    output: u64,
}

#[test]
fn import_then_spans_trace_and_genai_agree_with_the_protobuf() {
    let dir = data_dir().join("genai-otlp-openllmetry");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set STRATA_DATA_DIR)", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pb"))
        .collect();
    files.sort();
    assert!(files.len() > 10, "payloads in {}", dir.display());

    // The independent computation.
    let mut total = 0usize;
    let mut newest_ns = i64::MIN;
    let mut traces: BTreeMap<[u8; 16], usize> = BTreeMap::new();
    let mut by_model: BTreeMap<String, ModelFigures> = BTreeMap::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("v1_traces") {
            continue;
        }
        let spans = decode_traces(&std::fs::read(f).unwrap()).expect("payload decodes");
        total += spans.len();
        newest_ns = spans.iter().map(|s| s.start_ns).fold(newest_ns, i64::max);
        for s in &spans {
            *traces.entry(s.trace_id).or_default() += 1;
            let model = attr(s, &["gen_ai.request.model"])
                .or_else(|| attr(s, &["gen_ai.response.model"]))
                .map(AttrValue::to_text)
                .unwrap_or_default();
            if model.is_empty() {
                continue;
            }
            let m = by_model.entry(model).or_default();
            m.count += 1;
            if s.status_code == StatusCode::Error || s.attribute("error.type").is_some() {
                m.errors += 1;
            }
            m.input += u64_of(attr(
                s,
                &["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
            ))
            .unwrap_or(0);
            m.output += u64_of(attr(
                s,
                &[
                    "gen_ai.usage.output_tokens",
                    "gen_ai.usage.completion_tokens",
                ],
            ))
            .unwrap_or(0);
        }
    }
    assert!(
        total > 1000 && by_model.len() >= 2,
        "{total} spans, {by_model:?}"
    );

    let tmp = std::env::temp_dir().join(format!("strata-spans-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let db = tmp.to_str().unwrap().to_owned();
    // Imported at its own date (an hour after its newest span): nothing outside retention.
    let now = (newest_ns / 1_000_000 + 3_600_000).to_string();
    let mut args = vec!["import-otlp", "--db", &db, "--now", &now];
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = strata(&args);
    assert!(
        out.contains(&format!("imported {total} spans")),
        "import output: {out}"
    );
    assert!(!out.contains("outside retention"), "import output: {out}");
    assert!(!out.contains("rejected"), "import output: {out}");

    // Every span back, with its GenAI columns.
    let limit = (total + 10).to_string();
    let spans = json(&["spans", "--db", &db, "--json", "--limit", &limit]);
    assert_eq!(spans.len(), total);
    let mut from_cli: BTreeMap<String, ModelFigures> = BTreeMap::new();
    for s in &spans {
        let Some(model) = s["model"].as_str() else {
            continue;
        };
        let m = from_cli.entry(model.to_owned()).or_default();
        m.count += 1;
        if s["error_type"].is_string() {
            m.errors += 1;
        }
        m.input += s["input_tokens"].as_u64().unwrap_or(0);
        m.output += s["output_tokens"].as_u64().unwrap_or(0);
    }
    assert_eq!(from_cli, by_model, "spans --json per model");

    // A trace with several spans, whole, parent links intact.
    let (id, n) = traces
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
        .unwrap();
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        spans.iter().any(|s| s["trace_id"] == hex.as_str()),
        "trace id from spans --json"
    );
    let trace = json(&["trace", "--db", &db, &hex, "--json"]);
    assert_eq!(trace.len(), *n, "spans of trace {hex}");
    let ids: Vec<&str> = trace.iter().filter_map(|s| s["span_id"].as_str()).collect();
    let roots = trace
        .iter()
        .filter(|s| {
            s["parent_span_id"]
                .as_str()
                .is_none_or(|p| !ids.contains(&p))
        })
        .count();
    assert_eq!(roots, 1, "one root in trace {hex}");
    assert!(trace.iter().all(|s| s["trace_id"] == hex.as_str()));
    let table = strata(&["trace", "--db", &db, &hex]);
    assert_eq!(
        table.lines().filter(|l| l.starts_with("  ")).count(),
        n - 1,
        "every child indented under its parent:\n{table}"
    );

    // The aggregate.
    let rows = json(&["genai", "--db", &db, "--by", "model", "--json"]);
    let mut from_agg: BTreeMap<String, ModelFigures> = BTreeMap::new();
    for r in &rows {
        let model = r["group"]["model"]
            .as_str()
            .expect("group.model")
            .to_owned();
        let count = r["count"].as_u64().unwrap();
        let lat = &r["latency_ms"];
        assert!(
            lat["p50"].as_f64().unwrap() <= lat["p95"].as_f64().unwrap()
                && lat["p95"].as_f64().unwrap() <= lat["p99"].as_f64().unwrap(),
            "{r}"
        );
        let rate = r["error_rate"].as_f64().unwrap();
        let errors = r["errors"].as_u64().unwrap();
        assert!((rate - errors as f64 / count as f64).abs() < 1e-9);
        from_agg.insert(
            model,
            ModelFigures {
                count,
                errors,
                input: r["input_tokens"].as_u64().unwrap(),
                output: r["output_tokens"].as_u64().unwrap(),
            },
        );
    }
    assert_eq!(from_agg, by_model, "genai --by model --json");
    let text = strata(&["genai", "--db", &db, "--by", "model"]);
    assert!(text.lines().all(|l| l.chars().count() <= 120), "{text}");

    // In 2030 every span is past its bucket's retention: compact deletes them all and says so.
    let report = strata(&["compact", "--db", &db, "--now", Y2030_MS]);
    assert_eq!(expired_spans(&report), total as u64, "{report}");
    let left = json(&["spans", "--db", &db, "--json", "--limit", &limit]);
    assert!(left.is_empty(), "{} spans left", left.len());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// 2030-01-01T00:00:00Z: years after the capture, past every span bucket's retention.
const Y2030_MS: &str = "1893456000000";

/// Spans `strata compact` reports expired, summed over its per-bucket lines.
fn expired_spans(report: &str) -> u64 {
    report
        .lines()
        .filter(|l| l.starts_with("retention expired from bucket "))
        .filter_map(|l| {
            let (_, rest) = l.split_once(" span partitions (")?;
            rest.split_once(" spans")?.0.parse::<u64>().ok()
        })
        .sum()
}

/// Spans imported long after their date are counted as outside retention (stored for the next
/// retention pass), or refused with the reason under `--reject-outside-retention`.
#[test]
fn import_otlp_reports_spans_outside_retention() {
    let dir = data_dir().join("genai-otlp-openllmetry");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set STRATA_DATA_DIR)", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("v1_traces"))
        })
        .collect();
    files.sort();
    files.truncate(5);
    let total: usize = files
        .iter()
        .map(|f| decode_traces(&std::fs::read(f).unwrap()).unwrap().len())
        .sum();
    assert!(total > 0);
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let tmp = std::env::temp_dir().join(format!("strata-spans-old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);

    let db = tmp.join("kept").display().to_string();
    let mut args = vec!["import-otlp", "--db", &db, "--now", Y2030_MS];
    args.extend(paths.iter().map(String::as_str));
    let out = strata(&args);
    assert!(out.contains(&format!("imported {total} spans")), "{out}");
    assert!(
        out.contains(&format!("outside retention: {total} of these spans")),
        "{out}"
    );
    let report = strata(&["compact", "--db", &db, "--now", Y2030_MS]);
    assert_eq!(expired_spans(&report), total as u64, "{report}");

    let db = tmp.join("refused").display().to_string();
    let mut args = vec![
        "import-otlp",
        "--db",
        &db,
        "--now",
        Y2030_MS,
        "--reject-outside-retention",
    ];
    args.extend(paths.iter().map(String::as_str));
    let out = strata(&args);
    assert!(out.contains("imported 0 spans"), "{out}");
    assert!(
        out.contains(&format!("rejected {total} spans; first: ")) && out.contains("retention"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
