//! Sealed span partitions: one directory per (bucket, time window, seal), written to a
//! temporary directory, fsynced and renamed into place. Layout: `docs/format/spans.md`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use strata_codec::column::{self, ColumnOptions};
use strata_index::{IndexFile, LabelIndex, RoaringBitmap, RowIndex};

use super::codec;
use super::genai::{GenAi, ModelPrice, PriceTable};
use super::model::{AttrValue, Event, KeyValue, Span, StatusCode};
use super::rollup::{self, RollupKey, Totals};
use crate::error::{Error, Result};

pub const META_FILE: &str = "meta.json";
pub const HOT_FILE: &str = "hot.col";
pub const COLD_FILE: &str = "attrs.col";
pub const CONTENT_FILE: &str = "content.col";
pub const TRACES_FILE: &str = "traces.col";
pub const INDEX_FILE: &str = "index.col";
pub const ROLLUP_FILE: &str = "rollup.col";
/// The partition format this build writes; it also reads version 2 (no rollup, raw costs).
pub const PARTITION_VERSION: u32 = 3;
/// `cost_ref` values: unknown cost, the next `cost_raw` value, else price `k - COST_PRICE`.
const COST_UNKNOWN: u64 = 0;
const COST_RAW: u64 = 1;
const COST_PRICE: u64 = 2;
/// Rows per row group in partitions this build writes.
pub const GROUP_ROWS: u32 = 2048;
/// Content rows per content group.
const CONTENT_GROUP_ROWS: usize = 256;
const COLFILE_MAGIC: &[u8; 4] = b"STSC";
const COLFILE_VERSION: u8 = 2;

/// A span in memory: the span without its content attributes, its GenAI columns, and its
/// content (kept beside it until the seal routes it).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub span: Span,
    pub genai: GenAi,
    pub content: Vec<KeyValue>,
}

/// Content rows: prompt/completion attributes of one span.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRow {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub content: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionMeta {
    pub version: u32,
    pub bucket: String,
    pub window_start_ms: i64,
    pub window_ms: i64,
    pub rows: u32,
    pub content_rows: u32,
    pub min_start_ns: i64,
    pub max_start_ns: i64,
    pub max_end_ns: i64,
    /// Rows per row group (the last group may be shorter); content rows are grouped alike.
    pub group_rows: u32,
}

impl PartitionMeta {
    pub fn window_end_ms(&self) -> i64 {
        self.window_start_ms.saturating_add(self.window_ms)
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    strata_storage::files::sync_dir(dir).map_err(|e| Error::io(dir, e))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    strata_storage::files::write_synced(path, bytes).map_err(|e| Error::io(path, e))
}

/// Frames named columns: magic, version, count, a directory (per column: name, length,
/// CRC32 of its bytes), a CRC32 of everything before it, then the columns' bytes back to back.
/// A reader loads the directory and then only the columns it needs.
pub(super) fn col_file<S: AsRef<str>>(cols: &[(S, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(COLFILE_MAGIC);
    out.push(COLFILE_VERSION);
    let n = u16::try_from(cols.len())
        .map_err(|_| Error::InvalidArgument("over 65535 columns in one file".into()))?;
    out.extend_from_slice(&n.to_le_bytes());
    for (name, bytes) in cols {
        let name = name.as_ref();
        if name.len() > 255 {
            return Err(Error::InvalidArgument(format!(
                "column name {name} too long"
            )));
        }
        let len = u32::try_from(bytes.len())
            .map_err(|_| Error::InvalidArgument(format!("column {name} over 4 GiB")))?;
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    for (_, bytes) in cols {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// A column file, mapped: its directory parsed once, each column's CRC checked on first use.
#[derive(Debug)]
pub(crate) struct ColFile {
    path: PathBuf,
    map: strata_storage::mmap::Mmap,
    /// Column name → index into `cols`.
    names: HashMap<String, usize>,
    /// Per column: byte range in the file and stored CRC32.
    cols: Vec<(std::ops::Range<usize>, u32)>,
    verified: Vec<AtomicBool>,
}

impl ColFile {
    /// Maps the file and checks its header and directory (not yet the columns' CRCs).
    pub(crate) fn open(path: &Path) -> Result<ColFile> {
        let bad = |d: String| Error::corrupt(path, d);
        let len = fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
        if len < 11 {
            return Err(bad("not a span column file (too short)".into()));
        }
        let map = strata_storage::mmap::map_readonly(path).map_err(|e| Error::io(path, e))?;
        let head: &[u8] = &map;
        if &head[..4] != COLFILE_MAGIC {
            return Err(bad("not a span column file (bad magic)".into()));
        }
        if head[4] != COLFILE_VERSION {
            return Err(bad(format!(
                "column file version {} (this build reads {COLFILE_VERSION})",
                head[4]
            )));
        }
        let n = u16::from_le_bytes([head[5], head[6]]) as usize;
        let mut pos = 7;
        let mut entries = Vec::with_capacity(n);
        for i in 0..n {
            let take = |pos: &mut usize, k: usize| -> Result<std::ops::Range<usize>> {
                if *pos + k > head.len() {
                    return Err(bad(format!("directory entry {i} runs past the end")));
                }
                *pos += k;
                Ok(*pos - k..*pos)
            };
            let nl = head[take(&mut pos, 1)?.start] as usize;
            let name = String::from_utf8_lossy(&head[take(&mut pos, nl)?]).into_owned();
            let len = u32::from_le_bytes(head[take(&mut pos, 4)?].try_into().expect("4"));
            let crc = u32::from_le_bytes(head[take(&mut pos, 4)?].try_into().expect("4"));
            entries.push((name, len, crc));
        }
        if pos + 4 > head.len() {
            return Err(bad("directory runs past the end".into()));
        }
        let want_crc = u32::from_le_bytes(head[pos..pos + 4].try_into().expect("4"));
        let got = crc32fast::hash(&head[..pos]);
        if want_crc != got {
            return Err(bad(format!(
                "directory CRC mismatch: stored {want_crc:#010x}, computed {got:#010x}"
            )));
        }
        let mut off = pos + 4;
        let mut names = HashMap::with_capacity(n);
        let mut cols = Vec::with_capacity(n);
        for (name, len, crc) in entries {
            let range = off..off.saturating_add(len as usize);
            off = range.end;
            if names.insert(name, cols.len()).is_some() {
                return Err(bad("a column name appears twice".into()));
            }
            cols.push((range, crc));
        }
        if off != head.len() {
            return Err(bad(format!(
                "columns end at byte {off}, file has {} bytes",
                head.len()
            )));
        }
        let verified = (0..cols.len()).map(|_| AtomicBool::new(false)).collect();
        Ok(ColFile {
            path: path.to_owned(),
            map,
            names,
            cols,
            verified,
        })
    }

    /// Whether the file has a column `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes of column `name`, its CRC checked (once per process).
    fn col(&self, name: &str) -> Result<&[u8]> {
        let Some(&i) = self.names.get(name) else {
            return Err(Error::corrupt(&self.path, format!("missing column {name}")));
        };
        let (range, crc) = &self.cols[i];
        let b = &self.map[range.clone()];
        if !self.verified[i].load(Ordering::Relaxed) {
            let got = crc32fast::hash(b);
            if got != *crc {
                return Err(Error::corrupt(
                    &self.path,
                    format!(
                        "column {name} at byte {}: CRC stored {crc:#010x}, computed {got:#010x}",
                        range.start
                    ),
                ));
            }
            self.verified[i].store(true, Ordering::Relaxed);
        }
        Ok(b)
    }

    fn wrap(&self, name: &str, e: strata_codec::Error) -> Error {
        Error::corrupt(&self.path, format!("column {name}: {e}"))
    }

    fn rows_check(&self, name: &str, got: usize, rows: usize) -> Result<()> {
        if got == rows {
            Ok(())
        } else {
            Err(Error::corrupt(
                &self.path,
                format!("column {name} has {got} values, expected {rows}"),
            ))
        }
    }

    /// Decodes column `name`, which must hold `rows` values, appending to `out`.
    pub(crate) fn decode_into<T>(
        &self,
        name: &str,
        rows: usize,
        out: &mut Vec<T>,
        decode: fn(&[u8], &mut Vec<T>) -> strata_codec::Result<usize>,
    ) -> Result<()> {
        // No reserve from `rows`: it comes from meta.json or another column, which damage can
        // make huge; the decoder sizes by what the column holds and the count is checked after.
        let got = decode(self.col(name)?, out).map_err(|e| self.wrap(name, e))?;
        self.rows_check(name, got, rows)
    }

    fn vec<T>(
        &self,
        name: &str,
        rows: usize,
        decode: fn(&[u8], &mut Vec<T>) -> strata_codec::Result<usize>,
    ) -> Result<Vec<T>> {
        let mut v = Vec::new();
        self.decode_into(name, rows, &mut v, decode)?;
        Ok(v)
    }

    pub(crate) fn i64s(&self, name: &str, rows: usize) -> Result<Vec<i64>> {
        self.vec(name, rows, column::decode_i64)
    }

    pub(crate) fn u64s(&self, name: &str, rows: usize) -> Result<Vec<u64>> {
        self.vec(name, rows, column::decode_u64)
    }

    pub(crate) fn f64s(&self, name: &str, rows: usize) -> Result<Vec<f64>> {
        self.vec(name, rows, column::decode_f64)
    }

    pub(crate) fn strs(&self, name: &str, rows: usize) -> Result<Vec<String>> {
        self.vec(name, rows, column::decode_str)
    }

    pub(crate) fn bools(&self, name: &str, rows: usize) -> Result<Vec<bool>> {
        self.vec(name, rows, column::decode_bool)
    }

    pub(crate) fn bytes(&self, name: &str, rows: usize) -> Result<Vec<Vec<u8>>> {
        self.vec(name, rows, column::decode_bytes)
    }

    /// Decodes dictionary columns `<name>.d` and `<name>.i` (`rows` ids), appending to `out`.
    pub(crate) fn dict_into<T>(
        &self,
        name: &str,
        rows: usize,
        out: &mut Dict<T>,
        decode: fn(&[u8], &mut Vec<T>) -> strata_codec::Result<usize>,
    ) -> Result<()> {
        // `<col>@<group>` names `<col>.d@<group>` and `<col>.i@<group>`.
        let part = |k: &str| match name.rsplit_once('@') {
            Some((c, g)) => format!("{c}.{k}@{g}"),
            None => format!("{name}.{k}"),
        };
        let dn = part("d");
        let base = out.dict.len();
        let nd = decode(self.col(&dn)?, &mut out.dict).map_err(|e| self.wrap(&dn, e))?;
        let ids = self.u64s(&part("i"), rows)?;
        out.ids.reserve(rows);
        for id in ids {
            if id >= nd as u64 {
                return Err(Error::corrupt(
                    &self.path,
                    format!("column {name}.i: id {id} past the {nd} values"),
                ));
            }
            out.ids.push((base as u64 + id) as u32);
        }
        Ok(())
    }

    pub(crate) fn dict<T>(
        &self,
        name: &str,
        rows: usize,
        decode: fn(&[u8], &mut Vec<T>) -> strata_codec::Result<usize>,
    ) -> Result<Dict<T>> {
        let mut d = Dict {
            dict: Vec::new(),
            ids: Vec::new(),
        };
        self.dict_into(name, rows, &mut d, decode)?;
        Ok(d)
    }

    /// Number of values in column `name`.
    pub(crate) fn count(&self, name: &str) -> Result<usize> {
        Ok(column::describe(self.col(name)?)
            .map_err(|e| self.wrap(name, e))?
            .count)
    }
}

fn opt_u64(v: Option<u64>) -> i64 {
    v.map_or(-1, |x| x.min(i64::MAX as u64) as i64)
}

pub(crate) fn from_opt(v: i64) -> Option<u64> {
    (v >= 0).then_some(v as u64)
}

/// Writes a partition of `rows` (sorted here by trace id, then start) and `content` into
/// `bucket_dir/<name>`, atomically. Returns the directory.
pub(crate) fn write(
    bucket_dir: &Path,
    name: &str,
    meta: &PartitionMeta,
    rows: &mut [&Row],
    content: &mut [ContentRow],
    prices: &PriceTable,
) -> Result<PathBuf> {
    // Rows cluster by (service, model, provider) so that filters on them read few row groups;
    // within a cluster, by trace, start and span id.
    {
        // Rank the clusters once, then sort on integers and ids.
        let mut keys: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.genai.service.as_str(),
                    r.genai.model(),
                    r.genai.provider.as_str(),
                )
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        // (cluster rank, trace, start, span, index in `rows`)
        type SortKey = (u32, [u8; 16], i64, [u8; 8], usize);
        let mut sorted: Vec<SortKey> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let k = (
                    r.genai.service.as_str(),
                    r.genai.model(),
                    r.genai.provider.as_str(),
                );
                let rank = keys.binary_search(&k).unwrap_or(0) as u32;
                (rank, r.span.trace_id, r.span.start_ns, r.span.span_id, i)
            })
            .collect();
        sorted.sort_unstable();
        let old: Vec<&Row> = rows.to_vec();
        for (slot, (.., i)) in rows.iter_mut().zip(&sorted) {
            *slot = old[*i];
        }
    }
    content.sort_by_key(|r| (r.trace_id, r.span_id));
    let opts = ColumnOptions::default();
    let c = |r: strata_codec::Result<Vec<u8>>| r.map_err(Error::Codec);
    let group_rows = meta.group_rows.max(1) as usize;

    // Trace index: distinct trace ids in order (a trace's ordinal is its position), per trace
    // the clusters holding its rows; per cluster its first row and first ordinal; per row
    // group the ordinal of its first row.
    let mut trace_ids: Vec<[u8; 16]> = rows.iter().map(|r| r.span.trace_id).collect();
    trace_ids.sort_unstable();
    trace_ids.dedup();
    let ordinal: Vec<u64> = rows
        .iter()
        .map(|r| trace_ids.binary_search(&r.span.trace_id).unwrap_or(0) as u64)
        .collect();
    let mut masks = vec![0u64; trace_ids.len()];
    let (mut cluster_row, mut cluster_trace) = (Vec::new(), Vec::new());
    let mut prev: Option<(&str, &str, &str)> = None;
    for (i, r) in rows.iter().enumerate() {
        let key = (
            r.genai.service.as_str(),
            r.genai.model(),
            r.genai.provider.as_str(),
        );
        if prev != Some(key) {
            cluster_row.push(i as u64);
            cluster_trace.push(ordinal[i]);
            prev = Some(key);
        }
        let cluster = (cluster_row.len() - 1).min(63);
        masks[ordinal[i] as usize] |= 1 << cluster;
    }
    let group_trace: Vec<u64> = ordinal.iter().step_by(group_rows).copied().collect();
    let ids: Vec<&[u8]> = trace_ids.iter().map(|t| &t[..]).collect();
    let traces = col_file(&[
        ("trace_id", c(column::encode_bytes(&ids, &opts))?),
        ("clusters", c(column::encode_u64(&masks, &opts))?),
        ("cluster_row", c(column::encode_u64(&cluster_row, &opts))?),
        (
            "cluster_trace",
            c(column::encode_u64(&cluster_trace, &opts))?,
        ),
        ("group_trace", c(column::encode_u64(&group_trace, &opts))?),
    ])?;
    let mut row_of: std::collections::HashMap<([u8; 16], [u8; 8]), usize> =
        std::collections::HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        row_of.entry((r.span.trace_id, r.span.span_id)).or_insert(i);
    }

    let mut hot_cols = Vec::new();
    let mut cold_cols = Vec::new();
    // Row groups encode independently: in parallel, then framed in order.
    type Encoded = (Vec<(String, Vec<u8>)>, Vec<(String, Vec<u8>)>);
    let encoded: Vec<Result<Encoded>> = {
        use rayon::prelude::*;
        let rows: &[&Row] = rows;
        rows.par_chunks(group_rows)
            .enumerate()
            .map(|(g, chunk)| {
                let place = Placement {
                    first_row: g * group_rows,
                    ordinal: &ordinal[g * group_rows..g * group_rows + chunk.len()],
                    row_of: &row_of,
                };
                Ok((
                    hot_columns(chunk, &place, prices, &opts)?,
                    cold_columns(chunk, &opts)?,
                ))
            })
            .collect()
    };
    for (g, e) in encoded.into_iter().enumerate() {
        let (hot, cold) = e?;
        for (name, bytes) in hot {
            hot_cols.push((format!("{name}@{g}"), bytes));
        }
        for (name, bytes) in cold {
            cold_cols.push((format!("{name}@{g}"), bytes));
        }
    }
    let hot = col_file(&hot_cols)?;
    let cold = col_file(&cold_cols)?;
    let content_file = if content.is_empty() {
        None
    } else {
        let level = ColumnOptions {
            zstd: column::ZstdMode::IfSmaller { level: 9 },
            ..opts
        };
        let firsts: Vec<&[u8]> = content
            .chunks(CONTENT_GROUP_ROWS)
            .map(|g| &g[0].trace_id[..])
            .collect();
        let mut cols = vec![(
            "group_first".to_owned(),
            c(column::encode_bytes(&firsts, &opts))?,
        )];
        for (g, chunk) in content.chunks(CONTENT_GROUP_ROWS).enumerate() {
            let t: Vec<&[u8]> = chunk.iter().map(|r| &r.trace_id[..]).collect();
            let s: Vec<&[u8]> = chunk.iter().map(|r| &r.span_id[..]).collect();
            cols.push((format!("trace_id@{g}"), c(column::encode_bytes(&t, &opts))?));
            let b: Vec<Vec<u8>> = chunk.iter().map(|r| codec::kvs_blob(&r.content)).collect();
            cols.push((format!("span_id@{g}"), c(column::encode_bytes(&s, &opts))?));
            cols.push((format!("content@{g}"), c(column::encode_bytes(&b, &level))?));
        }
        Some(col_file(&cols)?)
    };
    // Postings over row groups (a query decodes whole groups, so row-level postings would
    // prune no more and cost 4 bytes a span more).
    let mut index = RowIndex::new();
    index.set_row_count(rows.len().div_ceil(group_rows) as u32);
    let mut prev: Option<(usize, Vec<(&str, &str)>)> = None;
    for (i, r) in rows.iter().enumerate() {
        let (g, labels) = (i / group_rows, dimension_labels(&r.span, &r.genai));
        // Clustered rows repeat their neighbours' labels: index each set once per group.
        if prev
            .as_ref()
            .is_some_and(|(pg, pl)| *pg == g && *pl == labels)
        {
            continue;
        }
        index.add_row(g as u32, &labels)?;
        prev = Some((g, labels));
    }
    let index_bytes = index.encode()?;

    let dir = bucket_dir.join(name);
    let tmp = bucket_dir.join(format!(".tmp-{name}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    write_file(&tmp.join(HOT_FILE), &hot)?;
    write_file(&tmp.join(COLD_FILE), &cold)?;
    write_file(&tmp.join(TRACES_FILE), &traces)?;
    write_file(&tmp.join(INDEX_FILE), &col_file(&[("index", index_bytes)])?)?;
    write_file(
        &tmp.join(ROLLUP_FILE),
        &rollup::encode(&rollup::build(rows))?,
    )?;
    if let Some(cf) = &content_file {
        write_file(&tmp.join(CONTENT_FILE), cf)?;
    }
    // meta.json last: a partition directory is complete when its meta is there.
    let meta_bytes =
        serde_json::to_vec_pretty(meta).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    write_file(&tmp.join(META_FILE), &meta_bytes)?;
    sync_dir(&tmp)?;
    fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
    sync_dir(bucket_dir)?;
    Ok(dir)
}

/// The labels a row is indexed under. Empty values and status `unset` are not indexed (see
/// [`indexed`]): a filter on them scans the columns.
pub(crate) fn dimension_labels<'a>(span: &Span, g: &'a GenAi) -> Vec<(&'static str, &'a str)> {
    let status = match span.status_code {
        StatusCode::Error => "error",
        StatusCode::Ok => "ok",
        StatusCode::Unset => "unset",
    };
    vec![
        ("service", g.service.as_str()),
        ("model", g.model()),
        ("provider", g.provider.as_str()),
        ("operation", g.operation.as_str()),
        ("status", status),
        ("error_type", g.error_type.as_str()),
        ("agent", g.agent_name.as_str()),
        ("tool", g.tool_name.as_str()),
    ]
    .into_iter()
    .filter(|(k, v)| indexed(k, v))
    .collect()
}

/// Whether the label index has postings for dimension `name` = `value`.
pub(crate) fn indexed(name: &str, value: &str) -> bool {
    !(value.is_empty() || (name == "status" && value == "unset"))
}

/// A sealed partition: its meta, trace index and label index are in memory; the columns are
/// read when a query needs them.
#[derive(Debug)]
pub struct Partition {
    pub dir: PathBuf,
    pub meta: PartitionMeta,
    trace_ids: Vec<[u8; 16]>,
    layout: Layout,
    index: IndexFile,
    hot: ColFile,
    cold: ColFile,
    content: Option<ColFile>,
    /// First trace id of each content group.
    content_firsts: Vec<[u8; 16]>,
    /// Totals per GenAI key (version 3 on).
    pub(crate) rollup: Option<Vec<(RollupKey, Totals)>>,
    pub(crate) bytes_on_disk: u64,
}

/// How a partition's rows are ordered, and what finds a trace's rows.
#[derive(Debug)]
enum Layout {
    /// Version 2: by trace; trace `k`'s rows start at `first_rows[k]`.
    ByTrace { first_rows: Vec<u32> },
    /// Version 3: clustered by (service, model, provider), then by trace.
    Clustered {
        /// Per trace, bit `c` set if cluster `c` holds some of its rows (bit 63: any cluster
        /// from 63 on).
        masks: Vec<u64>,
        /// Per cluster, its first row and that row's trace ordinal.
        cluster_row: Vec<u32>,
        cluster_trace: Vec<u32>,
        /// Per row group, the trace ordinal of its first row.
        group_trace: Vec<u32>,
    },
}

/// The hot columns of a partition, decoded.
#[derive(Debug, Default)]
pub(crate) struct Hot {
    /// Row number of the first decoded row.
    pub base: usize,
    pub trace_of_row: Vec<u32>,
    /// Span ids as big-endian u64s.
    pub span_id: Vec<u64>,
    pub parent: Vec<Option<[u8; 8]>>,
    pub name: Dict<String>,
    pub kind: Vec<i64>,
    pub start_ns: Vec<i64>,
    pub duration_ns: Vec<i64>,
    pub status: Vec<i64>,
    pub status_message: Dict<String>,
    pub service: Dict<String>,
    pub provider: Dict<String>,
    pub request_model: Dict<String>,
    pub response_model: Dict<String>,
    pub operation: Dict<String>,
    pub finish_reasons: Dict<String>,
    pub agent: Dict<String>,
    pub tool: Dict<String>,
    pub error_type: Dict<String>,
    pub input_tokens: Vec<i64>,
    pub output_tokens: Vec<i64>,
    pub cache_read_tokens: Vec<i64>,
    pub streaming: Vec<i64>,
    pub ttft_ns: Vec<i64>,
    pub cost: Vec<f64>,
}

impl Partition {
    pub(crate) fn open(dir: &Path) -> Result<Partition> {
        let meta_path = dir.join(META_FILE);
        let meta_bytes = fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let meta: PartitionMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| Error::corrupt(&meta_path, e.to_string()))?;
        if meta.version != PARTITION_VERSION && meta.version != 2 {
            return Err(Error::corrupt(
                &meta_path,
                format!("partition version {}", meta.version),
            ));
        }
        let traces_path = dir.join(TRACES_FILE);
        let traces = ColFile::open(&traces_path)?;
        let bad = |d: &str| Error::corrupt(&traces_path, d);
        let ids = traces.bytes("trace_id", traces.count("trace_id")?)?;
        let mut trace_ids: Vec<[u8; 16]> = Vec::with_capacity(ids.len());
        for id in &ids {
            let id: [u8; 16] = id
                .as_slice()
                .try_into()
                .map_err(|_| bad("trace id not 16 bytes"))?;
            if trace_ids.last().is_some_and(|p| *p >= id) {
                return Err(bad("trace ids not strictly ascending"));
            }
            trace_ids.push(id);
        }
        let n_traces = trace_ids.len() as u64;
        // Values that must be row numbers (below `rows`) or trace ordinals, ascending.
        let u32s = |name: &str, n: usize, below: u64| -> Result<Vec<u32>> {
            let v = traces.u64s(name, n)?;
            if v.windows(2).any(|w| w[0] > w[1]) || v.iter().any(|x| *x >= below.max(1)) {
                return Err(bad(&format!("{name}: out of order or out of range")));
            }
            Ok(v.into_iter().map(|x| x as u32).collect())
        };
        let rows = u64::from(meta.rows);
        let layout = if meta.version == 2 {
            let first_rows = u32s("first_row", ids.len(), rows)?;
            if first_rows.windows(2).any(|w| w[0] == w[1])
                || (rows > 0 && first_rows.first() != Some(&0))
            {
                return Err(bad("trace index not sorted or does not start at row 0"));
            }
            Layout::ByTrace { first_rows }
        } else {
            let masks = traces.u64s("clusters", ids.len())?;
            let nc = traces.count("cluster_row")?;
            let cluster_row = u32s("cluster_row", nc, rows)?;
            if cluster_row.windows(2).any(|w| w[0] == w[1])
                || (rows > 0 && cluster_row.first() != Some(&0))
            {
                return Err(bad("clusters not ascending from row 0"));
            }
            let cluster_trace = traces
                .u64s("cluster_trace", nc)?
                .into_iter()
                .map(|t| u32::try_from(t).ok().filter(|t| u64::from(*t) < n_traces))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| bad("cluster_trace out of range"))?;
            let groups = (meta.rows as usize).div_ceil(meta.group_rows.max(1) as usize);
            let group_trace = traces
                .u64s("group_trace", groups)?
                .into_iter()
                .map(|t| u32::try_from(t).ok().filter(|t| u64::from(*t) < n_traces))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| bad("group_trace out of range"))?;
            Layout::Clustered {
                masks,
                cluster_row,
                cluster_trace,
                group_trace,
            }
        };
        if meta.group_rows == 0 {
            return Err(Error::corrupt(&meta_path, "group_rows is 0"));
        }
        let index_path = dir.join(INDEX_FILE);
        let index_file = ColFile::open(&index_path)?;
        let index = IndexFile::from_bytes(index_file.col("index")?.to_vec())
            .map_err(|e| Error::corrupt(&index_path, e.to_string()))?;
        let mut bytes_on_disk = 0;
        for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            bytes_on_disk += e.metadata().map_err(|err| Error::io(e.path(), err))?.len();
        }
        let hot = ColFile::open(&dir.join(HOT_FILE))?;
        // meta.json carries no checksum: its row and group counts must agree with the columns
        // before anything is sized by them.
        let groups = (meta.rows as usize).div_ceil(meta.group_rows.max(1) as usize);
        let last_ok = groups == 0 || hot.has(&format!("span_id@{}", groups - 1));
        if !last_ok || hot.has(&format!("span_id@{groups}")) {
            return Err(Error::corrupt(
                &meta_path,
                format!(
                    "rows {} in groups of {} disagree with the row groups of {HOT_FILE}",
                    meta.rows, meta.group_rows
                ),
            ));
        }
        let cold = ColFile::open(&dir.join(COLD_FILE))?;
        let (content, content_firsts) = if meta.content_rows > 0 {
            let path = dir.join(CONTENT_FILE);
            let f = ColFile::open(&path)?;
            let firsts = f
                .bytes("group_first", f.count("group_first")?)?
                .into_iter()
                .map(|b| <[u8; 16]>::try_from(b.as_slice()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| Error::corrupt(&path, "group_first: trace id not 16 bytes"))?;
            (Some(f), firsts)
        } else {
            (None, Vec::new())
        };
        let rollup = if meta.version >= 3 {
            Some(rollup::decode(&ColFile::open(&dir.join(ROLLUP_FILE))?)?)
        } else {
            None
        };
        Ok(Partition {
            rollup,
            dir: dir.to_owned(),
            meta,
            trace_ids,
            layout,
            index,
            hot,
            cold,
            content,
            content_firsts,
            bytes_on_disk,
        })
    }

    /// Row ranges holding trace `id` (none if the partition does not have it): a binary
    /// search of the trace index, then, in a clustered partition, one per cluster the trace
    /// has rows in, found by a binary search of the group index and of one or two groups'
    /// trace column.
    pub(crate) fn trace_rows(&self, id: &[u8; 16]) -> Result<Vec<std::ops::Range<u32>>> {
        let Ok(k) = self.trace_ids.binary_search(id) else {
            return Ok(Vec::new());
        };
        match &self.layout {
            Layout::ByTrace { first_rows } => {
                let end = first_rows.get(k + 1).copied().unwrap_or(self.meta.rows);
                Ok(std::iter::once(first_rows[k]..end).collect())
            }
            Layout::Clustered {
                masks,
                cluster_row,
                cluster_trace,
                group_trace,
            } => {
                let mut out = Vec::new();
                for c in 0..cluster_row.len() {
                    if masks[k] & (1 << c.min(63)) == 0 {
                        continue;
                    }
                    let start = cluster_row[c] as usize;
                    let end = cluster_row
                        .get(c + 1)
                        .map_or(self.meta.rows as usize, |r| *r as usize);
                    let first = cluster_trace[c];
                    if let Some(r) =
                        self.rows_in_cluster(k as u32, start..end, first, group_trace)?
                    {
                        out.push(r);
                    }
                }
                Ok(out)
            }
        }
    }

    /// The rows of trace ordinal `k` among cluster rows `rows` (ordered by ordinal; the first
    /// has ordinal `first`).
    fn rows_in_cluster(
        &self,
        k: u32,
        rows: std::ops::Range<usize>,
        first: u32,
        group_trace: &[u32],
    ) -> Result<Option<std::ops::Range<u32>>> {
        if k < first || rows.is_empty() {
            return Ok(None);
        }
        let gr = self.group_rows();
        let (g0, g1) = (rows.start / gr, (rows.end - 1) / gr);
        // The cluster's part of group g0 starts with `first`, of every later group with that
        // group's first ordinal: start in the last part starting below `k` (a run of `k` may
        // begin at its end).
        let later = group_trace.get(g0 + 1..=g1).unwrap_or_default();
        let mut g = g0 + later.partition_point(|t| *t < k);
        let (mut start, mut end) = (None, 0usize);
        loop {
            let ords = self.hot.u64s(&format!("trace@{g}"), self.group_len(g))?;
            let base = g * gr;
            let (lo_row, hi_row) = (rows.start.max(base), rows.end.min(base + ords.len()));
            let part = &ords[lo_row - base..hi_row - base];
            let lo = part.partition_point(|t| *t < u64::from(k));
            let hi = part.partition_point(|t| *t <= u64::from(k));
            if lo < hi {
                start.get_or_insert(lo_row + lo);
                end = lo_row + hi;
            }
            if hi == part.len() && g < g1 {
                g += 1;
            } else {
                break;
            }
        }
        Ok(start.map(|s| s as u32..end as u32))
    }

    /// The partition's sequence number, from its directory name `<window>_<seq>`.
    pub(crate) fn seq(&self) -> Option<u64> {
        self.dir
            .file_name()?
            .to_str()?
            .rsplit('_')
            .next()?
            .parse()
            .ok()
    }

    /// Trace id of row `i` of `hot`.
    pub(crate) fn trace_id(&self, hot: &Hot, i: usize) -> [u8; 16] {
        self.trace_ids[hot.trace_of_row[i] as usize]
    }

    pub(crate) fn trace_count(&self) -> usize {
        self.trace_ids.len()
    }

    /// Row groups holding a row whose dimension `name` equals `value` (the label index; in
    /// version 2 partitions its postings are rows).
    pub(crate) fn group_postings(&self, name: &str, value: &str) -> Result<RoaringBitmap> {
        let b = self.index.postings(name, value)?;
        if self.meta.version >= 3 {
            return Ok(b);
        }
        let gr = self.group_rows() as u32;
        let mut groups: Vec<u32> = b.iter().map(|r| r / gr).collect();
        groups.dedup();
        Ok(groups.into_iter().collect())
    }

    /// Number of row groups.
    pub(crate) fn groups(&self) -> usize {
        (self.meta.rows as usize).div_ceil(self.group_rows())
    }

    pub(crate) fn group_rows(&self) -> usize {
        self.meta.group_rows.max(1) as usize
    }

    fn group_len(&self, g: usize) -> usize {
        let gr = self.group_rows();
        (self.meta.rows as usize - g * gr).min(gr)
    }

    /// The hot columns of row groups `groups`, decoded (rows from `groups.start` times the
    /// group size).
    pub(crate) fn read_hot(&self, groups: std::ops::Range<usize>) -> Result<Hot> {
        let f = &self.hot;
        let base = groups.start * self.group_rows();
        let end = (groups.end * self.group_rows()).min(self.meta.rows as usize);
        let mut hot = Hot {
            base,
            ..Hot::default()
        };
        if base >= end {
            return Ok(hot);
        }
        match &self.layout {
            Layout::ByTrace { first_rows } => {
                let mut k = first_rows.partition_point(|r| (*r as usize) <= base) - 1;
                for row in base..end {
                    while first_rows.get(k + 1).is_some_and(|r| *r as usize <= row) {
                        k += 1;
                    }
                    hot.trace_of_row.push(k as u32);
                }
            }
            Layout::Clustered { .. } => {
                for g in groups.clone() {
                    let name = format!("trace@{g}");
                    for t in f.u64s(&name, self.group_len(g))? {
                        if t >= self.trace_ids.len() as u64 {
                            return Err(Error::corrupt(
                                f.path(),
                                format!("{name}: trace ordinal {t} past the trace index"),
                            ));
                        }
                        hot.trace_of_row.push(t as u32);
                    }
                }
            }
        }
        for g in groups {
            let n = self.group_len(g);
            let h = &mut hot;
            let name = |c: &str| format!("{c}@{g}");
            let first = h.span_id.len();
            f.decode_into(&name("span_id"), n, &mut h.span_id, column::decode_u64)?;
            self.parents(f, g, &h.span_id[first..], n, &mut h.parent)?;
            f.dict_into(&name("name"), n, &mut h.name, column::decode_str)?;
            f.decode_into(&name("kind"), n, &mut h.kind, column::decode_i64)?;
            f.decode_into(&name("start_ns"), n, &mut h.start_ns, column::decode_i64)?;
            f.decode_into(
                &name("duration_ns"),
                n,
                &mut h.duration_ns,
                column::decode_i64,
            )?;
            f.decode_into(&name("status_code"), n, &mut h.status, column::decode_i64)?;
            f.dict_into(
                &name("status_message"),
                n,
                &mut h.status_message,
                column::decode_str,
            )?;
            f.dict_into(&name("service"), n, &mut h.service, column::decode_str)?;
            f.dict_into(&name("provider"), n, &mut h.provider, column::decode_str)?;
            f.dict_into(
                &name("request_model"),
                n,
                &mut h.request_model,
                column::decode_str,
            )?;
            f.dict_into(
                &name("response_model"),
                n,
                &mut h.response_model,
                column::decode_str,
            )?;
            f.dict_into(&name("operation"), n, &mut h.operation, column::decode_str)?;
            f.dict_into(
                &name("finish_reasons"),
                n,
                &mut h.finish_reasons,
                column::decode_str,
            )?;
            f.dict_into(&name("agent_name"), n, &mut h.agent, column::decode_str)?;
            f.dict_into(&name("tool_name"), n, &mut h.tool, column::decode_str)?;
            f.dict_into(
                &name("error_type"),
                n,
                &mut h.error_type,
                column::decode_str,
            )?;
            f.decode_into(
                &name("input_tokens"),
                n,
                &mut h.input_tokens,
                column::decode_i64,
            )?;
            f.decode_into(
                &name("output_tokens"),
                n,
                &mut h.output_tokens,
                column::decode_i64,
            )?;
            f.decode_into(
                &name("cache_read_tokens"),
                n,
                &mut h.cache_read_tokens,
                column::decode_i64,
            )?;
            f.decode_into(&name("streaming"), n, &mut h.streaming, column::decode_i64)?;
            f.decode_into(&name("ttft_ns"), n, &mut h.ttft_ns, column::decode_i64)?;
            if self.meta.version == 2 {
                f.decode_into(&name("cost_usd"), n, &mut h.cost, column::decode_f64)?;
            } else {
                self.costs(f, g, n, h)?;
            }
        }
        Ok(hot)
    }

    /// Decodes group `g`'s costs (version 3: price references) after its token columns.
    fn costs(&self, f: &ColFile, g: usize, n: usize, h: &mut Hot) -> Result<()> {
        let refs = f.u64s(&format!("cost_ref@{g}"), n)?;
        let raws = f.f64s(
            &format!("cost_raw@{g}"),
            refs.iter().filter(|r| **r == COST_RAW).count(),
        )?;
        let prices = f.f64s(&format!("prices@{g}"), f.count(&format!("prices@{g}"))?)?;
        let bad = |d: String| Error::corrupt(f.path(), format!("group {g}: {d}"));
        if prices.len() % 3 != 0 {
            return Err(bad(format!("{} price values", prices.len())));
        }
        let first = h.cost.len();
        let tokens = h.input_tokens.len() - n;
        let mut raw = raws.iter();
        for (i, r) in refs.into_iter().enumerate() {
            let cost = match r {
                COST_UNKNOWN => f64::NAN,
                COST_RAW => *raw.next().expect("counted"),
                k => {
                    let k = (k - COST_PRICE) as usize;
                    let at = k.saturating_mul(3);
                    let p = prices.get(at..at.saturating_add(3)).ok_or_else(|| {
                        bad(format!("price {k} past the {} prices", prices.len() / 3))
                    })?;
                    let price = ModelPrice {
                        input_per_mtok: p[0],
                        cached_input_per_mtok: Some(p[1]),
                        output_per_mtok: p[2],
                    };
                    let j = tokens + i;
                    let g = GenAi {
                        input_tokens: from_opt(h.input_tokens[j]),
                        output_tokens: from_opt(h.output_tokens[j]),
                        cache_read_tokens: from_opt(h.cache_read_tokens[j]),
                        ..GenAi::default()
                    };
                    price.cost(&g).unwrap_or(f64::NAN)
                }
            };
            h.cost.push(cost);
        }
        debug_assert_eq!(h.cost.len(), first + n);
        Ok(())
    }

    /// Row `i` of `hot` as a span (attributes not loaded) and its GenAI columns.
    pub(crate) fn row(&self, hot: &Hot, row: usize) -> Result<(Span, GenAi)> {
        let bad = |d: &str| Error::corrupt(self.dir.join(HOT_FILE), format!("row {row}: {d}"));
        let i = row - hot.base;
        let span_id = hot.span_id[i].to_be_bytes();
        let parent_span_id = hot.parent[i];
        let kind = u8::try_from(hot.kind[i]).map_err(|_| bad("kind out of range"))?;
        let status = u8::try_from(hot.status[i]).map_err(|_| bad("status out of range"))?;
        let span = Span {
            trace_id: self.trace_ids[hot.trace_of_row[i] as usize],
            span_id,
            parent_span_id,
            name: hot.name[i].clone(),
            kind,
            start_ns: hot.start_ns[i],
            end_ns: hot.start_ns[i].wrapping_add(hot.duration_ns[i]),
            status_code: StatusCode::from_u8(status),
            status_message: hot.status_message[i].clone(),
            ..Span::default()
        };
        let genai = GenAi {
            service: hot.service[i].clone(),
            provider: hot.provider[i].clone(),
            request_model: hot.request_model[i].clone(),
            response_model: hot.response_model[i].clone(),
            operation: hot.operation[i].clone(),
            input_tokens: from_opt(hot.input_tokens[i]),
            output_tokens: from_opt(hot.output_tokens[i]),
            cache_read_tokens: from_opt(hot.cache_read_tokens[i]),
            finish_reasons: hot.finish_reasons[i].clone(),
            agent_name: hot.agent[i].clone(),
            tool_name: hot.tool[i].clone(),
            error_type: hot.error_type[i].clone(),
            streaming: match hot.streaming[i] {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            },
            ttft_ns: (hot.ttft_ns[i] >= 0).then_some(hot.ttft_ns[i]),
            cost_usd: (!hot.cost[i].is_nan()).then_some(hot.cost[i]),
        };
        Ok((span, genai))
    }

    fn parents(
        &self,
        f: &ColFile,
        g: usize,
        span_id: &[u64],
        n: usize,
        out: &mut Vec<Option<[u8; 8]>>,
    ) -> Result<()> {
        let refs = f.i64s(&format!("parent_ref@{g}"), n)?;
        let count = |code: i64| refs.iter().filter(|r| **r == code).count();
        let raws = f.u64s(&format!("parent_raw@{g}"), count(PARENT_RAW))?;
        let v3 = self.meta.version >= 3;
        let rows = if v3 {
            f.u64s(&format!("parent_row@{g}"), count(PARENT_ROW))?
        } else {
            Vec::new()
        };
        let bad =
            |i: usize, d: &str| Error::corrupt(self.dir.join(HOT_FILE), format!("row {i}: {d}"));
        let (mut raw, mut row) = (raws.iter(), rows.iter());
        // Span ids of other groups that parents point into, decoded once each.
        let mut other: HashMap<usize, Vec<u64>> = HashMap::new();
        let gr = self.group_rows();
        for (i, r) in refs.iter().enumerate() {
            out.push(match *r {
                PARENT_NONE => None,
                PARENT_RAW => Some(raw.next().expect("counted").to_be_bytes()),
                PARENT_ROW if v3 => {
                    let j = *row.next().expect("counted") as usize;
                    if j >= self.meta.rows as usize {
                        return Err(bad(i, "parent row past the partition"));
                    }
                    let (pg, at) = (j / gr, j % gr);
                    if pg == g {
                        Some(span_id[at].to_be_bytes())
                    } else {
                        let ids = match other.entry(pg) {
                            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                            std::collections::hash_map::Entry::Vacant(e) => {
                                e.insert(f.u64s(&format!("span_id@{pg}"), self.group_len(pg))?)
                            }
                        };
                        Some(ids[at].to_be_bytes())
                    }
                }
                r => {
                    let d = decode_ref(r, self.meta.version);
                    let j = (i as i64)
                        .checked_sub(d)
                        .filter(|j| (0..n as i64).contains(j))
                        .ok_or_else(|| bad(i, "parent row reference out of range"))?;
                    Some(span_id[j as usize].to_be_bytes())
                }
            });
        }
        Ok(())
    }

    /// The cold columns (resource, scope, attributes, events, links) of row group `g`.
    /// `rows` (group-relative), when given, are the only rows the caller will fill: value
    /// columns of attribute keys none of them has are not decoded.
    pub(crate) fn read_cold(&self, g: usize, rows: Option<&[usize]>) -> Result<Cold> {
        let path = self.dir.join(COLD_FILE);
        let f = &self.cold;
        let n = self.group_len(g);
        let name = |c: &str| format!("{c}@{g}");
        let bad = |d: String| Error::corrupt(&path, d);
        let resource = f.dict(&name("resource"), n, column::decode_bytes)?;
        let scope = f.dict(&name("scope"), n, column::decode_str)?;
        let shape = f.dict(&name("shape"), n, column::decode_bytes)?;
        let links = f.dict(&name("links"), n, column::decode_bytes)?;
        let ev_count = f.u64s(&name("ev_count"), n)?;
        let mut ev_first = Vec::with_capacity(n + 1);
        let mut total = 0usize;
        for c in &ev_count {
            ev_first.push(total);
            total = usize::try_from(*c)
                .ok()
                .and_then(|c| total.checked_add(c))
                .filter(|t| *t <= u32::MAX as usize)
                .ok_or_else(|| bad("event counts overflow".into()))?;
        }
        ev_first.push(total);
        // Event columns are decoded only when a row asked for has events.
        let need_events =
            rows.is_none_or(|rs| rs.iter().any(|&r| ev_count.get(r).is_some_and(|c| *c > 0)));
        let (mut ev_time, mut ev_name, mut ev_attrs) = Default::default();
        if need_events {
            let with = ev_count.iter().filter(|c| **c > 0).count();
            let firsts = f.i64s(&name("ev_time0"), with)?;
            let rest = f.i64s(&name("ev_time"), total - with)?;
            let (mut firsts, mut rest) = (firsts.into_iter(), rest.into_iter());
            let mut times = Vec::with_capacity(total);
            for c in &ev_count {
                for k in 0..*c {
                    times.push(if k == 0 { firsts.next() } else { rest.next() }.expect("counted"));
                }
            }
            ev_time = times;
            ev_name = f.dict(&name("ev_name"), total, column::decode_str)?;
            ev_attrs = f.dict(&name("ev_attrs"), total, column::decode_bytes)?;
        }
        let nkeys = f.count(&name("keys"))?;
        let keys = f.strs(&name("keys"), nkeys)?;
        let types = f.u64s(&name("types"), nkeys)?;
        let mut counts = vec![0usize; nkeys];
        let mut distinct = Vec::with_capacity(shape.dict.len());
        for (i, sh) in shape.dict.iter().enumerate() {
            let ids = decode_shape(sh).ok_or_else(|| bad(format!("shape {i} is bad")))?;
            if let Some(k) = ids.iter().find(|k| **k as usize >= nkeys) {
                return Err(bad(format!("shape {i}: attribute key {k} out of range")));
            }
            distinct.push(ids);
        }
        for &id in &shape.ids {
            for &k in &distinct[id as usize] {
                counts[k as usize] += 1;
            }
        }
        let shapes = Dict {
            dict: distinct,
            ids: shape.ids,
        };
        let mut needed = vec![rows.is_none(); nkeys];
        for &r in rows.unwrap_or_default() {
            if let Some(&id) = shapes.ids.get(r) {
                for &k in &shapes.dict[id as usize] {
                    needed[k as usize] = true;
                }
            }
        }
        let mut vals = Vec::with_capacity(nkeys);
        for (j, t) in types.iter().enumerate() {
            let name = name(&format!("v{j}"));
            let m = counts[j];
            if !needed[j] {
                vals.push(Vals::Skipped);
                continue;
            }
            vals.push(match t {
                0 => Vals::Str(f.dict(&name, m, column::decode_str)?),
                1 => Vals::Int(f.i64s(&name, m)?),
                2 => Vals::F64(f.f64s(&name, m)?),
                3 => Vals::Bool(f.bools(&name, m)?),
                4 => Vals::Any(f.bytes(&name, m)?),
                t => match HotField::from_type(*t) {
                    Some(h) => Vals::Hot(h),
                    None => return Err(bad(format!("key {j}: unknown value type {t}"))),
                },
            });
        }
        Ok(Cold {
            path,
            resource,
            scope,
            shapes,
            links,
            ev_first,
            ev_time,
            ev_name,
            ev_attrs,
            keys,
            vals,
        })
    }

    /// Content of `(trace, span)` stored in this partition.
    pub(crate) fn content(&self, trace: &[u8; 16]) -> Result<Vec<([u8; 8], Vec<KeyValue>)>> {
        let Some(f) = &self.content else {
            return Ok(Vec::new());
        };
        let path = self.dir.join(CONTENT_FILE);
        // Groups whose first trace id is at most `trace`, back to the first one that starts
        // before it (a trace's content may straddle groups).
        let firsts = &self.content_firsts;
        let end = firsts.partition_point(|f| f <= trace);
        let start = firsts[..end].iter().rposition(|f| f < trace).unwrap_or(0);
        if end == 0 {
            return Ok(Vec::new());
        }
        let groups = start..end;
        let mut out = Vec::new();
        for g in groups {
            let len = f.count(&format!("trace_id@{g}"))?;
            let t = f.bytes(&format!("trace_id@{g}"), len)?;
            let lo = t.partition_point(|x| x.as_slice() < &trace[..]);
            let hi = t.partition_point(|x| x.as_slice() <= &trace[..]);
            if lo == hi {
                continue;
            }
            let s = f.bytes(&format!("span_id@{g}"), len)?;
            let b = f.bytes(&format!("content@{g}"), len)?;
            for k in lo..hi {
                let sid: [u8; 8] = s[k]
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::corrupt(&path, "span id not 8 bytes"))?;
                let kvs = codec::read_kvs_blob(&b[k])
                    .map_err(|e| Error::corrupt(&path, e.to_string()))?;
                out.push((sid, kvs));
            }
        }
        Ok(out)
    }
}

/// The hot columns of one row group. Parents are references to a row of the same trace in
/// the group where there is one, else raw.
/// Where a row group sits in its partition: its first row, its rows' trace ordinals, and
/// the row of every (trace, span) in the partition.
struct Placement<'a> {
    first_row: usize,
    ordinal: &'a [u64],
    row_of: &'a std::collections::HashMap<([u8; 16], [u8; 8]), usize>,
}

fn hot_columns(
    rows: &[&Row],
    place: &Placement<'_>,
    prices: &PriceTable,
    opts: &ColumnOptions,
) -> Result<Vec<(String, Vec<u8>)>> {
    let c = |r: strata_codec::Result<Vec<u8>>| r.map_err(Error::Codec);
    let mut dicts = Vec::new();
    let mut strs = |name: &str, f: &dyn Fn(&Row) -> &str| -> Result<Vec<u8>> {
        let v: Vec<&str> = rows.iter().map(|r| f(r)).collect();
        dicts.extend(dict_str_cols(name, &v, opts)?);
        Ok(Vec::new())
    };
    let ints = |f: &dyn Fn(&Row) -> i64| -> Result<Vec<u8>> {
        let v: Vec<i64> = rows.iter().map(|r| f(r)).collect();
        c(pick(opts, |o| column::encode_i64(&v, o)))
    };
    let span_ids: Vec<u64> = rows
        .iter()
        .map(|r| u64::from_be_bytes(r.span.span_id))
        .collect();
    // Parents: a distance within the group, else a row of the partition, else raw.
    let mut parent_ref: Vec<i64> = Vec::with_capacity(rows.len());
    let mut parent_row: Vec<u64> = Vec::new();
    let mut parent_raw: Vec<u64> = Vec::new();
    let group = place.first_row..place.first_row + rows.len();
    for (i, r) in rows.iter().enumerate() {
        let Some(p) = &r.span.parent_span_id else {
            parent_ref.push(PARENT_NONE);
            continue;
        };
        let me = place.first_row + i;
        match place.row_of.get(&(r.span.trace_id, *p)) {
            Some(&j) if j != me && group.contains(&j) => {
                parent_ref.push(encode_ref(me as i64 - j as i64))
            }
            Some(&j) if j != me => {
                parent_ref.push(PARENT_ROW);
                parent_row.push(j as u64);
            }
            _ => {
                parent_ref.push(PARENT_RAW);
                parent_raw.push(u64::from_be_bytes(*p));
            }
        }
    }
    // Costs as references to the price they were computed from (recomputed exactly on
    // read), or raw when the price table no longer gives the cost recorded at ingest.
    let mut cost_ref: Vec<u64> = Vec::with_capacity(rows.len());
    let mut cost_raw: Vec<f64> = Vec::new();
    let mut price_list: Vec<[f64; 3]> = Vec::new();
    for r in rows {
        let Some(cost) = r.genai.cost_usd else {
            cost_ref.push(COST_UNKNOWN);
            continue;
        };
        let p = prices
            .price_of(&r.genai)
            .filter(|p| p.cost(&r.genai).map(f64::to_bits) == Some(cost.to_bits()));
        match p {
            Some(p) => {
                let key = [
                    p.input_per_mtok,
                    p.cached_input_per_mtok.unwrap_or(p.input_per_mtok),
                    p.output_per_mtok,
                ];
                let k = match price_list
                    .iter()
                    .position(|q| q.map(f64::to_bits) == key.map(f64::to_bits))
                {
                    Some(k) => k,
                    None => {
                        price_list.push(key);
                        price_list.len() - 1
                    }
                };
                cost_ref.push(COST_PRICE + k as u64);
            }
            None => {
                cost_ref.push(COST_RAW);
                cost_raw.push(cost);
            }
        }
    }
    let prices_flat: Vec<f64> = price_list.iter().flatten().copied().collect();
    let cols = vec![
        (
            "span_id",
            c(pick(opts, |o| column::encode_u64(&span_ids, o)))?,
        ),
        (
            "parent_ref",
            c(pick(opts, |o| column::encode_i64(&parent_ref, o)))?,
        ),
        (
            "parent_raw",
            c(pick(opts, |o| column::encode_u64(&parent_raw, o)))?,
        ),
        (
            "parent_row",
            c(pick(opts, |o| column::encode_u64(&parent_row, o)))?,
        ),
        (
            "trace",
            c(pick(opts, |o| column::encode_u64(place.ordinal, o)))?,
        ),
        ("name", strs("name", &|r| &r.span.name)?),
        ("kind", ints(&|r| i64::from(r.span.kind))?),
        ("start_ns", ints(&|r| r.span.start_ns)?),
        (
            "duration_ns",
            ints(&|r| r.span.end_ns.wrapping_sub(r.span.start_ns))?,
        ),
        (
            "status_code",
            ints(&|r| i64::from(r.span.status_code.as_u8()))?,
        ),
        (
            "status_message",
            strs("status_message", &|r| &r.span.status_message)?,
        ),
        ("service", strs("service", &|r| &r.genai.service)?),
        ("provider", strs("provider", &|r| &r.genai.provider)?),
        (
            "request_model",
            strs("request_model", &|r| &r.genai.request_model)?,
        ),
        (
            "response_model",
            strs("response_model", &|r| &r.genai.response_model)?,
        ),
        ("operation", strs("operation", &|r| &r.genai.operation)?),
        (
            "finish_reasons",
            strs("finish_reasons", &|r| &r.genai.finish_reasons)?,
        ),
        ("agent_name", strs("agent_name", &|r| &r.genai.agent_name)?),
        ("tool_name", strs("tool_name", &|r| &r.genai.tool_name)?),
        ("error_type", strs("error_type", &|r| &r.genai.error_type)?),
        ("input_tokens", ints(&|r| opt_u64(r.genai.input_tokens))?),
        ("output_tokens", ints(&|r| opt_u64(r.genai.output_tokens))?),
        (
            "cache_read_tokens",
            ints(&|r| opt_u64(r.genai.cache_read_tokens))?,
        ),
        (
            "streaming",
            ints(&|r| r.genai.streaming.map_or(-1, i64::from))?,
        ),
        ("ttft_ns", ints(&|r| r.genai.ttft_ns.unwrap_or(-1))?),
        (
            "cost_ref",
            c(pick(opts, |o| column::encode_u64(&cost_ref, o)))?,
        ),
        (
            "cost_raw",
            c(pick(opts, |o| column::encode_f64(&cost_raw, o)))?,
        ),
        (
            "prices",
            c(pick(opts, |o| column::encode_f64(&prices_flat, o)))?,
        ),
    ];
    let mut out: Vec<(String, Vec<u8>)> = cols
        .into_iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(n, b)| (n.to_owned(), b))
        .collect();
    out.extend(dicts);
    Ok(out)
}

/// A dictionary-coded column: distinct values in first-appearance order, one id per row.
#[derive(Debug, Default)]
pub(crate) struct Dict<T> {
    pub dict: Vec<T>,
    pub ids: Vec<u32>,
}

impl<T> std::ops::Index<usize> for Dict<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.dict[self.ids[i] as usize]
    }
}

/// Distinct values of `values` (indexes of first appearance) and one id per value.
fn dict_of<T: AsRef<[u8]>>(values: &[T]) -> (Vec<usize>, Vec<u64>) {
    let mut seen: std::collections::HashMap<&[u8], u64> = std::collections::HashMap::new();
    let mut first = Vec::new();
    let mut prev: Option<(&[u8], u64)> = None;
    let ids = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = v.as_ref();
            // Rows are clustered: most values repeat the previous row's.
            if let Some((p, id)) = prev
                && p == v
            {
                return id;
            }
            let id = *seen.entry(v).or_insert_with(|| {
                first.push(i);
                (first.len() - 1) as u64
            });
            prev = Some((v, id));
            id
        })
        .collect();
    (first, ids)
}

/// Columns `<name>.d` (distinct strings) and `<name>.i` (ids) for `values`.
pub(super) fn dict_str_cols(
    name: &str,
    values: &[&str],
    opts: &ColumnOptions,
) -> Result<[(String, Vec<u8>); 2]> {
    let (first, ids) = dict_of(values);
    let d: Vec<&str> = first.iter().map(|&i| values[i]).collect();
    Ok([
        (
            format!("{name}.d"),
            pick(opts, |o| column::encode_str(&d, o))?,
        ),
        (
            format!("{name}.i"),
            pick(opts, |o| column::encode_u64(&ids, o))?,
        ),
    ])
}

/// Columns `<name>.d` (distinct byte strings) and `<name>.i` (ids) for `values`.
fn dict_bytes_cols<T: AsRef<[u8]>>(
    name: &str,
    values: &[T],
    opts: &ColumnOptions,
) -> Result<[(String, Vec<u8>); 2]> {
    let (first, ids) = dict_of(values);
    let d: Vec<&[u8]> = first.iter().map(|&i| values[i].as_ref()).collect();
    Ok([
        (
            format!("{name}.d"),
            pick(opts, |o| column::encode_bytes(&d, o))?,
        ),
        (
            format!("{name}.i"),
            pick(opts, |o| column::encode_u64(&ids, o))?,
        ),
    ])
}

/// Encodes with `encode`, without zstd when the plain encoding is small: below
/// [`ZSTD_MIN_BYTES`] zstd saves little and costs a decompression context per read.
pub(super) fn pick(
    opts: &ColumnOptions,
    encode: impl Fn(&ColumnOptions) -> strata_codec::Result<Vec<u8>>,
) -> strata_codec::Result<Vec<u8>> {
    let plain = encode(&ColumnOptions {
        zstd: column::ZstdMode::Never,
        ..*opts
    })?;
    if plain.len() < ZSTD_MIN_BYTES {
        Ok(plain)
    } else {
        encode(opts)
    }
}

const ZSTD_MIN_BYTES: usize = 256;

/// Parent references (`parent_ref`): 0 no parent, 1 raw (next `parent_raw`), 2 a row of
/// the partition (next `parent_row`), else the distance `d` (nonzero) back to the parent's
/// row in the group, stored as `d + 2` when positive and `d` when negative. Version 2: no
/// 2, and positive distances stored as `d + 1`.
const PARENT_NONE: i64 = 0;
const PARENT_RAW: i64 = 1;
const PARENT_ROW: i64 = 2;

fn encode_ref(d: i64) -> i64 {
    if d > 0 { d + 2 } else { d }
}

fn decode_ref(r: i64, version: u32) -> i64 {
    match (version, r) {
        (2, r) if r > 1 => r - 1,
        (_, r) if r > 2 => r - 2,
        (_, r) => r,
    }
}

fn put_shape(out: &mut Vec<u8>, ids: &[u32]) {
    for &k in ids {
        strata_codec::bytes::put_uvarint(out, u64::from(k));
    }
}

fn decode_shape(b: &[u8]) -> Option<Vec<u32>> {
    let mut r = strata_codec::bytes::ByteReader::new(b, "attribute shape");
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(u32::try_from(r.uvarint().ok()?).ok()?);
    }
    Some(out)
}

/// The cold columns of a partition: resource (one blob per row, dictionary coded), scope, the
/// attribute keys each row has in order (`shape`), a dictionary of keys with their value
/// type, one typed value column per key over the rows that have it, and events plus links.
fn cold_columns(rows: &[&Row], opts: &ColumnOptions) -> Result<Vec<(String, Vec<u8>)>> {
    let c = |r: strata_codec::Result<Vec<u8>>| r.map_err(Error::Codec);
    let mut key_ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let mut keys: Vec<&str> = Vec::new();
    let mut per_key: Vec<Vec<&AttrValue>> = Vec::new();
    let mut key_rows: Vec<Vec<usize>> = Vec::new();
    let mut shapes: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
    let mut ids: Vec<u32> = Vec::new();
    let mut prev_ids: Vec<u32> = Vec::new();
    for (row, r) in rows.iter().enumerate() {
        std::mem::swap(&mut ids, &mut prev_ids);
        ids.clear();
        for (n, kv) in r.span.attributes.iter().enumerate() {
            // Rows are clustered: most have the previous row's keys in the same order.
            let id = match prev_ids.get(n) {
                Some(&k) if keys[k as usize] == kv.key => k,
                _ => *key_ids.entry(kv.key.as_str()).or_insert_with(|| {
                    keys.push(kv.key.as_str());
                    per_key.push(Vec::new());
                    key_rows.push(Vec::new());
                    (keys.len() - 1) as u32
                }),
            };
            per_key[id as usize].push(&kv.value);
            key_rows[id as usize].push(row);
            ids.push(id);
        }
        let mut sh = Vec::with_capacity(ids.len() * 2);
        put_shape(&mut sh, &ids);
        shapes.push(sh);
    }
    // Rows of a process share one resource: encode it once per run of equal resources.
    let mut resource: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let blob = match i.checked_sub(1) {
            Some(p) if rows[p].span.resource == r.span.resource => resource[p].clone(),
            _ => codec::kvs_blob(&r.span.resource),
        };
        resource.push(blob);
    }
    let scope: Vec<&str> = rows.iter().map(|r| r.span.scope.as_str()).collect();
    let links: Vec<Vec<u8>> = rows.iter().map(|r| codec::links_blob(&r.span)).collect();
    // Events: a count per row, then per event (rows in order) its time as a distance from
    // the previous event of the span (the first: from the span start, in its own column), name
    // and attributes.
    let ev_count: Vec<u64> = rows.iter().map(|r| r.span.events.len() as u64).collect();
    let mut ev_time0: Vec<i64> = Vec::new();
    let mut ev_time: Vec<i64> = Vec::new();
    let mut ev_name: Vec<&str> = Vec::new();
    let mut ev_attrs: Vec<Vec<u8>> = Vec::new();
    for r in rows {
        let mut prev = r.span.start_ns;
        for (k, e) in r.span.events.iter().enumerate() {
            let d = e.time_ns.wrapping_sub(prev);
            if k == 0 {
                ev_time0.push(d);
            } else {
                ev_time.push(d);
            }
            prev = e.time_ns;
            ev_name.push(&e.name);
            ev_attrs.push(if e.attributes.is_empty() {
                Vec::new()
            } else {
                codec::kvs_blob(&e.attributes)
            });
        }
    }
    let mut types: Vec<u64> = Vec::with_capacity(keys.len());
    let mut vcols: Vec<(String, Vec<u8>)> = Vec::with_capacity(keys.len());
    for (j, vs) in per_key.iter().enumerate() {
        // A key whose every value repeats a GenAI column is stored as a reference to it.
        if let Some(h) = HotField::ALL.iter().find(|h| {
            vs.iter()
                .zip(&key_rows[j])
                .all(|(v, &row)| h.gives(&rows[row].genai, v))
        }) {
            types.push(*h as u64);
            continue;
        }
        let all = |f: fn(&AttrValue) -> bool| vs.iter().all(|v| f(v));
        let (t, bytes) = if all(|v| matches!(v, AttrValue::Str(_))) {
            let v: Vec<&str> = vs
                .iter()
                .map(|v| match v {
                    AttrValue::Str(s) => s.as_str(),
                    _ => unreachable!(),
                })
                .collect();
            let [d, i] = dict_str_cols(&format!("v{j}"), &v, opts)?;
            vcols.push(d);
            vcols.push(i);
            types.push(0);
            continue;
        } else if all(|v| matches!(v, AttrValue::Int(_))) {
            let v: Vec<i64> = vs
                .iter()
                .map(|v| if let AttrValue::Int(i) = v { *i } else { 0 })
                .collect();
            (1, c(pick(opts, |o| column::encode_i64(&v, o)))?)
        } else if all(|v| matches!(v, AttrValue::Double(_))) {
            let v: Vec<f64> = vs
                .iter()
                .map(|v| {
                    if let AttrValue::Double(d) = v {
                        *d
                    } else {
                        0.0
                    }
                })
                .collect();
            (2, c(pick(opts, |o| column::encode_f64(&v, o)))?)
        } else if all(|v| matches!(v, AttrValue::Bool(_))) {
            let v: Vec<bool> = vs
                .iter()
                .map(|v| matches!(v, AttrValue::Bool(true)))
                .collect();
            (3, c(pick(opts, |o| column::encode_bool(&v, o)))?)
        } else {
            let v: Vec<Vec<u8>> = vs.iter().map(|v| codec::value_blob(v)).collect();
            (4, c(pick(opts, |o| column::encode_bytes(&v, o)))?)
        };
        types.push(t);
        vcols.push((format!("v{j}"), bytes));
    }
    let mut out = vec![
        (
            "ev_count".to_owned(),
            c(pick(opts, |o| column::encode_u64(&ev_count, o)))?,
        ),
        (
            "ev_time0".to_owned(),
            c(pick(opts, |o| column::encode_i64(&ev_time0, o)))?,
        ),
        (
            "ev_time".to_owned(),
            c(pick(opts, |o| column::encode_i64(&ev_time, o)))?,
        ),
        (
            "keys".to_owned(),
            c(pick(opts, |o| column::encode_str(&keys, o)))?,
        ),
        (
            "types".to_owned(),
            c(pick(opts, |o| column::encode_u64(&types, o)))?,
        ),
    ];
    out.extend(dict_bytes_cols("resource", &resource, opts)?);
    out.extend(dict_str_cols("scope", &scope, opts)?);
    out.extend(dict_bytes_cols("shape", &shapes, opts)?);
    out.extend(dict_bytes_cols("links", &links, opts)?);
    out.extend(dict_str_cols("ev_name", &ev_name, opts)?);
    out.extend(dict_bytes_cols("ev_attrs", &ev_attrs, opts)?);
    out.extend(vcols);
    Ok(out)
}

/// Attribute value types (`types` column) 5 and up: every value of the key equals a GenAI
/// column of its row, which supplies it on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HotField {
    InputTokens = 5,
    OutputTokens = 6,
    CacheReadTokens = 7,
    RequestModel = 8,
    ResponseModel = 9,
    Provider = 10,
    Operation = 11,
    AgentName = 12,
    ToolName = 13,
    ErrorType = 14,
}

impl HotField {
    const ALL: [HotField; 10] = [
        HotField::InputTokens,
        HotField::OutputTokens,
        HotField::CacheReadTokens,
        HotField::RequestModel,
        HotField::ResponseModel,
        HotField::Provider,
        HotField::Operation,
        HotField::AgentName,
        HotField::ToolName,
        HotField::ErrorType,
    ];

    fn from_type(t: u64) -> Option<HotField> {
        HotField::ALL.into_iter().find(|h| *h as u64 == t)
    }

    /// The value this field gives a row, borrowed (`None` when the row has none).
    fn get(self, g: &GenAi) -> Option<HotValue<'_>> {
        let int = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok()).map(HotValue::Int);
        fn text(s: &str) -> Option<HotValue<'_>> {
            (!s.is_empty()).then_some(HotValue::Str(s))
        }
        match self {
            HotField::InputTokens => int(g.input_tokens),
            HotField::OutputTokens => int(g.output_tokens),
            HotField::CacheReadTokens => int(g.cache_read_tokens),
            HotField::RequestModel => text(&g.request_model),
            HotField::ResponseModel => text(&g.response_model),
            HotField::Provider => text(&g.provider),
            HotField::Operation => text(&g.operation),
            HotField::AgentName => text(&g.agent_name),
            HotField::ToolName => text(&g.tool_name),
            HotField::ErrorType => text(&g.error_type),
        }
    }

    /// The attribute value this field gives a row (`None` when the row has none).
    fn value(self, g: &GenAi) -> Option<AttrValue> {
        self.get(g).map(|v| match v {
            HotValue::Int(i) => AttrValue::Int(i),
            HotValue::Str(s) => AttrValue::Str(s.to_owned()),
        })
    }

    /// Whether attribute value `v` is what this field gives the row (no allocation: the
    /// writer asks this of every value of every key).
    fn gives(self, g: &GenAi, v: &AttrValue) -> bool {
        match (self.get(g), v) {
            (Some(HotValue::Int(i)), AttrValue::Int(x)) => i == *x,
            (Some(HotValue::Str(s)), AttrValue::Str(x)) => s == x,
            _ => false,
        }
    }
}

/// A [`HotField`]'s value for a row, borrowed from its GenAI columns.
#[derive(Debug, Clone, Copy)]
enum HotValue<'a> {
    Int(i64),
    Str(&'a str),
}

/// A value column of one attribute key.
#[derive(Debug)]
enum Vals {
    /// Not decoded: no row the reader asked for has this key.
    Skipped,
    /// Taken from the row's GenAI column.
    Hot(HotField),
    Str(Dict<String>),
    Int(Vec<i64>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    Any(Vec<Vec<u8>>),
}

/// The cold columns of a partition, decoded.
#[derive(Debug)]
pub(crate) struct Cold {
    path: PathBuf,
    resource: Dict<Vec<u8>>,
    scope: Dict<String>,
    shapes: Dict<Vec<u32>>,
    links: Dict<Vec<u8>>,
    /// First event of each row, and one past the last at the end.
    ev_first: Vec<usize>,
    ev_time: Vec<i64>,
    ev_name: Dict<String>,
    ev_attrs: Dict<Vec<u8>>,
    keys: Vec<String>,
    vals: Vec<Vals>,
}

impl Cold {
    /// Fills resource, scope, attributes, events and links of the spans of rows
    /// `first..first + spans.len()`.
    pub(crate) fn fill(
        &self,
        rows: &[usize],
        spans: &mut [&mut Span],
        genai: &[&GenAi],
    ) -> Result<()> {
        let bad = |e: strata_codec::Error| Error::corrupt(&self.path, e.to_string());
        if rows.len() != spans.len()
            || rows.windows(2).any(|w| w[0] >= w[1])
            || rows.last().is_some_and(|r| *r >= self.shapes.ids.len())
        {
            return Err(Error::InvalidArgument(format!(
                "{}: cold columns asked for rows out of order or range",
                self.path.display()
            )));
        }
        let mut cursor = vec![0usize; self.keys.len()];
        let mut next_row = 0usize;
        for (o, span) in spans.iter_mut().enumerate() {
            let i = rows[o];
            // Skip the value cursors over the rows before this one.
            for &id in &self.shapes.ids[next_row..i] {
                for &k in &self.shapes.dict[id as usize] {
                    cursor[k as usize] += 1;
                }
            }
            next_row = i + 1;
            span.resource = codec::read_kvs_blob(&self.resource[i]).map_err(bad)?;
            span.scope = self.scope[i].clone();
            let mut attrs = Vec::with_capacity(self.shapes[i].len());
            for &k in &self.shapes[i] {
                let k = k as usize;
                let at = cursor[k];
                cursor[k] += 1;
                let value = match &self.vals[k] {
                    Vals::Skipped => {
                        return Err(Error::InvalidArgument(format!(
                            "{}: row {i} read with attribute values not loaded",
                            self.path.display()
                        )));
                    }
                    Vals::Hot(h) => h.value(genai[o]).ok_or_else(|| {
                        Error::corrupt(
                            &self.path,
                            format!("row {i}: attribute {} refers to an absent column", k),
                        )
                    })?,
                    Vals::Str(v) => AttrValue::Str(v[at].clone()),
                    Vals::Int(v) => AttrValue::Int(v[at]),
                    Vals::F64(v) => AttrValue::Double(v[at]),
                    Vals::Bool(v) => AttrValue::Bool(v[at]),
                    Vals::Any(v) => codec::read_value_blob(&v[at]).map_err(bad)?,
                };
                attrs.push(KeyValue {
                    key: self.keys[k].clone(),
                    value,
                });
            }
            span.attributes = attrs;
            codec::read_links_blob(&self.links[i], span).map_err(bad)?;
            let evs = self.ev_first[i]..self.ev_first[i + 1];
            let mut prev = span.start_ns;
            span.events = Vec::with_capacity(evs.len());
            for e in evs {
                let time_ns = prev.wrapping_add(self.ev_time[e]);
                prev = time_ns;
                span.events.push(Event {
                    time_ns,
                    name: self.ev_name[e].clone(),
                    attributes: if self.ev_attrs[e].is_empty() {
                        Vec::new()
                    } else {
                        codec::read_kvs_blob(&self.ev_attrs[e]).map_err(bad)?
                    },
                });
            }
        }
        Ok(())
    }
}
