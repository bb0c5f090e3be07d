//! WAL replay of span and event records and of the seal and checkpoint markers
//! (`docs/format/block.md`, "Checkpoint", and the seal protocol). Both tables follow the same
//! markers ([`Memory`] holds the protocol once).

use std::collections::HashSet;

use super::*;

impl SpanStore {
    /// Applies one SPANS WAL record during replay.
    pub fn replay_record(&self, payload: &[u8]) -> Result<()> {
        let spans = decode_payload(payload)
            .map_err(|e| Error::corrupt(&self.root, format!("SPANS WAL record: {e}")))?;
        let mut st = self.state.write();
        let st = &mut *st;
        let mut rows = BTreeMap::new();
        for span in spans {
            let (key, row) = self.row_of(span, &st.config, &st.router);
            rows.entry(key).or_insert_with(Vec::new).push(row);
        }
        st.spans.replay_rows(rows, codec::is_copy_payload(payload));
        Ok(())
    }

    /// During replay, at a "sealed through `floor_ms`" marker: the seal whose "sealing"
    /// marker came before is complete, so the spans (and events) it took are in partitions;
    /// forget them. Rows logged after that "sealing" marker (appended while the seal ran)
    /// stay. A log without a "sealing" marker before it (written when seals paused appends,
    /// or an old checkpoint's `i64::MAX`): every row replayed so far in windows ending at or
    /// before `floor_ms` is sealed.
    pub fn forget_unsealed_through(&self, floor_ms: i64) {
        let width = self.options.partition_ms;
        let mut st = self.state.write();
        st.spans.forget_unsealed_through(width, floor_ms);
        st.events.forget_unsealed_through(width, floor_ms);
    }

    /// During replay, at a "sealing" marker: forget the rows replayed so far whose bucket
    /// and window (ending at or before `through_ms`) have a partition numbered `first_seq` or
    /// later on disk — that seal (or a later one) wrote them, whether or not its "sealed"
    /// marker made it into the log. The rest of those windows' rows are what the seal took:
    /// set aside until its "sealed" marker (then dropped) or the end of the log (then back).
    /// Span and event partitions share the sequence numbers, each table its own windows.
    pub fn forget_sealed_since(&self, through_ms: i64, first_seq: u64) {
        let width = self.options.partition_ms;
        let mut st = self.state.write();
        let st = &mut *st;
        let written: HashSet<WindowKey> = st
            .sealed
            .iter()
            .filter(|p| p.seq().is_some_and(|s| s >= first_seq))
            .map(|p| (p.meta.bucket.clone(), p.meta.window_start_ms))
            .collect();
        st.spans.forget_sealed_since(width, through_ms, &written);
        let written: HashSet<WindowKey> = st
            .event_parts
            .iter()
            .filter(|p| p.seq().is_some_and(|s| s >= first_seq))
            .map(|p| (p.meta.bucket.clone(), p.meta.window_start_ms))
            .collect();
        st.events.forget_sealed_since(width, through_ms, &written);
    }

    /// At the end of replay: a seal whose "sealed" marker never came left its rows unsealed.
    pub fn replay_finish(&self) {
        let mut st = self.state.write();
        st.spans.restore_replay_sealing();
        st.events.restore_replay_sealing();
    }

    /// During replay, at a checkpoint's begin marker: set the rows replayed so far aside.
    /// With `typed_copies` (checkpoints that copy with appends going on) the copies are the
    /// payloads flagged as copies and collect apart, while rows appended meanwhile replay
    /// as usual; without (older logs: appends paused) every record up to the end marker
    /// is a copy. A begin while a checkpoint is open aborts that one first.
    pub fn replay_checkpoint_begin(&self, typed_copies: bool) {
        let mut st = self.state.write();
        st.spans.checkpoint_begin(typed_copies);
        st.events.checkpoint_begin(typed_copies);
    }

    /// During replay, at a checkpoint's end marker: the copies replace what was set aside.
    pub fn replay_checkpoint_end(&self) {
        let mut st = self.state.write();
        st.spans.checkpoint_end();
        st.events.checkpoint_end();
    }

    /// During replay, at an abort marker (or at the end of the log inside a checkpoint): the
    /// partial copies are dropped and the rows set aside come back (with typed copies, the
    /// rows appended during the checkpoint stay). Returns whether there was a checkpoint to
    /// abort.
    pub fn replay_checkpoint_abort(&self) -> bool {
        let mut st = self.state.write();
        let spans = st.spans.checkpoint_abort();
        let events = st.events.checkpoint_abort();
        spans || events
    }
}
