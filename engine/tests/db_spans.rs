//! Spans and OTLP through the `Db`: the shared data's trace and metric payloads are ingested
//! through the WAL, survive a restart (replay) and a compaction (sealed partitions plus a WAL
//! checkpoint), and the OTLP histograms become queryable metric series.

use std::path::PathBuf;
use strata_engine::{Db, Fsync, Matcher, Options};

fn payloads(prefix: &str) -> Vec<Vec<u8>> {
    let dir = std::env::var_os("STRATA_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join("genai-otlp-openllmetry");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn span_count(db: &Db) -> u64 {
    let s = db.spans().stats();
    s.open_spans + s.sealed_spans
}

#[test]
fn otlp_traces_and_metrics_through_the_db() {
    let dir = std::env::temp_dir().join(format!("strata-db-spans-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = Options {
        fsync: Fsync::Never,
        ..Options::default()
    };
    let traces = payloads("v1_traces_");
    let metrics = payloads("v1_metrics_");
    assert!(!traces.is_empty() && !metrics.is_empty());
    {
        let db = Db::open(&dir, opts.clone()).unwrap();
        let mut spans = 0;
        for p in &traces {
            spans += db.import_otlp_traces(p).unwrap().spans;
        }
        assert_eq!(spans, 18_097);
        let mut points = 0;
        for p in &metrics {
            let out = db.import_otlp_metrics(p).unwrap();
            points += out.samples + out.histograms;
        }
        assert!(points > 0);
        assert_eq!(span_count(&db), 18_097);
        assert!(
            db.import_otlp_traces(&[0xff, 0xff, 0xff]).is_err(),
            "garbage is an error"
        );
        db.close().unwrap();
    }
    // Replay from the WAL alone.
    let db = Db::open(&dir, opts.clone()).unwrap();
    assert_eq!(span_count(&db), 18_097, "after replay");
    let hist = db
        .select_histograms(
            &[Matcher::regex("__name__", "gen_ai_client_operation_duration.*").unwrap()],
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    assert!(!hist.is_empty(), "OTLP histograms are metric series");
    // Seal, checkpoint, reopen: exactly the same spans, nothing twice.
    let report = db.compact().unwrap();
    assert!(report.span_partitions_written >= 1, "{report:?}");
    assert_eq!(db.spans().stats().open_spans, 0);
    db.close().unwrap();
    let db = Db::open(&dir, opts).unwrap();
    assert_eq!(span_count(&db), 18_097, "after seal and reopen");
    assert_eq!(
        db.spans().stats().open_spans,
        0,
        "sealed spans are not replayed again"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
