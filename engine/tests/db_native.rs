//! Native histograms end to end: appended through the WAL, read back from the head, after a
//! reopen, from blocks after a cut, across a checkpoint; bad samples are typed errors. "The
//! same" means the same counts, sum, hint and non-empty buckets bit for bit: when a bucket
//! appears, the head widens the open chunk and earlier samples gain it, empty, as in
//! Prometheus' head.

use strata_engine::{
    BucketSpan, Clock, CounterResetHint, Db, Error, Fsync, MatchOp, Matcher, NativeHistogram,
    Options,
};

const NOW_MS: i64 = 100 * 24 * 3_600_000;

fn opts() -> Options {
    Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(NOW_MS),
        // Cuts happen when the test says (`compact`), not when the background thread wakes.
        auto_cut: false,
        ..Options::default()
    }
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-native-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A schema-3 latency histogram after `i` scrapes: counts rise, a bucket appears at i = 40,
/// and a float count every seventh sample (so integer and float chunks alternate).
fn sample(i: u32) -> NativeHistogram {
    let c = f64::from(i);
    let mut buckets = vec![c, 2.0 * c, c + 1.0];
    if i >= 40 {
        buckets.push(1.0);
    }
    if i % 7 == 3 {
        buckets[0] += 0.5;
    }
    let count: f64 = buckets.iter().sum::<f64>() + 2.0;
    NativeHistogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        schema: 3,
        zero_threshold: 1e-128,
        zero_count: 2.0,
        count,
        sum: c * 1.25,
        positive_spans: vec![BucketSpan {
            offset: -3,
            length: buckets.len() as u32,
        }],
        positive_buckets: buckets,
        ..NativeHistogram::default()
    }
}

fn read(db: &Db) -> Vec<(i64, NativeHistogram)> {
    let m = Matcher::new(MatchOp::Equal, "__name__", "llm_latency_seconds").expect("matcher");
    let mut found = db
        .select_native_histograms(&[m], i64::MIN, i64::MAX)
        .expect("select");
    assert!(found.len() <= 1);
    let samples = found.pop().map(|(_, s)| s).unwrap_or_default();
    samples
        .into_iter()
        .map(|(t, h)| (t, compacted(&h)))
        .collect()
}

/// `h` without its empty buckets.
fn compacted(h: &NativeHistogram) -> NativeHistogram {
    strata_engine::FloatHistogram::from_native(h).to_native()
}

#[test]
fn native_histograms_survive_reopen_cuts_and_checkpoints_bit_for_bit() {
    let dir = tempdir("durable");
    let db = Db::open(&dir, opts()).expect("open");
    let r = db
        .series_ref(&[("__name__", "llm_latency_seconds"), ("model", "gpt-4o")])
        .expect("series");
    let t0 = NOW_MS - 10 * 3_600_000;
    let appended: Vec<(i64, NativeHistogram)> = (0..600u32)
        .map(|i| (t0 + i64::from(i) * 60_000, sample(i)))
        .collect();
    for (t, h) in &appended {
        db.append_native_histogram(r, *t, h).expect("append");
    }
    let expect: Vec<(i64, NativeHistogram)> =
        appended.iter().map(|(t, h)| (*t, compacted(h))).collect();
    assert_eq!(read(&db), expect, "from the head");
    db.close().expect("close");
    let db = Db::open(&dir, opts()).expect("reopen");
    assert_eq!(read(&db), expect, "after replay");
    // Out of order, wrong kind, malformed: typed errors.
    let late = db.append_native_histogram(r, t0, &sample(1));
    assert!(matches!(late, Err(Error::OutOfOrder { .. })), "{late:?}");
    assert!(matches!(
        db.append_ref(r, NOW_MS, 1.0),
        Err(Error::KindMismatch { .. })
    ));
    let mut bad = sample(2);
    bad.positive_buckets.pop();
    assert!(db.append_native_histogram(r, NOW_MS, &bad).is_err());
    db.compact().expect("compact: blocks and a checkpoint");
    let stats = db.stats().expect("stats");
    assert!(stats.blocks >= 1 && stats.head_samples == 0, "{stats:?}");
    assert_eq!(read(&db), expect, "from blocks");
    db.close().expect("close");
    let db = Db::open(&dir, opts()).expect("reopen after the checkpoint");
    assert_eq!(read(&db), expect, "from blocks after reopen");
    assert_eq!(db.stats().expect("stats").samples, 600);
    db.close().expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}
