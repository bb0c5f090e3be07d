//! Span tables: GenAI spans in retention buckets, durable through the shared WAL, sealed into
//! columnar partitions, queryable by dimension, time, trace id, and as GenAI aggregates.
//!
//! The [`SpanStore`] is driven by its owner (the `Db`):
//! - [`SpanStore::append`] writes one `RecordType::SPANS` WAL record and then applies the spans
//!   in memory; [`SpanStore::replay_record`] applies a record during WAL replay.
//! - [`SpanStore::seal`] writes in-memory spans of closed windows as partitions
//!   (`DIR/spans/<bucket>/<partition>/`); [`SpanStore::copy_payloads`] gives the WAL
//!   checkpoint what is still only in memory; [`SpanStore::apply_retention`] deletes whole
//!   partition directories.
//!
//! Layout and formats: `docs/format/spans.md`.
//!
//! It depends on the WAL, index, codec and storage crates, never on the metrics TSDB or the
//! engine that owns it; its one `unsafe` need (mapping partition files) is `strata-storage`'s.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

mod checkpoint;
mod codec;
mod config;
mod error;
mod events;
mod found;
mod genai;
pub mod json;
mod memory;
mod model;
mod partition;
mod query;
mod replay;
mod rollup;
mod seal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use strata_storage::Fs;

use parking_lot::RwLock;
use strata_wal::{Position, RecordType, Wal};

pub use checkpoint::CheckpointMarks;
pub use codec::{
    COPY_FLAG, WAL_PAYLOAD_VERSION, decode_payload, encode_copy_payload, encode_payload,
    is_copy_payload,
};
pub use config::{
    AUDIT_BUCKET, Bucket, CONFIG_FILE, ContentPolicy, DEFAULT_BUCKET, Rule, RuleOp, SpanConfig,
    check_bucket_name,
};
pub use events::{
    EVENT_DIR_PREFIX, EVENT_GROUP_ROWS, EVENT_PARTITION_VERSION, EVENTS_PAYLOAD_VERSION,
    EventAppendOutcome, EventFilter, EventHit, EventPartitionMeta, EventStats, LogEvent,
    decode_events_payload, encode_events_copy_payload, encode_events_payload, json as events_json,
};
pub use found::FoundSpans;
pub use genai::{
    FIRST_CLASS_KEYS, GenAi, ModelPrice, PriceTable, extract as extract_genai, is_content_key,
};
pub use model::{
    AttrValue, Event, KeyValue, Link, Span, SpanKind, StatusCode, hex, parse_trace_id,
};
pub use partition::PartitionMeta;
pub use query::{AggQuery, AggRow, GroupBy, Order, Percentiles, SpanFilter, SpanHit};
pub use seal::SealJob;

use config::Router;
pub use error::{Error, Result};
use events::{EventPartition, EventRow};
use memory::Memory;
use partition::{ContentRow, Partition, Row};

/// Options of a [`SpanStore`] that are not persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanStoreOptions {
    /// Where the partitions and the config live (default: the real file system).
    pub fs: Fs,
    /// Width of a partition's time window.
    pub partition_ms: i64,
    /// Attributes (span + resource) one span may carry through the Rust API.
    pub max_attributes_per_span: usize,
    pub max_events_per_span: usize,
    /// Spans in one WAL record; larger batches are split.
    pub max_spans_per_record: usize,
}

impl Default for SpanStoreOptions {
    fn default() -> Self {
        SpanStoreOptions {
            fs: Fs::default(),
            partition_ms: 3_600_000,
            max_attributes_per_span: 2048,
            max_events_per_span: 4096,
            max_spans_per_record: 4096,
        }
    }
}

/// What an append did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Spans stored.
    pub spans: usize,
    /// Position of the last WAL record written.
    pub position: Position,
    /// Spans refused (starting too far ahead of the clock, or — with
    /// `Options::reject_outside_retention` — older than their bucket keeps), with the first
    /// reason. The rest of the batch is stored.
    pub rejected: usize,
    pub first_rejection: Option<String>,
    /// Stored spans already older than their bucket's retention: the next retention pass
    /// drops them (accepted-then-expired is reported, never silent).
    pub outside_retention: usize,
}

/// The time rules a batch is screened against (`SpanStore::screen`).
#[derive(Debug, Clone, Copy)]
pub struct TimeRules {
    pub now_ms: i64,
    pub future_tolerance_ms: i64,
    pub reject_outside_retention: bool,
}

/// What a retention pass deleted from one span bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SpanExpiry {
    pub bucket: String,
    pub partitions: usize,
    pub spans: u64,
    /// Event partitions and events deleted.
    pub event_partitions: usize,
    pub events: u64,
    /// Spans and events whose prompt/completion content was stored with them, and its
    /// bytes on disk.
    pub content_rows: u64,
    pub content_bytes: u64,
    /// Every byte of the deleted partitions (content included).
    pub bytes: u64,
}

/// What a seal wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Span and event partitions.
    pub partitions: usize,
    pub spans: usize,
    pub events: usize,
    pub bytes: u64,
}

/// Figures for stats and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanStats {
    pub open_spans: u64,
    pub sealed_spans: u64,
    pub sealed_partitions: u64,
    pub sealed_traces: u64,
    pub sealed_bytes: u64,
}

#[derive(Debug)]
struct State {
    config: SpanConfig,
    router: Router,
    /// Spans in memory: open windows, windows being sealed, replay state.
    spans: Memory<Row>,
    sealed: Vec<Arc<Partition>>,
    /// Events in memory, as spans.
    events: Memory<EventRow>,
    /// Sealed event partitions.
    event_parts: Vec<Arc<EventPartition>>,
    next_seq: u64,
}

/// A bucket and a window start (ms): what an in-memory set of spans is keyed by.
type WindowKey = (String, i64);

impl State {
    /// Every span still only in memory: open windows, then windows being sealed.
    fn memory_rows(&self) -> impl Iterator<Item = (&(String, i64), &[Row])> {
        self.spans.rows()
    }
}

/// Span tables rooted at `DIR/spans`.
#[derive(Debug)]
pub struct SpanStore {
    root: PathBuf,
    options: SpanStoreOptions,
    state: RwLock<State>,
    /// The id the next appended event gets (ids start at 1).
    next_event_id: AtomicU64,
}

impl SpanStore {
    /// Opens (creating if need be) the span tables under `root`: the config, then every sealed
    /// partition. Leftover `.tmp-*` directories of an interrupted seal are removed.
    pub fn open(root: &Path, options: SpanStoreOptions) -> Result<SpanStore> {
        if options.partition_ms <= 0 {
            return Err(Error::options("partition_ms", "must be positive"));
        }
        let fs = &options.fs;
        fs.create_dirs_synced(root)
            .map_err(|e| Error::io(root, e))?;
        let config = match config::load(fs, root)? {
            Some(c) => c,
            None => {
                let c = SpanConfig::default();
                config::save(fs, root, &c)?;
                c
            }
        };
        let router = Router::new(&config)?;
        let mut sealed = Vec::new();
        let mut event_parts = Vec::new();
        let mut next_seq = 0;
        for bucket in fs.list_dir(root).map_err(|e| Error::io(root, e))? {
            if !bucket.is_dir {
                continue;
            }
            let bdir = root.join(&bucket.name);
            for p in fs.list_dir(&bdir).map_err(|e| Error::io(&bdir, e))? {
                let path = bdir.join(&p.name);
                if p.name.starts_with(".tmp-") {
                    fs.remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
                    continue;
                }
                if !p.is_dir {
                    continue;
                }
                if let Some(seq) = p
                    .name
                    .rsplit('_')
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    next_seq = next_seq.max(seq + 1);
                }
                if p.name.starts_with(EVENT_DIR_PREFIX) {
                    event_parts.push(Arc::new(EventPartition::open(&**fs, &path)?));
                } else {
                    sealed.push(Arc::new(Partition::open(&**fs, &path)?));
                }
            }
        }
        let next_event_id = event_parts
            .iter()
            .map(|p: &Arc<EventPartition>| p.meta.max_id + 1)
            .max()
            .unwrap_or(1);
        Ok(SpanStore {
            root: root.to_owned(),
            options,
            state: RwLock::new(State {
                config,
                router,
                spans: Memory::default(),
                sealed,
                events: Memory::default(),
                event_parts,
                next_seq,
            }),
            next_event_id: AtomicU64::new(next_event_id),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> SpanConfig {
        self.state.read().config.clone()
    }

    fn update_config(&self, f: impl FnOnce(&mut SpanConfig) -> Result<()>) -> Result<()> {
        let mut st = self.state.write();
        let mut c = st.config.clone();
        f(&mut c)?;
        let router = Router::new(&c)?;
        config::save(&self.options.fs, &self.root, &c)?;
        st.config = c;
        st.router = router;
        Ok(())
    }

    /// Creates a bucket or changes its retention (effective at the next retention sweep).
    pub fn set_bucket(&self, name: &str, retention_ms: i64) -> Result<()> {
        config::check_bucket_name(name)?;
        if retention_ms <= 0 {
            return Err(Error::options(
                "retention_ms",
                format!("bucket {name}: must be positive"),
            ));
        }
        self.update_config(|c| {
            match c.buckets.iter_mut().find(|b| b.name == name) {
                Some(b) => b.retention_ms = retention_ms,
                None => c.buckets.push(Bucket {
                    name: name.to_owned(),
                    retention_ms,
                }),
            }
            Ok(())
        })
    }

    /// Replaces the routing rules (first match wins). Applies to spans appended from now on.
    pub fn set_rules(&self, rules: Vec<Rule>) -> Result<()> {
        self.update_config(|c| {
            c.rules = rules;
            Ok(())
        })
    }

    pub fn set_content_policy(&self, policy: ContentPolicy) -> Result<()> {
        self.update_config(|c| {
            c.content = policy;
            Ok(())
        })
    }

    /// Replaces the price table. Cost is computed at ingest: spans already stored keep theirs.
    pub fn set_prices(&self, prices: PriceTable) -> Result<()> {
        self.update_config(|c| {
            c.prices = prices;
            Ok(())
        })
    }

    fn validate(&self, spans: &[Span]) -> Result<()> {
        for (i, s) in spans.iter().enumerate() {
            let bad = |detail: String| Err(Error::InvalidSpan { index: i, detail });
            if s.trace_id == [0; 16] {
                return bad("trace id is all zeros".into());
            }
            if s.span_id == [0; 8] {
                return bad("span id is all zeros".into());
            }
            let attrs = s.attributes.len() + s.resource.len();
            if attrs > self.options.max_attributes_per_span {
                return bad(format!(
                    "{attrs} attributes, more than the limit {}",
                    self.options.max_attributes_per_span
                ));
            }
            if s.events.len() > self.options.max_events_per_span {
                return bad(format!(
                    "{} events, more than the limit {}",
                    s.events.len(),
                    self.options.max_events_per_span
                ));
            }
        }
        Ok(())
    }

    /// Makes `spans` durable (WAL records, split at `max_spans_per_record`) and applies them.
    /// Validation happens first: a refused batch writes nothing.
    pub fn append(&self, wal: &Wal, spans: &[Span]) -> Result<AppendOutcome> {
        self.validate(spans)?;
        self.append_owned(wal, spans.to_vec())
    }

    /// [`Self::append`] taking the batch by value: the spans move into the store without a
    /// copy (the faster path for callers that build a batch to hand over).
    pub fn append_owned(&self, wal: &Wal, spans: Vec<Span>) -> Result<AppendOutcome> {
        self.validate(&spans)?;
        let mut position = Position::ZERO;
        for chunk in spans.chunks(self.options.max_spans_per_record.max(1)) {
            let payload = encode_payload(chunk);
            if payload.len() > strata_wal::MAX_RECORD_LEN {
                return Err(Error::Limit {
                    what: "bytes in one WAL record of spans (send smaller batches)",
                    limit: strata_wal::MAX_RECORD_LEN as u64,
                    actual: payload.len() as u64,
                });
            }
            position = wal.append(RecordType::SPANS, &payload)?;
        }
        let n = spans.len();
        self.apply(spans);
        Ok(AppendOutcome {
            spans: n,
            position,
            ..AppendOutcome::default()
        })
    }

    /// Splits off the spans `rules` refuse (too far in the future; older than their bucket's
    /// retention when that is refused) and counts stored spans already outside retention.
    /// Returns the spans to store and an outcome with the counts filled in.
    pub fn screen(&self, spans: Vec<Span>, rules: TimeRules) -> (Vec<Span>, AppendOutcome) {
        let mut out = AppendOutcome::default();
        let max_ms = rules.now_ms.saturating_add(rules.future_tolerance_ms);
        let st = self.state.read();
        let mut cutoffs: BTreeMap<&str, i64> = BTreeMap::new();
        let mut kept = Vec::with_capacity(spans.len());
        for span in spans {
            let start_ms = span.start_ns.div_euclid(1_000_000);
            let refuse = |out: &mut AppendOutcome, why: String| {
                out.rejected += 1;
                out.first_rejection.get_or_insert(why);
            };
            if start_ms > max_ms {
                let e = Error::TooFarInFuture {
                    what: format!("span {}", hex16(&span.trace_id)),
                    timestamp_ms: start_ms,
                    max_ms,
                };
                refuse(&mut out, e.to_string());
                continue;
            }
            let bucket = st.router.route(&span);
            let cutoff = *cutoffs.entry(bucket).or_insert_with(|| {
                st.config
                    .buckets
                    .iter()
                    .find(|b| b.name == bucket)
                    .map_or(i64::MIN, |b| rules.now_ms.saturating_sub(b.retention_ms))
            });
            // A partition expires when its window ends before the cutoff.
            let window_end = window_of(span.start_ns, self.options.partition_ms)
                .saturating_add(self.options.partition_ms);
            if window_end <= cutoff {
                if rules.reject_outside_retention {
                    let e = Error::OutsideRetention {
                        what: format!("span {}", hex16(&span.trace_id)),
                        timestamp_ms: start_ms,
                        cutoff_ms: cutoff,
                        bucket: bucket.to_owned(),
                    };
                    refuse(&mut out, e.to_string());
                    continue;
                }
                out.outside_retention += 1;
            }
            kept.push(span);
        }
        (kept, out)
    }

    /// Applies spans without the WAL (for tests and for data already durable elsewhere).
    pub fn insert_unlogged(&self, spans: Vec<Span>) -> Result<()> {
        self.validate(&spans)?;
        self.apply(spans);
        Ok(())
    }

    /// The sequence number the next sealed partition gets.
    pub fn next_seq(&self) -> u64 {
        self.state.read().next_seq
    }

    /// Width of a partition window.
    pub fn partition_ms(&self) -> i64 {
        self.options.partition_ms
    }

    fn apply(&self, spans: Vec<Span>) {
        let mut st = self.state.write();
        let st = &mut *st;
        for span in spans {
            let (key, row) = self.row_of(span, &st.config, &st.router);
            st.spans.open.entry(key).or_default().push(row);
        }
    }

    /// The window a span belongs in and its row.
    fn row_of(&self, mut span: Span, config: &SpanConfig, router: &Router) -> (WindowKey, Row) {
        let content = genai::split_content(&mut span.attributes);
        let g = genai::extract(&span, &config.prices);
        let bucket = router.route(&span).to_owned();
        let window = window_of(span.start_ns, self.options.partition_ms);
        let row = Row {
            span,
            genai: g,
            content,
        };
        ((bucket, window), row)
    }

    /// Deletes every sealed partition whose window ended more than its bucket's retention
    /// before `now_ms`. Returns what was deleted, per bucket (buckets with nothing deleted are
    /// left out). Partitions of buckets no longer configured are kept.
    pub fn apply_retention(&self, now_ms: i64) -> Result<Vec<SpanExpiry>> {
        let mut st = self.state.write();
        let retention: BTreeMap<String, i64> = st
            .config
            .buckets
            .iter()
            .map(|b| (b.name.clone(), b.retention_ms))
            .collect();
        let mut dropped: BTreeMap<String, SpanExpiry> = BTreeMap::new();
        let mut keep = Vec::with_capacity(st.sealed.len());
        let mut sealed = std::mem::take(&mut st.sealed).into_iter();
        while let Some(p) = sealed.next() {
            let expired = retention
                .get(&p.meta.bucket)
                .is_some_and(|r| p.meta.window_end_ms() <= now_ms.saturating_sub(*r));
            if !expired {
                keep.push(p);
                continue;
            }
            let fs = &self.options.fs;
            let content_bytes = fs
                .file_len(&p.dir.join(partition::CONTENT_FILE))
                .unwrap_or(0);
            if let Err(e) = fs.remove_dir_all(&p.dir) {
                keep.push(p.clone());
                keep.extend(sealed);
                st.sealed = keep;
                return Err(Error::io(&p.dir, e));
            }
            let d = dropped
                .entry(p.meta.bucket.clone())
                .or_insert_with(|| SpanExpiry {
                    bucket: p.meta.bucket.clone(),
                    ..SpanExpiry::default()
                });
            d.partitions += 1;
            d.spans += u64::from(p.meta.rows);
            d.content_rows += u64::from(p.meta.content_rows);
            d.content_bytes += content_bytes;
            d.bytes += p.bytes_on_disk;
        }
        st.sealed = keep;
        self.expire_events(&mut st, &retention, now_ms, &mut dropped)?;
        Ok(dropped.into_values().collect())
    }

    /// The retention cutoff (`now_ms − retention`) of the bucket spans routed like `span` land
    /// in, with the bucket's name.
    pub fn retention_cutoff(&self, bucket: &str, now_ms: i64) -> Option<i64> {
        let st = self.state.read();
        st.config
            .buckets
            .iter()
            .find(|b| b.name == bucket)
            .map(|b| now_ms.saturating_sub(b.retention_ms))
    }

    pub fn stats(&self) -> SpanStats {
        let st = self.state.read();
        SpanStats {
            open_spans: st.memory_rows().map(|(_, v)| v.len() as u64).sum(),
            sealed_spans: st.sealed.iter().map(|p| u64::from(p.meta.rows)).sum(),
            sealed_partitions: st.sealed.len() as u64,
            sealed_traces: st.sealed.iter().map(|p| p.trace_count() as u64).sum(),
            sealed_bytes: st.sealed.iter().map(|p| p.bytes_on_disk).sum(),
        }
    }

    /// Metadata of the sealed partitions.
    pub fn partitions(&self) -> Vec<PartitionMeta> {
        self.state
            .read()
            .sealed
            .iter()
            .map(|p| p.meta.clone())
            .collect()
    }
}

fn hex16(id: &[u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn window_of(start_ns: i64, partition_ms: i64) -> i64 {
    let ms = start_ns.div_euclid(1_000_000);
    ms - ms.rem_euclid(partition_ms)
}
