//! Events through the `Db`: routed into buckets by event name and attributes as spans are,
//! their content under its own retention (a content bucket), expired whole partitions at a
//! time and reported; old and new GenAI attribute names; typed errors for bad input.

use strata_engine::spans::{
    AUDIT_BUCKET, AttrValue, ContentPolicy, DEFAULT_BUCKET, EventFilter, KeyValue, LogEvent, Rule,
    RuleOp,
};
use strata_engine::{Db, Error, Fsync, ManualClock, Options};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const T0_MS: i64 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR_MS;

fn s(v: &str) -> AttrValue {
    AttrValue::Str(v.into())
}

fn event(k: u8, name: &str, attrs: Vec<KeyValue>) -> LogEvent {
    LogEvent {
        time_ns: (T0_MS + i64::from(k) * 1000) * 1_000_000,
        event_name: name.into(),
        trace_id: [k; 16],
        span_id: [k; 8],
        resource: vec![KeyValue::new("service.name", s("svc"))],
        attributes: attrs,
        ..LogEvent::default()
    }
}

fn all(db: &Db) -> Vec<strata_engine::spans::EventHit> {
    db.find_events(&EventFilter {
        limit: usize::MAX,
        with_content: true,
        ..EventFilter::default()
    })
    .expect("find")
}

#[test]
fn events_route_to_buckets_and_content_keeps_its_own_retention() {
    let dir = std::env::temp_dir().join(format!("strata-db-events-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = ManualClock::new(T0_MS + HOUR_MS);
    let options = Options {
        fsync: Fsync::Never,
        clock: clock.clock(),
        auto_cut: false,
        ..Options::default()
    };
    let db = Db::open(&dir, options).expect("open");
    let spans = db.spans();
    spans.set_bucket("gen_ai_events", 1825 * DAY_MS).unwrap();
    spans.set_bucket("gen_ai_content", DAY_MS).unwrap();
    let mut rules = spans.config().rules;
    rules.push(Rule {
        key: "event.name".into(),
        op: RuleOp::Regex,
        value: "gen_ai\\..*".into(),
        bucket: "gen_ai_events".into(),
    });
    spans.set_rules(rules).unwrap();
    spans
        .set_content_policy(ContentPolicy::Bucket("gen_ai_content".into()))
        .unwrap();
    let msg = || KeyValue::new("gen_ai.input.messages", AttrValue::Array(vec![s("hi")]));
    let events = vec![
        // New names, routed by event name; content goes to the content bucket.
        event(
            1,
            "gen_ai.client.inference.operation.details",
            vec![
                KeyValue::new("gen_ai.provider.name", s("openai")),
                KeyValue::new("gen_ai.usage.input_tokens", AttrValue::Int(7)),
                msg(),
            ],
        ),
        // Old names, routed to the audit bucket by the default rule on an attribute.
        event(
            2,
            "",
            vec![
                KeyValue::new("event.type", s("gen_ai.auditing")),
                KeyValue::new("gen_ai.system", s("anthropic")),
                KeyValue::new("gen_ai.usage.prompt_tokens", AttrValue::Int(9)),
                KeyValue::new("gen_ai.prompt.0.content", s("old-style prompt")),
            ],
        ),
        // Nothing matches: the default bucket.
        event(3, "app.log", Vec::new()),
    ];
    assert_eq!(db.append_events(events).expect("append").events, 3);
    let hits = all(&db);
    let bucket = |k: u8| hits.iter().find(|h| h.event.trace_id == [k; 16]).unwrap();
    assert_eq!(bucket(1).bucket, "gen_ai_events");
    assert_eq!(bucket(2).bucket, AUDIT_BUCKET);
    assert_eq!(bucket(3).bucket, DEFAULT_BUCKET);
    assert_eq!(
        (
            bucket(1).genai.provider.as_str(),
            bucket(1).genai.input_tokens
        ),
        ("openai", Some(7))
    );
    assert_eq!(
        (
            bucket(2).genai.provider.as_str(),
            bucket(2).genai.input_tokens
        ),
        ("anthropic", Some(9))
    );
    assert_eq!(bucket(2).content[0].key, "gen_ai.prompt.0.content");
    assert!(
        bucket(1).event.attribute("gen_ai.input.messages").is_none(),
        "content apart"
    );

    // Sealed: the events in their buckets' partitions, their content in the content bucket's.
    db.compact().expect("compact");
    let parts = spans.event_partitions();
    let content_part = parts
        .iter()
        .find(|p| p.bucket == "gen_ai_content")
        .expect("content");
    assert_eq!((content_part.rows, content_part.content_rows), (0, 2));
    let sealed = all(&db);
    assert_eq!(sealed.len(), 3);
    assert!(
        sealed
            .iter()
            .filter(|h| h.event.trace_id != [3; 16])
            .all(|h| !h.content.is_empty())
    );

    // Two days on: the content bucket's partition expires, the events stay (without it),
    // and the report says what went.
    clock.set(T0_MS + 2 * DAY_MS + HOUR_MS);
    let report = db.apply_retention().expect("retention");
    let e = report
        .expired
        .iter()
        .find(|e| e.bucket == "gen_ai_content")
        .expect("expired");
    assert_eq!((e.event_partitions, e.events, e.content_rows), (1, 0, 2));
    let after = all(&db);
    assert_eq!(after.len(), 3);
    assert!(after.iter().all(|h| h.content.is_empty()));
    // Eleven days on: the default bucket's events expire (10 days), the others stay.
    clock.set(T0_MS + 11 * DAY_MS + HOUR_MS);
    let report = db.apply_retention().expect("retention");
    let e = report
        .expired
        .iter()
        .find(|e| e.bucket == DEFAULT_BUCKET)
        .expect("expired");
    assert_eq!(e.events, 1);
    assert_eq!(all(&db).len(), 2);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_events_are_typed_errors() {
    let dir = std::env::temp_dir().join(format!("strata-db-events-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = Options {
        fsync: Fsync::Never,
        clock: strata_engine::Clock::fixed(T0_MS),
        auto_cut: false,
        ..Options::default()
    };
    let db = Db::open(&dir, options).expect("open");
    let too_many = (0..5000)
        .map(|i| KeyValue::new(format!("k{i}"), AttrValue::Int(i)))
        .collect();
    let err = db.append_events(vec![event(1, "x", too_many)]).unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { index: 0, .. }), "{err}");
    let err = db.import_otlp_logs(&[0x0a, 0x05, 0x01]).unwrap_err();
    assert!(matches!(err, Error::Otlp { signal: "logs", .. }), "{err}");
    // A record with no time at all is stamped with the clock.
    let mut e = event(2, "x", Vec::new());
    e.time_ns = 0;
    assert_eq!(db.append_events(vec![e]).unwrap().events, 1);
    let got = all(&db);
    assert_eq!(got[0].event.timestamp_ns(), T0_MS * 1_000_000);
    // Too far in the future: refused, counted, not an error.
    let late = event(3, "x", Vec::new());
    let mut late = late;
    late.time_ns = (T0_MS + DAY_MS) * 1_000_000;
    let out = db.append_events(vec![late]).unwrap();
    assert_eq!((out.events, out.rejected), (0, 1));
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
