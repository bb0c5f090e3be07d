//! A model test of WAL + checkpoint + truncation: random sequences of series creation,
//! appends, compactions (head cut → checkpoint → segments truncated) and reopens, on tiny WAL
//! segments so every sequence rotates and truncates many times. After every reopen and at
//! the end, the database must hold exactly what a reference model (a map of series to their
//! acknowledged samples) holds.

use proptest::prelude::*;
use std::collections::BTreeMap;
use strata_engine::{Clock, Db, Fsync, Matcher, Options};

const T0_MS: i64 = 1_795_000_000_000;
const STEP_MS: i64 = 60_000;

#[derive(Debug, Clone)]
enum Op {
    /// Create this many new series.
    NewSeries(usize),
    /// Append `steps` scrapes to every series whose index has bit (i % 8) set in `mask`.
    Append {
        mask: u8,
        steps: usize,
    },
    Compact,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1usize..20).prop_map(Op::NewSeries),
        6 => (any::<u8>(), 1usize..40).prop_map(|(mask, steps)| Op::Append { mask, steps }),
        1 => Just(Op::Compact),
        2 => Just(Op::Reopen),
    ]
}

fn options(segment_bytes: u64) -> Options {
    Options {
        fsync: Fsync::Never,
        wal_segment_bytes: segment_bytes,
        block_duration_ms: 3_600_000,
        clock: Clock::fixed(T0_MS + 400 * 24 * 3_600_000),
        ..Options::default()
    }
}

fn check(db: &Db, model: &BTreeMap<usize, Vec<(i64, f64)>>, when: &str) {
    let got = db
        .select(&[Matcher::equal("__name__", "model")], i64::MIN, i64::MAX)
        .unwrap();
    let mut seen = BTreeMap::new();
    for s in got {
        let i: usize = s
            .labels
            .iter()
            .find(|(n, _)| n == "i")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let samples: Vec<(i64, f64)> = s.timestamps_ms.into_iter().zip(s.values).collect();
        seen.insert(i, samples);
    }
    let want: BTreeMap<usize, Vec<(i64, f64)>> = model
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    assert_eq!(seen, want, "{when}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn wal_checkpoints_and_truncation_keep_every_acknowledged_sample(
        ops in proptest::collection::vec(op(), 1..40),
        segment_kib in 2u64..16,
    ) {
        run(&ops, segment_kib);
    }
}

/// The shrunk case proptest found on 2026-12-03: a compaction's checkpoint dropped the
/// definitions of series whose samples stayed in the WAL, so the next reopen failed.
#[test]
fn checkpoint_after_reopens_keeps_series_definitions() {
    use Op::*;
    let a = |mask, steps| Append { mask, steps };
    let ops = [
        a(111, 36),
        a(94, 35),
        Reopen,
        a(171, 32),
        NewSeries(9),
        Reopen,
        a(237, 5),
        a(196, 22),
        NewSeries(19),
        Reopen,
        a(18, 27),
        a(191, 2),
        NewSeries(19),
        a(69, 5),
        Compact,
        a(200, 11),
        a(117, 23),
        Reopen,
        Reopen,
        a(65, 11),
        a(136, 13),
        Reopen,
        a(119, 35),
        a(83, 30),
        a(104, 22),
        NewSeries(8),
        a(204, 23),
        a(177, 24),
        a(85, 12),
        Reopen,
        a(248, 15),
        Compact,
        a(202, 31),
        a(156, 17),
        a(38, 18),
        a(61, 30),
        a(77, 34),
    ];
    run(&ops, 5);
}

/// Series created while a checkpoint runs (here `compact` on another thread, as the
/// background thread's head cuts do) are all defined after a reopen. Only the last checkpoint
/// before a reopen matters (each one re-logs every definition), so every round reopens.
#[test]
fn series_created_during_checkpoints_survive_reopen() {
    let dir = std::env::temp_dir().join(format!("strata-wal-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = options(4 << 10);
    let mut db = Db::open(&dir, opts.clone()).unwrap();
    let mut created = 0usize;
    for round in 0..40 {
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                db.compact().unwrap();
                done.store(true, std::sync::atomic::Ordering::Release);
            });
            // Creates series (and gives each a sample) until the compaction is over.
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let labels = [("__name__", "model".to_owned()), ("i", created.to_string())];
                let r = db.series_ref(&labels).unwrap();
                let out = db
                    .append_batch(&[r], &[T0_MS + created as i64], &[1.0])
                    .unwrap();
                assert!(out.rejected.is_empty(), "{:?}", out.rejected);
                created += 1;
            }
        });
        db.close().unwrap();
        db = Db::open(&dir, opts.clone())
            .unwrap_or_else(|e| fail(&dir, &format!("round {round}: reopen: {e}")));
        let got = db
            .select(&[Matcher::equal("__name__", "model")], i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(got.len(), created, "round {round}");
    }
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Applies `ops` to a fresh database on `segment_kib` KiB WAL segments, checking it
/// against the model after every reopen and at the end.
fn run(ops: &[Op], segment_kib: u64) {
    let dir = std::env::temp_dir().join(format!(
        "strata-wal-model-{}-{:x}-{segment_kib}",
        std::process::id(),
        rand_suffix(ops)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = options(segment_kib << 10);
    let mut db = Db::open(&dir, opts.clone()).unwrap();
    let mut refs = Vec::new();
    let mut model: BTreeMap<usize, Vec<(i64, f64)>> = BTreeMap::new();
    let mut step = 0i64;
    for (k, op) in ops.iter().enumerate() {
        match op {
            Op::NewSeries(n) => {
                for _ in 0..*n {
                    let i = refs.len();
                    let labels = [("__name__", "model".to_owned()), ("i", i.to_string())];
                    refs.push(db.series_ref(&labels).unwrap());
                    model.insert(i, Vec::new());
                }
            }
            Op::Append { mask, steps } => {
                let chosen: Vec<usize> = (0..refs.len())
                    .filter(|i| mask & (1 << (i % 8)) != 0)
                    .collect();
                for _ in 0..*steps {
                    let t = T0_MS + step * STEP_MS;
                    step += 1;
                    let rs: Vec<_> = chosen.iter().map(|&i| refs[i]).collect();
                    let ts = vec![t; rs.len()];
                    let vs: Vec<f64> = chosen
                        .iter()
                        .map(|&i| (i as i64 * 1000 + step) as f64)
                        .collect();
                    let out = db.append_batch(&rs, &ts, &vs).unwrap();
                    assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
                    for (&i, &v) in chosen.iter().zip(&vs) {
                        model.get_mut(&i).unwrap().push((t, v));
                    }
                }
            }
            Op::Compact => {
                db.compact().unwrap();
            }
            Op::Reopen => {
                db.close().unwrap();
                db = Db::open(&dir, opts.clone())
                    .unwrap_or_else(|e| fail(&dir, &format!("op {k}: reopen: {e}")));
                assert!(db.replay_report().is_clean(), "{:?}", db.replay_report());
                check(&db, &model, &format!("after op {k} (reopen)"));
                // Series references survive restarts.
                for (i, r) in refs.iter().enumerate() {
                    let labels = [("__name__", "model".to_owned()), ("i", i.to_string())];
                    assert_eq!(db.series_ref(&labels).unwrap(), *r, "op {k}: series {i}");
                }
            }
        }
    }
    db.close().unwrap();
    let db = Db::open(&dir, opts).unwrap_or_else(|e| fail(&dir, &format!("final reopen: {e}")));
    check(&db, &model, "at the end");
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Panics with `why` and a listing of the WAL that could not be reopened.
fn fail(dir: &std::path::Path, why: &str) -> ! {
    let mut listing = Vec::new();
    let _ = strata_engine::dump_wal(dir, &mut listing);
    let listing = String::from_utf8_lossy(&listing);
    let lines: Vec<&str> = listing.lines().collect();
    let head = lines[..lines.len().min(200)].join("\n");
    panic!(
        "{why}\nWAL ({} records, the first 200):\n{head}",
        lines.len()
    );
}

/// A directory suffix that differs between cases (proptest runs them in one process).
fn rand_suffix(ops: &[Op]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{ops:?}").hash(&mut h);
    h.finish()
}
