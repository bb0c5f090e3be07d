//! The official OpenTelemetry OpenAI instrumentation's capture (`genai-otlp-otel-v2-events`):
//! its histogram points carry exemplars whose trace ids point at captured spans. Imported
//! through a real `Db`, every stored exemplar's trace resolves, every exponential histogram
//! point is a stored native histogram, and the metrics' metadata is what the capture says.

use strata_engine::{Clock, Db, Fsync, MatchOp, Matcher, MetricKind, Options};

/// After the capture's newest point (2026-12-01), so nothing is "in the future"; pinned, so the
/// test does not depend on the date it runs on.
const NOW_MS: i64 = 1_796_300_000_000;

#[test]
fn every_exemplar_of_the_capture_resolves_to_a_stored_trace() {
    let dir = std::env::temp_dir().join(format!("strata-genai-exemplars-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(NOW_MS),
        // Import order is not time order across the capture's files: no cut in between.
        auto_cut: false,
        ..Options::default()
    };
    let db = Db::open(&dir, options).expect("open");
    let capture = "genai-otlp-otel-v2-events";
    for p in strata_testkit::payloads(capture, "v1_traces_") {
        db.import_otlp_traces(&p).expect("traces");
    }
    let (mut stored, mut natives, mut rejected) = (0, 0, 0);
    for p in strata_testkit::payloads(capture, "v1_metrics_") {
        let out = db.import_otlp_metrics(&p).expect("metrics");
        (stored, natives, rejected) = (
            stored + out.exemplars,
            natives + out.native_histograms,
            rejected + out.rejected,
        );
    }
    // Every exponential histogram point of the capture (248, counted from the protobuf by
    // an independent decoder) is stored as a native histogram; nothing is refused.
    assert_eq!((natives, rejected), (248, 0));
    let all_native = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").expect("matcher");
    let series = db
        .select_native_histograms(&[all_native], i64::MIN, i64::MAX)
        .expect("select");
    assert_eq!(series.iter().map(|s| s.1.len()).sum::<usize>(), 248);
    for (labels, samples) in &series {
        for (t, h) in samples {
            assert!(
                h.validate().is_ok() && h.count >= h.zero_count,
                "{labels:?} at {t}: {h:?}"
            );
        }
    }
    let all = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").expect("matcher");
    let found = db.exemplars(&[all], i64::MIN, i64::MAX).expect("exemplars");
    let held: usize = found.iter().map(|s| s.exemplars.len()).sum();
    let stats = db.stats().expect("stats");
    assert!(held > 100, "{held} exemplars held");
    assert_eq!(stored as u64, stats.exemplars + stats.exemplars_evicted);
    for s in &found {
        for e in &s.exemplars {
            let id = e.label("trace_id").expect("a trace id");
            let trace = strata_engine::spans::parse_trace_id(id).expect("hex trace id");
            let spans = db.spans().trace(&trace).expect("trace");
            assert!(
                !spans.is_empty(),
                "exemplar trace {id} of {:?} not stored",
                s.labels
            );
            let span = e.label("span_id").expect("a span id");
            assert!(
                spans
                    .iter()
                    .any(|h| strata_engine::spans::hex(&h.span.span_id) == span),
                "exemplar span {span} not in trace {id}"
            );
        }
    }
    let meta = db.metadata(None, usize::MAX);
    let names: Vec<&str> = meta.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"gen_ai_client_operation_duration_seconds"),
        "{names:?}"
    );
    assert!(
        meta.iter().all(|(_, m)| m.kind == MetricKind::Histogram),
        "{meta:?}"
    );
    db.close().expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}
