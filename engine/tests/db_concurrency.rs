//! Writers and readers on many threads while the background thread cuts and compacts: no
//! deadlock, no sample ever disappears from view, no torn series (timestamps always strictly
//! increasing, values matching their timestamps), and everything is there at the end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use strata_engine::{Db, Fsync, Matcher, Options};

const WRITERS: usize = 4;
const SERIES_PER_WRITER: usize = 10;
const STEPS: i64 = 3000;

#[test]
fn concurrent_writers_readers_and_maintenance() {
    let dir = std::env::temp_dir().join(format!("strata-concurrency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Ten-minute blocks over 50 minutes of data: the background thread cuts and merges while
    // we write and read.
    let opts = Options {
        fsync: Fsync::Never,
        block_duration_ms: 600_000,
        // The data starts at the epoch: pin the clock a day later (retention and the future
        // bound read it).
        clock: strata_engine::Clock::fixed(86_400_000),
        ..Options::default()
    };
    // Writers stay within 50 s of each other, as scrapes of one time do; a writer a whole
    // block behind would be refused as too old, by design.
    let barrier = std::sync::Barrier::new(WRITERS);
    let db = Db::open(&dir, opts).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (db, barrier) = (&db, &barrier);
            scope.spawn(move || {
                let refs: Vec<_> = (0..SERIES_PER_WRITER)
                    .map(|i| {
                        db.series_ref(&[
                            ("__name__", "c".to_owned()),
                            ("w", w.to_string()),
                            ("i", i.to_string()),
                        ])
                        .unwrap()
                    })
                    .collect();
                for step in 0..STEPS {
                    if step % 50 == 0 {
                        barrier.wait();
                    }
                    let t = step * 1000;
                    let vs: Vec<f64> = (0..refs.len()).map(|i| (t + i as i64) as f64).collect();
                    let out = db.append_batch(&refs, &vec![t; refs.len()], &vs).unwrap();
                    assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
                }
            });
        }
        for _ in 0..2 {
            let (db, done) = (&db, &done);
            scope.spawn(move || {
                let mut seen: HashMap<Vec<(String, String)>, usize> = HashMap::new();
                let mut reads = 0;
                while !done.load(Ordering::Acquire) || reads < 3 {
                    let got = db
                        .select(&[Matcher::equal("__name__", "c")], i64::MIN, i64::MAX)
                        .unwrap();
                    for s in got {
                        assert!(
                            s.timestamps_ms.windows(2).all(|p| p[0] < p[1]),
                            "torn: out of order"
                        );
                        let i: i64 = s
                            .labels
                            .iter()
                            .find(|(n, _)| n == "i")
                            .unwrap()
                            .1
                            .parse()
                            .unwrap();
                        for (k, (&t, &v)) in s.timestamps_ms.iter().zip(&s.values).enumerate() {
                            assert_eq!(t, k as i64 * 1000, "a gap: samples vanished from view");
                            assert_eq!(v, (t + i) as f64);
                        }
                        let n = s.timestamps_ms.len();
                        let before = seen.insert(s.labels.clone(), n).unwrap_or(0);
                        assert!(n >= before, "{} samples visible after {before}", n);
                    }
                    reads += 1;
                }
            });
        }
        // Wait for the writers (the first WRITERS spawned threads) by polling the data.
        let total = (WRITERS * SERIES_PER_WRITER) as i64 * STEPS;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let n: i64 = db.stats().unwrap().samples as i64;
            if n == total || std::time::Instant::now() > deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        done.store(true, Ordering::Release);
    });
    let stats = db.stats().unwrap();
    assert_eq!(
        stats.samples as i64,
        (WRITERS * SERIES_PER_WRITER) as i64 * STEPS,
        "{stats:?}"
    );
    // The background thread was woken by the appends; on a loaded machine the writers can
    // finish before it gets to run, so give it time rather than assume it already ran.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while db.stats().unwrap().blocks == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let stats = db.stats().unwrap();
    assert!(stats.blocks >= 1, "maintenance ran: {stats:?}");
    db.compact().unwrap();
    let got = db
        .select(&[Matcher::equal("__name__", "c")], i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(got.len(), WRITERS * SERIES_PER_WRITER);
    assert!(got.iter().all(|s| s.timestamps_ms.len() == STEPS as usize));
    let _ = std::fs::remove_dir_all(&dir);
}
