//! Opening: blocks on disk (dropping leftovers of interrupted writes and compactions) and WAL
//! replay into the head.

use super::DbCore;
use crate::error::{Error, Result};
use crate::records::{self, Marker};
use strata_codec::histogram::HistogramLimits;
use strata_tsdb::replay::MetricReplay;
pub use strata_tsdb::replay::ReplayReport;

/// Replays the WAL into the head. Samples older than the head's minimum valid time are in
/// blocks already and are skipped; everything else is applied permissively (nothing that was
/// acknowledged is refused for its order).
pub(super) fn replay_wal(db: &DbCore) -> Result<ReplayReport> {
    let wal_path = db.dir.join("wal");
    let mut rp = MetricReplay::new(
        &db.head,
        &wal_path,
        db.chunk_limits(),
        HistogramLimits::default(),
    );
    let corrupt = |pos: strata_wal::Position, e: strata_codec::Error| {
        Error::corrupt(&wal_path, format!("record at {pos}: {e}"))
    };
    let mut replay = db.wal.replay(strata_wal::Position::ZERO);
    while let Some(record) = replay.next_record() {
        let record = record?;
        let pos = record.position;
        match record.record_type {
            t if t == strata_wal::RecordType::SERIES => {
                rp.apply_series_record(pos, record.payload)?
            }
            t if t == strata_wal::RecordType::METRICS => {
                rp.apply_samples_record(pos, record.payload)?
            }
            t if t == strata_wal::RecordType::MARKERS => {
                match records::decode_marker(record.payload).map_err(|e| corrupt(pos, e))? {
                    Some(Marker::HeadMinValid(t)) => {
                        // Written first by every checkpoint (and only there).
                        rp.checkpoint_begins();
                        db.head.set_min_valid_ms(t)
                    }
                    Some(Marker::SpansSealedThrough(t)) => db.spans.forget_unsealed_through(t),
                    Some(Marker::SpansSealing {
                        through_ms,
                        first_seq,
                    }) => db.spans.forget_sealed_since(through_ms, first_seq),
                    Some(Marker::SpansCheckpointBegin { typed_copies }) => {
                        db.spans.replay_checkpoint_begin(typed_copies)
                    }
                    Some(Marker::SpansCheckpointEnd) => db.spans.replay_checkpoint_end(),
                    Some(Marker::SpansCheckpointAbort) => {
                        db.spans.replay_checkpoint_abort();
                    }
                    None => {}
                }
            }
            t if t == strata_wal::RecordType::SPANS => db.spans.replay_record(record.payload)?,
            t if t == strata_wal::RecordType::EVENTS => {
                db.spans.replay_events_record(record.payload)?
            }
            t if t == strata_wal::RecordType::EXEMPLARS => {
                rp.apply_exemplars_record(pos, record.payload, &db.exemplars)?
            }
            t if t.kind() == strata_wal::RecordType::METADATA.kind() => {
                rp.apply_metadata_record(pos, record.payload, &db.metadata)?
            }
            _ => {}
        }
    }
    db.spans.replay_finish();
    let (report, range) = rp.finish(db.options.wal_salvage)?;
    if let Some((lo, hi)) = range {
        db.head.note_times(lo, hi);
    }
    // A checkpoint that never ended: its partial copies are dropped, and an abort marker
    // tells later replays so (records appended from now on follow it).
    if db.spans.replay_checkpoint_abort() {
        db.log_marker(Marker::SpansCheckpointAbort)?;
        db.wal.sync()?;
    }
    Ok(report)
}
