//! Figures on the shared OpenLLMetry payloads (ignored by default; run with
//! `cargo test --release -p strata-engine --test spans_figures -- --ignored --nocapture`).

use std::path::Path;
use std::time::Instant;

use strata_engine::otlp;
use strata_engine::spans::*;

#[test]
#[ignore]
fn figures() {
    let bufs = strata_testkit::payloads("genai-otlp-openllmetry", "v1_traces_");
    let t = Instant::now();
    let spans: Vec<Span> = bufs
        .iter()
        .flat_map(|b| otlp::decode_traces(b).unwrap())
        .collect();
    let decode_s = t.elapsed().as_secs_f64();
    let root = std::env::temp_dir().join(format!("strata-span-figures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let wal = strata_wal::Wal::open_dir(root.join("wal"), strata_wal::Options::default()).unwrap();
    let store = SpanStore::open(&root.join("spans"), SpanStoreOptions::default()).unwrap();
    // Batches handed over by value (`append_owned`), split before the clock starts.
    let batches: Vec<Vec<Span>> = spans.chunks(4096).map(|c| c.to_vec()).collect();
    let t = Instant::now();
    for batch in batches {
        store.append_owned(&wal, batch).unwrap();
    }
    wal.sync().unwrap();
    let ingest_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = store.seal(i64::MAX).unwrap();
    let seal_s = t.elapsed().as_secs_f64();
    let mut hot = 0u64;
    let mut content = 0u64;
    let mut per_file: std::collections::BTreeMap<String, u64> = Default::default();
    for e in walk(&root.join("spans")) {
        let len = std::fs::metadata(&e).unwrap().len();
        if e.ends_with("content.col") {
            content += len;
        } else if !e.ends_with("config.json") {
            hot += len;
            let name = e.file_name().unwrap().to_string_lossy().into_owned();
            *per_file.entry(name).or_default() += len;
        }
    }
    let n = spans.len() as f64;
    println!(
        "spans {}  decode {:.0} spans/s  append(WAL+apply) {:.0} spans/s  seal {:.0} spans/s",
        spans.len(),
        n / decode_s,
        n / ingest_s,
        n / seal_s
    );
    println!(
        "partitions {}  bytes/span without content {:.1}  content bytes/span {:.1}",
        r.partitions,
        hot as f64 / n,
        content as f64 / n
    );
    let files: Vec<String> = per_file
        .iter()
        .map(|(f, b)| format!("{f} {:.1}", *b as f64 / n))
        .collect();
    println!("bytes/span by file: {}", files.join("  "));
    let one = store
        .find(&SpanFilter {
            limit: 1,
            ..SpanFilter::default()
        })
        .unwrap();
    let g = &one[0].genai;
    let f = SpanFilter {
        service: Some(g.service.clone()),
        model: Some("gpt-4o".into()),
        provider: Some("openai".into()),
        order: Order::Slowest,
        limit: 20,
        ..SpanFilter::default()
    };
    let t = Instant::now();
    let hits = store.find(&f).unwrap();
    println!(
        "find service x model x provider: {} hits in {:.2} ms",
        hits.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    // Median over 200 distinct traces (after one warm-up lookup).
    let mut ids: Vec<[u8; 16]> = spans.iter().map(|s| s.trace_id).collect();
    ids.sort();
    ids.dedup();
    store.trace(&ids[0]).unwrap();
    let step = (ids.len() / 200).max(1);
    let mut times = Vec::new();
    let mut got = 0;
    for id in ids.iter().step_by(step).take(200) {
        let t = Instant::now();
        got += store.trace(id).unwrap().len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "trace by id: median {:.3} ms over {} traces ({:.1} spans each)",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times.len(),
        got as f64 / times.len() as f64
    );
    let t = Instant::now();
    let agg = store
        .aggregate(&AggQuery {
            filter: SpanFilter::default(),
            by: vec![GroupBy::Model],
            step_ns: None,
            only_llm_calls: true,
        })
        .unwrap();
    println!(
        "aggregate by model: {} groups in {:.2} ms",
        agg.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&root);
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(walk(&e));
        } else {
            out.push(e);
        }
    }
    out
}
