//! WAL replay of span records and of the seal and checkpoint markers (`docs/format/block.md`,
//! "Checkpoint", and the seal protocol).

use super::*;

/// Appends `more`'s rows to `into`, window by window.
fn merge_rows(into: &mut BTreeMap<WindowKey, Vec<Row>>, more: BTreeMap<WindowKey, Vec<Row>>) {
    for (key, rows) in more {
        into.entry(key).or_default().extend(rows);
    }
}

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
        match st.replay_copies.as_mut() {
            Some(copies) if codec::is_copy_payload(payload) => merge_rows(copies, rows),
            _ => merge_rows(&mut st.open, rows),
        }
        Ok(())
    }

    /// During replay, at a "sealed through `floor_ms`" marker: the seal whose "sealing"
    /// marker came before is complete, so the spans it took are in partitions; forget them.
    /// Spans logged after that "sealing" marker (appended while the seal ran) stay. A log
    /// without a "sealing" marker before it (written when seals paused appends, or an old
    /// checkpoint's `i64::MAX`): every span replayed so far in windows ending at or before
    /// `floor_ms` is sealed.
    pub fn forget_unsealed_through(&self, floor_ms: i64) {
        let width = self.options.partition_ms;
        let mut st = self.state.write();
        if st.replay_sealing.take().is_none() {
            st.open
                .retain(|(_, window), _| window.saturating_add(width) > floor_ms);
        }
    }

    /// During replay, at a "sealing" marker: forget the spans replayed so far whose bucket
    /// and window (ending at or before `through_ms`) have a partition numbered `first_seq` or
    /// later on disk — that seal (or a later one) wrote them, whether or not its "sealed"
    /// marker made it into the log. The rest of those windows' spans are what the seal took:
    /// set aside until its "sealed" marker (then dropped) or the end of the log (then back).
    pub fn forget_sealed_since(&self, through_ms: i64, first_seq: u64) {
        let width = self.options.partition_ms;
        let mut st = self.state.write();
        let st = &mut *st;
        // A seal before this one never finished: what it took is unsealed.
        Self::restore_replay_sealing(st);
        let written: std::collections::HashSet<(String, i64)> = st
            .sealed
            .iter()
            .filter(|p| p.seq().is_some_and(|s| s >= first_seq))
            .map(|p| (p.meta.bucket.clone(), p.meta.window_start_ms))
            .collect();
        let mut taken = BTreeMap::new();
        for (key, rows) in std::mem::take(&mut st.open) {
            if key.1.saturating_add(width) > through_ms {
                st.open.insert(key, rows);
            } else if !written.contains(&key) {
                taken.insert(key, rows);
            }
        }
        st.replay_sealing = Some(taken);
    }

    /// At the end of replay: a seal whose "sealed" marker never came left its spans unsealed.
    pub fn replay_finish(&self) {
        Self::restore_replay_sealing(&mut self.state.write());
    }

    fn restore_replay_sealing(st: &mut State) {
        for (key, rows) in st.replay_sealing.take().unwrap_or_default() {
            let open = st.open.entry(key).or_default();
            // Taken rows were logged before anything replayed into `open` since.
            let newer = std::mem::replace(open, rows);
            open.extend(newer);
        }
    }

    /// During replay, at a checkpoint's begin marker: set the spans replayed so far aside.
    /// With `typed_copies` (checkpoints that copy with appends going on) the copies are the
    /// payloads flagged as copies and collect apart, while spans appended meanwhile replay
    /// as usual; without (older logs: appends paused) every span record up to the end marker
    /// is a copy. A begin while a checkpoint is open aborts that one first.
    pub fn replay_checkpoint_begin(&self, typed_copies: bool) {
        self.replay_checkpoint_abort();
        let mut st = self.state.write();
        let open = std::mem::take(&mut st.open);
        st.stash = Some(open);
        st.replay_copies = typed_copies.then(BTreeMap::new);
    }

    /// During replay, at a checkpoint's end marker: the copies replace what was set aside.
    pub fn replay_checkpoint_end(&self) {
        let mut st = self.state.write();
        st.stash = None;
        if let Some(copies) = st.replay_copies.take() {
            let appended = std::mem::replace(&mut st.open, copies);
            merge_rows(&mut st.open, appended);
        }
    }

    /// During replay, at an abort marker (or at the end of the log inside a checkpoint): the
    /// partial copies are dropped and the spans set aside come back (with typed copies, the
    /// spans appended during the checkpoint stay). Returns whether there was a checkpoint to
    /// abort.
    pub fn replay_checkpoint_abort(&self) -> bool {
        let mut st = self.state.write();
        let Some(stash) = st.stash.take() else {
            return false;
        };
        let after_begin = std::mem::replace(&mut st.open, stash);
        if st.replay_copies.take().is_some() {
            merge_rows(&mut st.open, after_begin);
        }
        true
    }
}
