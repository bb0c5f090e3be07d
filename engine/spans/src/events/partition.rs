//! Sealed event partitions: one directory `ev-<window>_<seq>` per (bucket, window, seal)
//! beside the span partitions of the bucket, written to a temporary directory, fsynced and
//! renamed into place. Layout: `docs/format/events.md`.

use std::path::{Path, PathBuf};
use strata_storage::FileSystem;

use serde::{Deserialize, Serialize};
use strata_codec::column::{self, ColumnOptions};

use super::codec::{body_blob, read_body_blob};
use super::model::{EventRow, LogEvent};
use crate::codec::{kvs_blob, read_kvs_blob};
use crate::error::{Error, Result};
use crate::genai::GenAi;
use crate::model::KeyValue;
use crate::partition::{ColFile, col_file};

pub const EVENT_META_FILE: &str = "meta.json";
pub const EVENTS_FILE: &str = "events.col";
pub const EVENT_CONTENT_FILE: &str = "content.col";
/// Directory name prefix of event partitions.
pub const EVENT_DIR_PREFIX: &str = "ev-";
/// The event partition format this build writes and reads.
pub const EVENT_PARTITION_VERSION: u32 = 1;
/// Rows per row group in partitions this build writes.
pub const EVENT_GROUP_ROWS: u32 = 1024;
/// Content rows per content group.
const CONTENT_GROUP_ROWS: usize = 256;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPartitionMeta {
    pub version: u32,
    pub bucket: String,
    pub window_start_ms: i64,
    pub window_ms: i64,
    pub rows: u32,
    pub content_rows: u32,
    /// Smallest and largest [`LogEvent::timestamp_ns`] of the rows (0 when there are none).
    pub min_time_ns: i64,
    pub max_time_ns: i64,
    /// Largest event id of the rows and the content (ids are never reused while a
    /// partition holding them is on disk).
    pub max_id: u64,
    pub group_rows: u32,
}

impl EventPartitionMeta {
    pub fn window_end_ms(&self) -> i64 {
        self.window_start_ms.saturating_add(self.window_ms)
    }
}

/// Content of one event: its id and its content attributes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventContent {
    pub id: u64,
    pub content: Vec<KeyValue>,
}

/// A sealed event partition: meta, per-group time bounds and the trace index in memory,
/// the columns read when a query needs them.
#[derive(Debug)]
pub struct EventPartition {
    pub dir: PathBuf,
    pub meta: EventPartitionMeta,
    events: Option<ColFile>,
    content: Option<ColFile>,
    /// Per row group: smallest and largest timestamp.
    group_times: Vec<(i64, i64)>,
    /// The partition's distinct trace ids, sorted (rows name theirs by ordinal).
    trace_list: Vec<[u8; 16]>,
    traces: TraceGroups,
    /// First event id of each content group.
    content_firsts: Vec<u64>,
    pub(crate) bytes_on_disk: u64,
    pub(crate) content_bytes: u64,
}

/// The columns of one sealed event, decoded.
pub(crate) type Decoded = (LogEvent, GenAi, bool);

fn opt_tokens(v: Option<u64>) -> i64 {
    v.and_then(|x| i64::try_from(x).ok()).unwrap_or(-1)
}

/// The columns of row group `g`: `rows`, whose trace ordinals are `ordinals`.
fn group_columns(
    g: usize,
    rows: &[&EventRow],
    ordinals: &[u64],
    opts: &ColumnOptions,
) -> Result<Vec<(String, Vec<u8>)>> {
    let e = |f: fn(&LogEvent) -> i64| rows.iter().map(|r| f(&r.event)).collect::<Vec<_>>();
    let s = |f: fn(&EventRow) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<&str>>();
    let b = |f: fn(&EventRow) -> Vec<u8>| rows.iter().map(|r| f(r)).collect::<Vec<Vec<u8>>>();
    let ids: Vec<u64> = rows.iter().map(|r| r.event.id).collect();
    let u = |f: fn(&LogEvent) -> u64| rows.iter().map(|r| f(&r.event)).collect::<Vec<u64>>();
    let tokens = |f: fn(&GenAi) -> Option<u64>| {
        rows.iter()
            .map(|r| opt_tokens(f(&r.genai)))
            .collect::<Vec<i64>>()
    };
    let span: Vec<&[u8]> = rows.iter().map(|r| &r.event.span_id[..]).collect();
    let has: Vec<bool> = rows.iter().map(|r| !r.content.is_empty()).collect();
    let cols = vec![
        ("id", column::encode_u64(&ids, opts)?),
        ("time", column::encode_i64(&e(|e| e.time_ns), opts)?),
        ("observed", column::encode_i64(&e(|e| e.observed_ns), opts)?),
        ("trace", column::encode_u64(ordinals, opts)?),
        ("span_id", column::encode_bytes(&span, opts)?),
        (
            "flags",
            column::encode_u64(&u(|e| u64::from(e.flags)), opts)?,
        ),
        (
            "severity",
            column::encode_u64(&u(|e| u64::from(e.severity_number)), opts)?,
        ),
        (
            "severity_text",
            column::encode_str(&s(|r| &r.event.severity_text), opts)?,
        ),
        (
            "event_name",
            column::encode_str(&s(|r| &r.event.event_name), opts)?,
        ),
        (
            "service",
            column::encode_str(&s(|r| &r.genai.service), opts)?,
        ),
        (
            "provider",
            column::encode_str(&s(|r| &r.genai.provider), opts)?,
        ),
        (
            "request_model",
            column::encode_str(&s(|r| &r.genai.request_model), opts)?,
        ),
        (
            "response_model",
            column::encode_str(&s(|r| &r.genai.response_model), opts)?,
        ),
        (
            "operation",
            column::encode_str(&s(|r| &r.genai.operation), opts)?,
        ),
        (
            "error_type",
            column::encode_str(&s(|r| &r.genai.error_type), opts)?,
        ),
        (
            "input_tokens",
            column::encode_i64(&tokens(|g| g.input_tokens), opts)?,
        ),
        (
            "output_tokens",
            column::encode_i64(&tokens(|g| g.output_tokens), opts)?,
        ),
        ("scope", column::encode_str(&s(|r| &r.event.scope), opts)?),
        (
            "scope_version",
            column::encode_str(&s(|r| &r.event.scope_version), opts)?,
        ),
        (
            "resource",
            column::encode_bytes(&b(|r| kvs_blob(&r.event.resource)), opts)?,
        ),
        (
            "attrs",
            column::encode_bytes(&b(|r| kvs_blob(&r.event.attributes)), opts)?,
        ),
        (
            "body",
            column::encode_bytes(&b(|r| body_blob(&r.event.body)), opts)?,
        ),
        ("has_content", column::encode_bool(&has, opts)?),
    ];
    Ok(cols
        .into_iter()
        .map(|(n, c)| (format!("{n}@{g}"), c))
        .collect())
}

/// Orders rows by cluster (service, request model, provider), then trace, time and id.
fn sort_rows(rows: &mut [&EventRow]) {
    rows.sort_by(|a, b| {
        let key = |r: &EventRow| {
            (
                r.genai.service.clone(),
                r.genai.model().to_owned(),
                r.genai.provider.clone(),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.event.trace_id.cmp(&b.event.trace_id))
            .then_with(|| a.event.timestamp_ns().cmp(&b.event.timestamp_ns()))
            .then_with(|| a.event.id.cmp(&b.event.id))
    });
}

/// The bytes of `events.col` for `rows` (sorted here); `None` when there are no rows.
fn encode_events(rows: &mut [&EventRow], group_rows: usize) -> Result<Option<Vec<u8>>> {
    if rows.is_empty() {
        return Ok(None);
    }
    sort_rows(rows);
    let opts = ColumnOptions::default();
    let mut cols = Vec::new();
    let (mut mins, mut maxs) = (Vec::new(), Vec::new());
    let mut list: Vec<[u8; 16]> = rows.iter().map(|r| r.event.trace_id).collect();
    list.sort_unstable();
    list.dedup();
    let ordinal = |t: &[u8; 16]| list.binary_search(t).unwrap_or(0) as u64;
    // (trace ordinal, group) pairs, for the trace index.
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for (g, chunk) in rows.chunks(group_rows).enumerate() {
        let ords: Vec<u64> = chunk.iter().map(|r| ordinal(&r.event.trace_id)).collect();
        cols.extend(group_columns(g, chunk, &ords, &opts)?);
        let t = chunk.iter().map(|r| r.event.timestamp_ns());
        mins.push(t.clone().min().unwrap_or(0));
        maxs.push(t.max().unwrap_or(0));
        pairs.extend(ords.iter().map(|o| (*o, g as u64)));
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut counts = vec![0u64; list.len()];
    for (o, _) in &pairs {
        counts[*o as usize] += 1;
    }
    let groups: Vec<u64> = pairs.iter().map(|(_, g)| *g).collect();
    let ids: Vec<&[u8]> = list.iter().map(|t| &t[..]).collect();
    cols.push(("group_min_time".into(), column::encode_i64(&mins, &opts)?));
    cols.push(("group_max_time".into(), column::encode_i64(&maxs, &opts)?));
    cols.push(("trace_ids".into(), column::encode_bytes(&ids, &opts)?));
    cols.push((
        "trace_group_counts".into(),
        column::encode_u64(&counts, &opts)?,
    ));
    cols.push(("trace_groups".into(), column::encode_u64(&groups, &opts)?));
    Ok(Some(col_file(&cols)?))
}

/// The bytes of `content.col` (sorted here by id); `None` when there is no content.
fn encode_content(content: &mut [EventContent]) -> Result<Option<Vec<u8>>> {
    if content.is_empty() {
        return Ok(None);
    }
    content.sort_by_key(|c| c.id);
    let opts = ColumnOptions::default();
    let level = ColumnOptions {
        zstd: column::ZstdMode::IfSmaller { level: 9 },
        ..opts
    };
    let firsts: Vec<u64> = content
        .chunks(CONTENT_GROUP_ROWS)
        .map(|g| g[0].id)
        .collect();
    let mut cols = vec![(
        "group_first".to_owned(),
        column::encode_u64(&firsts, &opts)?,
    )];
    for (g, chunk) in content.chunks(CONTENT_GROUP_ROWS).enumerate() {
        let ids: Vec<u64> = chunk.iter().map(|c| c.id).collect();
        let blobs: Vec<Vec<u8>> = chunk.iter().map(|c| kvs_blob(&c.content)).collect();
        cols.push((format!("id@{g}"), column::encode_u64(&ids, &opts)?));
        cols.push((
            format!("content@{g}"),
            column::encode_bytes(&blobs, &level)?,
        ));
    }
    Ok(Some(col_file(&cols)?))
}

/// Writes an event partition of `rows` and `content` into `bucket_dir/<name>`, atomically
/// (meta.json last). Returns the directory.
pub(crate) fn write(
    fs: &dyn FileSystem,
    bucket_dir: &Path,
    name: &str,
    meta: &EventPartitionMeta,
    rows: &mut [&EventRow],
    content: &mut [EventContent],
) -> Result<PathBuf> {
    let events = encode_events(rows, meta.group_rows.max(1) as usize)?;
    let content = encode_content(content)?;
    let meta_bytes = serde_json::to_vec_pretty(meta)
        .map_err(|e| Error::Internal(format!("event partition meta: {e}")))?;
    let mut out: Vec<(&str, &[u8])> = Vec::new();
    if let Some(b) = &events {
        out.push((EVENTS_FILE, b));
    }
    if let Some(b) = &content {
        out.push((EVENT_CONTENT_FILE, b));
    }
    out.push((EVENT_META_FILE, &meta_bytes));
    let dir = bucket_dir.join(name);
    let tmp = bucket_dir.join(format!(".tmp-{name}"));
    fs.publish_dir(&tmp, &dir, &out)
        .map_err(|(path, e)| Error::io(path, e))?;
    Ok(dir)
}

fn read_meta(fs: &dyn FileSystem, path: &Path) -> Result<EventPartitionMeta> {
    let bytes = fs.read(path).map_err(|e| Error::io(path, e))?;
    let meta: EventPartitionMeta =
        serde_json::from_slice(&bytes).map_err(|e| Error::corrupt(path, e.to_string()))?;
    if meta.version != EVENT_PARTITION_VERSION {
        return Err(Error::corrupt(
            path,
            format!(
                "event partition version {} (this build reads {EVENT_PARTITION_VERSION})",
                meta.version
            ),
        ));
    }
    if meta.group_rows == 0 {
        return Err(Error::corrupt(path, "group_rows is 0"));
    }
    Ok(meta)
}

fn id16(path: &Path, b: &[u8]) -> Result<[u8; 16]> {
    b.try_into()
        .map_err(|_| Error::corrupt(path, format!("trace id of {} bytes", b.len())))
}

fn id8(path: &Path, b: &[u8]) -> Result<[u8; 8]> {
    b.try_into()
        .map_err(|_| Error::corrupt(path, format!("span id of {} bytes", b.len())))
}

/// (trace id, row group) pairs, sorted.
type TraceGroups = Vec<([u8; 16], u32)>;

/// The trace index of `events.col`: the distinct trace ids, and (trace id, group) pairs
/// sorted, every group checked against the `groups` the partition has.
fn read_trace_index(
    f: &ColFile,
    path: &Path,
    groups: usize,
) -> Result<(Vec<[u8; 16]>, TraceGroups)> {
    let n = f.count("trace_ids")?;
    let list = f
        .bytes("trace_ids", n)?
        .iter()
        .map(|b| id16(path, b))
        .collect::<Result<Vec<_>>>()?;
    let counts = f.u64s("trace_group_counts", n)?;
    let limit = (n as u64).saturating_mul(groups as u64);
    let total = counts
        .iter()
        .try_fold(0u64, |a, c| a.checked_add(*c).filter(|t| *t <= limit))
        .ok_or_else(|| Error::corrupt(path, "trace group counts exceed the groups"))?;
    let gs = f.u64s("trace_groups", total as usize)?;
    let mut pairs = Vec::with_capacity(gs.len());
    let mut at = 0;
    for (t, c) in list.iter().zip(&counts) {
        for g in &gs[at..at + *c as usize] {
            if *g >= groups as u64 {
                return Err(Error::corrupt(path, format!("trace index names group {g}")));
            }
            pairs.push((*t, *g as u32));
        }
        at += *c as usize;
    }
    Ok((list, pairs))
}

impl EventPartition {
    /// Opens the event partition in `dir`: meta, group times and trace index, and the
    /// column files mapped, their counts checked against the meta before anything is sized.
    pub(crate) fn open(fs: &dyn FileSystem, dir: &Path) -> Result<EventPartition> {
        let meta_path = dir.join(EVENT_META_FILE);
        let meta = read_meta(fs, &meta_path)?;
        let groups = (meta.rows as usize).div_ceil(meta.group_rows as usize);
        let (mut events, mut group_times) = (None, Vec::new());
        let (mut trace_list, mut traces) = (Vec::new(), Vec::new());
        if meta.rows > 0 {
            let path = dir.join(EVENTS_FILE);
            let f = ColFile::open(fs, &path)?;
            let last_ok = f.has(&format!("id@{}", groups - 1)) && !f.has(&format!("id@{groups}"));
            if !last_ok || f.count("group_min_time")? != groups {
                return Err(Error::corrupt(
                    &meta_path,
                    "rows disagree with the row groups",
                ));
            }
            let mins = f.i64s("group_min_time", groups)?;
            let maxs = f.i64s("group_max_time", groups)?;
            group_times = mins.into_iter().zip(maxs).collect();
            (trace_list, traces) = read_trace_index(&f, &path, groups)?;
            events = Some(f);
        }
        let (mut content, mut content_firsts) = (None, Vec::new());
        if meta.content_rows > 0 {
            let f = ColFile::open(fs, &dir.join(EVENT_CONTENT_FILE))?;
            content_firsts = f.u64s("group_first", f.count("group_first")?)?;
            content = Some(f);
        }
        Ok(EventPartition {
            bytes_on_disk: fs.dir_bytes(dir).map_err(|e| Error::io(dir, e))?,
            content_bytes: fs.file_len(&dir.join(EVENT_CONTENT_FILE)).unwrap_or(0),
            dir: dir.to_owned(),
            meta,
            events,
            content,
            group_times,
            trace_list,
            traces,
            content_firsts,
        })
    }

    /// The sequence number, from the directory name `ev-<window>_<seq>`.
    pub(crate) fn seq(&self) -> Option<u64> {
        self.dir
            .file_name()?
            .to_str()?
            .rsplit('_')
            .next()?
            .parse()
            .ok()
    }

    pub(crate) fn groups(&self) -> usize {
        self.group_times.len()
    }

    /// Whether row group `g` may hold events in `[start_ns, end_ns)`.
    pub(crate) fn group_overlaps(&self, g: usize, start_ns: i64, end_ns: i64) -> bool {
        self.group_times
            .get(g)
            .is_some_and(|(lo, hi)| *hi >= start_ns && *lo < end_ns)
    }

    /// Row groups holding events of `trace`.
    pub(crate) fn groups_of_trace(&self, trace: &[u8; 16]) -> Vec<usize> {
        let lo = self.traces.partition_point(|(t, _)| t < trace);
        self.traces[lo..]
            .iter()
            .take_while(|(t, _)| t == trace)
            .map(|(_, g)| *g as usize)
            .collect()
    }

    /// Decodes the rows of group `g` (only those of `trace`, when given: their attribute
    /// blobs are the costly part).
    pub(crate) fn read_group(&self, g: usize, trace: Option<&[u8; 16]>) -> Result<Vec<Decoded>> {
        let Some(f) = &self.events else {
            return Ok(Vec::new());
        };
        let gr = self.meta.group_rows as usize;
        let n = (self.meta.rows as usize - g * gr).min(gr);
        let c = |name: &str| format!("{name}@{g}");
        let path = f.path().to_owned();
        let corrupt = |e: strata_codec::Error| Error::corrupt(&path, e.to_string());
        let strs = |name: &str| f.strs(&c(name), n);
        let (ids, time, observed) = (
            f.u64s(&c("id"), n)?,
            f.i64s(&c("time"), n)?,
            f.i64s(&c("observed"), n)?,
        );
        let (ords, span) = (f.u64s(&c("trace"), n)?, f.bytes(&c("span_id"), n)?);
        let trace_of = |i: usize| {
            usize::try_from(ords[i])
                .ok()
                .and_then(|o| self.trace_list.get(o))
                .ok_or_else(|| Error::corrupt(&path, format!("trace ordinal of row {i}")))
        };
        let (flags, sev) = (f.u64s(&c("flags"), n)?, f.u64s(&c("severity"), n)?);
        let (sev_text, name) = (strs("severity_text")?, strs("event_name")?);
        let (service, provider) = (strs("service")?, strs("provider")?);
        let (req, resp, op, err) = (
            strs("request_model")?,
            strs("response_model")?,
            strs("operation")?,
            strs("error_type")?,
        );
        let (tin, tout) = (
            f.i64s(&c("input_tokens"), n)?,
            f.i64s(&c("output_tokens"), n)?,
        );
        let (scope, scope_v) = (strs("scope")?, strs("scope_version")?);
        let (res, attrs, body) = (
            f.bytes(&c("resource"), n)?,
            f.bytes(&c("attrs"), n)?,
            f.bytes(&c("body"), n)?,
        );
        let has = f.bools(&c("has_content"), n)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let trace_id = *trace_of(i)?;
            if trace.is_some_and(|t| *t != trace_id) {
                continue;
            }
            let event = LogEvent {
                id: ids[i],
                time_ns: time[i],
                observed_ns: observed[i],
                severity_number: u8::try_from(sev[i])
                    .map_err(|_| Error::corrupt(&path, "severity over 255"))?,
                severity_text: sev_text[i].clone(),
                event_name: name[i].clone(),
                trace_id,
                span_id: id8(&path, &span[i])?,
                flags: u32::try_from(flags[i])
                    .map_err(|_| Error::corrupt(&path, "flags over 32 bits"))?,
                body: read_body_blob(&body[i]).map_err(corrupt)?,
                resource: read_kvs_blob(&res[i]).map_err(corrupt)?,
                scope: scope[i].clone(),
                scope_version: scope_v[i].clone(),
                attributes: read_kvs_blob(&attrs[i]).map_err(corrupt)?,
            };
            let genai = GenAi {
                service: service[i].clone(),
                provider: provider[i].clone(),
                request_model: req[i].clone(),
                response_model: resp[i].clone(),
                operation: op[i].clone(),
                error_type: err[i].clone(),
                input_tokens: u64::try_from(tin[i]).ok(),
                output_tokens: u64::try_from(tout[i]).ok(),
                ..GenAi::default()
            };
            out.push((event, genai, has[i]));
        }
        Ok(out)
    }

    /// The content stored here of the events `ids` (sorted), by id.
    pub(crate) fn content_of(&self, ids: &[u64]) -> Result<Vec<(u64, Vec<KeyValue>)>> {
        let Some(f) = &self.content else {
            return Ok(Vec::new());
        };
        let path = f.path().to_owned();
        let mut groups: Vec<usize> = ids
            .iter()
            .filter_map(|id| {
                self.content_firsts
                    .partition_point(|f| f <= id)
                    .checked_sub(1)
            })
            .collect();
        groups.dedup();
        let mut out = Vec::new();
        for g in groups {
            let n = f.count(&format!("id@{g}"))?;
            let gids = f.u64s(&format!("id@{g}"), n)?;
            let wanted: Vec<usize> = (0..n)
                .filter(|&k| ids.binary_search(&gids[k]).is_ok())
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let blobs = f.bytes(&format!("content@{g}"), n)?;
            for k in wanted {
                let kvs =
                    read_kvs_blob(&blobs[k]).map_err(|e| Error::corrupt(&path, e.to_string()))?;
                out.push((gids[k], kvs));
            }
        }
        Ok(out)
    }
}
