//! Exemplars and metric metadata: appended through the WAL, kept across reopen, head cuts
//! and the checkpoints that truncate the WAL, bounded per series, expired with retention.

use strata_engine::{
    Clock, Db, Error, Exemplar, Fsync, ManualClock, Matcher, MetricKind, MetricMetadata, Options,
    SeriesRef,
};

const NOW_MS: i64 = 100 * 24 * 3_600_000;

fn opts(clock: Clock) -> Options {
    Options {
        fsync: Fsync::Never,
        clock,
        wal_segment_bytes: 64 << 10,
        exemplars_per_series: 4,
        ..Options::default()
    }
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-exemplars-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn ex(t_ms: i64, trace: &str) -> Exemplar {
    Exemplar {
        labels: vec![
            ("trace_id".into(), trace.into()),
            ("span_id".into(), "00f067aa0ba902b7".into()),
        ],
        value: 0.25,
        t_ms,
    }
}

fn latency(db: &Db) -> SeriesRef {
    db.series_ref(&[("__name__", "llm_latency_seconds_bucket"), ("le", "0.5")])
        .expect("series")
}

fn traces(db: &Db) -> Vec<String> {
    let m = Matcher::new(
        strata_engine::MatchOp::Equal,
        "__name__",
        "llm_latency_seconds_bucket",
    )
    .expect("matcher");
    let found = db.exemplars(&[m], i64::MIN, i64::MAX).expect("exemplars");
    found
        .iter()
        .flat_map(|s| {
            s.exemplars
                .iter()
                .map(|e| e.label("trace_id").unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn exemplars_survive_reopen_cuts_and_checkpoints_bounded_per_series() {
    let dir = tempdir("durable");
    let clock = ManualClock::new(NOW_MS);
    let db = Db::open(&dir, opts(clock.clock())).expect("open");
    let r = latency(&db);
    let t0 = NOW_MS - 6 * 3_600_000;
    // Six hours of samples (several head cuts and checkpoints) with an exemplar each hour.
    for i in 0..360i64 {
        let t = t0 + i * 60_000;
        db.append_ref(r, t, i as f64).expect("sample");
        if i % 60 == 0 {
            let out = db
                .append_exemplars(&[(r, ex(t, &format!("trace{i}")))])
                .expect("exemplar");
            assert_eq!(out.stored, 1, "{out:?}");
        }
    }
    // A repeat is a duplicate, an older one is refused, an unknown series too.
    let last = t0 + 300 * 60_000;
    let out = db
        .append_exemplars(&[
            (r, ex(last, "trace300")),
            (r, ex(t0, "old")),
            (SeriesRef(999), ex(last, "x")),
        ])
        .expect("append");
    assert_eq!(
        (out.stored, out.duplicates, out.refused),
        (0, 1, 2),
        "{out:?}"
    );
    db.compact().expect("compact");
    let expect = ["trace120", "trace180", "trace240", "trace300"];
    assert_eq!(traces(&db), expect, "the newest four are kept");
    let stats = db.stats().expect("stats");
    assert_eq!((stats.exemplars, stats.exemplars_evicted), (4, 2));
    db.close().expect("close");
    let db = Db::open(&dir, opts(clock.clock())).expect("reopen");
    assert_eq!(traces(&db), expect, "after reopen");
    // Retention drops them with the samples' age.
    clock.set(NOW_MS + 15 * 30 * 24 * 3_600_000 - 3 * 3_600_000 + 60_000);
    db.apply_retention().expect("retention");
    assert_eq!(traces(&db), ["trace240", "trace300"]);
    db.close().expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exemplar_labels_over_128_characters_are_refused() {
    let dir = tempdir("limit");
    let db = Db::open(&dir, opts(Clock::fixed(NOW_MS))).expect("open");
    let r = latency(&db);
    let out = db
        .append_exemplars(&[(r, ex(NOW_MS, &"a".repeat(200)))])
        .expect("append");
    assert_eq!(out.refused, 1);
    assert!(
        out.first_refusal
            .is_some_and(|w| w.contains("over the limit of 128"))
    );
    db.close().expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metadata_is_kept_per_metric_and_survives_checkpoints() {
    let dir = tempdir("metadata");
    let db = Db::open(&dir, opts(Clock::fixed(NOW_MS))).expect("open");
    let counter = MetricMetadata {
        kind: MetricKind::Counter,
        unit: "".into(),
        help: "Requests to the model.\nBy provider.".into(),
    };
    let gauge = MetricMetadata {
        kind: MetricKind::Gauge,
        unit: "seconds".into(),
        help: "Queue time.".into(),
    };
    db.set_metadata(&[
        ("gen_ai_requests_total", counter.clone()),
        ("queue_seconds", gauge.clone()),
    ])
    .expect("set");
    // Repeats change nothing; the WAL does not grow for them.
    let wal_before = db.stats().expect("stats").wal_bytes;
    for _ in 0..100 {
        db.set_metadata(&[("queue_seconds", gauge.clone())])
            .expect("repeat");
    }
    assert_eq!(db.stats().expect("stats").wal_bytes, wal_before);
    let too_long = MetricMetadata {
        help: "h".repeat(20_000),
        ..gauge.clone()
    };
    assert!(matches!(
        db.set_metadata(&[("x", too_long)]),
        Err(Error::Limit { .. })
    ));
    let r = db
        .series_ref(&[("__name__", "queue_seconds")])
        .expect("series");
    db.append_ref(r, NOW_MS - 5 * 3_600_000, 1.0)
        .expect("sample");
    db.append_ref(r, NOW_MS, 1.0).expect("sample");
    db.compact().expect("compact: cut and checkpoint");
    db.close().expect("close");
    let db = Db::open(&dir, opts(Clock::fixed(NOW_MS))).expect("reopen");
    assert_eq!(
        db.metadata(None, 10),
        vec![
            ("gen_ai_requests_total".into(), counter),
            ("queue_seconds".into(), gauge.clone())
        ]
    );
    assert_eq!(
        db.metadata(Some("queue_seconds"), 10),
        vec![("queue_seconds".into(), gauge)]
    );
    assert_eq!(db.stats().expect("stats").metadata_metrics, 2);
    db.close().expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}
