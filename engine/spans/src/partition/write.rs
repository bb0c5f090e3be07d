//! Writing a partition: rows ordered by cluster, encoded by row group in parallel, and the
//! files written to a temporary directory that is fsynced and renamed into place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use strata_storage::FileSystem;

use rayon::prelude::*;
use strata_codec::column::ColumnOptions;

use super::cold::cold_columns;
use super::colfile::{Columns, col_file};
use super::hot::{Placement, hot_columns};
use super::traces::cluster_key;
use super::{
    COLD_FILE, CONTENT_FILE, ContentRow, HOT_FILE, INDEX_FILE, META_FILE, PartitionMeta,
    ROLLUP_FILE, Row, TRACES_FILE, content, labels, traces,
};
use crate::error::{Error, Result};
use crate::genai::PriceTable;
use crate::rollup;

/// Writes a partition of `rows` (sorted here by trace id, then start) and `content` into
/// `bucket_dir/<name>`, atomically. Returns the directory.
pub(crate) fn write(
    fs: &dyn FileSystem,
    bucket_dir: &Path,
    name: &str,
    meta: &PartitionMeta,
    rows: &mut [&Row],
    content: &mut [ContentRow],
    prices: &PriceTable,
) -> Result<PathBuf> {
    sort_rows(rows);
    content.sort_by_key(|r| (r.trace_id, r.span_id));
    let rows: &[&Row] = rows;
    let opts = ColumnOptions::default();
    let group_rows = meta.group_rows.max(1) as usize;
    let (ordinal, traces) = traces::encode(rows, group_rows, &opts)?;
    let (hot, cold) = encode_groups(rows, group_rows, &ordinal, prices, &opts)?;
    let files = Files {
        hot,
        cold,
        traces,
        content: content::encode(content, &opts)?,
        index: labels::encode(rows, group_rows)?,
    };
    write_dir(fs, bucket_dir, name, meta, rows, files)
}

/// Orders `rows` by cluster (service, model, provider), so that filters on them read few row
/// groups; within a cluster, by trace, start and span id.
fn sort_rows(rows: &mut [&Row]) {
    // Rank the clusters once (a few distinct keys among many rows: hash each row's key once,
    // sort only the distinct ones), then sort on integers and ids.
    let mut distinct: HashMap<(&str, &str, &str), u32> = HashMap::new();
    let row_keys: Vec<(&str, &str, &str)> = rows.iter().map(|r| cluster_key(r)).collect();
    for k in &row_keys {
        distinct.entry(*k).or_insert(0);
    }
    let mut keys: Vec<(&str, &str, &str)> = distinct.keys().copied().collect();
    keys.sort_unstable();
    for (rank, k) in keys.iter().enumerate() {
        distinct.insert(*k, rank as u32);
    }
    // (cluster rank, trace, start, span, index in `rows`)
    type SortKey = (u32, [u8; 16], i64, [u8; 8], usize);
    let mut sorted: Vec<SortKey> = rows
        .iter()
        .zip(&row_keys)
        .enumerate()
        .map(|(i, (r, k))| {
            let rank = distinct[k];
            (rank, r.span.trace_id, r.span.start_ns, r.span.span_id, i)
        })
        .collect();
    sorted.sort_unstable();
    let old: Vec<&Row> = rows.to_vec();
    for (slot, (.., i)) in rows.iter_mut().zip(&sorted) {
        *slot = old[*i];
    }
}

/// The row of every (trace, span) of `rows` (the first, if one repeats).
fn row_of(rows: &[&Row]) -> HashMap<([u8; 16], [u8; 8]), usize> {
    let mut row_of = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        row_of.entry((r.span.trace_id, r.span.span_id)).or_insert(i);
    }
    row_of
}

/// Encodes the hot and cold columns of `rows` (whose trace ordinals are `ordinal`) by row
/// group, and frames each as a column file: the bytes of `hot.col` and `attrs.col`. Row
/// groups encode independently: in parallel, then framed in order, the columns of group `g`
/// named `<column>@<g>`.
fn encode_groups(
    rows: &[&Row],
    group_rows: usize,
    ordinal: &[u64],
    prices: &PriceTable,
    opts: &ColumnOptions,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let row_of = row_of(rows);
    let encoded: Vec<Result<(Columns, Columns)>> = rows
        .par_chunks(group_rows)
        .enumerate()
        .map(|(g, chunk)| {
            let place = Placement {
                first_row: g * group_rows,
                ordinal: &ordinal[g * group_rows..g * group_rows + chunk.len()],
                row_of: &row_of,
            };
            Ok((
                hot_columns(chunk, &place, prices, opts)?,
                cold_columns(chunk, opts)?,
            ))
        })
        .collect();
    let mut hot_cols = Vec::new();
    let mut cold_cols = Vec::new();
    for (g, e) in encoded.into_iter().enumerate() {
        let (hot, cold) = e?;
        for (name, bytes) in hot {
            hot_cols.push((format!("{name}@{g}"), bytes));
        }
        for (name, bytes) in cold {
            cold_cols.push((format!("{name}@{g}"), bytes));
        }
    }
    Ok((col_file(&hot_cols)?, col_file(&cold_cols)?))
}

/// The encoded files of a partition but its rollup and meta.
struct Files {
    hot: Vec<u8>,
    cold: Vec<u8>,
    traces: Vec<u8>,
    /// The label index, before its column file framing.
    index: Vec<u8>,
    content: Option<Vec<u8>>,
}

/// Writes `files`, the rollup of `rows` and `meta` into a temporary directory in
/// `bucket_dir`, fsyncs it and renames it to `name`. Returns the directory.
fn write_dir(
    fs: &dyn FileSystem,
    bucket_dir: &Path,
    name: &str,
    meta: &PartitionMeta,
    rows: &[&Row],
    files: Files,
) -> Result<PathBuf> {
    let dir = bucket_dir.join(name);
    let tmp = bucket_dir.join(format!(".tmp-{name}"));
    let index = col_file(&[("index", files.index)])?;
    let rollup = rollup::encode(&rollup::build(rows))?;
    let meta_bytes =
        serde_json::to_vec_pretty(meta).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let mut out: Vec<(&str, &[u8])> = vec![
        (HOT_FILE, &files.hot),
        (COLD_FILE, &files.cold),
        (TRACES_FILE, &files.traces),
        (INDEX_FILE, &index),
        (ROLLUP_FILE, &rollup),
    ];
    if let Some(cf) = &files.content {
        out.push((CONTENT_FILE, cf));
    }
    // meta.json last: a partition directory is complete when its meta is there.
    out.push((META_FILE, &meta_bytes));
    fs.publish_dir(&tmp, &dir, &out)
        .map_err(|(path, e)| Error::io(path, e))?;
    Ok(dir)
}
