//! Span tables: OTLP decode of the shared payloads, seal/reopen, GenAI columns, cost,
//! retention, corruption, WAL replay.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use strata_engine::otlp::{self, DeltaState, OtlpError};
use strata_engine::spans::*;

fn payloads(prefix: &str) -> Vec<Vec<u8>> {
    strata_testkit::payloads("genai-otlp-openllmetry", prefix)
}

fn all_spans() -> Vec<Span> {
    payloads("v1_traces_")
        .iter()
        .flat_map(|b| otlp::decode_traces(b).expect("decodes"))
        .collect()
}

fn prices() -> PriceTable {
    let mut t = PriceTable::default();
    t.set(
        "gpt-4o",
        ModelPrice {
            input_per_mtok: 2.5,
            output_per_mtok: 10.0,
            cached_input_per_mtok: Some(1.25),
        },
    );
    t.set(
        "gpt-4o-mini",
        ModelPrice {
            input_per_mtok: 0.15,
            output_per_mtok: 0.6,
            cached_input_per_mtok: Some(0.075),
        },
    );
    t
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-spans-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn every_shared_payload_decodes() {
    let spans = all_spans();
    assert_eq!(spans.len(), 18_097);
    let traces: BTreeSet<[u8; 16]> = spans.iter().map(|s| s.trace_id).collect();
    assert_eq!(traces.len(), 3_600);
    let with_model = spans
        .iter()
        .filter(|s| s.attribute("gen_ai.request.model").is_some())
        .count();
    assert!(with_model > 1000, "{with_model}");
    let mut delta = DeltaState::new();
    let mut hist = 0;
    for b in payloads("v1_metrics_") {
        let m = otlp::decode_metrics(&b, &mut delta).expect("metrics decode");
        assert_eq!(m.report.invalid_points, 0, "{:?}", m.report.first_invalid);
        hist += m.histograms.len();
        for h in &m.histograms {
            h.histogram.validate().unwrap();
            assert!(h.labels.iter().any(|(k, _)| k == "__name__"));
        }
    }
    assert!(hist > 0);
}

#[test]
fn ingest_seal_reopen_same_answers() {
    let spans = all_spans();
    let dir = tmp("reopen");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store.set_prices(prices()).unwrap();
    store.insert_unlogged(spans.clone()).unwrap();
    let filter = SpanFilter {
        limit: usize::MAX,
        ..SpanFilter::default()
    };
    let before = store.find(&filter).unwrap();
    assert_eq!(before.len(), spans.len());
    let q = AggQuery {
        filter: filter.clone(),
        by: vec![GroupBy::Model],
        step_ns: None,
        only_llm_calls: true,
    };
    let agg_before = store.aggregate(&q).unwrap();
    let some_trace = spans[0].trace_id;
    let trace_before = store.trace(&some_trace).unwrap();
    // A sample of traces, and those at row group boundaries (rows are sorted by trace id).
    let mut ids: Vec<[u8; 16]> = spans.iter().map(|s| s.trace_id).collect();
    ids.sort();
    let mut sample: BTreeSet<[u8; 16]> = ids.iter().step_by(25 * 5).copied().collect();
    for k in [1023, 1024, 2047, 2048, 4095, 4096, 8191, 8192] {
        sample.insert(ids[k]);
    }
    let sample_before: Vec<Vec<SpanHit>> = sample.iter().map(|t| store.trace(t).unwrap()).collect();
    let report = store.seal(i64::MAX).unwrap();
    assert_eq!(report.spans, spans.len());
    drop(store);

    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    assert_eq!(store.stats().sealed_spans, spans.len() as u64);
    let mut after = store.find(&filter).unwrap();
    let mut b = before.clone();
    let key = |h: &SpanHit| (h.span.start_ns, h.span.span_id);
    after.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(after, b);
    assert_eq!(store.aggregate(&q).unwrap(), agg_before);
    let trace_after = store.trace(&some_trace).unwrap();
    assert_eq!(trace_after, trace_before);
    for (t, want) in sample.iter().zip(&sample_before) {
        assert_eq!(&store.trace(t).unwrap(), want, "trace {}", hex(t));
    }
    assert!(trace_after.iter().any(|h| !h.span.attributes.is_empty()));

    // Independent per-model token sums from the decoded protobuf.
    let mut expect: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for s in &spans {
        let Some(m) = s.attribute("gen_ai.request.model").map(|v| v.to_text()) else {
            continue;
        };
        let e = expect.entry(m).or_default();
        e.0 += s
            .attribute("gen_ai.usage.input_tokens")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        e.1 += s
            .attribute("gen_ai.usage.output_tokens")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
    }
    for row in store.aggregate(&q).unwrap() {
        let e = expect[&row.group[0]];
        assert_eq!((row.input_tokens, row.output_tokens), e, "{:?}", row.group);
    }

    // Filters through the index: one service × model.
    let one = &before
        .iter()
        .find(|h| !h.genai.request_model.is_empty())
        .unwrap()
        .genai;
    let f = SpanFilter {
        service: Some(one.service.clone()),
        model: Some(one.model().to_owned()),
        order: Order::Slowest,
        limit: 5,
        ..SpanFilter::default()
    };
    let hits = store.find(&f).unwrap();
    assert!(!hits.is_empty() && hits.len() <= 5);
    assert!(
        hits.windows(2)
            .all(|w| w[0].span.duration_ns() >= w[1].span.duration_ns())
    );
    assert!(
        hits.iter()
            .all(|h| h.genai.service == one.service && h.genai.model() == one.model())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn kv(k: &str, v: AttrValue) -> KeyValue {
    KeyValue::new(k, v)
}

fn llm_span(new_names: bool, i: u8) -> Span {
    let mut attrs = vec![kv(
        "gen_ai.request.model",
        AttrValue::Str("gpt-4o-mini".into()),
    )];
    if new_names {
        attrs.push(kv("gen_ai.provider.name", AttrValue::Str("openai".into())));
        attrs.push(kv("gen_ai.operation.name", AttrValue::Str("chat".into())));
        attrs.push(kv("gen_ai.usage.input_tokens", AttrValue::Int(1000)));
        attrs.push(kv("gen_ai.usage.output_tokens", AttrValue::Int(200)));
        attrs.push(kv(
            "gen_ai.input.messages",
            AttrValue::Str("[{\"role\":\"user\"}]".into()),
        ));
    } else {
        attrs.push(kv("gen_ai.system", AttrValue::Str("openai".into())));
        attrs.push(kv("llm.request.type", AttrValue::Str("chat".into())));
        attrs.push(kv("gen_ai.usage.prompt_tokens", AttrValue::Int(1000)));
        attrs.push(kv("gen_ai.usage.completion_tokens", AttrValue::Int(200)));
        attrs.push(kv(
            "gen_ai.prompt.0.content",
            AttrValue::Str("hello".into()),
        ));
    }
    Span {
        trace_id: [i; 16],
        span_id: [i; 8],
        name: "chat gpt-4o-mini".into(),
        start_ns: 1_700_000_000_000_000_000 + i64::from(i),
        end_ns: 1_700_000_001_000_000_000,
        resource: vec![kv("service.name", AttrValue::Str("svc".into()))],
        attributes: attrs,
        ..Span::default()
    }
}

#[test]
fn old_and_new_attribute_names_map_to_the_same_columns() {
    let p = prices();
    let new = extract_genai(&llm_span(true, 1), &p);
    let old = extract_genai(&llm_span(false, 2), &p);
    assert_eq!(new, old);
    assert_eq!(new.provider, "openai");
    assert_eq!(new.operation, "chat");
    assert_eq!(new.input_tokens, Some(1000));
    assert!(is_content_key("gen_ai.prompt.0.content") && is_content_key("gen_ai.input.messages"));
}

#[test]
fn cost_table() {
    let p = prices();
    let mut g = GenAi {
        request_model: "gpt-4o".into(),
        input_tokens: Some(1_000_000),
        output_tokens: Some(100_000),
        ..GenAi::default()
    };
    assert_eq!(p.cost(&g), Some(2.5 + 1.0));
    g.cache_read_tokens = Some(400_000);
    assert_eq!(p.cost(&g), Some(0.6 * 2.5 + 0.4 * 1.25 + 1.0));
    // Dated response model resolves by prefix to its own entry, not to gpt-4o.
    g.response_model = "gpt-4o-mini-2024-07-18".into();
    g.cache_read_tokens = None;
    assert!((p.cost(&g).unwrap() - (0.15 + 0.06)).abs() < 1e-12);
    // Unknown model: unknown cost, not zero.
    let unknown = GenAi {
        request_model: "llama-3".into(),
        input_tokens: Some(10),
        ..GenAi::default()
    };
    assert_eq!(p.cost(&unknown), None);
}

#[test]
fn retention_drops_whole_partitions_per_bucket() {
    let dir = tmp("retention");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store.set_bucket("short", 3_600_000).unwrap();
    store
        .set_rules(vec![Rule {
            key: "service.name".into(),
            op: RuleOp::Regex,
            value: "sv.".into(),
            bucket: "short".into(),
        }])
        .unwrap();
    let mut a = llm_span(true, 1);
    a.resource = vec![kv("service.name", AttrValue::Str("other".into()))];
    let b = llm_span(true, 2);
    store.insert_unlogged(vec![a, b]).unwrap();
    store.seal(i64::MAX).unwrap();
    let parts = store.partitions();
    assert_eq!(parts.iter().filter(|p| p.bucket == "short").count(), 1);
    assert_eq!(
        parts.iter().filter(|p| p.bucket == DEFAULT_BUCKET).count(),
        1
    );
    let t = 1_700_000_000_000 + 2 * 3_600_000 + 10;
    let expired = store.apply_retention(t).unwrap();
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(
        (
            expired[0].bucket.as_str(),
            expired[0].partitions,
            expired[0].spans
        ),
        ("short", 1, 1)
    );
    assert!(expired[0].bytes > 0);
    let parts = store.partitions();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].bucket, DEFAULT_BUCKET);
    assert!(store.trace(&[1; 16]).unwrap().len() == 1 && store.trace(&[2; 16]).unwrap().is_empty());
    // Reopen: the config and the surviving partition come back.
    drop(store);
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    assert!(store.config().buckets.iter().any(|b| b.name == "short"));
    assert_eq!(store.partitions().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn content_policies() {
    for (policy, expect_content) in [
        (ContentPolicy::Keep, true),
        (ContentPolicy::Drop, false),
        (ContentPolicy::Bucket(AUDIT_BUCKET.into()), true),
    ] {
        let dir = tmp(&format!("content-{expect_content}-{policy:?}").replace(['(', ')', '"'], ""));
        let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
        store.set_content_policy(policy.clone()).unwrap();
        store.insert_unlogged(vec![llm_span(true, 7)]).unwrap();
        store.seal(i64::MAX).unwrap();
        let t = store.trace(&[7; 16]).unwrap();
        assert_eq!(t.len(), 1);
        assert!(t[0].span.attribute("gen_ai.input.messages").is_none());
        assert_eq!(!t[0].content.is_empty(), expect_content, "{policy:?}");
        if let ContentPolicy::Bucket(_) = policy {
            assert!(
                store
                    .partitions()
                    .iter()
                    .any(|p| p.bucket == AUDIT_BUCKET && p.content_rows == 1 && p.rows == 0)
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn corrupt_protobuf_is_an_error() {
    let good = &payloads("v1_traces_")[0];
    for cut in [1, 7, good.len() / 3, good.len() - 1] {
        assert!(otlp::decode_traces(&good[..cut]).is_err(), "cut at {cut}");
    }
    // Every single-byte change either decodes or errors; never panics.
    let mut delta = DeltaState::new();
    for i in (0..good.len()).step_by(97) {
        let mut b = good.clone();
        b[i] ^= 0xff;
        let _ = otlp::decode_traces(&b);
        let _ = otlp::decode_metrics(&b, &mut delta);
    }
    assert!(matches!(
        otlp::decode_traces(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        Err(OtlpError::Malformed { .. })
    ));
    // A 15-byte trace id.
    let bad = [
        0x0a, 0x13, 0x12, 0x11, 0x12, 0x0f, 0x0a, 0x0d, 0x0a, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0,
    ];
    assert!(otlp::decode_traces(&bad).is_err());
}

#[test]
fn corrupt_partition_files_are_errors() {
    let dir = tmp("corrupt");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store
        .insert_unlogged(vec![llm_span(true, 3), llm_span(true, 4)])
        .unwrap();
    store.seal(i64::MAX).unwrap();
    drop(store);
    let pdir = std::fs::read_dir(dir.join(DEFAULT_BUCKET))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for file in [
        "hot.col",
        "traces.col",
        "attrs.col",
        "index.col",
        "content.col",
        "meta.json",
    ] {
        let path = pdir.join(file);
        assert!(path.exists(), "{file}");
        let orig = std::fs::read(&path).unwrap();
        for i in (0..orig.len()).step_by(orig.len() / 13 + 1) {
            let mut b = orig.clone();
            b[i] ^= 0x55;
            std::fs::write(&path, &b).unwrap();
            if let Ok(s) = SpanStore::open(&dir, SpanStoreOptions::default()) {
                // Damage that the open did not see must surface as an error on read.
                let r = s
                    .trace(&[3; 16])
                    .and_then(|_| s.find(&SpanFilter::default()));
                assert!(r.is_err() || file == "meta.json", "{file} byte {i}");
            }
        }
        std::fs::write(&path, &orig[..orig.len() / 2]).unwrap();
        assert!(
            SpanStore::open(&dir, SpanStoreOptions::default())
                .and_then(|s| s.trace(&[3; 16]).map(|_| ()))
                .is_err(),
            "{file} truncated"
        );
        std::fs::write(&path, &orig).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wal_replay_restores_spans() {
    let dir = tmp("wal");
    let spans: Vec<Span> = all_spans().into_iter().take(3000).collect();
    {
        let wal =
            strata_wal::Wal::open_dir(dir.join("wal"), strata_wal::Options::default()).unwrap();
        let store = SpanStore::open(
            &dir.join("spans"),
            SpanStoreOptions {
                max_spans_per_record: 1000,
                ..SpanStoreOptions::default()
            },
        )
        .unwrap();
        let out = store.append(&wal, &spans).unwrap();
        assert_eq!(out.spans, spans.len());
        wal.sync().unwrap();
    }
    let wal = strata_wal::Wal::open_dir(dir.join("wal"), strata_wal::Options::default()).unwrap();
    let store = SpanStore::open(&dir.join("spans"), SpanStoreOptions::default()).unwrap();
    let mut records = 0;
    for rec in wal.replay(strata_wal::Position::ZERO) {
        let rec = rec.unwrap();
        if rec.record_type == strata_wal::RecordType::SPANS {
            store.replay_record(&rec.payload).unwrap();
            records += 1;
        }
    }
    assert_eq!(records, 3);
    // What a WAL checkpoint would copy: every span in memory.
    let mut got = Vec::new();
    store
        .copy_payloads(&store.checkpoint_marks(), |p| {
            assert!(is_copy_payload(&p));
            got.extend(decode_payload(&p).unwrap());
            Ok::<(), ()>(())
        })
        .unwrap();
    let key = |s: &Span| (s.trace_id, s.span_id);
    let mut want = spans.clone();
    want.sort_by_key(key);
    got.sort_by_key(key);
    // Content attributes come back too (possibly reordered to the end).
    for s in want.iter_mut().chain(got.iter_mut()) {
        s.attributes.sort_by(|a, b| a.key.cmp(&b.key));
    }
    assert_eq!(got, want);
    assert!(store.replay_record(&[9, 1, 2]).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attribute_matchers_agree_in_memory_sealed_and_independently() {
    use strata_engine::Matcher;
    let spans = all_spans();
    let dir = tmp("attr-matchers");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store.insert_unlogged(spans.clone()).unwrap();
    let model = spans
        .iter()
        .find_map(|s| s.attribute("gen_ai.request.model").map(AttrValue::to_text))
        .unwrap();
    let service = spans
        .iter()
        .find_map(|s| s.resource_attribute("service.name").map(AttrValue::to_text))
        .unwrap();
    // The most common attribute key that some spans lack (not content: that is stored apart).
    let mut freq: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &spans {
        for kv in &s.attributes {
            *freq.entry(kv.key.as_str()).or_default() += 1;
        }
    }
    let (partial, _) = freq
        .iter()
        .filter(|(k, n)| **n < spans.len() && !is_content_key(k))
        .max_by_key(|(_, n)| **n)
        .unwrap();
    let cases = vec![
        vec![Matcher::not_equal(*partial, "")],
        vec![Matcher::equal("gen_ai.request.model", model.clone())],
        vec![Matcher::regex("gen_ai.request.model", "gpt-.*").unwrap()],
        // A resource attribute, and a combination with a negative regex.
        vec![
            Matcher::equal("service.name", service),
            Matcher::not_regex("gen_ai.request.model", ".*mini.*").unwrap(),
        ],
    ];
    let text = |s: &Span, k: &str| {
        s.attribute(k)
            .or_else(|| s.resource_attribute(k))
            .map(AttrValue::to_text)
            .unwrap_or_default()
    };
    let key = |h: &SpanHit| (h.span.trace_id, h.span.span_id, h.span.start_ns);
    let mut before = Vec::new();
    for ms in &cases {
        let want = spans
            .iter()
            .filter(|s| ms.iter().all(|m| m.matches(&text(s, m.name()))))
            .count();
        assert!(want > 0 && want < spans.len(), "{ms:?} selects {want}");
        let f = SpanFilter {
            attributes: ms.clone(),
            limit: usize::MAX,
            ..SpanFilter::default()
        };
        let mut got: Vec<_> = store.find(&f).unwrap().iter().map(key).collect();
        assert_eq!(got.len(), want, "{ms:?} in memory");
        got.sort();
        before.push((f, got));
    }
    store.seal(i64::MAX).unwrap();
    assert_eq!(store.stats().open_spans, 0);
    for (f, want) in &before {
        let mut got: Vec<_> = store.find(f).unwrap().iter().map(key).collect();
        got.sort();
        assert_eq!(&got, want, "{:?} sealed", f.attributes);
        // Aggregates with attribute matchers scan; their counts agree with find.
        let q = AggQuery {
            filter: f.clone(),
            by: vec![GroupBy::Service],
            step_ns: None,
            only_llm_calls: false,
        };
        let n: u64 = store.aggregate(&q).unwrap().iter().map(|r| r.count).sum();
        assert_eq!(n as usize, want.len());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Traces whose spans fall in many clusters (more than the 63 a trace's cluster mask names
/// one by one) and runs that cross row group boundaries: every trace comes back whole, with
/// its parent links, from memory, sealed, and reopened; find by model agrees.
#[test]
fn clustered_partitions_find_every_trace() {
    let dir = tmp("clusters");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    let mut spans = Vec::new();
    let t0 = 1_700_000_000_000_000_000i64;
    for t in 0..3000u32 {
        let mut trace_id = [0u8; 16];
        trace_id[..4].copy_from_slice(&(t.wrapping_mul(2_654_435_761)).to_be_bytes());
        trace_id[15] = 1;
        let root = (u64::from(t) << 8 | 1).to_be_bytes();
        let service = format!("svc-{}", t % 3);
        let resource = vec![kv("service.name", AttrValue::Str(service))];
        spans.push(Span {
            trace_id,
            span_id: root,
            name: "invoke_agent".into(),
            start_ns: t0 + i64::from(t) * 1000,
            end_ns: t0 + i64::from(t) * 1000 + 900,
            resource: resource.clone(),
            ..Span::default()
        });
        // LLM calls in up to 6 of 40 models: 3 services x 40 models = 120 clusters.
        for k in 0..(1 + t % 6) {
            let model = format!("model-{}", (t * 7 + k * 13) % 40);
            spans.push(Span {
                trace_id,
                span_id: (u64::from(t) << 8 | u64::from(k + 2)).to_be_bytes(),
                parent_span_id: Some(root),
                name: format!("chat {model}"),
                start_ns: t0 + i64::from(t) * 1000 + i64::from(k) + 1,
                end_ns: t0 + i64::from(t) * 1000 + 500,
                resource: resource.clone(),
                attributes: vec![
                    kv("gen_ai.request.model", AttrValue::Str(model)),
                    kv("gen_ai.provider.name", AttrValue::Str("p".into())),
                ],
                ..Span::default()
            });
        }
    }
    store.insert_unlogged(spans.clone()).unwrap();
    let mut by_trace: BTreeMap<[u8; 16], Vec<&Span>> = BTreeMap::new();
    for s in &spans {
        by_trace.entry(s.trace_id).or_default().push(s);
    }
    let check = |store: &SpanStore, when: &str| {
        for (id, want) in &by_trace {
            let got = store.trace(id).unwrap();
            assert_eq!(got.len(), want.len(), "{when}: trace {}", hex(id));
            for h in &got {
                let w = want.iter().find(|s| s.span_id == h.span.span_id).unwrap();
                assert_eq!(h.span.parent_span_id, w.parent_span_id, "{when}");
                assert_eq!(h.span.attributes, w.attributes, "{when}");
            }
        }
        let f = SpanFilter {
            model: Some("model-7".into()),
            limit: usize::MAX,
            ..SpanFilter::default()
        };
        let n = spans
            .iter()
            .filter(|s| {
                s.attribute("gen_ai.request.model")
                    .and_then(AttrValue::as_str)
                    == Some("model-7")
            })
            .count();
        let found = store.find(&f).unwrap();
        assert_eq!(found.len(), n, "{when}: find model-7");
        assert!(
            found.iter().all(|h| h.span.parent_span_id.is_some()),
            "{when}"
        );
    };
    check(&store, "in memory");
    store.seal(i64::MAX).unwrap();
    assert!(store.stats().sealed_spans as usize == spans.len());
    check(&store, "sealed");
    drop(store);
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    check(&store, "reopened");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn find_columns_matches_find() {
    let spans = all_spans();
    let dir = tmp("find-columns");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store.set_prices(prices()).unwrap();
    // Half sealed, half in memory: both sources in one result.
    let (a, b) = spans.split_at(spans.len() / 2);
    store.insert_unlogged(a.to_vec()).unwrap();
    store.seal(i64::MAX).unwrap();
    store.insert_unlogged(b.to_vec()).unwrap();
    for order in [Order::Newest, Order::Slowest, Order::FailedFirst] {
        let f = SpanFilter {
            order,
            limit: 5000,
            ..SpanFilter::default()
        };
        let hits = store.find(&f).unwrap();
        let cols = store.find_columns(&f).unwrap();
        assert_eq!(cols.len(), hits.len());
        assert_eq!(hits.len(), 5000.min(spans.len()));
        for (i, h) in hits.iter().enumerate() {
            assert_eq!(cols.hit(i), *h);
            assert_eq!(cols.str(cols.service[i]), h.genai.service);
            assert_eq!(cols.trace_id[i], h.span.trace_id);
        }
        // Distinct strings only: far fewer than rows.
        assert!(
            cols.strings.len() < cols.len() / 2,
            "{}",
            cols.strings.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A seal in phases: between taking its windows and swapping its partitions in, queries see
/// the rows being sealed, and spans appended to those windows meanwhile stay in memory (they
/// are not in the partitions and must not vanish with the swap). A retry after an aborted
/// seal uses new sequence numbers.
#[test]
fn a_seal_in_phases_keeps_rows_visible_and_late_spans_open() {
    let dir = tmp("phased-seal");
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    store
        .insert_unlogged(vec![llm_span(true, 1), llm_span(false, 2)])
        .unwrap();
    let all = |store: &SpanStore| {
        store
            .find(&SpanFilter {
                limit: usize::MAX,
                ..SpanFilter::default()
            })
            .unwrap()
            .len()
    };
    let job = store.begin_seal(i64::MAX);
    assert!(!job.is_empty());
    assert_eq!(all(&store), 2, "rows being sealed are still visible");
    assert_eq!(store.trace(&[1; 16]).unwrap().len(), 1);
    assert_eq!(store.stats().open_spans, 2);
    // A late span of the same window, appended while the seal encodes.
    store.insert_unlogged(vec![llm_span(true, 3)]).unwrap();
    assert_eq!(all(&store), 3);
    // A second seal meanwhile leaves the window being sealed alone.
    assert!(store.begin_seal(i64::MAX).is_empty());
    let report = store.finish_seal(job).unwrap();
    assert_eq!(report.spans, 2);
    let st = store.stats();
    assert_eq!(
        (st.open_spans, st.sealed_spans),
        (1, 2),
        "the late span stays open"
    );
    assert_eq!(all(&store), 3);
    // An aborted seal hands its rows back; the retry gets fresh sequence numbers.
    let job = store.begin_seal(i64::MAX);
    let first = job.first_seq;
    store.finish_seal_aborted(job);
    assert_eq!(store.stats().open_spans, 1);
    let job = store.begin_seal(i64::MAX);
    assert!(job.first_seq > first);
    store.finish_seal(job).unwrap();
    assert_eq!(store.stats().sealed_spans, 3);
    drop(store);
    let store = SpanStore::open(&dir, SpanStoreOptions::default()).unwrap();
    assert_eq!(store.stats().sealed_spans, 3);
    let _ = std::fs::remove_dir_all(&dir);
}
