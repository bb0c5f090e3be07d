//! Events are durable: every acknowledged event (and its content) is there exactly once after
//! a crash — before any seal, at every file operation of a seal and of a compaction with its
//! WAL checkpoint (clean and torn crash images), and after reopening databases whose events
//! were sealed and then appended to. The whole database runs on a `MemFs`.

use strata_engine::spans::{AttrValue, EventFilter, KeyValue, LogEvent};
use strata_engine::{Clock, Db, Fsync, Options, Result};
use strata_storage::{Fs, MemFs};
use strata_testkit::spans::numbered_span;

const HOUR_MS: i64 = 3_600_000;
const HOUR_NS: i64 = HOUR_MS * 1_000_000;
const T0_MS: i64 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR_MS;
const DIR: &str = "/db";

fn options(fs: &MemFs) -> Options {
    Options {
        fs: Fs::new(fs.clone()),
        fsync: Fsync::Always,
        auto_cut: false,
        wal_segment_bytes: 16 << 10,
        clock: Clock::fixed(T0_MS + 48 * HOUR_MS),
        ..Options::default()
    }
}

/// Event `k`: linked to span `k` (as `numbered_span` numbers them), in the hour after
/// `hour_ms`, with `time_unix_nano` 0 as the OTel GenAI instrumentations send it, and nested
/// content.
fn event(k: u64, hour_ms: i64) -> LogEvent {
    let span = numbered_span(k, 0);
    let msg = AttrValue::Array(vec![AttrValue::Map(vec![
        KeyValue::new("role", AttrValue::Str("user".into())),
        KeyValue::new("content", AttrValue::Str(format!("question {k}"))),
    ])]);
    LogEvent {
        observed_ns: hour_ms * 1_000_000 + (k as i64 * 60_000_000_000) % HOUR_NS,
        event_name: "gen_ai.client.inference.operation.details".into(),
        trace_id: span.trace_id,
        span_id: span.span_id,
        flags: 1,
        body: Some(AttrValue::Str(String::new())),
        resource: vec![KeyValue::new("service.name", AttrValue::Str("svc".into()))],
        attributes: vec![
            KeyValue::new(
                "gen_ai.request.model",
                AttrValue::Str(format!("m{}", k % 3)),
            ),
            KeyValue::new("gen_ai.usage.output_tokens", AttrValue::Int(k as i64)),
            KeyValue::new("gen_ai.input.messages", msg),
        ],
        ..LogEvent::default()
    }
}

fn append(db: &Db, ks: std::ops::Range<u64>, hour_ms: i64, want: &mut Vec<u64>) {
    let events: Vec<LogEvent> = ks.clone().map(|k| event(k, hour_ms)).collect();
    assert_eq!(
        db.append_events(events).expect("append").events,
        (ks.end - ks.start) as usize
    );
    want.extend(ks);
    want.sort_unstable();
}

/// Every expected event is there once, with its tokens and its content.
fn check(db: &Db, want: &[u64], what: &str) {
    let hits = db
        .find_events(&EventFilter {
            limit: usize::MAX,
            with_content: true,
            ..EventFilter::default()
        })
        .unwrap_or_else(|e| panic!("{what}: find: {e}"));
    let mut got: Vec<u64> = hits
        .iter()
        .map(|h| h.genai.output_tokens.unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, want, "{what}: events lost or duplicated");
    for h in &hits {
        let k = h.genai.output_tokens.unwrap();
        assert_eq!(h.event.span_id, numbered_span(k, 0).span_id, "{what}");
        let content = h
            .content
            .iter()
            .find(|kv| kv.key == "gen_ai.input.messages");
        assert!(
            content.is_some_and(|c| c.value.to_text().contains(&format!("question {k}"))),
            "{what}: content of event {k}: {:?}",
            h.content
        );
    }
    let ids: std::collections::BTreeSet<u64> = hits.iter().map(|h| h.event.id).collect();
    assert_eq!(ids.len(), hits.len(), "{what}: event ids repeat");
}

fn prepare(db: &Db) -> Vec<u64> {
    let mut want = Vec::new();
    append(db, 0..40, T0_MS, &mut want);
    append(db, 40..70, T0_MS + HOUR_MS, &mut want);
    db.append_spans(&[numbered_span(0, T0_MS * 1_000_000)])
        .expect("spans");
    want
}

fn setup() -> (MemFs, Db, Vec<u64>) {
    let fs = MemFs::new();
    let db = Db::open(DIR, options(&fs)).expect("open");
    let want = prepare(&db);
    (fs, db, want)
}

fn reopen(image: &MemFs, want: &[u64], what: &str) -> Db {
    let db = Db::open(DIR, options(image)).unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
    check(&db, want, what);
    db
}

fn seal(db: &Db) -> Result<()> {
    db.seal_spans_through(T0_MS + 2 * HOUR_MS).map(drop)
}

fn compact(db: &Db) -> Result<()> {
    db.compact().map(drop)
}

/// Crashes the procedure at each of its file operations; each image (clean and torn)
/// reopens with every event; the procedure then completes after the reopen.
fn explore(name: &str, run: fn(&Db) -> Result<()>) {
    let (fs, db, want) = setup();
    let before = fs.mutating_ops();
    run(&db).expect("clean run");
    let n = fs.mutating_ops() - before;
    check(&db, &want, "clean run");
    assert!(
        db.spans().event_stats().sealed_events > 0,
        "{name}: nothing sealed"
    );
    reopen(&fs.crash_image(), &want, "clean run, crashed after");
    assert!(n > 5, "{name}: only {n} operations");
    for k in 0..n {
        let what = format!("{name}: crash at operation {k}");
        let (fs, db, want) = setup();
        fs.fail_after_ops(Some(k));
        let _ = run(&db);
        let image = fs.crash_image();
        reopen(&fs.crash_image_torn(k), &want, &format!("{what}, torn"));
        drop(db);
        let db = reopen(&image, &want, &what);
        run(&db).unwrap_or_else(|e| panic!("{what}: retry after reopen: {e}"));
        check(&db, &want, &format!("{what}, retried"));
        let again = image.crash_image();
        drop(db);
        reopen(&again, &want, &format!("{what}, retried, crashed again"));
    }
    eprintln!("{name}: {n} operations, {} crash images", 2 * n);
}

#[test]
fn an_acknowledged_event_survives_a_crash_before_any_seal() {
    let (fs, _db, want) = setup();
    reopen(&fs.crash_image(), &want, "unsealed");
}

#[test]
fn events_survive_a_crash_at_every_step_of_a_seal() {
    explore("event seal", seal);
}

#[test]
fn events_survive_a_crash_at_every_step_of_a_compaction_with_checkpoint() {
    explore("compaction with checkpoint", compact);
}

/// Sealed, appended to (the same windows and a new one), sealed and checkpointed again,
/// reopened between each step: nothing lost, nothing twice, ids never reused.
#[test]
fn events_appended_after_seals_survive_reopens() {
    let (fs, db, mut want) = setup();
    seal(&db).expect("seal");
    append(&db, 70..90, T0_MS, &mut want);
    append(&db, 90..100, T0_MS + 2 * HOUR_MS, &mut want);
    drop(db);
    let image = fs.crash_image();
    let db = reopen(&image, &want, "sealed, appended, crashed");
    compact(&db).expect("compact");
    append(&db, 100..110, T0_MS + 3 * HOUR_MS, &mut want);
    let image = image.crash_image();
    drop(db);
    let db = reopen(&image, &want, "compacted, appended, crashed");
    let parts = db.spans().event_partitions();
    assert!(parts.len() >= 3, "{parts:?}");
    db.close().expect("close");
    reopen(&image, &want, "closed");
}

/// Events still in memory when a seal checkpoints the WAL (a later window, not sealed) are
/// copied into the checkpoint: the older segments go, the events stay — through a crash at
/// every step of the seal and its checkpoint.
fn seal_first_window(db: &Db) -> Result<()> {
    db.seal_spans_through(T0_MS + HOUR_MS).map(drop)
}

fn prepare_open(db: &Db) -> Vec<u64> {
    let mut want = Vec::new();
    // Enough WAL for a seal to checkpoint (four 16 KiB segments), most of it in the
    // first window; 30 events of the second window stay in memory.
    for k in (0..400).step_by(20) {
        append(db, k..k + 20, T0_MS, &mut want);
    }
    append(db, 400..430, T0_MS + HOUR_MS, &mut want);
    want
}

#[test]
fn events_in_memory_survive_a_checkpoint_at_every_step() {
    let fs = MemFs::new();
    let db = Db::open(DIR, options(&fs)).expect("open");
    let want = prepare_open(&db);
    let wal_before = db.stats().expect("stats").wal_bytes;
    let before = fs.mutating_ops();
    seal_first_window(&db).expect("seal");
    let n = fs.mutating_ops() - before;
    let wal_after = db.stats().expect("stats").wal_bytes;
    assert!(
        wal_after < wal_before / 2,
        "no checkpoint: WAL {wal_before} → {wal_after} bytes"
    );
    assert_eq!(
        db.spans().event_stats().open_events,
        30,
        "the second window was sealed"
    );
    check(&db, &want, "after the checkpoint");
    drop(db);
    let db = Db::open(DIR, options(&fs.crash_image())).expect("reopen");
    check(&db, &want, "checkpointed, crashed");
    drop(db);
    for k in 0..n {
        let what = format!("seal with checkpoint: crash at operation {k}");
        let fs = MemFs::new();
        let db = Db::open(DIR, options(&fs)).expect("open");
        let want = prepare_open(&db);
        fs.fail_after_ops(Some(k));
        let _ = seal_first_window(&db);
        let image = fs.crash_image();
        drop(db);
        let db = Db::open(DIR, options(&image)).unwrap_or_else(|e| panic!("{what}: {e}"));
        check(&db, &want, &what);
        seal_first_window(&db).unwrap_or_else(|e| panic!("{what}: retry: {e}"));
        drop(db);
        let db = Db::open(DIR, options(&image.crash_image())).expect("reopen");
        check(&db, &want, &format!("{what}, retried, crashed again"));
    }
}
