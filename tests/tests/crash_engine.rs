//! A child process ingests with `Fsync::Always` and prints every acknowledged batch; the parent
//! SIGKILLs it at random moments, reopens the database and checks that every acknowledged
//! sample is there with its value. Many rounds on the same directory, so recovery also runs on
//! top of earlier recoveries (and of blocks cut along the way).

use std::path::{Path, PathBuf};
use strata_engine::{Db, Fsync, Matcher, Options};
use strata_tests::run_and_kill;

const CHILD_ENV: &str = "STRATA_CRASH_CHILD_DIR";
const SERIES: usize = 20;

fn options() -> Options {
    // Small blocks so some rounds cut blocks and checkpoint the WAL while being killed.
    Options {
        fsync: Fsync::Always,
        block_duration_ms: 60_000,
        // The samples start at the epoch: pin "now" a day later (retention reads it).
        clock: strata_engine::Clock::fixed(86_400_000),
        ..Options::default()
    }
}

fn labels(i: usize) -> Vec<(String, String)> {
    vec![
        ("__name__".into(), "crash_test_total".into()),
        ("model".into(), format!("m{}", i % 5)),
        ("series".into(), i.to_string()),
    ]
}

/// The child: continue after the newest timestamp on disk, print `ack T` after each batch.
fn child(dir: &Path) {
    let db = Db::open(dir, options()).expect("child opens");
    let refs: Vec<_> = (0..SERIES)
        .map(|i| db.series_ref(&labels(i)).unwrap())
        .collect();
    let start = db
        .select(
            &[Matcher::equal("__name__", "crash_test_total")],
            i64::MIN,
            i64::MAX,
        )
        .unwrap()
        .iter()
        .filter_map(|s| s.timestamps_ms.last().copied())
        .max()
        .map_or(0, |t| t + 1000);
    let mut t = start;
    loop {
        let ts = vec![t; SERIES];
        let vs: Vec<f64> = (0..SERIES)
            .map(|i| (t / 1000) as f64 * (i + 1) as f64)
            .collect();
        let out = db.append_batch(&refs, &ts, &vs).expect("append");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        println!("ack {t}");
        t += 1000;
    }
}

#[test]
fn acknowledged_samples_survive_sigkill() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("strata-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut acked_max: Option<i64> = None;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ std::process::id() as u64;
    let rounds = 12;
    for round in 0..rounds {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let run_ms = 50 + (seed >> 33) % 400;
        let acks = run_and_kill(
            "acknowledged_samples_survive_sigkill",
            &[(CHILD_ENV, dir.to_string_lossy().into_owned())],
            run_ms,
        );
        for t in acks {
            acked_max = Some(acked_max.map_or(t, |m: i64| m.max(t)));
        }

        let db = Db::open(&dir, options()).unwrap_or_else(|e| panic!("round {round}: reopen: {e}"));
        let got = db
            .select(
                &[Matcher::equal("__name__", "crash_test_total")],
                i64::MIN,
                i64::MAX,
            )
            .unwrap();
        if let Some(max) = acked_max {
            assert_eq!(got.len(), SERIES, "round {round}: every series is back");
            for s in &got {
                let i: usize = s
                    .labels
                    .iter()
                    .find(|(n, _)| n == "series")
                    .unwrap()
                    .1
                    .parse()
                    .unwrap();
                // Every acknowledged timestamp 0, 1000, …, max is present with its value.
                let want = (max / 1000 + 1) as usize;
                assert!(
                    s.timestamps_ms.len() >= want,
                    "round {round}: series {i} has {} of {want} acknowledged samples",
                    s.timestamps_ms.len()
                );
                for (k, (&t, &v)) in s.timestamps_ms.iter().zip(&s.values).enumerate() {
                    assert_eq!(t, k as i64 * 1000, "round {round}: series {i} sample {k}");
                    assert_eq!(
                        v,
                        (t / 1000) as f64 * (i + 1) as f64,
                        "round {round}: value at {t}"
                    );
                }
            }
        }
        drop(db);
    }
    assert!(
        acked_max.is_some_and(|m| m > 0),
        "the child acknowledged something"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
