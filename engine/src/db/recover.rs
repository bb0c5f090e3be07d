//! Opening: blocks on disk (dropping leftovers of interrupted writes and compactions) and WAL
//! replay into the head.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::DbCore;
use crate::block::Block;
use crate::error::{Error, Result};
use crate::records::{self, Marker, SamplesRecord};

/// Opens every block under `dir`, sorted by min time. Temporary directories (a block write that
/// never finished) are deleted, and so are blocks that a finished compaction replaced (their id
/// is in another block's `sources`).
pub(super) fn open_blocks(dir: &Path) -> Result<Vec<Arc<Block>>> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut blocks = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") || name.ends_with(".deleting") {
            fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            continue;
        }
        if path.is_dir() {
            blocks.push(Block::open(&path)?);
        }
    }
    let replaced: HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta.sources.iter().cloned())
        .collect();
    let mut kept = Vec::new();
    for b in blocks {
        if replaced.contains(&b.meta.id) {
            fs::remove_dir_all(&b.dir).map_err(|e| Error::io(&b.dir, e))?;
        } else {
            kept.push(Arc::new(b));
        }
    }
    kept.sort_by_key(|b| (b.meta.min_time_ms, b.meta.max_time_ms));
    Ok(kept)
}

/// Replays the WAL into the head. Samples older than the head's minimum valid time are in
/// blocks already and are skipped; everything else is applied permissively (nothing that was
/// acknowledged is refused for its order).
pub(super) fn replay_wal(db: &DbCore) -> Result<()> {
    let wal_path = db.dir.join("wal");
    let corrupt = |pos: strata_wal::Position, e: strata_codec::Error| {
        Error::corrupt(&wal_path, format!("record at {pos}: {e}"))
    };
    let limits = db.chunk_limits();
    let hist_limits = db.histogram_limits();
    let mut replay = db.wal.replay(strata_wal::Position::ZERO);
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    while let Some(record) = replay.next_record() {
        let record = record?;
        let min_valid = db.head.min_valid_ms();
        match record.record_type {
            t if t == strata_wal::RecordType::SERIES => {
                for s in records::decode_series(record.payload)
                    .map_err(|e| corrupt(record.position, e))?
                {
                    db.head.restore(s.series_ref, &s.labels)?;
                }
            }
            t if t == strata_wal::RecordType::METRICS => {
                match records::decode_samples(record.payload)
                    .map_err(|e| corrupt(record.position, e))?
                {
                    SamplesRecord::Float(samples) => {
                        for s in samples.iter().filter(|s| s.timestamp_ms >= min_valid) {
                            let series = db.head.series(s.series_ref as u32).ok_or_else(|| {
                                Error::corrupt(
                                    &wal_path,
                                    format!(
                                        "record at {}: sample for undefined series {}",
                                        record.position, s.series_ref
                                    ),
                                )
                            })?;
                            series.lock().apply_float(s.timestamp_ms, s.value, limits)?;
                            lo = lo.min(s.timestamp_ms);
                            hi = hi.max(s.timestamp_ms);
                        }
                    }
                    SamplesRecord::Histogram(samples) => {
                        for (r, t, h) in samples.iter().filter(|s| s.1 >= min_valid) {
                            let series = db.head.series(*r as u32).ok_or_else(|| {
                                Error::corrupt(
                                    &wal_path,
                                    format!(
                                        "record at {}: sample for undefined series {r}",
                                        record.position
                                    ),
                                )
                            })?;
                            series.lock().apply_histogram(*t, h, hist_limits)?;
                            lo = lo.min(*t);
                            hi = hi.max(*t);
                        }
                    }
                }
            }
            t if t == strata_wal::RecordType::MARKERS => {
                match records::decode_marker(record.payload)
                    .map_err(|e| corrupt(record.position, e))?
                {
                    Some(Marker::HeadMinValid(t)) => db.head.set_min_valid_ms(t),
                    Some(Marker::SpansSealedThrough(t)) => db.spans.forget_unsealed_through(t),
                    Some(Marker::SpansSealing {
                        through_ms,
                        first_seq,
                    }) => db.spans.forget_sealed_since(through_ms, first_seq),
                    Some(Marker::SpansCheckpointBegin) => db.spans.replay_checkpoint_begin(),
                    Some(Marker::SpansCheckpointEnd) => db.spans.replay_checkpoint_end(),
                    Some(Marker::SpansCheckpointAbort) => {
                        db.spans.replay_checkpoint_abort();
                    }
                    None => {}
                }
            }
            t if t == strata_wal::RecordType::SPANS => db.spans.replay_record(record.payload)?,
            _ => {} // exemplars: not stored yet
        }
    }
    if lo <= hi {
        db.head.note_times(lo, hi);
    }
    // A checkpoint that never ended: its partial copies are dropped, and an abort marker
    // tells later replays so (records appended from now on follow it).
    if db.spans.replay_checkpoint_abort() {
        let mut payload = Vec::new();
        records::encode_marker(Marker::SpansCheckpointAbort, &mut payload);
        db.wal.append(strata_wal::RecordType::MARKERS, &payload)?;
        db.wal.sync()?;
    }
    Ok(())
}
