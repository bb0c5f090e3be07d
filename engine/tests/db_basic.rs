//! The engine end to end: ingest, select, restart, compaction, retention, ordering rules.

use strata_engine::{Clock, Db, Error, Fsync, Histogram, Matcher, Options, SeriesRef};

/// The tests' data starts at the epoch; the clock is pinned a hundred days later, so nothing
/// here depends on the date the suite runs.
const NOW_MS: i64 = 100 * 24 * 3_600_000;

fn opts() -> Options {
    Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(NOW_MS),
        ..Options::default()
    }
}

fn labels(name: &str, model: &str) -> Vec<(&'static str, String)> {
    vec![
        ("__name__", name.to_owned()),
        ("model", model.to_owned()),
        ("service", "chat".to_owned()),
    ]
}

fn all(db: &Db, name: &str) -> Vec<strata_engine::SeriesSamples> {
    db.select(&[Matcher::equal("__name__", name)], i64::MIN, i64::MAX)
        .unwrap()
}

#[test]
fn ingest_select_restart_compact() {
    let dir = tempdir();
    let models = ["gpt-4o", "claude", "llama"];
    {
        let db = Db::open(&dir, opts()).unwrap();
        let refs: Vec<SeriesRef> = models
            .iter()
            .map(|m| db.series_ref(&labels("tokens_total", m)).unwrap())
            .collect();
        for step in 0..1000i64 {
            let ts = vec![step * 15_000; 3];
            let vs: Vec<f64> = (0..3).map(|i| (step * (i + 1)) as f64).collect();
            let out = db.append_batch(&refs, &ts, &vs).unwrap();
            assert_eq!(out.accepted, 3);
            assert!(out.rejected.is_empty());
        }
        let got = all(&db, "tokens_total");
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|s| s.timestamps_ms.len() == 1000));
        db.close().unwrap();
    }
    // WAL replay brings everything back, and references stay valid.
    let db = Db::open(&dir, opts()).unwrap();
    let got = all(&db, "tokens_total");
    assert_eq!(got.len(), 3);
    let gpt = got
        .iter()
        .find(|s| s.labels.iter().any(|(_, v)| v == "gpt-4o"))
        .unwrap();
    assert_eq!(gpt.values[999], 999.0);
    let r = db.series_ref(&labels("tokens_total", "claude")).unwrap();
    db.append_ref(r, 1000 * 15_000, 2000.0).unwrap();

    // Compaction moves it all into blocks; select sees the same samples.
    let report = db.compact().unwrap();
    assert!(report.blocks_written >= 1, "{report:?}");
    let after = all(&db, "tokens_total");
    assert_eq!(
        after.iter().map(|s| s.timestamps_ms.len()).sum::<usize>(),
        3001
    );
    let stats = db.stats().unwrap();
    assert_eq!(stats.samples, 3001);
    assert_eq!(stats.head_samples, 0);
    assert!(stats.block_bytes_per_sample > 0.0);
    db.close().unwrap();

    // Blocks and the checkpointed WAL reopen to the same data.
    let db = Db::open(&dir, opts()).unwrap();
    assert_eq!(all(&db, "tokens_total"), after);
    // Time ranges and matchers narrow the result.
    let some = db
        .select(
            &[Matcher::regex("model", "gpt.*|llama").unwrap()],
            15_000,
            30_000,
        )
        .unwrap();
    assert_eq!(some.len(), 2);
    assert!(some.iter().all(|s| s.timestamps_ms == vec![15_000, 30_000]));
}

#[test]
fn ordering_rules_and_typed_errors() {
    let dir = tempdir();
    let db = Db::open(&dir, opts()).unwrap();
    let r = db.series_ref(&labels("up", "m")).unwrap();
    db.append_ref(r, 1000, 1.0).unwrap();
    db.append_ref(r, 1000, 1.0).unwrap(); // same value: accepted
    assert!(matches!(
        db.append_ref(r, 1000, 2.0),
        Err(Error::DuplicateTimestamp { .. })
    ));
    assert!(matches!(
        db.append_ref(r, 999, 2.0),
        Err(Error::OutOfOrder { .. })
    ));
    assert!(matches!(
        db.append_ref(SeriesRef(77), 5, 1.0),
        Err(Error::UnknownSeriesRef(77))
    ));
    assert!(db.append_batch(&[r], &[1, 2], &[1.0]).is_err());
    assert!(db.series_ref(&[("__name__", "")]).is_err());
    assert!(
        db.series_ref(&[("job", "x")]).is_err(),
        "a metric name is required"
    );
    let err = db.append_ref(r, 999, 2.0).unwrap_err().to_string();
    assert!(err.contains("up{") && err.contains("out of order"), "{err}");
    let mixed = db
        .append_batch(&[r, r, r], &[2000, 1500, 3000], &[1.0, 1.0, 1.0])
        .unwrap();
    assert_eq!(mixed.accepted, 2);
    assert_eq!(mixed.rejected.len(), 1);
    assert_eq!(mixed.rejected[0].0, 1);
    // A second handle on the same directory is refused.
    assert!(matches!(Db::open(&dir, opts()), Err(Error::Locked { .. })));
}

#[test]
fn out_of_order_window_accepts_late_samples() {
    let dir = tempdir();
    let db = Db::open(
        &dir,
        Options {
            out_of_order_window_ms: 10_000,
            ..opts()
        },
    )
    .unwrap();
    let r = db.series_ref(&labels("late", "m")).unwrap();
    db.append_ref(r, 20_000, 2.0).unwrap();
    db.append_ref(r, 15_000, 1.5).unwrap();
    assert!(db.append_ref(r, 5_000, 0.5).is_err());
    db.close().unwrap();
    let db = Db::open(
        &dir,
        Options {
            out_of_order_window_ms: 10_000,
            ..opts()
        },
    )
    .unwrap();
    let got = all(&db, "late");
    assert_eq!(got[0].timestamps_ms, vec![15_000, 20_000]);
    db.compact().unwrap();
    assert_eq!(all(&db, "late")[0].values, vec![1.5, 2.0]);
}

#[test]
fn histograms_survive_restart_and_compaction() {
    let dir = tempdir();
    let h = |n: u64| Histogram {
        bounds: vec![1.0, 4.0, 16.0],
        counts: vec![n, 2 * n, 3, 0],
        count: 3 * n + 3,
        sum: n as f64 * 2.5,
        min: None,
        max: None,
    };
    {
        let db = Db::open(&dir, opts()).unwrap();
        let r = db
            .series_ref(&labels("gen_ai_client_token_usage", "gpt-4o"))
            .unwrap();
        for i in 0..300 {
            db.append_histogram(r, i * 10_000, &h(i as u64)).unwrap();
        }
        assert!(matches!(
            db.append_histogram(r, 0, &h(0)),
            Err(Error::OutOfOrder { .. })
        ));
        assert!(matches!(
            db.append_ref(r, 9_999_999, 1.0),
            Err(Error::KindMismatch { .. })
        ));
        let got = db
            .select_histograms(&[Matcher::equal("model", "gpt-4o")], i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(
            got[0].1.iter().map(|c| c.len()).sum::<usize>(),
            300,
            "before restart"
        );
        db.close().unwrap();
    }
    let db = Db::open(&dir, opts()).unwrap();
    let count = |db: &Db| -> (usize, u64) {
        let got = db
            .select_histograms(&[Matcher::equal("model", "gpt-4o")], i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(got.len(), 1);
        let n = got[0].1.iter().map(|c| c.len()).sum();
        let last = got[0].1.last().unwrap();
        (n, *last.counts().last().unwrap())
    };
    assert_eq!(count(&db), (300, 3 * 299 + 3));
    db.compact().unwrap();
    assert_eq!(count(&db), (300, 3 * 299 + 3));
    drop(db);
    let db = Db::open(&dir, opts()).unwrap();
    assert_eq!(count(&db), (300, 3 * 299 + 3));
}

#[test]
fn retention_drops_whole_old_blocks() {
    let dir = tempdir();
    let hour = 3_600_000;
    let db = Db::open(
        &dir,
        Options {
            metrics_retention_ms: 10 * hour,
            auto_cut: false,
            clock: Clock::fixed(30 * hour),
            ..opts()
        },
    )
    .unwrap();
    let r = db.series_ref(&labels("g", "m")).unwrap();
    for t in (0..30 * hour).step_by(60_000) {
        db.append_ref(r, t, 1.0).unwrap();
    }
    db.compact().unwrap();
    let s = &all(&db, "g")[0];
    assert!(
        s.timestamps_ms[0] >= 18 * hour,
        "oldest kept {}",
        s.timestamps_ms[0]
    );
    assert_eq!(*s.timestamps_ms.last().unwrap(), 30 * hour - 60_000);
    // Samples older than what blocks hold are refused, not silently dropped.
    assert!(matches!(
        db.append_ref(r, 0, 1.0),
        Err(Error::TooOld { .. })
    ));
}

#[test]
fn auto_cut_and_compaction_keep_every_sample() {
    let dir = tempdir();
    let hour = 3_600_000;
    let opts = Options {
        block_duration_ms: hour,
        ..opts()
    };
    let n;
    {
        let db = Db::open(&dir, opts.clone()).unwrap();
        let r = db.series_ref(&labels("c", "m")).unwrap();
        let ts: Vec<i64> = (0..10 * 3600).map(|i| i * 1000).collect();
        n = ts.len();
        for chunk in ts.chunks(500) {
            let vs: Vec<f64> = chunk.iter().map(|&t| t as f64).collect();
            db.append_batch(&vec![r; chunk.len()], chunk, &vs).unwrap();
        }
        // The background thread cuts the head; wait for it (bounded).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let cut = |s: &strata_engine::Stats| s.blocks >= 1 && s.head_samples <= 5400;
        while !cut(&db.stats().unwrap()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let stats = db.stats().unwrap();
        assert!(cut(&stats), "the head was cut to at most 1.5 h: {stats:?}");
        assert_eq!(stats.samples, n as u64);
        db.compact().unwrap();
        assert!(
            db.stats().unwrap().blocks <= 6,
            "merged: {:?}",
            db.stats().unwrap()
        );
    }
    let db = Db::open(&dir, opts).unwrap();
    let s = &all(&db, "c")[0];
    assert_eq!(s.timestamps_ms.len(), n);
    assert!(
        s.timestamps_ms
            .iter()
            .zip(&s.values)
            .all(|(&t, &v)| t as f64 == v)
    );
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "strata-engine-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn stats_count_histogram_samples_the_same_in_head_and_blocks() {
    let dir = tempdir();
    let db = Db::open(&dir, opts()).unwrap();
    let r = db.series_ref(&labels("h", "m")).unwrap();
    let h = Histogram {
        bounds: vec![1.0],
        counts: vec![1, 2],
        count: 3,
        sum: 2.0,
        min: None,
        max: None,
    };
    for i in 0..10 {
        db.append_histogram(r, i * 1000, &h).unwrap();
    }
    let f = db.series_ref(&labels("f", "m")).unwrap();
    db.append_ref(f, 0, 1.0).unwrap();
    assert_eq!(db.stats().unwrap().samples, 11);
    db.compact().unwrap();
    let s = db.stats().unwrap();
    assert_eq!((s.samples, s.head_samples), (11, 0));
}

/// After a compaction that moved the whole head into blocks, the WAL shrinks to what the head
/// still needs (the checkpoint starts a segment of its own, so every older one is deleted).
#[test]
fn compact_shrinks_the_wal_to_the_checkpoint() {
    let dir = tempdir();
    let db = Db::open(&dir, opts()).unwrap();
    let refs: Vec<SeriesRef> = (0..100)
        .map(|i| db.series_ref(&labels("w", &i.to_string())).unwrap())
        .collect();
    for k in 0..2000i64 {
        let ts = vec![k * 1000; refs.len()];
        let vs = vec![k as f64; refs.len()];
        db.append_batch(&refs, &ts, &vs).unwrap();
    }
    let before = db.stats().unwrap().wal_bytes;
    assert!(before > 2_000_000, "{before}");
    db.compact().unwrap();
    let st = db.stats().unwrap();
    assert_eq!(st.head_samples, 0);
    // 100 series definitions and a few markers.
    assert!(
        st.wal_bytes < 64 * 1024,
        "WAL {} bytes after compact",
        st.wal_bytes
    );
    db.close().unwrap();
    let db = Db::open(&dir, opts()).unwrap();
    assert_eq!(db.stats().unwrap().samples, 200_000);
}

/// Issue 12: one sample with a nanosecond timestamp passed as milliseconds used to move the
/// retention window and delete every block. It is refused with a typed error, and the blocks
/// and later real samples are untouched.
#[test]
fn a_far_future_sample_is_refused_and_blocks_remain() {
    let dir = tempdir();
    let db = Db::open(&dir, opts()).unwrap();
    let r = db.series_ref(&labels("f", "m")).unwrap();
    for k in 0..1000 {
        db.append_ref(r, NOW_MS - 3_600_000 * 5 + k * 15_000, 1.0)
            .unwrap();
    }
    db.compact().unwrap();
    let blocks = db.stats().unwrap().blocks;
    assert!(blocks > 0);
    let ns = NOW_MS * 1_000_000;
    let err = db.append_ref(r, ns, 2.0).unwrap_err();
    assert!(matches!(err, Error::TooFarInFuture { .. }), "{err}");
    assert!(err.is_sample_error());
    let out = db
        .append_batch(&[r, r], &[ns, NOW_MS], &[2.0, 3.0])
        .unwrap();
    assert_eq!(out.accepted, 1);
    assert!(matches!(out.rejected[0], (0, Error::TooFarInFuture { .. })));
    // Ten minutes ahead is still accepted (clock skew between scrapers).
    db.append_ref(r, NOW_MS + 600_000, 4.0).unwrap();
    let report = db.compact().unwrap();
    assert_eq!(report.blocks_expired, 0, "{report:?}");
    assert!(report.expired.is_empty());
    assert_eq!(all(&db, "f")[0].timestamps_ms.len(), 1002);
    db.append_ref(r, NOW_MS + 600_001 + 1, 5.0).unwrap_err();
}

/// Issue 12: three acknowledged batches (fsync Always), a clean close, one byte flipped in the
/// middle of the last record: that record was durable, so this is damage, not a torn tail —
/// a default open refuses it, salvage opens with the first two and says what it skipped.
#[test]
fn damage_to_the_last_durable_record_is_reported() {
    let dir = tempdir();
    let opts = Options {
        fsync: Fsync::Always,
        ..opts()
    };
    let refs: Vec<SeriesRef>;
    {
        let db = Db::open(&dir, opts.clone()).unwrap();
        refs = (0..100)
            .map(|i| db.series_ref(&labels("d", &i.to_string())).unwrap())
            .collect();
        for k in 0..3 {
            db.append_batch(&refs, &vec![k * 1000; 100], &vec![k as f64; 100])
                .unwrap();
        }
        db.close().unwrap();
    }
    let mut segments: Vec<_> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    let last = segments.last().unwrap();
    let mut bytes = std::fs::read(last).unwrap();
    // The last batch's record: ~100 samples × 10+ bytes, ending before the final 16-byte
    // sync record. Flip a byte in its middle.
    let at = bytes.len() - 16 - 600;
    bytes[at] ^= 0x40;
    std::fs::write(last, &bytes).unwrap();
    let err = Db::open(&dir, opts.clone()).unwrap_err();
    assert!(matches!(err, Error::Wal(_)), "{err}");
    assert!(err.to_string().contains("corrupt"), "{err}");
    let db = Db::open(
        &dir,
        Options {
            wal_salvage: true,
            ..opts
        },
    )
    .unwrap();
    let st = db.stats().unwrap();
    assert_eq!(st.samples, 200, "the first two batches");
    assert!(!st.wal_recovery.clean);
    assert_eq!(
        st.wal_recovery.skipped_ranges.len(),
        1,
        "{:?}",
        st.wal_recovery
    );
    assert!(st.wal_recovery.skipped_bytes > 0);
}
