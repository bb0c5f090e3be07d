//! Spans and OTLP through the `Db`: the shared data's trace and metric payloads are ingested
//! through the WAL, survive a restart (replay) and a compaction (sealed partitions plus a WAL
//! checkpoint), and the OTLP histograms become queryable metric series.

use strata_engine::{Clock, Db, Fsync, Matcher, Options};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// 2030-01-01T00:00:00Z: years after the capture, far past every bucket's retention.
const Y2030_MS: i64 = 1_893_456_000_000;

/// When the capture was recorded: an hour after its newest span started (read from the data,
/// so a newer capture works unchanged).
fn capture_now_ms(traces: &[Vec<u8>]) -> i64 {
    let newest_ns = traces
        .iter()
        .flat_map(|p| strata_engine::otlp::decode_traces(p).unwrap())
        .map(|s| s.start_ns)
        .max()
        .unwrap();
    newest_ns / 1_000_000 + HOUR_MS
}

fn payloads(prefix: &str) -> Vec<Vec<u8>> {
    strata_testkit::payloads("genai-otlp-openllmetry", prefix)
}

fn span_count(db: &Db) -> u64 {
    let s = db.spans().stats();
    s.open_spans + s.sealed_spans
}

#[test]
fn otlp_traces_and_metrics_through_the_db() {
    let dir = std::env::temp_dir().join(format!("strata-db-spans-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let traces = payloads("v1_traces_");
    let metrics = payloads("v1_metrics_");
    let opts = Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(capture_now_ms(&traces)),
        ..Options::default()
    };
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

/// The same capture with the clock pinned to 2030: every span is older than the spans
/// bucket's 10 days and every sample older than 15 months. The import says so, compaction
/// reports what it expired, and with `reject_outside_retention` nothing is stored at all.
#[test]
fn data_older_than_retention_is_reported_not_silently_dropped() {
    let traces = payloads("v1_traces_");
    let metrics = payloads("v1_metrics_");
    for now in [capture_now_ms(&traces), Y2030_MS] {
        let old = now == Y2030_MS;
        let dir = std::env::temp_dir().join(format!(
            "strata-db-spans-retention-{}-{old}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let opts = Options {
            fsync: Fsync::Never,
            clock: Clock::fixed(now),
            ..Options::default()
        };
        let db = Db::open(&dir, opts.clone()).unwrap();
        let (mut spans, mut outside, mut samples, mut samples_outside) = (0, 0, 0, 0);
        for p in &traces {
            let out = db.import_otlp_traces(p).unwrap();
            spans += out.spans;
            outside += out.outside_retention;
            assert_eq!(out.rejected, 0);
        }
        for p in &metrics {
            let out = db.import_otlp_metrics(p).unwrap();
            samples += out.samples + out.histograms;
            samples_outside += out.outside_retention;
        }
        assert_eq!(spans, 18_097);
        assert_eq!(outside, if old { 18_097 } else { 0 });
        assert_eq!(samples_outside, if old { samples } else { 0 });
        let report = db.compact().unwrap();
        let spans_expired: u64 = report.expired.iter().map(|e| e.spans).sum();
        let samples_expired: u64 = report.expired.iter().map(|e| e.samples).sum();
        if old {
            assert_eq!(spans_expired, 18_097, "{report:?}");
            assert_eq!(samples_expired as usize, samples, "{report:?}");
            assert!(report.span_partitions_expired > 0 && report.blocks_expired > 0);
            let st = db.stats().unwrap();
            assert_eq!(st.expired.spans, 18_097);
            assert_eq!(st.expired.samples as usize, samples);
        } else {
            assert!(report.expired.is_empty(), "{report:?}");
            assert_eq!(span_count(&db), 18_097);
        }
        db.close().unwrap();
        let _ = std::fs::remove_dir_all(&dir);

        // Refusing instead of storing: a typed error per span and sample, nothing stored.
        let db = Db::open(
            &dir,
            Options {
                reject_outside_retention: true,
                ..opts
            },
        )
        .unwrap();
        let (mut rejected, mut first) = (0, None);
        for p in &traces {
            let out = db.import_otlp_traces(p).unwrap();
            rejected += out.rejected;
            first = first.or(out.first_rejection);
        }
        assert_eq!(rejected, if old { 18_097 } else { 0 });
        if old {
            let why = first.unwrap();
            assert!(why.contains("retention"), "{why}");
            assert_eq!(span_count(&db), 0);
        }
        let out = db.import_otlp_metrics(&metrics[0]).unwrap();
        assert_eq!(out.rejected > 0, old, "{out:?}");
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    // Retention is measured from the clock: nothing expires merely because it is old
    // relative to something newer.
    assert!(Y2030_MS - capture_now_ms(&traces) > 10 * DAY_MS);
}
