//! Golden files: a small event partition in format v1 and an EVENTS WAL payload
//! (docs/format/events.md), committed under `tests/golden/events_v1/`. A writer change that
//! alters any byte fails here, and so does a reader that can no longer answer from the
//! committed bytes. Regenerate deliberately (a format change needs a new version) with
//! `STRATA_BLESS=1`.

use std::path::{Path, PathBuf};

use strata_engine::spans::*;

const FILES: [&str; 3] = ["meta.json", "events.col", "content.col"];
const WAL_FILE: &str = "events.wal-payload";

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/events_v1")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-golden-ev-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn s(v: &str) -> AttrValue {
    AttrValue::Str(v.into())
}

/// Three events over two services: new and old GenAI names, a record with `time_unix_nano`
/// set and two with only the observed time, a body of each kind (none, empty, a map),
/// nested content, one record without trace context, severities and flags.
fn events() -> Vec<LogEvent> {
    let t0 = 1_700_000_000_000_000_000i64;
    let res = |svc: &str| vec![KeyValue::new("service.name", s(svc))];
    let messages = AttrValue::Array(vec![AttrValue::Map(vec![
        KeyValue::new("role", s("user")),
        KeyValue::new(
            "parts",
            AttrValue::Array(vec![AttrValue::Map(vec![
                KeyValue::new("type", s("text")),
                KeyValue::new("content", s("weather in Oslo")),
            ])]),
        ),
    ])]);
    vec![
        LogEvent {
            observed_ns: t0 + 1_000,
            event_name: "gen_ai.client.inference.operation.details".into(),
            trace_id: [1; 16],
            span_id: [1; 8],
            flags: 3,
            body: Some(s("")),
            resource: res("support-bot"),
            scope: "opentelemetry.util.genai.handler".into(),
            scope_version: "1.1b0".into(),
            attributes: vec![
                KeyValue::new("gen_ai.operation.name", s("chat")),
                KeyValue::new("gen_ai.provider.name", s("openai")),
                KeyValue::new("gen_ai.request.model", s("gpt-4o-mini")),
                KeyValue::new("gen_ai.usage.input_tokens", AttrValue::Int(5)),
                KeyValue::new("gen_ai.usage.output_tokens", AttrValue::Int(82)),
                KeyValue::new("gen_ai.request.temperature", AttrValue::Double(0.7)),
                KeyValue::new("gen_ai.input.messages", messages.clone()),
            ],
            ..LogEvent::default()
        },
        LogEvent {
            time_ns: t0 + 2_000,
            observed_ns: t0 + 2_500,
            severity_number: 17,
            severity_text: "ERROR".into(),
            event_name: "gen_ai.choice".into(),
            trace_id: [2; 16],
            span_id: [2; 8],
            flags: 1,
            body: Some(AttrValue::Map(vec![KeyValue::new(
                "index",
                AttrValue::Int(0),
            )])),
            resource: res("rag-search"),
            attributes: vec![
                KeyValue::new("gen_ai.system", s("openai")),
                KeyValue::new("gen_ai.request.model", s("gpt-4")),
                KeyValue::new("gen_ai.usage.prompt_tokens", AttrValue::Int(10)),
                KeyValue::new("error.type", s("timeout")),
                KeyValue::new("gen_ai.prompt.0.content", s("old-style prompt")),
                KeyValue::new("raw", AttrValue::Bytes(vec![0, 255])),
                KeyValue::new("ok", AttrValue::Bool(false)),
            ],
            ..LogEvent::default()
        },
        LogEvent {
            observed_ns: t0 + 3_000,
            severity_number: 9,
            severity_text: "INFO".into(),
            resource: res("rag-search"),
            attributes: vec![KeyValue::new("event.name", s("app.startup"))],
            ..LogEvent::default()
        },
    ]
}

fn only_partition(root: &Path) -> PathBuf {
    let bucket = root.join(DEFAULT_BUCKET);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&bucket)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

fn compare(name: &str, bytes: &[u8], bless: bool) {
    let path = golden_dir().join(name);
    if bless {
        std::fs::write(&path, bytes).unwrap();
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes == want,
        "{name} differs from the committed golden file"
    );
}

fn all(store: &SpanStore) -> Vec<EventHit> {
    store
        .find_events(&EventFilter {
            limit: usize::MAX,
            with_content: true,
            ..EventFilter::default()
        })
        .unwrap()
}

#[test]
fn event_partition_v1_and_wal_payload_golden() {
    let bless = std::env::var_os("STRATA_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(golden_dir()).unwrap();
    }
    let mut with_ids = events();
    for (e, id) in with_ids.iter_mut().zip(1..) {
        e.id = id;
    }
    compare(WAL_FILE, &encode_events_payload(&with_ids), bless);
    let committed = std::fs::read(golden_dir().join(WAL_FILE)).unwrap();
    assert_eq!(decode_events_payload(&committed).unwrap(), with_ids);

    let dir = tmp("write");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store.insert_events_unlogged(events()).unwrap();
    let before = all(&store);
    assert_eq!(before.len(), 3);
    assert_eq!(before[2].event.event_name, "app.startup");
    store.seal(i64::MAX).unwrap();
    assert_eq!(
        all(&store),
        before,
        "sealed rows differ from the rows in memory"
    );
    let written = only_partition(&dir);
    assert!(
        written
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(EVENT_DIR_PREFIX)
    );
    for f in FILES {
        compare(f, &std::fs::read(written.join(f)).unwrap(), bless);
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);

    // The reader answers from the committed bytes as from the memory they were written from.
    let dir = tmp("read");
    let part = dir.join(DEFAULT_BUCKET).join(written.file_name().unwrap());
    std::fs::create_dir_all(&part).unwrap();
    for f in FILES {
        std::fs::copy(golden_dir().join(f), part.join(f)).unwrap();
    }
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    assert_eq!(store.event_stats().sealed_events, 3);
    assert_eq!(all(&store), before);
    let of_trace = store.trace_events(&[2; 16]).unwrap();
    assert_eq!(of_trace.len(), 1);
    let g = &of_trace[0].genai;
    assert_eq!((g.provider.as_str(), g.input_tokens), ("openai", Some(10)));
    assert_eq!(of_trace[0].content[0].key, "gen_ai.prompt.0.content");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every truncation and every flipped bit of the committed partition files is an error or a
/// value at open and read — never a panic.
#[test]
fn damaged_event_partitions_are_errors_not_panics() {
    let name = "ev-1699999200000_00000000";
    for f in FILES {
        let good = std::fs::read(golden_dir().join(f)).unwrap();
        let cuts = (0..good.len()).step_by(11);
        let flips = (0..good.len() * 8).step_by(31);
        let damaged = cuts.map(|n| good[..n].to_vec()).chain(flips.map(|bit| {
            let mut b = good.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            b
        }));
        for bytes in damaged {
            let dir = tmp("damage");
            let part = dir.join(DEFAULT_BUCKET).join(name);
            std::fs::create_dir_all(&part).unwrap();
            for g in FILES {
                std::fs::copy(golden_dir().join(g), part.join(g)).unwrap();
            }
            std::fs::write(part.join(f), &bytes).unwrap();
            if let Ok(store) = SpanStore::open(&dir, SpanStoreOptions::default()) {
                let _ = store.find_events(&EventFilter {
                    limit: usize::MAX,
                    with_content: true,
                    ..EventFilter::default()
                });
                let _ = store.trace_events(&[1; 16]);
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
