//! Databases whose WAL outgrew one segment: the reproduction from issue 12 (1000 series ×
//! 7000 scrapes, ~96 MB of WAL over two 64 MiB segments with checkpoints in between) reopens
//! with every sample, strict and salvage; a SIGKILL loop over many small segments, block cuts
//! and checkpoints loses nothing acknowledged and always reopens.

use std::path::{Path, PathBuf};
use strata_engine::{Clock, Db, Fsync, Matcher, Options};
use strata_tests::run_and_kill;

const T0_MS: i64 = 1_795_000_000_000;
const SCRAPE_MS: i64 = 15_000;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn float_samples(db: &Db, name: &str) -> u64 {
    db.select(&[Matcher::equal("__name__", name)], i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .map(|s| s.timestamps_ms.len() as u64)
        .sum()
}

/// Issue 12's reproduction: 1000 series (`m{i="0"…"999"}`), 7000 batches of one sample per
/// series, 15 s apart (29 h: the head is cut into blocks and the WAL checkpointed along the
/// way), closed cleanly, reopened strict and in salvage mode.
#[test]
fn seven_million_samples_over_several_segments_reopen() {
    let dir = tempdir("wal-rotation");
    const SERIES: usize = 1000;
    const SCRAPES: i64 = 7000;
    let opts = Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(T0_MS + SCRAPES * SCRAPE_MS),
        ..Options::default()
    };
    {
        let db = Db::open(&dir, opts.clone()).unwrap();
        let refs: Vec<_> = (0..SERIES)
            .map(|i| db.series_ref(&[("__name__", "m".to_owned()), ("i", i.to_string())]))
            .collect::<Result<_, _>>()
            .unwrap();
        let mut ts = vec![0; SERIES];
        let mut vs = vec![0.0; SERIES];
        for k in 0..SCRAPES {
            ts.fill(T0_MS + k * SCRAPE_MS);
            for (i, v) in vs.iter_mut().enumerate() {
                *v = (k as usize * SERIES + i) as f64;
            }
            let out = db.append_batch(&refs, &ts, &vs).unwrap();
            assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
        }
        db.close().unwrap();
    }
    let segments = std::fs::read_dir(dir.join("wal")).unwrap().count();
    for salvage in [false, true] {
        let db = Db::open(
            &dir,
            Options {
                wal_salvage: salvage,
                ..opts.clone()
            },
        )
        .unwrap_or_else(|e| panic!("reopen (salvage {salvage}, {segments} segments): {e}"));
        assert_eq!(float_samples(&db, "m"), SERIES as u64 * SCRAPES as u64);
        assert!(db.replay_report().is_clean(), "{:?}", db.replay_report());
        assert_eq!(db.stats().unwrap().series, SERIES as u64);
        db.close().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A log in the shape the old checkpoint left behind: the segment that defined the series
/// is gone and the next one starts with samples for them, then the checkpoint. Built by
/// running the workload with tiny segments so truncation happens many times.
#[test]
fn tiny_segments_with_many_checkpoints_reopen_strict() {
    let dir = tempdir("wal-tiny-segments");
    let hour = 3_600_000;
    let opts = Options {
        fsync: Fsync::Never,
        wal_segment_bytes: 64 << 10,
        block_duration_ms: hour,
        clock: Clock::fixed(T0_MS + 48 * hour),
        ..Options::default()
    };
    let mut total = 0u64;
    for round in 0..6i64 {
        let db = Db::open(&dir, opts.clone()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(float_samples(&db, "tiny"), total, "round {round}");
        // New series every round (definitions after the truncated segments), old ones too.
        let refs: Vec<_> = (0..(50 + 10 * round))
            .map(|i| {
                db.series_ref(&[("__name__", "tiny".to_owned()), ("i", i.to_string())])
                    .unwrap()
            })
            .collect();
        for k in 0..400 {
            let t = T0_MS + (round * 400 + k) * SCRAPE_MS;
            let ts = vec![t; refs.len()];
            let vs = vec![k as f64; refs.len()];
            let out = db.append_batch(&refs, &ts, &vs).unwrap();
            assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
            total += refs.len() as u64;
        }
        if round % 2 == 1 {
            db.compact().unwrap();
        }
        db.close().unwrap();
    }
    let db = Db::open(&dir, opts).unwrap();
    assert_eq!(float_samples(&db, "tiny"), total);
    let _ = std::fs::remove_dir_all(&dir);
}

const CHILD_ENV: &str = "STRATA_ROTATION_CHILD_DIR";
const CRASH_SERIES: usize = 200;

fn crash_options() -> Options {
    // 256 KiB segments and 10-minute blocks: each round writes several segments, cuts
    // blocks and checkpoints (which truncate segments) while being killed.
    Options {
        fsync: Fsync::Always,
        wal_segment_bytes: 256 << 10,
        block_duration_ms: 600_000,
        clock: Clock::fixed(T0_MS + 365 * 86_400_000),
        ..Options::default()
    }
}

fn crash_labels(i: usize) -> [(&'static str, String); 2] {
    [("__name__", "rot".to_owned()), ("i", i.to_string())]
}

/// The child: continue after the newest timestamp on disk; one batch per scrape of every
/// series, plus a new series now and then; print `ack T` after each batch.
fn child(dir: &Path) {
    let db = Db::open(dir, crash_options()).expect("child opens");
    let mut refs: Vec<_> = (0..CRASH_SERIES)
        .map(|i| db.series_ref(&crash_labels(i)).unwrap())
        .collect();
    let start = db
        .select(&[Matcher::equal("__name__", "rot")], i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .filter_map(|s| s.timestamps_ms.last().copied())
        .max()
        .map_or(T0_MS, |t| t + 1000);
    let mut t = start;
    loop {
        let ts = vec![t; refs.len()];
        let vs: Vec<f64> = (0..refs.len())
            .map(|i| (t / 1000) as f64 + i as f64)
            .collect();
        let out = db.append_batch(&refs, &ts, &vs).expect("append");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
        println!("ack {t}");
        t += 1000;
        if (t / 1000) % 97 == 0 && refs.len() < 4 * CRASH_SERIES {
            // A new series: its definition lands after segments that truncation may remove.
            refs.push(db.series_ref(&crash_labels(refs.len())).unwrap());
        }
    }
}

fn crash_rounds() -> usize {
    std::env::var("STRATA_ROTATION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

/// SIGKILL at random moments, many rounds on one directory (`STRATA_ROTATION_ROUNDS`,
/// default 25; the closing note's figure is 300). Every acknowledged scrape must be back
/// with its value for the first 200 series, and the database must always open strict.
#[test]
fn sigkill_across_segment_rotations_loses_nothing() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let dir = tempdir("wal-rotation-crash");
    let mut acked_max: Option<i64> = None;
    let mut seed = 0x6b11_3a89_u64 ^ std::process::id() as u64;
    let mut max_segment = 0u64;
    let rounds = crash_rounds();
    for round in 0..rounds {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let run_ms = 100 + (seed >> 33) % 400;
        let acks = run_and_kill(
            "sigkill_across_segment_rotations_loses_nothing",
            &[(CHILD_ENV, dir.to_string_lossy().into_owned())],
            run_ms,
        );
        if let Some(m) = acks.iter().max() {
            acked_max = Some(acked_max.map_or(*m, |a: i64| a.max(*m)));
        }
        let db = Db::open(&dir, crash_options())
            .unwrap_or_else(|e| panic!("round {round}: reopen: {e}"));
        max_segment = max_segment.max(db.wal_recovery_report().last_segment);
        let Some(max) = acked_max else { continue };
        let got = db
            .select(&[Matcher::equal("__name__", "rot")], i64::MIN, i64::MAX)
            .unwrap();
        for s in &got {
            let i: usize = s
                .labels
                .iter()
                .find(|(n, _)| n == "i")
                .unwrap()
                .1
                .parse()
                .unwrap();
            if i >= CRASH_SERIES {
                continue;
            }
            let want = ((max - T0_MS) / 1000 + 1) as usize;
            assert!(
                s.timestamps_ms.len() >= want,
                "round {round}: series {i} has {} of {want} acknowledged samples",
                s.timestamps_ms.len()
            );
            for (k, (&t, &v)) in s.timestamps_ms.iter().zip(&s.values).enumerate() {
                assert_eq!(t, T0_MS + k as i64 * 1000, "round {round}: series {i}");
                assert_eq!(
                    v,
                    (t / 1000) as f64 + i as f64,
                    "round {round}: value at {t}"
                );
            }
        }
        assert!(
            got.iter()
                .filter(|s| s
                    .labels
                    .iter()
                    .any(|(n, v)| n == "i" && v.parse::<usize>().unwrap() < CRASH_SERIES))
                .count()
                == CRASH_SERIES,
            "round {round}: every series is back"
        );
        drop(db);
    }
    eprintln!(
        "{rounds} rounds, acknowledged through {} s of scrapes, WAL reached segment {max_segment}",
        acked_max.map_or(0, |m| (m - T0_MS) / 1000)
    );
    assert!(
        max_segment >= 5,
        "the loop rotated through {max_segment} segments"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const BIG_CHILD_ENV: &str = "STRATA_BIG_BATCH_CHILD_DIR";

/// Samples in the one big batch (`STRATA_BIG_BATCH`, default 2^21 = 4 WAL records; the closing
/// note's figure uses 2^24 = 16,777,216, the C ABI's maximum).
fn big_batch_samples() -> usize {
    std::env::var("STRATA_BIG_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 21)
}

fn big_options() -> Options {
    Options {
        fsync: Fsync::Always,
        clock: Clock::fixed(T0_MS + 86_400_000),
        ..Options::default()
    }
}

/// The child: one acknowledged small batch, then one huge batch over 1000 series.
fn big_child(dir: &Path) {
    let db = Db::open(dir, big_options()).expect("child opens");
    let refs: Vec<_> = (0..1000)
        .map(|i| db.series_ref(&[("__name__", "big".to_owned()), ("i", i.to_string())]))
        .collect::<Result<_, _>>()
        .unwrap();
    let n = big_batch_samples();
    let (mut rs, mut ts, mut vs) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for j in 0..n {
        rs.push(refs[j % refs.len()]);
        ts.push(T0_MS + (j / refs.len()) as i64 * 1000);
        vs.push(j as f64);
    }
    println!("ack 0");
    let out = db.append_batch(&rs, &ts, &vs).expect("append");
    assert!(out.rejected.is_empty());
    println!("ack {n}");
    std::thread::sleep(std::time::Duration::from_secs(60));
}

/// SIGKILL during one batch larger than a WAL record: after reopen the batch is absent or
/// whole, never partial; a torn one is counted in the replay report.
#[test]
fn a_batch_killed_mid_call_is_absent_or_whole() {
    if let Some(dir) = std::env::var_os(BIG_CHILD_ENV) {
        big_child(Path::new(&dir));
        return;
    }
    let n = big_batch_samples() as u64;
    let (mut absent, mut whole, mut torn) = (0, 0, 0);
    for (round, run_ms) in [300u64, 1200, 2500, 6000].into_iter().enumerate() {
        let dir = tempdir(&format!("big-batch-{round}"));
        let acks = run_and_kill(
            "a_batch_killed_mid_call_is_absent_or_whole",
            &[(BIG_CHILD_ENV, dir.to_string_lossy().into_owned())],
            run_ms,
        );
        let db = Db::open(&dir, big_options()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let got = float_samples(&db, "big");
        assert!(
            got == 0 || got == n,
            "round {round}: {got} of {n} samples after the kill"
        );
        if acks.contains(&(n as i64)) {
            assert_eq!(got, n, "round {round}: acknowledged, so whole");
        }
        if got == 0 {
            absent += 1;
        } else {
            whole += 1;
        }
        torn += db.replay_report().torn_batches;
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!(
        "{n}-sample batch: {absent} rounds absent, {whole} whole, {torn} torn batches dropped"
    );
}

/// The deterministic half of the above: a multi-record batch whose last part never reached
/// the disk (the log cut inside the batch, as a crash mid-call leaves it) replays as absent,
/// counted as a torn batch; the acknowledged batch before it stays whole.
#[test]
fn a_batch_cut_before_its_last_part_replays_as_absent() {
    let dir = tempdir("big-batch-cut");
    let opts = Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(T0_MS + 86_400_000),
        ..Options::default()
    };
    let n = 3 << 19; // three records
    {
        let db = Db::open(&dir, opts.clone()).unwrap();
        let refs: Vec<_> = (0..100)
            .map(|i| db.series_ref(&[("__name__", "cut".to_owned()), ("i", i.to_string())]))
            .collect::<Result<_, _>>()
            .unwrap();
        db.append_batch(&refs, &vec![T0_MS; 100], &vec![1.0; 100])
            .unwrap();
        let rs: Vec<_> = (0..n).map(|j| refs[j % 100]).collect();
        let ts: Vec<i64> = (0..n).map(|j| T0_MS + 1000 + (j / 100) as i64).collect();
        db.append_batch(&rs, &ts, &vec![2.0; n]).unwrap();
        db.close().unwrap();
    }
    let wal = dir.join("wal");
    let mut segments: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    let last = segments.last().unwrap();
    let len = std::fs::metadata(last).unwrap().len();
    // Into the middle of the last part: the parts before it are intact.
    let f = std::fs::OpenOptions::new().write(true).open(last).unwrap();
    f.set_len(len - len / 6).unwrap();
    drop(f);
    let db = Db::open(&dir, opts).unwrap();
    assert_eq!(float_samples(&db, "cut"), 100, "only the first batch");
    let r = db.replay_report();
    assert_eq!(
        (r.torn_batches, r.torn_batch_samples),
        (1, 2 << 19),
        "{r:?}"
    );
    assert!(db.wal_recovery_report().truncated_tail.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
