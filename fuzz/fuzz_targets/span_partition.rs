//! Damaged sealed span partitions: opening a `SpanStore` over them and querying it (find with
//! and without a filter, trace by id, aggregate) gives answers or typed errors, never a panic,
//! an unbounded allocation or a hang.
//!
//! Once per process a template partition is sealed from about a hundred varied spans (traces
//! with parents inside and outside the partition, GenAI attributes old and new, content, events,
//! links, attributes of every type and of mixed types) and its files are kept in memory; a second
//! template, those spans and some 2100 generated agent-trace spans (the test kit's `TraceGen`),
//! has two row groups and a trace across their boundary. Each input damages one file of a copy
//! of a template and runs the queries over the copy, written to a fresh directory (in /dev/shm
//! when there is one).
//!
//! Input: `sel rest…`. `sel` bits 0-2 pick the file (0 meta.json, 1 hot.col, 2 attrs.col,
//! 3 traces.col, 4 index.col, 5 content.col, 6 a further file of a newer format if any, else
//! none; 7 none, or with bit 6 set the two-group template, the file then being `rest[0] & 7` and
//! `rest` what follows: that template costs about eight times as much per run, hence one input
//! in sixteen), bits 3-5 the mode. Modes on a column file:
//! 0 the file is `rest`; 1 xor patches (`off:u24 x:u8`)*; 2 the same with every CRC recomputed;
//! 3 truncated at `rest[..4]` (u32); then on the column `rest[0]` (mod the column count) with
//! the file re-framed and every CRC recomputed (and an index file's own checksums):
//! 4 its bytes are `rest[1..]`; 5 xor patches (`off:u16 x:u8`)*; 6 its values decoded, edited
//! (`op idx:u16 arg:[4]`)* and re-encoded; 7 per `rest[1] % 4`: column removed, file deleted,
//! column appended again, bytes swapped with column `rest[2]`.
//! On meta.json: 0, 1, 3 and 7 (deleted) alike; other modes edit its fields (`field arg:i32`)*.
//! Other files: 0, 1 and 3 alike, other modes xor patches.
//! An input that leaves every byte as it was must give the template's answers.
#![no_main]

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strata_codec::column::{self, ColumnOptions, ColumnType, ZstdMode};
use strata_engine::spans::{
    AggQuery, AggRow, AttrValue, Event, GroupBy, KeyValue, Link, ModelPrice, Order, PartitionMeta,
    PriceTable, Span, SpanFilter, SpanHit, SpanStore, SpanStoreOptions, StatusCode,
};
use strata_testkit::rng::{Draw, Rng};
use strata_testkit::spans::{BENCH_MODELS, BENCH_SERVICES, TraceGen};

/// The files of a partition, in the order inputs number them; files the engine writes beyond
/// these (a newer format) follow in name order.
const FILES: [&str; 6] = [
    "meta.json",
    "hot.col",
    "attrs.col",
    "traces.col",
    "index.col",
    "content.col",
];
const META_FILE: &str = "meta.json";
const BUCKET: &str = "default_spans";
/// Rows per row group of the partitions the engine writes (`meta.group_rows`).
const GROUP_ROWS: usize = 2048;

type Files = Vec<Option<Cow<'static, [u8]>>>;
type Cols = Vec<(String, Vec<u8>)>;

/// What the queries answered, when every one of them succeeded.
#[derive(Debug, PartialEq)]
struct Answers {
    all: Vec<SpanHit>,
    filtered: Vec<SpanHit>,
    traces: Vec<Vec<SpanHit>>,
    agg: Vec<AggRow>,
    partitions: Vec<PartitionMeta>,
}

struct Template {
    /// Two row groups (the others: one).
    big: bool,
    /// Partition directory name.
    name: String,
    config: Vec<u8>,
    /// The partition's files: names and bytes.
    names: Vec<String>,
    files: Vec<Vec<u8>>,
    /// The column files split into their columns (`None` for the others).
    cols: Vec<Option<Cols>>,
    meta: PartitionMeta,
    /// Trace ids to ask for: a stored one (across the row group boundary in the big template,
    /// with content in the small one), then one not stored.
    traces: Vec<[u8; 16]>,
    expected: Answers,
}

// ---------------------------------------------------------------------------------------------
// The template

fn kv(k: &str, v: AttrValue) -> KeyValue {
    KeyValue::new(k, v)
}

fn s(v: &str) -> AttrValue {
    AttrValue::Str(v.to_owned())
}

const SERVICES: &[&str] = &["checkout", "search", "support-bot", "billing"];
const MODELS: &[&str] = &[
    "gpt-4o",
    "gpt-4o-mini",
    "claude-3-5-sonnet",
    "llama-3-70b",
    "",
];
const TOOLS: &[&str] = &["web_search", "sql", "calculator", "get_weather"];
const FINISH_REASONS: &[&str] = &["stop", "length", "tool_calls"];
/// Window start (aligned to the default 1 h partition) of every template span.
const BASE_MS: i64 = 1_699_999_200_000;

/// Varied spans of traces until at least `min_rows` spans: the special cases the generated
/// agent traces do not have.
fn template_spans(min_rows: usize) -> Vec<Span> {
    let mut rng = Rng::new(0x005e_ed0f_5a4e);
    let mut spans: Vec<Span> = Vec::new();
    let mut prev_root: Option<([u8; 16], [u8; 8])> = None;
    let mut t = 0u64;
    while spans.len() < min_rows {
        t += 1;
        let trace_id: [u8; 16] = rng.id();
        let service = *rng.pick(SERVICES);
        let new_names = t.is_multiple_of(2);
        let mut resource = vec![
            kv("service.name", s(service)),
            kv("host.name", AttrValue::Str(format!("host-{}", t % 7))),
        ];
        if rng.chance(3) {
            resource.push(kv("k8s.pod.uid", AttrValue::Bytes(rng.id::<8>().to_vec())));
        }
        if rng.chance(5) {
            resource.push(kv("process.pid", AttrValue::Int(rng.below(70_000) as i64)));
        }
        let scope = match t % 3 {
            0 => "opentelemetry.instrumentation.openai.v1",
            1 => "",
            _ => "langchain",
        };
        let agent = *rng.pick(&["planner", "researcher", "", "writer"]);
        let t0 =
            (BASE_MS + rng.below(45 * 60_000) as i64) * 1_000_000 + rng.below(1_000_000) as i64;
        let root_id: [u8; 8] = rng.id();
        let mut root = Span {
            trace_id,
            span_id: root_id,
            // Now and then the root's parent is elsewhere (stored raw).
            parent_span_id: rng.chance(10).then(|| rng.id()),
            name: format!("invoke_agent {agent}"),
            kind: 2,
            start_ns: t0,
            end_ns: t0 + 1_000_000 + rng.below(20_000_000_000) as i64,
            resource: resource.clone(),
            scope: scope.to_owned(),
            attributes: vec![
                kv("gen_ai.operation.name", s("invoke_agent")),
                kv("http.route", s("/chat")),
            ],
            ..Span::default()
        };
        if !agent.is_empty() {
            root.attributes.push(kv("gen_ai.agent.name", s(agent)));
        }
        if let Some((ptrace, pspan)) = prev_root.filter(|_| rng.chance(4)) {
            root.links.push(Link {
                trace_id: ptrace,
                span_id: pspan,
                attributes: vec![kv("link.kind", s("follows_from"))],
            });
        }
        prev_root = Some((trace_id, root_id));
        let mut ids = vec![root_id];
        let mut starts = vec![t0];
        spans.push(root);
        for c in 1..1 + rng.below(8) {
            let p = rng.below(ids.len() as u64) as usize;
            let span_id: [u8; 8] = rng.id();
            let start = starts[p] + rng.below(1_000_000_000) as i64;
            let mut end = start + rng.below(5_000_000_000) as i64 + 1;
            if rng.chance(60) {
                end = start - 1_000; // clock skew: kept as sent
            }
            let mut sp = Span {
                trace_id,
                span_id,
                parent_span_id: Some(ids[p]),
                kind: *rng.pick(&[0u8, 1, 3, 3, 4, 5, 9]),
                start_ns: start,
                end_ns: end,
                resource: resource.clone(),
                scope: scope.to_owned(),
                ..Span::default()
            };
            let a = &mut sp.attributes;
            match rng.below(10) {
                0..=5 => {
                    let model = *rng.pick(MODELS);
                    sp.name = format!("chat {model}");
                    if new_names {
                        a.push(kv("gen_ai.provider.name", s("openai")));
                        a.push(kv("gen_ai.operation.name", s("chat")));
                    } else {
                        a.push(kv("gen_ai.system", s("openai")));
                        a.push(kv("llm.request.type", s("chat")));
                    }
                    if !model.is_empty() {
                        a.push(kv("gen_ai.request.model", s(model)));
                    }
                    if rng.chance(2) {
                        let dated = format!(
                            "{}-2024-08-06",
                            if model.is_empty() { "gpt-4o" } else { model }
                        );
                        a.push(kv("gen_ai.response.model", AttrValue::Str(dated)));
                    }
                    let input = rng.below(4000) as i64;
                    // Mostly ints, sometimes a decimal string: a mixed-type value column.
                    let key = if new_names {
                        "gen_ai.usage.input_tokens"
                    } else {
                        "gen_ai.usage.prompt_tokens"
                    };
                    a.push(kv(
                        key,
                        if rng.chance(7) {
                            AttrValue::Str(input.to_string())
                        } else {
                            AttrValue::Int(input)
                        },
                    ));
                    let key = if new_names {
                        "gen_ai.usage.output_tokens"
                    } else {
                        "gen_ai.usage.completion_tokens"
                    };
                    a.push(kv(key, AttrValue::Int(rng.below(800) as i64)));
                    if rng.chance(3) {
                        a.push(kv(
                            "gen_ai.usage.cache_read.input_tokens",
                            AttrValue::Int(input / 2),
                        ));
                    }
                    let reason = *rng.pick(FINISH_REASONS);
                    a.push(kv(
                        "gen_ai.response.finish_reasons",
                        AttrValue::Array(vec![s(reason)]),
                    ));
                    a.push(kv(
                        "gen_ai.request.temperature",
                        AttrValue::Double(rng.below(20) as f64 / 10.0),
                    ));
                    let streaming = rng.chance(2);
                    a.push(kv(
                        if new_names {
                            "gen_ai.is_streaming"
                        } else {
                            "llm.is_streaming"
                        },
                        AttrValue::Bool(streaming),
                    ));
                    if streaming {
                        let mut at = start;
                        for _ in 0..1 + rng.below(3) {
                            at += rng.below(300_000_000) as i64;
                            sp.events.push(Event {
                                time_ns: at,
                                name: "gen_ai.content.completion.chunk".into(),
                                attributes: if rng.chance(2) {
                                    vec![kv("chunk.index", AttrValue::Int(rng.below(50) as i64))]
                                } else {
                                    Vec::new()
                                },
                            });
                        }
                    } else if rng.chance(4) {
                        a.push(kv(
                            "gen_ai.server.time_to_first_token",
                            AttrValue::Double(rng.below(900) as f64 / 1000.0),
                        ));
                    }
                    // Content: split off into content.col at ingest.
                    if new_names {
                        a.push(kv(
                            "gen_ai.input.messages",
                            AttrValue::Str(format!(
                                "[{{\"role\":\"user\",\"content\":\"q{t}.{c}\"}}]"
                            )),
                        ));
                    } else {
                        a.push(kv("gen_ai.prompt.0.role", s("user")));
                        a.push(kv(
                            "gen_ai.prompt.0.content",
                            AttrValue::Str(format!("question {t}.{c}")),
                        ));
                        a.push(kv(
                            "gen_ai.completion.0.content",
                            AttrValue::Str("x".repeat(rng.below(200) as usize)),
                        ));
                    }
                }
                6 | 7 => {
                    let tool = *rng.pick(TOOLS);
                    sp.name = format!("execute_tool {tool}");
                    a.push(kv("gen_ai.operation.name", s("execute_tool")));
                    a.push(kv("gen_ai.tool.name", s(tool)));
                    a.push(kv(
                        "gen_ai.tool.call.arguments",
                        AttrValue::Str(format!("{{\"q\":{c}}}")),
                    ));
                    a.push(kv(
                        "mixed",
                        if c % 2 == 0 {
                            s("even")
                        } else {
                            AttrValue::Int(c as i64)
                        },
                    ));
                }
                _ => {
                    sp.name = "SELECT orders".into();
                    a.push(kv("db.system", s("postgresql")));
                    a.push(kv("db.rows", AttrValue::Int(rng.below(1000) as i64)));
                    a.push(kv("cache.hit", AttrValue::Bool(rng.chance(2))));
                    a.push(kv(
                        "payload",
                        AttrValue::Bytes(rng.id::<16>()[..rng.below(16) as usize].to_vec()),
                    ));
                    a.push(kv(
                        "tags",
                        AttrValue::Array(vec![s("a"), AttrValue::Int(2), AttrValue::Bool(true)]),
                    ));
                    a.push(kv(
                        "nested",
                        AttrValue::Map(vec![
                            kv("k", s("v")),
                            kv(
                                "deep",
                                AttrValue::Map(vec![kv("n", AttrValue::Double(-0.5))]),
                            ),
                        ]),
                    ));
                    a.push(kv("mixed", AttrValue::Double(1.5)));
                    // The same key twice in one span.
                    a.push(kv("db.rows", AttrValue::Int(-1)));
                }
            }
            if rng.chance(12) {
                sp.status_code = StatusCode::Error;
                sp.status_message = (*rng.pick(&["rate limited", "timeout", ""])).to_owned();
                if rng.chance(2) {
                    sp.attributes.push(kv("error.type", s("RateLimitError")));
                }
                sp.events.push(Event {
                    time_ns: end,
                    name: "exception".into(),
                    attributes: vec![
                        kv("exception.type", s("RateLimitError")),
                        kv("exception.message", s("429 Too Many Requests")),
                    ],
                });
            } else if rng.chance(5) {
                sp.status_code = StatusCode::Ok;
            }
            if rng.chance(9) {
                sp.links.push(Link {
                    trace_id: rng.id(),
                    span_id: rng.id(),
                    attributes: if rng.chance(2) {
                        Vec::new()
                    } else {
                        vec![kv("w", AttrValue::Int(3))]
                    },
                });
            }
            ids.push(span_id);
            starts.push(start);
            spans.push(sp);
        }
    }
    spans
}

/// Adds generated agent traces (the test kit's, as `strata bench spans` makes them) in the
/// template's window until there are at least `rows` spans: the bulk of the big template.
fn agent_traces(spans: &mut Vec<Span>, rows: usize) {
    let mut g = TraceGen::new(0x005e_ed0f_0b16, &BENCH_SERVICES, &BENCH_MODELS);
    let mut t = BASE_MS * 1_000_000;
    while spans.len() < rows {
        g.trace(t, 0.05, spans);
        t += 1_000_000_000;
    }
}

/// Adds spans to the trace of row `GROUP_ROWS - 1` until it also has row `GROUP_ROWS` (rows
/// sorted by trace id, start, span id), so that it straddles the row group boundary.
fn straddle(spans: &mut Vec<Span>) {
    let mut extra = 0u8;
    loop {
        let mut keys: Vec<([u8; 16], i64, [u8; 8])> = spans
            .iter()
            .map(|s| (s.trace_id, s.start_ns, s.span_id))
            .collect();
        keys.sort();
        let (last, next) = (keys[GROUP_ROWS - 1], keys[GROUP_ROWS]);
        if last.0 == next.0 {
            return;
        }
        let mut sp = spans
            .iter()
            .find(|s| (s.trace_id, s.start_ns, s.span_id) == last)
            .unwrap()
            .clone();
        extra += 1;
        sp.span_id = [0xee, extra, 1, 2, 3, 4, 5, 6];
        sp.start_ns = last.1 - 1; // before the trace's last row: the trace grows by one row
        spans.push(sp);
    }
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
            cached_input_per_mtok: None,
        },
    );
    t
}

const SCRATCH_PREFIX: &str = "strata-fuzz-span-partition-";

fn scratch_base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

/// A scratch directory of this process (in /dev/shm when there is one).
fn scratch(what: &str) -> PathBuf {
    scratch_base().join(format!("{SCRATCH_PREFIX}{}-{what}", std::process::id()))
}

/// Removes the scratch directories of processes that are gone (a crash or an out-of-memory
/// exit leaves its run directory behind).
fn remove_stale_scratch() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(scratch_base()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(SCRATCH_PREFIX)
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn build_template(big: bool) -> Template {
    let dir = scratch(if big {
        "template-big"
    } else {
        "template-small"
    });
    let _ = std::fs::remove_dir_all(&dir);
    remove_stale_scratch();
    let mut spans = template_spans(100);
    if big {
        agent_traces(&mut spans, GROUP_ROWS + 120);
        straddle(&mut spans);
    }
    // Trace ids in partition order (trace id, start, span id).
    let mut rows: Vec<([u8; 16], i64, [u8; 8], bool)> = spans
        .iter()
        .map(|s| {
            let content = s
                .attributes
                .iter()
                .any(|kv| strata_engine::spans::is_content_key(&kv.key));
            (s.trace_id, s.start_ns, s.span_id, content)
        })
        .collect();
    rows.sort();
    let with_content = rows
        .iter()
        .rev()
        .find(|r| r.3)
        .expect("a span with content")
        .0;
    // The big template: a trace across the row group boundary. The small one: a trace with
    // content.
    let known = if big {
        rows[GROUP_ROWS].0
    } else {
        with_content
    };
    let mut traces = vec![known];
    // Not stored, but between stored ids (so the searches do some work).
    let mut unknown = with_content;
    while rows.iter().any(|r| r.0 == unknown) {
        unknown[15] = unknown[15].wrapping_add(1);
    }
    traces.push(unknown);
    traces.dedup();
    // Answers before the seal, from memory: the sealed partition must give the same.
    let before = {
        let store = SpanStore::open(&dir, SpanStoreOptions::default()).expect("template store");
        store.set_prices(prices()).expect("prices");
        store
            .insert_unlogged(spans.clone())
            .expect("template spans");
        let out = run_queries(&store, &traces, !big);
        let failed = format!("{out:?}");
        let before = out
            .answers()
            .unwrap_or_else(|| panic!("queries before the seal fail: {failed}"));
        let report = store.seal(i64::MAX).expect("template seal");
        assert_eq!((report.partitions, report.spans), (1, spans.len()));
        before
    };
    let pdir = std::fs::read_dir(dir.join(BUCKET))
        .expect("bucket dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.is_dir())
        .expect("partition dir");
    let name = pdir.file_name().unwrap().to_string_lossy().into_owned();
    let mut names: Vec<String> = std::fs::read_dir(&pdir)
        .expect("partition dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for f in FILES {
        assert!(names.iter().any(|n| n == f), "the template has no {f}");
    }
    names.sort_by_key(|n| {
        (
            FILES.iter().position(|f| f == n).unwrap_or(FILES.len()),
            n.clone(),
        )
    });
    let files: Vec<Vec<u8>> = names
        .iter()
        .map(|f| std::fs::read(pdir.join(f)).unwrap_or_else(|e| panic!("template {f}: {e}")))
        .collect();
    let cols = files.iter().map(|b| split_cols(b)).collect();
    let config = std::fs::read(dir.join("config.json")).expect("config.json");

    let store = SpanStore::open(&dir, SpanStoreOptions::default()).expect("template reopens");
    let meta = store.partitions().pop().expect("one partition");
    assert_eq!(meta.rows as usize, spans.len());
    assert!(meta.content_rows > 0);
    assert_eq!(meta.group_rows as usize, GROUP_ROWS);
    let out = run_queries(&store, &traces, !big);
    let failed = format!("{out:?}");
    let expected = out
        .answers()
        .unwrap_or_else(|| panic!("template queries fail: {failed}"));
    assert_eq!(expected.all.len(), spans.len());
    same_as_before(&before, &expected);
    assert!(
        big || !expected.filtered.is_empty(),
        "the filtered find finds nothing"
    );
    assert!(!expected.traces[0].is_empty());
    assert!(expected.traces[1].is_empty());
    assert!(big || expected.traces[0].iter().any(|h| !h.content.is_empty()));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Template {
        big,
        name,
        config,
        names,
        files,
        cols,
        meta,
        traces,
        expected,
    }
}

/// Sealing changed nothing a query sees: the same spans (find gives them in another order
/// where start times tie), the same traces, the same aggregate counts and sums (percentiles
/// and costs aside: a partition's rollup may round them differently from a scan).
fn same_as_before(before: &Answers, after: &Answers) {
    let key = |h: &SpanHit| (h.span.start_ns, h.span.span_id);
    for (b, a) in [
        (&before.all, &after.all),
        (&before.filtered, &after.filtered),
    ] {
        let (mut b, mut a) = (b.clone(), a.clone());
        b.sort_by_key(key);
        a.sort_by_key(key);
        assert!(a == b, "find differs after the seal");
    }
    for (b, a) in before.traces.iter().zip(&after.traces) {
        assert_eq!(a, b, "trace differs after the seal");
    }
    let sums = |rows: &[AggRow]| -> Vec<_> {
        rows.iter()
            .map(|r| {
                let t = (r.input_tokens, r.output_tokens, r.cache_read_tokens);
                (
                    r.group.clone(),
                    r.step_start_ns,
                    r.count,
                    r.errors,
                    t,
                    r.cost_unknown,
                )
            })
            .collect()
    };
    assert_eq!(
        sums(&after.agg),
        sums(&before.agg),
        "aggregate differs after the seal"
    );
}

fn template(big: bool) -> &'static Template {
    static SMALL: OnceLock<Template> = OnceLock::new();
    static BIG: OnceLock<Template> = OnceLock::new();
    if big {
        BIG.get_or_init(|| build_template(true))
    } else {
        SMALL.get_or_init(|| build_template(false))
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

#[derive(Debug)]
struct Outcome {
    all: strata_engine::spans::Result<Vec<SpanHit>>,
    filtered: strata_engine::spans::Result<Vec<SpanHit>>,
    traces: Vec<strata_engine::spans::Result<Vec<SpanHit>>>,
    agg: strata_engine::spans::Result<Vec<AggRow>>,
    partitions: Vec<PartitionMeta>,
}

impl Outcome {
    fn answers(self) -> Option<Answers> {
        Some(Answers {
            all: self.all.ok()?,
            filtered: self.filtered.ok()?,
            traces: self.traces.into_iter().collect::<Result<_, _>>().ok()?,
            agg: self.agg.ok()?,
            partitions: self.partitions,
        })
    }
}

/// The queries. `full`: also the filtered find and the aggregate, which decode the whole
/// partition again (left out on the large template, where they would cost most of the time
/// and add little: the decoders and checks are those of the unfiltered find).
fn run_queries(store: &SpanStore, traces: &[[u8; 16]], full: bool) -> Outcome {
    let all = store.find(&SpanFilter {
        limit: usize::MAX,
        ..SpanFilter::default()
    });
    if !full {
        return Outcome {
            all,
            filtered: Ok(Vec::new()),
            traces: traces.iter().map(|t| store.trace(t)).collect(),
            agg: Ok(Vec::new()),
            partitions: store.partitions(),
        };
    }
    let filtered = store.find(&SpanFilter {
        service: Some("checkout".into()),
        model: Some("gpt-4o-mini".into()),
        order: Order::Slowest,
        limit: 50,
        ..SpanFilter::default()
    });
    let traces = traces.iter().map(|t| store.trace(t)).collect();
    let agg = store.aggregate(&AggQuery {
        filter: SpanFilter {
            limit: usize::MAX,
            ..SpanFilter::default()
        },
        by: vec![GroupBy::Model],
        step_ns: None,
        only_llm_calls: true,
    });
    let _ = store.stats();
    Outcome {
        all,
        filtered,
        traces,
        agg,
        partitions: store.partitions(),
    }
}

// ---------------------------------------------------------------------------------------------
// Column files ("STSC", version, count, directory with CRCs, directory CRC, columns)

/// The columns of a well-formed column file.
fn split_cols(b: &[u8]) -> Option<Cols> {
    if b.len() < 7 || &b[..4] != b"STSC" {
        return None;
    }
    let n = u16::from_le_bytes([b[5], b[6]]) as usize;
    let mut pos = 7;
    let mut dir = Vec::with_capacity(n);
    for _ in 0..n {
        let nl = *b.get(pos)? as usize;
        let name = String::from_utf8_lossy(b.get(pos + 1..pos + 1 + nl)?).into_owned();
        pos += 1 + nl;
        let len = u32::from_le_bytes(b.get(pos..pos + 4)?.try_into().ok()?) as usize;
        pos += 8;
        dir.push((name, len));
    }
    let mut off = pos + 4;
    let mut cols = Vec::with_capacity(n);
    for (name, len) in dir {
        cols.push((name, b.get(off..off + len)?.to_vec()));
        off += len;
    }
    Some(cols)
}

/// Frames columns as the engine does, CRCs included.
fn join_cols(version: u8, cols: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"STSC".to_vec();
    out.push(version);
    out.extend_from_slice(&(cols.len().min(u16::MAX as usize) as u16).to_le_bytes());
    for (name, bytes) in cols.iter().take(u16::MAX as usize) {
        let name = &name.as_bytes()[..name.len().min(255)];
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    for (_, bytes) in cols.iter().take(u16::MAX as usize) {
        out.extend_from_slice(bytes);
    }
    out
}

/// Recomputes, in place, every CRC of a (possibly damaged) column file that its directory
/// still locates, and the checksums of an index file held in a column named `index`.
fn reseal(b: &mut [u8]) {
    if b.len() < 7 {
        return;
    }
    let n = u16::from_le_bytes([b[5], b[6]]) as usize;
    let mut pos = 7;
    let mut dir = Vec::new();
    for _ in 0..n {
        let Some(&nl) = b.get(pos) else { return };
        let nl = nl as usize;
        if pos + 1 + nl + 8 > b.len() {
            return;
        }
        let is_index = &b[pos + 1..pos + 1 + nl] == b"index";
        pos += 1 + nl;
        let len = u32::from_le_bytes(b[pos..pos + 4].try_into().unwrap()) as usize;
        dir.push((len, pos + 4, is_index));
        pos += 8;
    }
    if pos + 4 > b.len() {
        return;
    }
    let mut off = pos + 4;
    for (len, crc_at, is_index) in dir {
        let Some(end) = off.checked_add(len).filter(|e| *e <= b.len()) else {
            break;
        };
        if is_index {
            strata_index::testing::reseal(&mut b[off..end]);
        }
        let crc = crc32fast::hash(&b[off..end]);
        b[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
        off = end;
    }
    let crc = crc32fast::hash(&b[..pos]);
    b[pos..pos + 4].copy_from_slice(&crc.to_le_bytes());
}

// ---------------------------------------------------------------------------------------------
// Mutations

fn le_u32(b: &[u8]) -> u32 {
    let mut x = [0u8; 4];
    let n = b.len().min(4);
    x[..n].copy_from_slice(&b[..n]);
    u32::from_le_bytes(x)
}

/// Patches `(off:u24 x:u8)*` xor'ed into `b`.
fn xor_patches(b: &mut [u8], patches: &[u8], off_bytes: usize) {
    if b.is_empty() {
        return;
    }
    for p in patches.chunks_exact(off_bytes + 1).take(256) {
        let off = le_u32(&p[..off_bytes]) as usize % b.len();
        b[off] ^= p[off_bytes];
    }
}

const I64_EXTREMES: [i64; 8] = [
    i64::MIN,
    i64::MAX,
    -1,
    0,
    u32::MAX as i64,
    1 << 24,
    1 << 32,
    GROUP_ROWS as i64,
];

/// A value type that the value-level editor can change.
trait Value: Clone {
    fn make(arg: [u8; 4]) -> Self;
    fn tweak(&mut self, how: u8, arg: [u8; 4]);
}

impl Value for i64 {
    fn make(arg: [u8; 4]) -> Self {
        i32::from_le_bytes(arg) as i64
    }
    fn tweak(&mut self, how: u8, arg: [u8; 4]) {
        let a = i32::from_le_bytes(arg) as i64;
        *self = match how % 4 {
            0 => a,
            1 => self.wrapping_add(a),
            2 => I64_EXTREMES[arg[0] as usize % 8],
            _ => *self ^ (1 << (arg[0] % 64)),
        };
    }
}

impl Value for f64 {
    fn make(arg: [u8; 4]) -> Self {
        i32::from_le_bytes(arg) as f64
    }
    fn tweak(&mut self, how: u8, arg: [u8; 4]) {
        *self = match how % 3 {
            0 => i32::from_le_bytes(arg) as f64,
            1 => [
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                f64::MAX,
                f64::MIN_POSITIVE,
                1e300,
            ][arg[0] as usize % 7],
            _ => *self + i32::from_le_bytes(arg) as f64,
        };
    }
}

impl Value for bool {
    fn make(arg: [u8; 4]) -> Self {
        arg[0] & 1 == 1
    }
    fn tweak(&mut self, _: u8, _: [u8; 4]) {
        *self = !*self;
    }
}

impl Value for Vec<u8> {
    fn make(arg: [u8; 4]) -> Self {
        arg[..(arg[0] % 5) as usize].to_vec()
    }
    fn tweak(&mut self, how: u8, arg: [u8; 4]) {
        let at = u16::from_le_bytes([arg[0], arg[1]]) as usize;
        match how % 5 {
            0 if !self.is_empty() => {
                let n = self.len();
                self[at % n] ^= arg[2] | 1;
            }
            1 => self.truncate(at % (self.len() + 1)),
            2 => self.extend_from_slice(&arg[2..]),
            3 if !self.is_empty() => {
                let n = self.len();
                self[at % n] = arg[2];
            }
            4 => self.clear(),
            _ => {}
        }
    }
}

impl Value for String {
    fn make(arg: [u8; 4]) -> Self {
        String::from_utf8_lossy(&Vec::<u8>::make(arg)).into_owned()
    }
    fn tweak(&mut self, how: u8, arg: [u8; 4]) {
        let mut b = std::mem::take(self).into_bytes();
        b.tweak(how, arg);
        *self = String::from_utf8_lossy(&b).into_owned();
    }
}

/// Applies `(op idx:u16 arg:[4])*` to a list of values.
fn edit<T: Value>(v: &mut Vec<T>, ops: &[u8]) {
    for op in ops.chunks_exact(7).take(64) {
        let (kind, idx) = (op[0], u16::from_le_bytes([op[1], op[2]]) as usize);
        let arg: [u8; 4] = op[3..7].try_into().unwrap();
        let other = u16::from_le_bytes([arg[0], arg[1]]) as usize;
        let len = v.len();
        match kind % 8 {
            1 if len > 0 => {
                v.remove(idx % len);
            }
            2 if len > 0 => v.insert(idx % (len + 1), v[other % len].clone()),
            2 => v.push(T::make(arg)),
            3 => v.truncate(idx % (len + 1)),
            4 if len > 0 => v.swap(idx % len, other % len),
            5 if len > 0 => v[idx % len] = v[other % len].clone(),
            _ if len > 0 => v[idx % len].tweak(kind >> 3, arg),
            _ => {}
        }
    }
}

/// Decodes a codec column, edits its values and re-encodes it (without zstd). `None` if it
/// does not decode.
fn edit_column(bytes: &[u8], ops: &[u8]) -> Option<Vec<u8>> {
    let info = column::describe(bytes).ok()?;
    let opts = ColumnOptions {
        zstd: ZstdMode::Never,
        ..ColumnOptions::default()
    };
    Some(match info.column_type {
        ColumnType::I64 => {
            let mut v = Vec::new();
            column::decode_i64(bytes, &mut v).ok()?;
            edit(&mut v, ops);
            column::encode_i64(&v, &opts).ok()?
        }
        ColumnType::U64 => {
            let mut v = Vec::new();
            column::decode_u64(bytes, &mut v).ok()?;
            let mut v: Vec<i64> = v.into_iter().map(|x| x as i64).collect();
            edit(&mut v, ops);
            let v: Vec<u64> = v.into_iter().map(|x| x as u64).collect();
            column::encode_u64(&v, &opts).ok()?
        }
        ColumnType::F64 => {
            let mut v = Vec::new();
            column::decode_f64(bytes, &mut v).ok()?;
            edit(&mut v, ops);
            column::encode_f64(&v, &opts).ok()?
        }
        ColumnType::Str => {
            let mut v = Vec::new();
            column::decode_str(bytes, &mut v).ok()?;
            edit(&mut v, ops);
            column::encode_str(&v, &opts).ok()?
        }
        ColumnType::Bytes => {
            let mut v = Vec::new();
            column::decode_bytes(bytes, &mut v).ok()?;
            edit(&mut v, ops);
            column::encode_bytes(&v, &opts).ok()?
        }
        ColumnType::Bool => {
            let mut v = Vec::new();
            column::decode_bool(bytes, &mut v).ok()?;
            edit(&mut v, ops);
            column::encode_bool(&v, &opts).ok()?
        }
    })
}

/// Edits fields of meta.json: `(field arg:i32)*`.
fn edit_meta(meta: &PartitionMeta, ops: &[u8]) -> Vec<u8> {
    let mut m = meta.clone();
    for op in ops.chunks_exact(5).take(16) {
        let (field, how) = (op[0] % 10, (op[0] / 10) % 3);
        let a = i32::from_le_bytes(op[1..5].try_into().unwrap());
        let u32s = [
            0,
            1,
            u32::MAX,
            meta.rows + 1,
            meta.rows - 1,
            2047,
            2049,
            1 << 31,
        ];
        let u = |x: u32| match how {
            0 => a as u32,
            1 => x.wrapping_add(a as u32),
            _ => u32s[op[1] as usize % 8],
        };
        let i = |x: i64| {
            let mut x = x;
            x.tweak(how, op[1..5].try_into().unwrap());
            x
        };
        match field {
            0 => m.version = u(m.version),
            1 => m.bucket = String::from_utf8_lossy(&op[1..1 + (op[1] % 5) as usize]).into_owned(),
            2 => m.window_start_ms = i(m.window_start_ms),
            3 => m.window_ms = i(m.window_ms),
            4 => m.rows = u(m.rows),
            5 => m.content_rows = u(m.content_rows),
            6 => m.min_start_ns = i(m.min_start_ns),
            7 => m.max_start_ns = i(m.max_start_ns),
            8 => m.max_end_ns = i(m.max_end_ns),
            _ => m.group_rows = u(m.group_rows),
        }
    }
    serde_json::to_vec_pretty(&m).expect("meta serializes")
}

/// The files of the partition after damaging file `slot` (none if there is no such file) with
/// `mode` (see the module docs).
fn mutate(t: &'static Template, slot: usize, mode: u8, rest: &[u8]) -> Files {
    let mut files: Files = t
        .files
        .iter()
        .map(|f| Some(Cow::Borrowed(&f[..])))
        .collect();
    let Some(orig) = t.files.get(slot) else {
        return files;
    };
    let is_meta = t.names[slot] == META_FILE;
    let new: Option<Vec<u8>> = match (mode, &t.cols[slot]) {
        (0, _) => Some(rest.to_vec()),
        (3, _) => Some(orig[..le_u32(rest) as usize % (orig.len() + 1)].to_vec()),
        (7, _) if is_meta => None,
        (1 | 2, _) if !is_meta || mode == 1 => {
            let mut b = orig.to_vec();
            xor_patches(&mut b, rest, 3);
            if mode == 2 {
                reseal(&mut b);
            }
            Some(b)
        }
        _ if is_meta => Some(edit_meta(&t.meta, rest)),
        (_, None) => {
            let mut b = orig.to_vec();
            xor_patches(&mut b, rest, 3);
            Some(b)
        }
        (_, Some(cols)) if cols.is_empty() => Some(orig.to_vec()),
        (_, Some(cols)) => {
            let mut cols = cols.clone();
            let k = rest.first().map_or(0, |b| *b as usize) % cols.len();
            let arg = rest.get(1..).unwrap_or_default();
            match mode {
                4 => cols[k].1 = arg.to_vec(),
                5 => xor_patches(&mut cols[k].1, arg, 2),
                6 => match edit_column(&cols[k].1, arg) {
                    Some(b) => cols[k].1 = b,
                    None => xor_patches(&mut cols[k].1, arg, 2),
                },
                _ => match arg.first().map_or(0, |b| b % 4) {
                    0 => {
                        cols.remove(k);
                    }
                    1 => {
                        files[slot] = None;
                        return files;
                    }
                    2 => cols.push(cols[k].clone()),
                    _ => {
                        let j = arg.get(1).map_or(0, |b| *b as usize) % cols.len();
                        let (a, b) = (cols[k].1.clone(), cols[j].1.clone());
                        cols[k].1 = b;
                        cols[j].1 = a;
                    }
                },
            }
            for (name, bytes) in &mut cols {
                if name == "index" {
                    strata_index::testing::reseal(bytes);
                }
            }
            Some(join_cols(orig[4], &cols))
        }
    };
    files[slot] = new.map(Cow::Owned);
    files
}

// ---------------------------------------------------------------------------------------------

fn write_store(root: &Path, t: &Template, files: &Files) {
    let pdir = root.join(BUCKET).join(&t.name);
    std::fs::create_dir_all(&pdir).expect("partition dir");
    std::fs::write(root.join("config.json"), &t.config).expect("config.json");
    for (name, bytes) in t.names.iter().zip(files) {
        if let Some(b) = bytes {
            std::fs::write(pdir.join(name), b).expect("write file");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = data.split_first().map_or((7, &[][..]), |(s, r)| (*s, r));
    let mode = (sel >> 3) & 7;
    // Slot 7 with bit 6: the two-group template, the slot in the next byte; without: nothing.
    let (t, slot, rest) = match (sel & 0x47, rest.split_first()) {
        (0x47, Some((f, r))) => (template(true), (f & 7) as usize, r),
        (0x47, None) => (template(true), usize::MAX, rest),
        (7, _) => (template(false), usize::MAX, rest),
        _ => (template(false), (sel & 7) as usize, rest),
    };
    let files = mutate(t, slot, mode, rest);
    let unchanged = files
        .iter()
        .zip(&t.files)
        .all(|(a, b)| a.as_deref() == Some(&b[..]));

    let root = scratch("run");
    let _ = std::fs::remove_dir_all(&root);
    write_store(&root, t, &files);
    let opened = SpanStore::open(&root, SpanStoreOptions::default());
    if unchanged {
        let store = opened.expect("the template partition opens");
        let out = run_queries(&store, &t.traces, !t.big);
        let got = out.answers().expect("the template's queries succeed");
        assert!(got == t.expected, "unchanged files, different answers");
    } else if let Ok(store) = opened {
        let _ = run_queries(&store, &t.traces, !t.big);
    }
    let _ = std::fs::remove_dir_all(&root);
});
