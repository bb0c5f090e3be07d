//! The trace index (`traces.col`): which rows hold a trace. Version 3 partitions cluster
//! their rows by (service, model, provider) and then by trace; version 2 partitions are
//! ordered by trace alone.

use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;
use strata_codec::column::{self, ColumnOptions};

use super::colfile::{ColFile, col_file};
use super::{Hot, Partition, PartitionMeta, Row};
use crate::error::{Error, Result};

/// The cluster a row belongs to: its (service, model, provider).
pub(super) fn cluster_key(r: &Row) -> (&str, &str, &str) {
    (
        r.genai.service.as_str(),
        r.genai.model(),
        r.genai.provider.as_str(),
    )
}

/// How a partition's rows are ordered, and what finds a trace's rows.
#[derive(Debug)]
pub(super) enum Layout {
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

/// Encodes the trace index of `rows` (in partition order, with their cluster ranks `ranks`):
/// distinct trace ids in order (a trace's ordinal is its position), per trace the clusters
/// holding its rows; per cluster its first row and first ordinal; per row group the ordinal
/// of its first row. Returns each row's trace ordinal and the bytes of `traces.col`.
pub(super) fn encode(
    rows: &[&Row],
    ranks: &[u32],
    group_rows: usize,
    opts: &ColumnOptions,
) -> Result<(Vec<u64>, Vec<u8>)> {
    // As big-endian u128s: the order of the ids, compared in one instruction.
    let key = |r: &&Row| u128::from_be_bytes(r.span.trace_id);
    let mut trace_ids: Vec<u128> = rows.par_iter().map(key).collect();
    trace_ids.par_sort_unstable();
    trace_ids.dedup();
    let ordinal: Vec<u64> = rows
        .par_iter()
        .map(|r| trace_ids.binary_search(&key(r)).unwrap_or(0) as u64)
        .collect();
    let trace_ids: Vec<[u8; 16]> = trace_ids.iter().map(|t| t.to_be_bytes()).collect();
    let (masks, cluster_row, cluster_trace) = clusters(ranks, &ordinal, trace_ids.len());
    let group_trace: Vec<u64> = ordinal.iter().step_by(group_rows).copied().collect();
    let ids: Vec<&[u8]> = trace_ids.iter().map(|t| &t[..]).collect();
    let file = col_file(&[
        ("trace_id", column::encode_bytes(&ids, opts)?),
        ("clusters", column::encode_u64(&masks, opts)?),
        ("cluster_row", column::encode_u64(&cluster_row, opts)?),
        ("cluster_trace", column::encode_u64(&cluster_trace, opts)?),
        ("group_trace", column::encode_u64(&group_trace, opts)?),
    ])?;
    Ok((ordinal, file))
}

/// The clusters of rows whose cluster ranks are `ranks` (runs of one rank, that is of one
/// [`cluster_key`]): per trace ordinal the mask of clusters holding its rows, and per cluster
/// its first row and that row's ordinal.
fn clusters(ranks: &[u32], ordinal: &[u64], traces: usize) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
    let mut masks = vec![0u64; traces];
    let (mut cluster_row, mut cluster_trace) = (Vec::new(), Vec::new());
    let mut prev: Option<u32> = None;
    for (i, &key) in ranks.iter().enumerate() {
        if prev != Some(key) {
            cluster_row.push(i as u64);
            cluster_trace.push(ordinal[i]);
            prev = Some(key);
        }
        let cluster = (cluster_row.len() - 1).min(63);
        masks[ordinal[i] as usize] |= 1 << cluster;
    }
    (masks, cluster_row, cluster_trace)
}

/// Reads and checks the trace index at `path`: the trace ids and the row layout.
pub(super) fn read(
    fs: &dyn strata_storage::FileSystem,
    path: &Path,
    meta: &PartitionMeta,
) -> Result<(Vec<[u8; 16]>, Layout)> {
    let traces = ColFile::open(fs, path)?;
    let trace_ids = read_trace_ids(&traces)?;
    let rows = u64::from(meta.rows);
    let layout = if meta.version == 2 {
        let first_rows = ascending_u32s(&traces, "first_row", trace_ids.len(), rows)?;
        if first_rows.windows(2).any(|w| w[0] == w[1])
            || (rows > 0 && first_rows.first() != Some(&0))
        {
            return Err(corrupt(
                &traces,
                "trace index not sorted or does not start at row 0",
            ));
        }
        Layout::ByTrace { first_rows }
    } else {
        read_clustered(&traces, meta, trace_ids.len())?
    };
    Ok((trace_ids, layout))
}

/// A corruption of the trace index.
fn corrupt(traces: &ColFile, detail: &str) -> Error {
    Error::corrupt(traces.path(), detail)
}

/// The trace ids, which must be 16 bytes each and strictly ascending.
fn read_trace_ids(traces: &ColFile) -> Result<Vec<[u8; 16]>> {
    let ids = traces.bytes("trace_id", traces.count("trace_id")?)?;
    let mut trace_ids: Vec<[u8; 16]> = Vec::with_capacity(ids.len());
    for id in &ids {
        let id: [u8; 16] = id
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(traces, "trace id not 16 bytes"))?;
        if trace_ids.last().is_some_and(|p| *p >= id) {
            return Err(corrupt(traces, "trace ids not strictly ascending"));
        }
        trace_ids.push(id);
    }
    Ok(trace_ids)
}

/// Column `name` of `n` values that must be row numbers or trace ordinals (below `below`),
/// ascending.
fn ascending_u32s(traces: &ColFile, name: &str, n: usize, below: u64) -> Result<Vec<u32>> {
    let v = traces.u64s(name, n)?;
    if v.windows(2).any(|w| w[0] > w[1]) || v.iter().any(|x| *x >= below.max(1)) {
        return Err(corrupt(
            traces,
            &format!("{name}: out of order or out of range"),
        ));
    }
    Ok(v.into_iter().map(|x| x as u32).collect())
}

/// Column `name` of `n` trace ordinals, each below `n_traces`.
fn ordinals(traces: &ColFile, name: &str, n: usize, n_traces: u64) -> Result<Vec<u32>> {
    traces
        .u64s(name, n)?
        .into_iter()
        .map(|t| u32::try_from(t).ok().filter(|t| u64::from(*t) < n_traces))
        .collect::<Option<Vec<u32>>>()
        .ok_or_else(|| corrupt(traces, &format!("{name} out of range")))
}

/// The clustered layout (version 3) of a partition with `n_traces` traces.
fn read_clustered(traces: &ColFile, meta: &PartitionMeta, n_traces: usize) -> Result<Layout> {
    let rows = u64::from(meta.rows);
    let masks = traces.u64s("clusters", n_traces)?;
    let nc = traces.count("cluster_row")?;
    let cluster_row = ascending_u32s(traces, "cluster_row", nc, rows)?;
    if cluster_row.windows(2).any(|w| w[0] == w[1]) || (rows > 0 && cluster_row.first() != Some(&0))
    {
        return Err(corrupt(traces, "clusters not ascending from row 0"));
    }
    let n_traces = n_traces as u64;
    let cluster_trace = ordinals(traces, "cluster_trace", nc, n_traces)?;
    let groups = (meta.rows as usize).div_ceil(meta.group_rows.max(1) as usize);
    let group_trace = ordinals(traces, "group_trace", groups, n_traces)?;
    Ok(Layout::Clustered {
        masks,
        cluster_row,
        cluster_trace,
        group_trace,
    })
}

impl Partition {
    /// Row ranges holding trace `id` (none if the partition does not have it): a binary
    /// search of the trace index, then, in a clustered partition, one per cluster the trace
    /// has rows in, found by a binary search of the group index and of one or two groups'
    /// trace column.
    pub(crate) fn trace_rows(&self, id: &[u8; 16]) -> Result<Vec<Range<u32>>> {
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
        rows: Range<usize>,
        first: u32,
        group_trace: &[u32],
    ) -> Result<Option<Range<u32>>> {
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

    /// Appends the trace ordinal of each row of row groups `groups` (rows `rows`) to `out`.
    pub(super) fn trace_of_rows(
        &self,
        groups: Range<usize>,
        rows: Range<usize>,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        match &self.layout {
            Layout::ByTrace { first_rows } => {
                let mut k = first_rows.partition_point(|r| (*r as usize) <= rows.start) - 1;
                for row in rows {
                    while first_rows.get(k + 1).is_some_and(|r| *r as usize <= row) {
                        k += 1;
                    }
                    out.push(k as u32);
                }
            }
            Layout::Clustered { .. } => {
                let f = &self.hot;
                for g in groups {
                    let name = format!("trace@{g}");
                    for t in f.u64s(&name, self.group_len(g))? {
                        if t >= self.trace_ids.len() as u64 {
                            return Err(Error::corrupt(
                                f.path(),
                                format!("{name}: trace ordinal {t} past the trace index"),
                            ));
                        }
                        out.push(t as u32);
                    }
                }
            }
        }
        Ok(())
    }

    /// Trace id of row `i` of `hot`.
    pub(crate) fn trace_id(&self, hot: &Hot, i: usize) -> [u8; 16] {
        self.trace_ids[hot.trace_of_row[i] as usize]
    }

    /// Number of distinct traces in the partition.
    pub(crate) fn trace_count(&self) -> usize {
        self.trace_ids.len()
    }
}
