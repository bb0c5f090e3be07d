//! Golden files: a small span partition in format v3 (docs/format/spans.md), committed under
//! `tests/golden/spans_v3/`. A writer change that alters any byte of any file fails here, and
//! so does a reader that can no longer answer from the committed bytes. Regenerate
//! deliberately (a format change needs a new version) with `STRATA_BLESS=1`.

use std::path::{Path, PathBuf};

use strata_engine::spans::*;

const FILES: [&str; 7] = [
    "meta.json",
    "hot.col",
    "attrs.col",
    "traces.col",
    "index.col",
    "rollup.col",
    "content.col",
];

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/spans_v3")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-golden-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn s(v: &str) -> AttrValue {
    AttrValue::Str(v.into())
}

/// Two traces over two services and three clusters: parents in the group, in another
/// cluster and outside the partition; old and new GenAI names; content; an event and a link;
/// attribute values of every type; a priced and an unpriced model.
fn spans() -> Vec<Span> {
    let t0 = 1_700_000_000_000_000_000i64;
    let mut out = Vec::new();
    for (t, (service, legacy)) in [("chat-api", false), ("support-bot", true)]
        .into_iter()
        .enumerate()
    {
        let trace_id = [t as u8 + 1; 16];
        let root = [t as u8 + 1, 0, 0, 0, 0, 0, 0, 1];
        let resource = vec![
            KeyValue::new("service.name", s(service)),
            KeyValue::new("deployment.environment", s("prod")),
        ];
        out.push(Span {
            trace_id,
            span_id: root,
            parent_span_id: Some([9; 8]), // outside the partition
            name: "invoke_agent planner".into(),
            kind: 2,
            start_ns: t0 + t as i64 * 1_000_000,
            end_ns: t0 + t as i64 * 1_000_000 + 3_000_000_000,
            status_code: StatusCode::Ok,
            resource: resource.clone(),
            scope: "golden".into(),
            attributes: vec![
                KeyValue::new("gen_ai.operation.name", s("invoke_agent")),
                KeyValue::new("gen_ai.agent.name", s("planner")),
                KeyValue::new("retries", AttrValue::Int(2)),
                KeyValue::new("sampled", AttrValue::Bool(true)),
                KeyValue::new(
                    "tags",
                    AttrValue::Array(vec![s("a"), AttrValue::Int(1), AttrValue::Double(0.5)]),
                ),
            ],
            events: vec![Event {
                time_ns: t0 + 5,
                name: "start".into(),
                attributes: vec![KeyValue::new("step", AttrValue::Int(1))],
            }],
            links: vec![Link {
                trace_id: [7; 16],
                span_id: [7; 8],
                attributes: Vec::new(),
            }],
            ..Span::default()
        });
        for (k, model) in ["gpt-4o", "llama-3.1-70b"].into_iter().enumerate() {
            let (op, prov, inp, outp) = if legacy {
                (
                    "llm.request.type",
                    "gen_ai.system",
                    "gen_ai.usage.prompt_tokens",
                    "gen_ai.usage.completion_tokens",
                )
            } else {
                (
                    "gen_ai.operation.name",
                    "gen_ai.provider.name",
                    "gen_ai.usage.input_tokens",
                    "gen_ai.usage.output_tokens",
                )
            };
            let mut attributes = vec![
                KeyValue::new(op, s("chat")),
                KeyValue::new(prov, s("openai")),
                KeyValue::new("gen_ai.request.model", s(model)),
                KeyValue::new(inp, AttrValue::Int(1000 + k as i64)),
                KeyValue::new(outp, AttrValue::Int(200)),
                KeyValue::new("gen_ai.request.temperature", AttrValue::Double(0.2)),
            ];
            if k == 0 {
                attributes.push(KeyValue::new("gen_ai.prompt.0.content", s("hello")));
            }
            out.push(Span {
                trace_id,
                span_id: [t as u8 + 1, 0, 0, 0, 0, 0, 1, k as u8 + 2],
                parent_span_id: Some(root),
                name: format!("chat {model}"),
                kind: 3,
                start_ns: t0 + t as i64 * 1_000_000 + 10 + k as i64,
                end_ns: t0 + t as i64 * 1_000_000 + 900_000_000,
                status_code: if k == 1 {
                    StatusCode::Error
                } else {
                    StatusCode::Ok
                },
                resource: resource.clone(),
                scope: "golden.llm".into(),
                attributes,
                ..Span::default()
            });
        }
    }
    out
}

fn prices() -> PriceTable {
    let mut p = PriceTable::default();
    p.set(
        "gpt-4o",
        ModelPrice {
            input_per_mtok: 2.5,
            output_per_mtok: 10.0,
            cached_input_per_mtok: Some(1.25),
        },
    );
    p
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

#[test]
fn span_partition_v3_golden() {
    let dir = tmp("write");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store.set_prices(prices()).unwrap();
    store.insert_unlogged(spans()).unwrap();
    let filter = SpanFilter {
        limit: usize::MAX,
        ..SpanFilter::default()
    };
    let before = store.find(&filter).unwrap();
    let trace_before = store.trace(&[1; 16]).unwrap();
    store.seal(i64::MAX).unwrap();
    let written = only_partition(&dir);
    let bless = std::env::var_os("STRATA_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(golden_dir()).unwrap();
    }
    for f in FILES {
        let bytes = std::fs::read(written.join(f)).unwrap();
        let path = golden_dir().join(f);
        if bless {
            std::fs::write(&path, &bytes).unwrap();
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(bytes == want, "{f} differs from the committed golden file");
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
    assert_eq!(store.stats().sealed_spans, 6);
    let key = |h: &SpanHit| (h.span.trace_id, h.span.span_id);
    let mut after = store.find(&filter).unwrap();
    let mut want = before.clone();
    after.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(after, want);
    assert_eq!(store.trace(&[1; 16]).unwrap(), trace_before);
    let gpt = store
        .aggregate(&AggQuery {
            filter: SpanFilter::default(),
            by: vec![GroupBy::Model],
            step_ns: None,
            only_llm_calls: true,
        })
        .unwrap();
    assert_eq!(gpt.len(), 2);
    let row = gpt.iter().find(|r| r.group[0] == "gpt-4o").unwrap();
    assert_eq!(
        (row.count, row.input_tokens, row.output_tokens),
        (2, 2000, 400)
    );
    assert_eq!(row.cost_unknown, 0);
    assert!((row.cost_usd - 2.0 * (1000.0 * 2.5 + 200.0 * 10.0) / 1e6).abs() < 1e-12);
    let _ = std::fs::remove_dir_all(&dir);
}
