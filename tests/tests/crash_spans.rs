//! Spans under SIGKILL: a child process appends span batches with `Fsync::Always`, prints
//! every acknowledged batch, seals the windows its clock leaves into partitions and now and
//! then compacts (seal everything, then checkpoint the WAL); the parent kills it at random moments, reopens the
//! database and checks that every acknowledged span is there, once, with its fields. Many
//! rounds on the same directory, so recovery runs on top of earlier recoveries and seals.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use strata_engine::spans::{Span, SpanFilter};
use strata_engine::{Clock, Db, Fsync, ManualClock, Options};
use strata_testkit::spans::{numbered_span, span_number};
use strata_tests::run_and_kill;

const CHILD_ENV: &str = "STRATA_SPAN_CRASH_CHILD_DIR";
const BATCH: u64 = 50;
/// Span `k` starts at `t0 + k` seconds. The child's clock runs an hour ahead of the spans it
/// writes, the parent's is pinned nine days after `t0` (inside the spans bucket's 10 days):
/// nothing depends on the date the test runs.
const HOUR_NS: i64 = 3_600_000_000_000;
/// An hour boundary (2026-11-18T…Z).
const T0_NS: i64 = 1_795_000_000_000_000_000 - 1_795_000_000_000_000_000 % HOUR_NS;

fn options() -> Options {
    Options {
        fsync: Fsync::Always,
        clock: Clock::fixed((T0_NS + 9 * 24 * HOUR_NS) / 1_000_000),
        ..Options::default()
    }
}

fn t0() -> i64 {
    T0_NS
}

/// Span `k` starts `k` seconds after `t0` — except every 7th, which is late: two hours
/// earlier, in a window already sealed or being sealed (a seal must not lose such spans).
fn start_ns(k: u64, t0: i64) -> i64 {
    let late = if k % 7 == 3 { 2 * HOUR_NS } else { 0 };
    t0 + k as i64 * 1_000_000_000 - late
}

/// Span `k` of the test: the kit's numbered span `k`, at `start_ns(k, t0)`.
fn span(k: u64, t0: i64) -> Span {
    numbered_span(k, start_ns(k, t0))
}

fn all_span_ids(db: &Db) -> Vec<u64> {
    let found = db
        .spans()
        .find_columns(&SpanFilter {
            limit: usize::MAX,
            ..SpanFilter::default()
        })
        .unwrap();
    (0..found.len())
        .map(|i| span_number(found.span_id[i]))
        .collect()
}

/// The child: continue after the newest span on disk, print `ack K` after each batch. A
/// second thread seals the windows the clock has left while the first appends (seals run in
/// phases: appends go on during them), and now and then compacts (seal everything, current
/// window included, then checkpoint the WAL) — so kills land in seals, in appends during
/// seals, and in the checkpoints after them.
fn child(dir: &Path, t0: i64) {
    let clock = ManualClock::new((t0 + HOUR_NS) / 1_000_000);
    let opts = Options {
        clock: clock.clock(),
        ..options()
    };
    let db = Db::open(dir, opts).expect("child opens");
    let mut k = all_span_ids(&db).into_iter().max().map_or(0, |m| m + 1);
    let sealer = {
        let db = db.clone();
        let clock = clock.clone();
        std::thread::spawn(move || {
            for round in 0u64.. {
                std::thread::sleep(std::time::Duration::from_millis(15));
                let now_ns = clock.now_ms() * 1_000_000 - HOUR_NS;
                db.seal_spans_through((now_ns - now_ns.rem_euclid(HOUR_NS)) / 1_000_000)
                    .expect("seal");
                if round % 9 == 8 {
                    db.compact().expect("compact");
                }
            }
        })
    };
    loop {
        clock.set((t0 + (k + BATCH) as i64 * 1_000_000_000 + HOUR_NS) / 1_000_000);
        let batch: Vec<Span> = (k..k + BATCH).map(|i| span(i, t0)).collect();
        let out = db.append_spans_owned(batch).expect("append");
        assert_eq!(out.rejected, 0, "{:?}", out.first_rejection);
        println!("ack {}", k + BATCH - 1);
        k += BATCH;
        assert!(!sealer.is_finished(), "the sealing thread stopped");
    }
}

#[test]
fn acknowledged_spans_survive_sigkill() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        let t0: i64 = std::env::var("STRATA_SPAN_CRASH_T0")
            .unwrap()
            .parse()
            .unwrap();
        child(Path::new(&dir), t0);
        return;
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("strata-span-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t0 = t0();
    let mut acked_max: Option<u64> = None;
    let mut sealed = 0;
    let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ std::process::id() as u64;
    for round in 0..10 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let run_ms = 100 + (seed >> 33) % 500;
        let acks = run_and_kill(
            "acknowledged_spans_survive_sigkill",
            &[
                (CHILD_ENV, dir.to_string_lossy().into_owned()),
                ("STRATA_SPAN_CRASH_T0", t0.to_string()),
            ],
            run_ms,
        );
        for k in acks.into_iter().map(|k| k as u64) {
            acked_max = Some(acked_max.map_or(k, |m: u64| m.max(k)));
        }

        let db = Db::open(&dir, options()).unwrap_or_else(|e| panic!("round {round}: reopen: {e}"));
        let ids = all_span_ids(&db);
        let distinct: HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            ids.len(),
            "round {round}: a span came back twice"
        );
        if let Some(max) = acked_max {
            for k in 0..=max {
                assert!(
                    distinct.contains(&k),
                    "round {round}: acknowledged span {k} is missing"
                );
            }
            // Spot-check whole spans through the trace index (sealed or in memory).
            for k in [0, max / 2, max] {
                let want = span(k, t0);
                let got = db.spans().trace(&want.trace_id).unwrap();
                let s = got
                    .iter()
                    .find(|h| h.span.span_id == want.span_id)
                    .unwrap_or_else(|| panic!("round {round}: span {k} not in its trace"));
                assert_eq!(s.span, want, "round {round}: span {k}");
            }
        }
        sealed = sealed.max(db.spans().stats().sealed_partitions);
        drop(db);
    }
    assert!(sealed > 0, "some windows were sealed along the way");
    assert!(
        acked_max.is_some_and(|m| m > BATCH),
        "the child acknowledged something"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
