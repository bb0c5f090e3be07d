//! Sealed span partitions: one directory per (bucket, time window, seal), written to a
//! temporary directory, fsynced and renamed into place. Layout: `docs/format/spans.md`.
//!
//! One file of this module per part of the format: [`colfile`] frames the column files,
//! [`traces`] is the trace index, [`labels`] the label index, [`hot`] (with [`parents`] and
//! [`costs`]) the hot columns, [`cold`] (with [`hot_field`]) the attribute columns,
//! [`content`] the content file and [`dict`] the dictionary columns they share; [`mod@write`]
//! writes a whole partition.

mod cold;
mod colfile;
mod content;
mod costs;
mod dict;
mod hot;
mod hot_field;
mod labels;
mod parents;
mod traces;
mod write;

use std::path::{Path, PathBuf};
use strata_storage::FileSystem;

use serde::{Deserialize, Serialize};
use strata_index::IndexFile;

use super::genai::GenAi;
use super::model::{KeyValue, Span};
use super::rollup::{self, RollupKey, Totals};
use crate::error::{Error, Result};

pub(crate) use colfile::{ColFile, col_file};
pub(crate) use dict::{Dict, FastMap, dict_str_cols, pick};
pub(crate) use hot::{Hot, from_opt};
pub(crate) use labels::indexed;
pub(crate) use write::write;

use traces::Layout;

pub const META_FILE: &str = "meta.json";
pub const HOT_FILE: &str = "hot.col";
pub const COLD_FILE: &str = "attrs.col";
pub const CONTENT_FILE: &str = "content.col";
pub const TRACES_FILE: &str = "traces.col";
pub const INDEX_FILE: &str = "index.col";
pub const ROLLUP_FILE: &str = "rollup.col";
/// The partition format this build writes; it also reads version 2 (no rollup, raw costs).
pub const PARTITION_VERSION: u32 = 3;
/// Rows per row group in partitions this build writes.
pub const GROUP_ROWS: u32 = 2048;

/// A span in memory: the span without its content attributes, its GenAI columns, and its
/// content (kept beside it until the seal routes it).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub span: Span,
    pub genai: GenAi,
    pub content: Vec<KeyValue>,
}

impl Row {
    /// The span as it was appended: its attributes with the content put back (at the end).
    pub fn span_with_content(&self) -> Span {
        let mut s = self.span.clone();
        s.attributes.extend(self.content.iter().cloned());
        s
    }
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

impl Partition {
    /// Opens the partition in `dir`: reads its meta, trace index, label index and content
    /// group index, maps its column files and checks that they agree.
    pub(crate) fn open(fs: &dyn FileSystem, dir: &Path) -> Result<Partition> {
        let meta_path = dir.join(META_FILE);
        let meta = read_meta(fs, &meta_path)?;
        let (trace_ids, layout) = traces::read(fs, &dir.join(TRACES_FILE), &meta)?;
        if meta.group_rows == 0 {
            return Err(Error::corrupt(&meta_path, "group_rows is 0"));
        }
        let index = labels::read(fs, &dir.join(INDEX_FILE))?;
        let bytes_on_disk = fs.dir_bytes(dir).map_err(|e| Error::io(dir, e))?;
        let hot = ColFile::open(fs, &dir.join(HOT_FILE))?;
        check_groups(&meta_path, &meta, &hot)?;
        let cold = ColFile::open(fs, &dir.join(COLD_FILE))?;
        let (content, content_firsts) = content::open(fs, dir, &meta)?;
        let rollup = if meta.version >= 3 {
            Some(rollup::decode(&ColFile::open(fs, &dir.join(ROLLUP_FILE))?)?)
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

    /// Number of row groups.
    pub(crate) fn groups(&self) -> usize {
        (self.meta.rows as usize).div_ceil(self.group_rows())
    }

    /// Rows per row group (the last group may be shorter).
    pub(crate) fn group_rows(&self) -> usize {
        self.meta.group_rows.max(1) as usize
    }

    /// Number of rows in row group `g`.
    fn group_len(&self, g: usize) -> usize {
        let gr = self.group_rows();
        (self.meta.rows as usize - g * gr).min(gr)
    }
}

/// Reads the partition meta at `path`, of a format version this build reads.
fn read_meta(fs: &dyn FileSystem, path: &Path) -> Result<PartitionMeta> {
    let meta_bytes = fs.read(path).map_err(|e| Error::io(path, e))?;
    let meta: PartitionMeta =
        serde_json::from_slice(&meta_bytes).map_err(|e| Error::corrupt(path, e.to_string()))?;
    if meta.version != PARTITION_VERSION && meta.version != 2 {
        return Err(Error::corrupt(
            path,
            format!("partition version {}", meta.version),
        ));
    }
    Ok(meta)
}

/// Checks the row and group counts of `meta` (at `meta_path`) against the row groups of
/// `hot`. meta.json carries no checksum: its counts must agree with the columns before
/// anything is sized by them.
fn check_groups(meta_path: &Path, meta: &PartitionMeta, hot: &ColFile) -> Result<()> {
    let groups = (meta.rows as usize).div_ceil(meta.group_rows.max(1) as usize);
    let last_ok = groups == 0 || hot.has(&format!("span_id@{}", groups - 1));
    if !last_ok || hot.has(&format!("span_id@{groups}")) {
        return Err(Error::corrupt(
            meta_path,
            format!(
                "rows {} in groups of {} disagree with the row groups of {HOT_FILE}",
                meta.rows, meta.group_rows
            ),
        ));
    }
    Ok(())
}
