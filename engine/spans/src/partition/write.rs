//! Writing a partition: rows ordered by cluster, encoded by row group in parallel, and the
//! files written to a temporary directory that is fsynced and renamed into place.

use std::path::{Path, PathBuf};
use strata_storage::FileSystem;

use rayon::prelude::*;
use strata_codec::column::ColumnOptions;

use super::cold::cold_columns;
use super::colfile::{Columns, col_file};
use super::dict::FastMap;
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
    let ranks = sort_rows(rows);
    content.sort_by_key(|r| (r.trace_id, r.span_id));
    let rows: &[&Row] = rows;
    let content: &[ContentRow] = content;
    let opts = ColumnOptions::default();
    let group_rows = meta.group_rows.max(1) as usize;
    // The row groups (in parallel among themselves) beside the content and the label index.
    let (groups, others) = rayon::join(
        || -> Result<_> {
            let (traces, row_of) = rayon::join(
                || traces::encode(rows, &ranks, group_rows, &opts),
                || row_of(rows),
            );
            let (ordinal, traces) = traces?;
            let (hot, cold) = encode_groups(rows, group_rows, &ordinal, &row_of, prices, &opts)?;
            Ok((traces, hot, cold))
        },
        || -> Result<_> {
            let content = content::encode(content, &opts)?;
            Ok((content, labels::encode(rows, group_rows)?))
        },
    );
    let ((traces, hot, cold), (content, index)) = (groups?, others?);
    let files = Files {
        hot,
        cold,
        traces,
        content,
        index,
    };
    write_dir(fs, bucket_dir, name, meta, rows, files)
}

/// Orders `rows` by cluster (service, model, provider), so that filters on them read few row
/// groups; within a cluster, by trace, start and span id. Returns each row's cluster rank (the
/// position of its cluster among the partition's clusters in key order), in the new order.
fn sort_rows(rows: &mut [&Row]) -> Vec<u32> {
    // Rank the clusters once (a few distinct keys among many rows: hash each row's key once,
    // sort only the distinct ones), then sort on integers and ids. Chunks of rows find their
    // distinct keys in parallel.
    const CHUNK: usize = 4096;
    type Key<'r> = (&'r str, &'r str, &'r str);
    let chunks: Vec<(Vec<Key<'_>>, Vec<u32>)> = rows
        .par_chunks(CHUNK)
        .map(|c| {
            let mut seen: FastMap<Key<'_>, u32> = FastMap::default();
            let mut keys = Vec::new();
            let ids = c
                .iter()
                .map(|r| {
                    *seen.entry(cluster_key(r)).or_insert_with(|| {
                        keys.push(cluster_key(r));
                        keys.len() as u32 - 1
                    })
                })
                .collect();
            (keys, ids)
        })
        .collect();
    let mut distinct: Vec<Key<'_>> = chunks.iter().flat_map(|c| c.0.iter().copied()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let rank_of: Vec<Vec<u32>> = chunks
        .iter()
        .map(|(keys, _)| {
            keys.iter()
                .map(|k| distinct.binary_search(k).unwrap_or(0) as u32)
                .collect()
        })
        .collect();
    // (cluster rank, trace, start, span, index in `rows`); ids as big-endian integers, which
    // order as their bytes do. The index makes every key distinct: the order is the same
    // whatever sort makes it.
    type SortKey = (u32, u128, i64, u64, usize);
    let mut sorted: Vec<SortKey> = rows
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            let rank = rank_of[i / CHUNK][chunks[i / CHUNK].1[i % CHUNK] as usize];
            let trace = u128::from_be_bytes(r.span.trace_id);
            let span = u64::from_be_bytes(r.span.span_id);
            (rank, trace, r.span.start_ns, span, i)
        })
        .collect();
    sorted.par_sort_unstable();
    let old: Vec<&Row> = rows.to_vec();
    for (slot, (.., i)) in rows.iter_mut().zip(&sorted) {
        *slot = old[*i];
    }
    sorted.iter().map(|k| k.0).collect()
}

/// The row of every (trace, span) of `rows` (the first, if one repeats).
fn row_of(rows: &[&Row]) -> FastMap<([u8; 16], [u8; 8]), usize> {
    let mut row_of = FastMap::with_capacity_and_hasher(rows.len(), Default::default());
    for (i, r) in rows.iter().enumerate() {
        row_of.entry((r.span.trace_id, r.span.span_id)).or_insert(i);
    }
    row_of
}

/// Encodes the hot and cold columns of `rows` (whose trace ordinals are `ordinal`, and whose
/// rows by (trace, span) are `row_of`) by row group, and frames each as a column file: the
/// bytes of `hot.col` and `attrs.col`. Row groups encode independently: in parallel, then
/// framed in order, the columns of group `g` named `<column>@<g>`.
fn encode_groups(
    rows: &[&Row],
    group_rows: usize,
    ordinal: &[u64],
    row_of: &FastMap<([u8; 16], [u8; 8]), usize>,
    prices: &PriceTable,
    opts: &ColumnOptions,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let encoded: Vec<Result<(Columns, Columns)>> = rows
        .par_chunks(group_rows)
        .enumerate()
        .map(|(g, chunk)| {
            let place = Placement {
                first_row: g * group_rows,
                ordinal: &ordinal[g * group_rows..g * group_rows + chunk.len()],
                row_of,
            };
            // Hot and cold apart: the last groups keep both threads busy.
            let (hot, cold) = rayon::join(
                || hot_columns(chunk, &place, prices, opts),
                || cold_columns(chunk, opts),
            );
            Ok((hot?, cold?))
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
    let meta_bytes = serde_json::to_vec_pretty(meta)
        .map_err(|e| Error::Internal(format!("partition meta: {e}")))?;
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
