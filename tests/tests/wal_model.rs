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
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn wal_checkpoints_and_truncation_keep_every_acknowledged_sample(
        ops in proptest::collection::vec(op(), 1..40),
        segment_kib in 2u64..16,
    ) {
        let dir = std::env::temp_dir().join(format!(
            "strata-wal-model-{}-{:x}",
            std::process::id(),
            rand_suffix(&ops)
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
                    let chosen: Vec<usize> =
                        (0..refs.len()).filter(|i| mask & (1 << (i % 8)) != 0).collect();
                    for _ in 0..*steps {
                        let t = T0_MS + step * STEP_MS;
                        step += 1;
                        let rs: Vec<_> = chosen.iter().map(|&i| refs[i]).collect();
                        let ts = vec![t; rs.len()];
                        let vs: Vec<f64> = chosen.iter().map(|&i| (i as i64 * 1000 + step) as f64).collect();
                        let out = db.append_batch(&rs, &ts, &vs).unwrap();
                        prop_assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
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
                        .unwrap_or_else(|e| panic!("op {k}: reopen: {e}"));
                    prop_assert!(db.replay_report().is_clean(), "{:?}", db.replay_report());
                    check(&db, &model, &format!("after op {k} (reopen)"));
                    // Series references survive restarts.
                    for (i, r) in refs.iter().enumerate() {
                        let labels = [("__name__", "model".to_owned()), ("i", i.to_string())];
                        prop_assert_eq!(db.series_ref(&labels).unwrap(), *r);
                    }
                }
            }
        }
        db.close().unwrap();
        let db = Db::open(&dir, opts).unwrap();
        check(&db, &model, "at the end");
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A directory suffix that differs between cases (proptest runs them in one process).
fn rand_suffix(ops: &[Op]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{ops:?}").hash(&mut h);
    h.finish()
}
