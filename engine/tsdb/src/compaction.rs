//! The metric side of compaction, as functions over the head and blocks: which samples a
//! head cut moves into which block, which blocks merge, how parts of one series combine,
//! writing, opening and removing block directories. The engine runs them under its
//! maintenance lock and publishes the results.

use parking_lot::Mutex;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use strata_storage::FileSystem;

use crate::block::Block;
use crate::block::writer::{SeriesData, write_block};
use crate::head::{Head, MemSeries};
use crate::{Error, Result};

/// Block lengths compaction builds, as multiples of the block duration: 2 h → 6 h → 24 h.
pub const COMPACTION_FACTORS: [i64; 2] = [3, 12];

/// `t` rounded down to a multiple of `step`.
pub fn floor_to(t: i64, step: i64) -> i64 {
    t.div_euclid(step) * step
}

/// Copies of every sample in `series` older than `upto`, by the aligned `block_duration_ms`
/// window it falls in (the blocks a head cut writes). Histogram chunks go whole, by their
/// first sample.
pub fn head_partitions(
    head: &Head,
    series: &[Arc<Mutex<MemSeries>>],
    upto: i64,
    dur: i64,
) -> Result<BTreeMap<i64, Vec<SeriesData>>> {
    let mut partitions: BTreeMap<i64, Vec<SeriesData>> = BTreeMap::new();
    for (id, s) in series.iter().enumerate() {
        let (ts, vs, hist, natives) = {
            let g = s.lock();
            if g.is_empty() || g.oldest_t >= upto {
                continue;
            }
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            g.read_floats(i64::MIN, upto - 1, &mut ts, &mut vs)?;
            (
                ts,
                vs,
                g.histogram_chunks_before(upto)?,
                g.native_chunks_before(upto)?,
            )
        };
        let labels = head.labels(id as u32).unwrap_or_default();
        // Split the floats at partition boundaries.
        let mut i = 0;
        while i < ts.len() {
            let p = floor_to(ts[i], dur);
            let j = i + ts[i..].partition_point(|&t| t < p.saturating_add(dur));
            partitions.entry(p).or_default().push(SeriesData {
                labels: labels.clone(),
                timestamps: ts[i..j].to_vec(),
                values: vs[i..j].to_vec(),
                ..Default::default()
            });
            i = j;
        }
        for chunk in hist {
            let h = strata_codec::histogram::read_header(&chunk)?;
            partitions
                .entry(floor_to(h.first_timestamp, dur))
                .or_default()
                .push(SeriesData {
                    labels: labels.clone(),
                    histogram_chunks: vec![chunk],
                    ..Default::default()
                });
        }
        for chunk in natives {
            let h = strata_codec::native::read_header(&chunk)?;
            partitions
                .entry(floor_to(h.first_timestamp, dur))
                .or_default()
                .push(SeriesData {
                    labels: labels.clone(),
                    native_chunks: vec![chunk],
                    ..Default::default()
                });
        }
    }
    Ok(partitions)
}

/// The groups of `blocks` that merge at this level: those within one aligned `window`, of
/// this level or below, two or more per window.
pub fn merge_groups(blocks: &[Arc<Block>], window: i64, level: u32) -> Vec<Vec<Arc<Block>>> {
    let mut groups: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
    for b in blocks {
        let w = floor_to(b.meta.min_time_ms, window);
        if floor_to(b.meta.max_time_ms, window) == w && b.meta.level <= level {
            groups.entry(w).or_default().push(Arc::clone(b));
        }
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// Every series of `group`, read in parallel and merged by label set.
pub fn read_merged(group: &[Arc<Block>]) -> Result<Vec<SeriesData>> {
    let per_block: Vec<Vec<SeriesData>> = group
        .par_iter()
        .map(|b| (0..b.series_count()).map(|id| b.series_data(id)).collect())
        .collect::<Result<_>>()?;
    Ok(merge_parts(per_block.into_iter().flatten().collect()))
}

/// Renames a block out of the way, then deletes it: a crash mid-delete leaves a `.deleting`
/// directory that open removes, never a half-deleted block that looks whole.
pub fn remove_block_dir(fs: &dyn FileSystem, b: &Block) -> Result<()> {
    let doomed = b.dir.with_extension("deleting");
    fs.rename(&b.dir, &doomed)
        .map_err(|e| Error::io(&b.dir, e))?;
    fs.remove_dir_all(&doomed)
        .map_err(|e| Error::io(&doomed, e))
}

/// Combines parts of the same label set (from several blocks or partitions) into one series,
/// samples sorted by time, first value kept on equal timestamps.
pub fn merge_parts(parts: Vec<SeriesData>) -> Vec<SeriesData> {
    let mut by_labels: BTreeMap<Vec<(String, String)>, SeriesData> = BTreeMap::new();
    for p in parts {
        match by_labels.get_mut(&p.labels) {
            None => {
                by_labels.insert(p.labels.clone(), p);
            }
            Some(m) => {
                m.timestamps.extend_from_slice(&p.timestamps);
                m.values.extend_from_slice(&p.values);
                m.histogram_chunks.extend(p.histogram_chunks);
                m.native_chunks.extend(p.native_chunks);
            }
        }
    }
    let mut out: Vec<SeriesData> = by_labels.into_values().collect();
    for s in &mut out {
        crate::samples::sort_dedup(&mut s.timestamps, &mut s.values);
    }
    out
}

/// Writes the blocks of a head cut under `parent` (one per partition of [`head_partitions`])
/// and opens them. If one fails, the blocks this call wrote are removed — the head still holds
/// their samples, and a retry would write them twice — and the error is returned.
pub fn write_head_blocks(
    fs: &dyn FileSystem,
    parent: &Path,
    bucket: &str,
    partitions: BTreeMap<i64, Vec<SeriesData>>,
) -> Result<Vec<Arc<Block>>> {
    let mut written: Vec<Arc<Block>> = Vec::with_capacity(partitions.len());
    for parts in partitions.into_values() {
        let opened = write_block(fs, parent, bucket, merge_parts(parts), 0, Vec::new())
            .and_then(|(dir, _)| Block::open(fs, &dir));
        match opened {
            Ok(block) => written.push(Arc::new(block)),
            Err(e) => {
                for b in &written {
                    let _ = remove_block_dir(fs, b);
                }
                return Err(e);
            }
        }
    }
    Ok(written)
}

/// Merges `group` into one block of `level` under `parent` and opens it. The sources stay on
/// disk: the caller removes them once the new block is published.
pub fn merge_into_block(
    fs: &dyn FileSystem,
    parent: &Path,
    bucket: &str,
    group: &[Arc<Block>],
    level: u32,
) -> Result<Arc<Block>> {
    let parts = read_merged(group)?;
    let sources = group.iter().map(|b| b.meta.id.clone()).collect();
    let (dir, _) = write_block(fs, parent, bucket, parts, level, sources)?;
    Ok(Arc::new(Block::open(fs, &dir)?))
}

/// Puts `blocks` in the order the engine keeps them: by min time, then max time.
pub fn sort_blocks(blocks: &mut [Arc<Block>]) {
    blocks.sort_by_key(|b| (b.meta.min_time_ms, b.meta.max_time_ms));
}

/// Removes the directories of `expired` blocks (already unpublished). Returns the samples and
/// the chunk and index bytes they held.
pub fn remove_expired(fs: &dyn FileSystem, expired: &[Arc<Block>]) -> Result<(u64, u64)> {
    let (mut samples, mut bytes) = (0, 0);
    for b in expired {
        samples += b.meta.stats.samples;
        bytes += b.meta.stats.chunk_bytes + b.meta.stats.index_bytes;
        remove_block_dir(fs, b)?;
    }
    Ok((samples, bytes))
}

/// Opens every block under `dir`, sorted by min time. Temporary directories (a block write that
/// never finished) are deleted, and so are blocks that a finished compaction replaced (their id
/// is in another block's `sources`).
pub fn open_blocks(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<Arc<Block>>> {
    fs.create_dirs_synced(dir).map_err(|e| Error::io(dir, e))?;
    let mut blocks = Vec::new();
    for entry in fs.list_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = dir.join(&entry.name);
        if entry.name.ends_with(".tmp") || entry.name.ends_with(".deleting") {
            fs.remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            continue;
        }
        if entry.is_dir {
            blocks.push(Block::open(fs, &path)?);
        }
    }
    let replaced: HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta.sources.iter().cloned())
        .collect();
    let mut kept = Vec::new();
    for b in blocks {
        if replaced.contains(&b.meta.id) {
            fs.remove_dir_all(&b.dir)
                .map_err(|e| Error::io(&b.dir, e))?;
        } else {
            kept.push(Arc::new(b));
        }
    }
    sort_blocks(&mut kept);
    Ok(kept)
}

/// Drops every sample older than `upto` from `series` (a head cut, once its blocks are
/// published), re-chunking what stays.
pub fn drain_head_before(
    series: &[Arc<Mutex<MemSeries>>],
    upto: i64,
    limits: strata_codec::gorilla::ChunkLimits,
) -> Result<()> {
    for s in series {
        let mut g = s.lock();
        if !g.is_empty() && g.oldest_t < upto {
            g.drain_floats_before(upto, limits)?;
            g.drain_histograms_before(upto, Default::default())?;
            g.drain_natives_before(upto, Default::default())?;
        }
    }
    Ok(())
}
