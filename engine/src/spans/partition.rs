//! Sealed span partitions: one directory per (bucket, time window, seal), written to a
//! temporary directory, fsynced and renamed into place. Layout: `docs/format/spans.md`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_codec::column::{self, ColumnOptions};
use strata_index::{IndexFile, LabelIndex, RoaringBitmap, RowIndex};

use super::codec;
use super::genai::GenAi;
use super::model::{KeyValue, Span, StatusCode};
use crate::error::{Error, Result};

pub const META_FILE: &str = "meta.json";
pub const HOT_FILE: &str = "hot.col";
pub const COLD_FILE: &str = "attrs.col";
pub const CONTENT_FILE: &str = "content.col";
pub const TRACES_FILE: &str = "traces.col";
pub const INDEX_FILE: &str = "index.col";
pub const PARTITION_VERSION: u32 = 1;
const COLFILE_MAGIC: &[u8; 4] = b"STSC";
const COLFILE_VERSION: u8 = 1;

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
}

impl PartitionMeta {
    pub fn window_end_ms(&self) -> i64 {
        self.window_start_ms.saturating_add(self.window_ms)
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let f = fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
    f.sync_all().map_err(|e| Error::io(dir, e))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Frames named columns: magic, version, count, then per column name, length, CRC32, bytes,
/// and a CRC32 of everything before it.
fn col_file(cols: &[(&str, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(COLFILE_MAGIC);
    out.push(COLFILE_VERSION);
    out.extend_from_slice(&(cols.len() as u16).to_le_bytes());
    for (name, bytes) in cols {
        let len = u32::try_from(bytes.len())
            .map_err(|_| Error::InvalidArgument(format!("column {name} over 4 GiB")))?;
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// A parsed column file: the bytes and each column's range.
#[derive(Debug)]
pub(crate) struct ColFile {
    path: PathBuf,
    bytes: Vec<u8>,
    cols: Vec<(String, std::ops::Range<usize>)>,
}

impl ColFile {
    pub(crate) fn read(path: &Path) -> Result<ColFile> {
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, bytes)
    }

    pub(crate) fn parse(path: &Path, bytes: Vec<u8>) -> Result<ColFile> {
        let bad = |d: String| Error::corrupt(path, d);
        if bytes.len() < 11 || &bytes[..4] != COLFILE_MAGIC {
            return Err(bad("not a span column file (bad magic or too short)".into()));
        }
        if bytes[4] != COLFILE_VERSION {
            return Err(bad(format!(
                "column file version {} (this build reads {COLFILE_VERSION})",
                bytes[4]
            )));
        }
        let body = bytes.len() - 4;
        let want = u32::from_le_bytes(bytes[body..].try_into().expect("4 bytes"));
        let got = crc32fast::hash(&bytes[..body]);
        if want != got {
            return Err(bad(format!(
                "file CRC mismatch: stored {want:#010x}, computed {got:#010x}"
            )));
        }
        let n = u16::from_le_bytes([bytes[5], bytes[6]]) as usize;
        let mut pos = 7;
        let mut cols = Vec::with_capacity(n);
        for i in 0..n {
            let take = |pos: &mut usize, k: usize| -> Result<std::ops::Range<usize>> {
                if *pos + k > body {
                    return Err(bad(format!("column {i} runs past the end at byte {pos}")));
                }
                *pos += k;
                Ok(*pos - k..*pos)
            };
            let nl = bytes[take(&mut pos, 1)?.start] as usize;
            let name = std::str::from_utf8(&bytes[take(&mut pos, nl)?])
                .map_err(|_| bad(format!("column {i} name is not UTF-8")))?
                .to_owned();
            let len = u32::from_le_bytes(bytes[take(&mut pos, 4)?].try_into().expect("4")) as usize;
            let crc = u32::from_le_bytes(bytes[take(&mut pos, 4)?].try_into().expect("4"));
            let range = take(&mut pos, len)?;
            let got = crc32fast::hash(&bytes[range.clone()]);
            if got != crc {
                return Err(bad(format!(
                    "column {name} at byte {}: CRC stored {crc:#010x}, computed {got:#010x}",
                    range.start
                )));
            }
            cols.push((name, range));
        }
        if pos != body {
            return Err(bad(format!(
                "{} unexpected bytes after the columns",
                body - pos
            )));
        }
        Ok(ColFile {
            path: path.to_owned(),
            bytes,
            cols,
        })
    }

    fn col(&self, name: &str) -> Result<&[u8]> {
        self.cols
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| &self.bytes[r.clone()])
            .ok_or_else(|| Error::corrupt(&self.path, format!("missing column {name}")))
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

    pub(crate) fn i64s(&self, name: &str, rows: usize) -> Result<Vec<i64>> {
        let mut v = Vec::with_capacity(rows);
        column::decode_i64(self.col(name)?, &mut v).map_err(|e| self.wrap(name, e))?;
        self.rows_check(name, v.len(), rows)?;
        Ok(v)
    }

    pub(crate) fn u64s(&self, name: &str, rows: usize) -> Result<Vec<u64>> {
        let mut v = Vec::with_capacity(rows);
        column::decode_u64(self.col(name)?, &mut v).map_err(|e| self.wrap(name, e))?;
        self.rows_check(name, v.len(), rows)?;
        Ok(v)
    }

    pub(crate) fn f64s(&self, name: &str, rows: usize) -> Result<Vec<f64>> {
        let mut v = Vec::with_capacity(rows);
        column::decode_f64(self.col(name)?, &mut v).map_err(|e| self.wrap(name, e))?;
        self.rows_check(name, v.len(), rows)?;
        Ok(v)
    }

    pub(crate) fn strs(&self, name: &str, rows: usize) -> Result<Vec<String>> {
        let mut v = Vec::with_capacity(rows);
        column::decode_str(self.col(name)?, &mut v).map_err(|e| self.wrap(name, e))?;
        self.rows_check(name, v.len(), rows)?;
        Ok(v)
    }

    pub(crate) fn bytes(&self, name: &str, rows: usize) -> Result<Vec<Vec<u8>>> {
        let mut v = Vec::with_capacity(rows);
        column::decode_bytes(self.col(name)?, &mut v).map_err(|e| self.wrap(name, e))?;
        self.rows_check(name, v.len(), rows)?;
        Ok(v)
    }
}

fn opt_u64(v: Option<u64>) -> i64 {
    v.map_or(-1, |x| x.min(i64::MAX as u64) as i64)
}

fn from_opt(v: i64) -> Option<u64> {
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
) -> Result<PathBuf> {
    rows.sort_by(|a, b| {
        (a.span.trace_id, a.span.start_ns, a.span.span_id).cmp(&(
            b.span.trace_id,
            b.span.start_ns,
            b.span.span_id,
        ))
    });
    content.sort_by_key(|r| (r.trace_id, r.span_id));
    let opts = ColumnOptions::default();
    let c = |r: strata_codec::Result<Vec<u8>>| r.map_err(Error::Codec);
    let strs = |f: &dyn Fn(&Row) -> &str| -> Result<Vec<u8>> {
        let v: Vec<&str> = rows.iter().map(|r| f(r)).collect();
        c(column::encode_str(&v, &opts))
    };
    let ints = |f: &dyn Fn(&Row) -> i64| -> Result<Vec<u8>> {
        let v: Vec<i64> = rows.iter().map(|r| f(r)).collect();
        c(column::encode_i64(&v, &opts))
    };

    // Trace index: distinct trace ids in order, and the first row of each.
    let mut trace_ids: Vec<&[u8]> = Vec::new();
    let mut trace_rows: Vec<u64> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if trace_ids.last() != Some(&&r.span.trace_id[..]) {
            trace_ids.push(&r.span.trace_id);
            trace_rows.push(i as u64);
        }
    }
    let traces = col_file(&[
        ("trace_id", c(column::encode_bytes(&trace_ids, &opts))?),
        ("first_row", c(column::encode_u64(&trace_rows, &opts))?),
    ])?;

    let span_ids: Vec<&[u8]> = rows.iter().map(|r| &r.span.span_id[..]).collect();
    let parents: Vec<&[u8]> = rows
        .iter()
        .map(|r| r.span.parent_span_id.as_ref().map_or(&[][..], |p| &p[..]))
        .collect();
    let costs: Vec<f64> = rows
        .iter()
        .map(|r| r.genai.cost_usd.unwrap_or(f64::NAN))
        .collect();
    let hot = col_file(&[
        ("span_id", c(column::encode_bytes(&span_ids, &opts))?),
        ("parent_span_id", c(column::encode_bytes(&parents, &opts))?),
        ("name", strs(&|r| &r.span.name)?),
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
        ("status_message", strs(&|r| &r.span.status_message)?),
        ("service", strs(&|r| &r.genai.service)?),
        ("provider", strs(&|r| &r.genai.provider)?),
        ("request_model", strs(&|r| &r.genai.request_model)?),
        ("response_model", strs(&|r| &r.genai.response_model)?),
        ("operation", strs(&|r| &r.genai.operation)?),
        ("finish_reasons", strs(&|r| &r.genai.finish_reasons)?),
        ("agent_name", strs(&|r| &r.genai.agent_name)?),
        ("tool_name", strs(&|r| &r.genai.tool_name)?),
        ("error_type", strs(&|r| &r.genai.error_type)?),
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
        ("cost_usd", c(column::encode_f64(&costs, &opts))?),
    ])?;
    let blobs: Vec<Vec<u8>> = rows.iter().map(|r| codec::cold_blob(&r.span)).collect();
    let cold = col_file(&[("attrs", c(column::encode_bytes(&blobs, &opts))?)])?;
    let content_file = if content.is_empty() {
        None
    } else {
        let t: Vec<&[u8]> = content.iter().map(|r| &r.trace_id[..]).collect();
        let s: Vec<&[u8]> = content.iter().map(|r| &r.span_id[..]).collect();
        let b: Vec<Vec<u8>> = content
            .iter()
            .map(|r| codec::kvs_blob(&r.content))
            .collect();
        let level = ColumnOptions {
            zstd: column::ZstdMode::IfSmaller { level: 9 },
            ..opts
        };
        Some(col_file(&[
            ("trace_id", c(column::encode_bytes(&t, &opts))?),
            ("span_id", c(column::encode_bytes(&s, &opts))?),
            ("content", c(column::encode_bytes(&b, &level))?),
        ])?)
    };
    let mut index = RowIndex::new();
    index.set_row_count(rows.len() as u32);
    for (i, r) in rows.iter().enumerate() {
        index.add_row(i as u32, &dimension_labels(&r.span, &r.genai))?;
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

/// The labels a row is indexed under.
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
}

/// A sealed partition: its meta, trace index and label index are in memory; the columns are
/// read when a query needs them.
#[derive(Debug)]
pub struct Partition {
    pub dir: PathBuf,
    pub meta: PartitionMeta,
    trace_ids: Vec<[u8; 16]>,
    first_rows: Vec<u32>,
    index: IndexFile,
    pub(crate) bytes_on_disk: u64,
}

/// The hot columns of a partition, decoded.
#[derive(Debug, Default)]
pub(crate) struct Hot {
    pub trace_of_row: Vec<u32>,
    pub span_id: Vec<Vec<u8>>,
    pub parent: Vec<Vec<u8>>,
    pub name: Vec<String>,
    pub kind: Vec<i64>,
    pub start_ns: Vec<i64>,
    pub duration_ns: Vec<i64>,
    pub status: Vec<i64>,
    pub status_message: Vec<String>,
    pub service: Vec<String>,
    pub provider: Vec<String>,
    pub request_model: Vec<String>,
    pub response_model: Vec<String>,
    pub operation: Vec<String>,
    pub finish_reasons: Vec<String>,
    pub agent: Vec<String>,
    pub tool: Vec<String>,
    pub error_type: Vec<String>,
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
        if meta.version != PARTITION_VERSION {
            return Err(Error::corrupt(
                &meta_path,
                format!("partition version {}", meta.version),
            ));
        }
        let traces = ColFile::read(&dir.join(TRACES_FILE))?;
        let ids = traces.bytes("trace_id", traces_len(&traces)?)?;
        let rows = traces.u64s("first_row", ids.len())?;
        let mut trace_ids = Vec::with_capacity(ids.len());
        let mut first_rows = Vec::with_capacity(ids.len());
        let mut prev: Option<([u8; 16], u64)> = None;
        for (id, row) in ids.iter().zip(&rows) {
            let id: [u8; 16] = id
                .as_slice()
                .try_into()
                .map_err(|_| Error::corrupt(dir.join(TRACES_FILE), "trace id not 16 bytes"))?;
            if prev.is_some_and(|(p, r)| p >= id || r >= *row) || *row >= u64::from(meta.rows) {
                return Err(Error::corrupt(
                    dir.join(TRACES_FILE),
                    "trace index not sorted or out of range",
                ));
            }
            prev = Some((id, *row));
            trace_ids.push(id);
            first_rows.push(*row as u32);
        }
        if meta.rows > 0 && first_rows.first() != Some(&0) {
            return Err(Error::corrupt(
                dir.join(TRACES_FILE),
                "trace index does not start at row 0",
            ));
        }
        let index_path = dir.join(INDEX_FILE);
        let index_file = ColFile::read(&index_path)?;
        let index = IndexFile::from_bytes(index_file.col("index")?.to_vec())
            .map_err(|e| Error::corrupt(&index_path, e.to_string()))?;
        let mut bytes_on_disk = 0;
        for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            bytes_on_disk += e.metadata().map_err(|err| Error::io(e.path(), err))?.len();
        }
        Ok(Partition {
            dir: dir.to_owned(),
            meta,
            trace_ids,
            first_rows,
            index,
            bytes_on_disk,
        })
    }

    /// Rows of trace `id`, if the partition has it (a binary search of the trace index).
    pub(crate) fn trace_rows(&self, id: &[u8; 16]) -> Option<std::ops::Range<u32>> {
        let k = self.trace_ids.binary_search(id).ok()?;
        let end = self
            .first_rows
            .get(k + 1)
            .copied()
            .unwrap_or(self.meta.rows);
        Some(self.first_rows[k]..end)
    }

    pub(crate) fn trace_count(&self) -> usize {
        self.trace_ids.len()
    }

    /// Rows whose dimension `name` equals `value` (the label index).
    pub(crate) fn postings(&self, name: &str, value: &str) -> Result<RoaringBitmap> {
        Ok(self.index.postings(name, value)?)
    }

    pub(crate) fn read_hot(&self) -> Result<Hot> {
        let f = ColFile::read(&self.dir.join(HOT_FILE))?;
        let n = self.meta.rows as usize;
        let mut trace_of_row = Vec::with_capacity(n);
        for k in 0..self.first_rows.len() {
            let end = self
                .first_rows
                .get(k + 1)
                .copied()
                .unwrap_or(self.meta.rows);
            trace_of_row.extend(std::iter::repeat_n(
                k as u32,
                (end - self.first_rows[k]) as usize,
            ));
        }
        Ok(Hot {
            trace_of_row,
            span_id: f.bytes("span_id", n)?,
            parent: f.bytes("parent_span_id", n)?,
            name: f.strs("name", n)?,
            kind: f.i64s("kind", n)?,
            start_ns: f.i64s("start_ns", n)?,
            duration_ns: f.i64s("duration_ns", n)?,
            status: f.i64s("status_code", n)?,
            status_message: f.strs("status_message", n)?,
            service: f.strs("service", n)?,
            provider: f.strs("provider", n)?,
            request_model: f.strs("request_model", n)?,
            response_model: f.strs("response_model", n)?,
            operation: f.strs("operation", n)?,
            finish_reasons: f.strs("finish_reasons", n)?,
            agent: f.strs("agent_name", n)?,
            tool: f.strs("tool_name", n)?,
            error_type: f.strs("error_type", n)?,
            input_tokens: f.i64s("input_tokens", n)?,
            output_tokens: f.i64s("output_tokens", n)?,
            cache_read_tokens: f.i64s("cache_read_tokens", n)?,
            streaming: f.i64s("streaming", n)?,
            ttft_ns: f.i64s("ttft_ns", n)?,
            cost: f.f64s("cost_usd", n)?,
        })
    }

    /// Row `i` of `hot` as a span (attributes not loaded) and its GenAI columns.
    pub(crate) fn row(&self, hot: &Hot, i: usize) -> Result<(Span, GenAi)> {
        let bad = |d: &str| Error::corrupt(self.dir.join(HOT_FILE), format!("row {i}: {d}"));
        let span_id: [u8; 8] = hot.span_id[i]
            .as_slice()
            .try_into()
            .map_err(|_| bad("span id not 8 bytes"))?;
        let parent_span_id = match hot.parent[i].len() {
            0 => None,
            8 => Some(hot.parent[i].as_slice().try_into().expect("8 bytes")),
            _ => return Err(bad("parent span id not 8 bytes")),
        };
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

    /// The cold blobs (attributes, events, links) of all rows.
    pub(crate) fn read_cold(&self) -> Result<Vec<Vec<u8>>> {
        let f = ColFile::read(&self.dir.join(COLD_FILE))?;
        f.bytes("attrs", self.meta.rows as usize)
    }

    pub(crate) fn fill_cold(&self, blob: &[u8], span: &mut Span) -> Result<()> {
        codec::read_cold_blob(blob, span)
            .map_err(|e| Error::corrupt(self.dir.join(COLD_FILE), e.to_string()))
    }

    /// Content of `(trace, span)` stored in this partition.
    pub(crate) fn content(&self, trace: &[u8; 16]) -> Result<Vec<([u8; 8], Vec<KeyValue>)>> {
        if self.meta.content_rows == 0 {
            return Ok(Vec::new());
        }
        let path = self.dir.join(CONTENT_FILE);
        let f = ColFile::read(&path)?;
        let n = self.meta.content_rows as usize;
        let t = f.bytes("trace_id", n)?;
        let lo = t.partition_point(|x| x.as_slice() < &trace[..]);
        let hi = t.partition_point(|x| x.as_slice() <= &trace[..]);
        if lo == hi {
            return Ok(Vec::new());
        }
        let s = f.bytes("span_id", n)?;
        let b = f.bytes("content", n)?;
        let mut out = Vec::new();
        for i in lo..hi {
            let sid: [u8; 8] = s[i]
                .as_slice()
                .try_into()
                .map_err(|_| Error::corrupt(&path, "span id not 8 bytes"))?;
            let kvs =
                codec::read_kvs_blob(&b[i]).map_err(|e| Error::corrupt(&path, e.to_string()))?;
            out.push((sid, kvs));
        }
        Ok(out)
    }
}

fn traces_len(f: &ColFile) -> Result<usize> {
    let info = column::describe(f.col("trace_id")?).map_err(|e| f.wrap("trace_id", e))?;
    Ok(info.count)
}
