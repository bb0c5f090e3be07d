//! `histogram_quantile` over the capture `genai-otlp-otel-v2-events`, whose
//! `gen_ai.client.operation.duration` comes as exponential histograms from one service
//! (rag-search, stored as native histograms) and as explicit-bucket histograms from the others
//! (queried as native histograms with custom buckets). Each p95 per model must agree with the
//! p95 of the chat spans behind it within its bucket resolution, and the two kinds must agree
//! with each other within the explicit buckets' resolution.

use strata_engine::query::{self, EvalOptions, InstantValue};
use strata_engine::spans::SpanFilter;
use strata_engine::{Clock, Db, Fsync, Options};

/// After the capture's newest point, pinned (the test must not depend on today's date).
const NOW_MS: i64 = 1_796_300_000_000;
/// Seconds after every point of the capture (2026-12-03 09:04 UTC).
const AT_MS: i64 = 1_796_288_700_000;
const METRIC: &str = "gen_ai_client_operation_duration_seconds";

fn open() -> (Db, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("strata-genai-quantiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(NOW_MS),
        auto_cut: false,
        ..Options::default()
    };
    let db = Db::open(&dir, options).expect("open");
    let capture = "genai-otlp-otel-v2-events";
    for p in strata_testkit::payloads(capture, "v1_traces_") {
        db.import_otlp_traces(&p).expect("traces");
    }
    for p in strata_testkit::payloads(capture, "v1_metrics_") {
        db.import_otlp_metrics(&p).expect("metrics");
    }
    (db, dir)
}

/// `model → p95` of an instant query's vector.
fn by_model(db: &Db, expr: &str) -> Vec<(String, f64)> {
    let plan = query::parse(expr).expect("parses");
    let out = plan
        .instant(db, AT_MS, &EvalOptions::default())
        .expect("evaluates");
    let InstantValue::Vector(v) = out.value else {
        panic!("{expr}: not a vector")
    };
    let mut rows: Vec<(String, f64)> = v
        .iter()
        .map(|s| {
            let model = s.labels.get("gen_ai_request_model").unwrap_or_default();
            (model.to_owned(), s.value)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// The nearest-rank 95th percentile (seconds) of the chat spans of `services` and `model`.
fn span_p95(db: &Db, services: &[&str], model: &str) -> f64 {
    let mut durations = Vec::new();
    for service in services {
        let filter = SpanFilter {
            service: Some((*service).to_owned()),
            model: Some(model.to_owned()),
            operation: Some("chat".to_owned()),
            limit: usize::MAX,
            ..SpanFilter::default()
        };
        let hits = db.spans().find(&filter).expect("spans");
        durations.extend(hits.iter().map(|h| h.span.duration_ns() as f64 / 1e9));
    }
    assert!(
        !durations.is_empty(),
        "no chat spans of {model} in {services:?}"
    );
    durations.sort_by(f64::total_cmp);
    let rank = (0.95 * durations.len() as f64).ceil() as usize;
    durations[rank.clamp(1, durations.len()) - 1]
}

/// `|log2(a / b)|`: how many doublings apart.
fn octaves(a: f64, b: f64) -> f64 {
    (a / b).log2().abs()
}

#[test]
fn exponential_and_explicit_p95_agree_with_the_spans_and_each_other() {
    let (db, dir) = open();
    let q = |selector: &str| {
        format!(
            "histogram_quantile(0.95, sum by (gen_ai_request_model) (last_over_time({METRIC}{{{selector}}}[1h])))"
        )
    };
    let exponential = by_model(&db, &q(r#"job="rag-search""#));
    let explicit = by_model(&db, &q(r#"job=~"support-bot|code-assistant""#));
    assert_eq!(exponential.len(), 4, "{exponential:?}");
    assert_eq!(explicit.len(), 4, "{explicit:?}");
    for ((model, exp_p95), (model2, expl_p95)) in exponential.iter().zip(&explicit) {
        assert_eq!(model, model2);
        let exact_exp = span_p95(&db, &["rag-search"], model);
        let exact_expl = span_p95(&db, &["support-bot", "code-assistant"], model);
        println!(
            "{model}: exponential p95 {exp_p95:.4} s (spans {exact_exp:.4}), explicit p95 {expl_p95:.4} s (spans {exact_expl:.4})"
        );
        // Exponential buckets of scale ≥ 4 are at most 2^(1/16) wide: the estimate and the
        // exact value share one.
        assert!(octaves(*exp_p95, exact_exp) <= 1.0 / 16.0 + 1e-9, "{model}");
        // The explicit bounds double: estimate and exact value share one bucket.
        assert!(octaves(*expl_p95, exact_expl) <= 1.0 + 1e-9, "{model}");
        // The same workload measured two ways agrees within the coarser (explicit) resolution.
        assert!(octaves(*exp_p95, *expl_p95) <= 1.0 + 1e-9, "{model}");
    }
    db.close().expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}
