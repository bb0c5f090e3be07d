//! Crash images and injected I/O faults at every step of the engine's file protocols. The whole
//! database — WAL, blocks, span partitions, config — runs on a `MemFs`. Each procedure below
//! (a head cut into blocks with its WAL checkpoint; a cut followed by a merge; a span seal; a
//! compaction sealing spans and checkpointing metrics and spans together) is run once to count
//! its N mutating file operations; then, for every k in 0..N:
//!
//! - **crash**: the machine dies at operation k (it and everything after fail). The durable
//!   image — only what was synced, directory entries included — is reopened: every
//!   acknowledged sample and span is there exactly once; the procedure, retried on the
//!   reopened database, succeeds and leaves the same data, also after another crash.
//!   A torn image (unsynced sectors kept or lost at random) reopens with everything too.
//! - **ENOSPC** and **EIO**: operation k alone fails. The live database still answers with
//!   everything; the retry on it succeeds (no collision with what the failed attempt left);
//!   a crash image after the retry reopens with everything, once.
//!
//! Every acknowledged write uses `Fsync::Always`, so "acknowledged" means "must survive".

use std::collections::BTreeMap;
use std::io::ErrorKind;
use strata_engine::spans::{Span, SpanFilter};
use strata_engine::{Clock, Db, Error, Fsync, Matcher, Options, Result};
use strata_storage::{Fs, MemFs};
use strata_testkit::spans::{numbered_span, span_number};

const HOUR_MS: i64 = 3_600_000;
const HOUR_NS: i64 = HOUR_MS * 1_000_000;
/// Samples and spans start here; the clock is pinned two days later (inside every retention).
const T0_MS: i64 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR_MS;
const SERIES: usize = 3;
const DIR: &str = "/db";

fn options(fs: &MemFs) -> Options {
    Options {
        fs: Fs::new(fs.clone()),
        fsync: Fsync::Always,
        block_duration_ms: HOUR_MS,
        auto_cut: false,
        wal_segment_bytes: 16 << 10,
        clock: Clock::fixed(T0_MS + 48 * HOUR_MS),
        ..Options::default()
    }
}

fn labels(i: usize) -> Vec<(String, String)> {
    vec![
        ("__name__".into(), "crash_image_total".into()),
        ("series".into(), i.to_string()),
    ]
}

/// What the database must hold: samples per series and span ids.
#[derive(Debug, Default, Clone, PartialEq)]
struct Expected {
    samples: BTreeMap<String, Vec<(i64, u64)>>,
    spans: Vec<u64>,
}

/// Appends one sample per series every 10 minutes in `[from_ms, to_ms)`.
fn append_samples(db: &Db, from_ms: i64, to_ms: i64, want: &mut Expected) {
    let refs: Vec<_> = (0..SERIES)
        .map(|i| db.series_ref(&labels(i)).expect("series"))
        .collect();
    let mut t = from_ms;
    while t < to_ms {
        let vs: Vec<f64> = (0..SERIES).map(|i| (t / 1000 + i as i64) as f64).collect();
        let out = db.append_batch(&refs, &[t; SERIES], &vs).expect("append");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        for (i, v) in vs.iter().enumerate() {
            let e = want.samples.entry(i.to_string()).or_default();
            e.push((t, v.to_bits()));
        }
        t += 600_000;
    }
}

/// Span `k` of the test (the kit's numbered span `k`), starting `k` minutes after `from_ns`
/// (modulo an hour).
fn span(k: u64, from_ns: i64) -> Span {
    numbered_span(k, from_ns + k as i64 * 60_000_000_000 % HOUR_NS)
}

/// Appends spans `ks`, starting in the hour after `hour_ms`.
fn append_spans(db: &Db, ks: std::ops::Range<u64>, hour_ms: i64, want: &mut Expected) {
    let spans: Vec<Span> = ks.clone().map(|k| span(k, hour_ms * 1_000_000)).collect();
    let out = db.append_spans(&spans).expect("append spans");
    assert_eq!(out.spans, spans.len());
    want.spans.extend(ks);
    want.spans.sort_unstable();
}

fn found(db: &Db) -> Expected {
    let mut got = Expected::default();
    let all = db
        .select(
            &[Matcher::equal("__name__", "crash_image_total")],
            i64::MIN,
            i64::MAX,
        )
        .expect("select");
    for s in all {
        let id = s
            .labels
            .iter()
            .find(|(n, _)| n == "series")
            .map(|(_, v)| v.clone());
        let pairs = s.timestamps_ms.iter().zip(&s.values);
        let e = got.samples.entry(id.unwrap_or_default()).or_default();
        e.extend(pairs.map(|(&t, v)| (t, v.to_bits())));
    }
    let spans = db
        .spans()
        .find_columns(&SpanFilter {
            limit: usize::MAX,
            ..SpanFilter::default()
        })
        .expect("find spans");
    got.spans = spans.span_id.iter().map(|id| span_number(*id)).collect();
    got.spans.sort_unstable();
    got
}

/// Everything expected is there, once: the reads match and no sample is stored twice (reads
/// merge duplicates away; the stored counts do not).
fn check(db: &Db, want: &Expected, what: &str) {
    let got = found(db);
    assert!(got.samples == want.samples, "{what}: samples differ");
    if got.spans != want.spans {
        let missing: Vec<_> = want
            .spans
            .iter()
            .filter(|k| !got.spans.contains(k))
            .collect();
        let mut extra = got.spans.clone();
        for k in &want.spans {
            if let Some(i) = extra.iter().position(|x| x == k) {
                extra.remove(i);
            }
        }
        panic!("{what}: spans missing {missing:?}, extra (duplicates) {extra:?}");
    }
    let stored = db.stats().expect("stats").samples;
    let expected: usize = want.samples.values().map(Vec::len).sum();
    assert_eq!(
        stored, expected as u64,
        "{what}: samples stored twice or lost"
    );
}

/// A procedure under test: what exists before it, and the procedure.
struct Scenario {
    name: &'static str,
    prepare: fn(&Db) -> Expected,
    run: fn(&Db) -> Result<()>,
}

fn prepare_cut(db: &Db) -> Expected {
    let mut want = Expected::default();
    // Hours 0 and 3: two blocks in two merge windows (no merge).
    append_samples(db, T0_MS, T0_MS + HOUR_MS, &mut want);
    append_samples(db, T0_MS + 3 * HOUR_MS, T0_MS + 4 * HOUR_MS, &mut want);
    want
}

fn prepare_merge(db: &Db) -> Expected {
    let mut want = Expected::default();
    append_samples(db, T0_MS, T0_MS + HOUR_MS, &mut want);
    db.compact().expect("first cut");
    // The next cut writes a block in the same 3-hour window: the two merge.
    append_samples(db, T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS, &mut want);
    want
}

fn prepare_spans(db: &Db) -> Expected {
    let mut want = Expected::default();
    append_spans(db, 0..40, T0_MS, &mut want);
    append_spans(db, 40..70, T0_MS + HOUR_MS, &mut want);
    append_samples(db, T0_MS, T0_MS + HOUR_MS, &mut want);
    want
}

fn seal_two_windows(db: &Db) -> Result<()> {
    db.seal_spans_through(T0_MS + 2 * HOUR_MS).map(drop)
}

fn compact(db: &Db) -> Result<()> {
    db.compact().map(drop)
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "head cut + checkpoint",
        prepare: prepare_cut,
        run: compact,
    },
    Scenario {
        name: "cut + merge + checkpoint",
        prepare: prepare_merge,
        run: compact,
    },
    Scenario {
        name: "span seal",
        prepare: prepare_spans,
        run: seal_two_windows,
    },
    Scenario {
        name: "compaction: cut, seal, checkpoint of both",
        prepare: prepare_spans,
        run: compact,
    },
];

/// A fresh in-memory database with the scenario's data; returns the file system, the
/// database and what it must hold.
fn setup(s: &Scenario) -> (MemFs, Db, Expected) {
    let fs = MemFs::new();
    let db = Db::open(DIR, options(&fs)).expect("open");
    let want = (s.prepare)(&db);
    (fs, db, want)
}

fn reopen(image: &MemFs, want: &Expected, what: &str) -> Db {
    let db = Db::open(DIR, options(image)).unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
    check(&db, want, what);
    db
}

/// Mutating operations the scenario's procedure performs when nothing fails.
fn count_ops(s: &Scenario) -> u64 {
    let (fs, db, want) = setup(s);
    let before = fs.mutating_ops();
    (s.run)(&db).expect("clean run");
    let n = fs.mutating_ops() - before;
    check(&db, &want, "clean run");
    reopen(&fs.crash_image(), &want, "clean run, crashed after");
    n
}

fn crash_at(s: &Scenario, k: u64) {
    let what = format!("{}: crash at operation {k}", s.name);
    let (fs, db, want) = setup(s);
    fs.fail_after_ops(Some(k));
    let _ = (s.run)(&db);
    let image = fs.crash_image();
    // A power cut can also leave unsynced sectors half written (the WAL's tail).
    reopen(&fs.crash_image_torn(k), &want, &format!("{what}, torn"));
    drop(db);
    let db = reopen(&image, &want, &what);
    (s.run)(&db).unwrap_or_else(|e| panic!("{what}: retry after reopen: {e}"));
    check(&db, &want, &format!("{what}, retried"));
    let again = image.crash_image();
    drop(db);
    reopen(&again, &want, &format!("{what}, retried, crashed again"));
}

fn fail_at(s: &Scenario, k: u64, kind: ErrorKind) {
    let what = format!("{}: {kind:?} at operation {k}", s.name);
    let (fs, mut db, want) = setup(s);
    fs.fail_operation(fs.mutating_ops() + k, kind);
    let failed = (s.run)(&db).is_err();
    check(&db, &want, &format!("{what} (failed: {failed})"));
    match (s.run)(&db) {
        Ok(()) => {}
        // A WAL write or sync that failed leaves the log refusing appends until it is
        // reopened (its state after a failed fsync is unknown): a process restart.
        Err(Error::Wal(_)) => {
            drop(db);
            db = reopen(&fs, &want, &format!("{what}, restarted"));
            (s.run)(&db).unwrap_or_else(|e| panic!("{what}: retry after restart: {e}"));
        }
        Err(e) => panic!("{what}: retry: {e}"),
    }
    check(&db, &want, &format!("{what}, retried"));
    let image = fs.crash_image();
    drop(db);
    reopen(&image, &want, &format!("{what}, retried, crashed"));
}

fn explore(s: &Scenario) -> u64 {
    let n = count_ops(s);
    assert!(n > 5, "{}: only {n} operations", s.name);
    for k in 0..n {
        crash_at(s, k);
        fail_at(s, k, ErrorKind::StorageFull);
        fail_at(s, k, ErrorKind::Other);
    }
    eprintln!(
        "{}: {n} operations; {} crash images (clean and torn), {n} ENOSPC and {n} EIO faults",
        s.name,
        2 * n
    );
    n
}

#[test]
fn head_cut_survives_a_crash_or_fault_at_every_step() {
    explore(&SCENARIOS[0]);
}

#[test]
fn merge_survives_a_crash_or_fault_at_every_step() {
    explore(&SCENARIOS[1]);
}

#[test]
fn span_seal_survives_a_crash_or_fault_at_every_step() {
    explore(&SCENARIOS[2]);
}

#[test]
fn compaction_checkpoint_survives_a_crash_or_fault_at_every_step() {
    explore(&SCENARIOS[3]);
}
