//! The in-memory side of a table (spans or events): rows by (bucket, window) not yet sealed,
//! windows a seal is encoding, and the replay state of the seal and checkpoint protocols
//! (`docs/format/block.md`, "Checkpoint"). One copy of the protocol for both tables.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::WindowKey;

/// Rows by window.
pub(crate) type Windows<R> = BTreeMap<WindowKey, Vec<R>>;

/// Appends `more`'s rows to `into`, window by window.
pub(crate) fn merge_rows<R>(into: &mut Windows<R>, more: Windows<R>) {
    for (key, rows) in more {
        into.entry(key).or_default().extend(rows);
    }
}

#[derive(Debug)]
pub(crate) struct Memory<R> {
    /// In-memory rows by (bucket, window start ms).
    pub(crate) open: Windows<R>,
    /// Windows a seal is encoding right now (no lock held while it does): still in memory,
    /// and queries see them, until their partitions are swapped in.
    pub(crate) sealing: BTreeMap<WindowKey, Arc<Vec<R>>>,
    /// During replay, between a "sealing" marker and its "sealed" marker: the rows that seal
    /// took (logged before its marker). Dropped at the "sealed" marker; back in `open` if the
    /// log ends first (the seal never finished and its partitions are not on disk).
    pub(crate) replay_sealing: Option<Windows<R>>,
    /// During replay, inside a checkpoint's copies: the rows replayed before its begin
    /// marker, kept until its end marker proves the copies complete.
    pub(crate) stash: Option<Windows<R>>,
    /// During replay, inside a checkpoint whose copies are flagged: the copies so far.
    pub(crate) replay_copies: Option<Windows<R>>,
}

impl<R> Default for Memory<R> {
    fn default() -> Self {
        Memory {
            open: BTreeMap::new(),
            sealing: BTreeMap::new(),
            replay_sealing: None,
            stash: None,
            replay_copies: None,
        }
    }
}

impl<R: Clone> Memory<R> {
    /// Every row still only in memory: open windows, then windows being sealed.
    pub(crate) fn rows(&self) -> impl Iterator<Item = (&WindowKey, &[R])> {
        let open = self.open.iter().map(|(k, v)| (k, v.as_slice()));
        open.chain(self.sealing.iter().map(|(k, v)| (k, v.as_slice())))
    }

    pub(crate) fn row_count(&self) -> u64 {
        self.rows().map(|(_, v)| v.len() as u64).sum()
    }

    /// Open windows ending at or before `upto_ms` that no seal is encoding.
    pub(crate) fn sealable(&self, width: i64, upto_ms: i64) -> Vec<WindowKey> {
        self.open
            .keys()
            .filter(|(_, w)| w.saturating_add(width) <= upto_ms)
            .filter(|k| !self.sealing.contains_key(*k))
            .cloned()
            .collect()
    }

    /// Ends a seal that will not write its partitions: the rows of `keys` go back to `open`,
    /// before any rows of the same windows appended since.
    pub(crate) fn unseal(&mut self, keys: &[WindowKey]) {
        for key in keys {
            if let Some(rows) = self.sealing.remove(key) {
                let rows = Arc::try_unwrap(rows).unwrap_or_else(|a| (*a).clone());
                let open = self.open.entry(key.clone()).or_default();
                let newer = std::mem::replace(open, rows);
                open.extend(newer);
            }
        }
    }

    /// Rows `from..to` of an in-memory window (fewer if it holds fewer).
    pub(crate) fn slice(&self, key: &WindowKey, from: usize, to: usize) -> &[R] {
        let rows = self
            .open
            .get(key)
            .map(Vec::as_slice)
            .or_else(|| self.sealing.get(key).map(|v| v.as_slice()))
            .unwrap_or(&[]);
        rows.get(from..to.min(rows.len())).unwrap_or(&[])
    }

    /// Replay of a record's rows: into the checkpoint's copies when `copy` and a typed
    /// checkpoint is open, else into `open`.
    pub(crate) fn replay_rows(&mut self, rows: Windows<R>, copy: bool) {
        match self.replay_copies.as_mut() {
            Some(copies) if copy => merge_rows(copies, rows),
            _ => merge_rows(&mut self.open, rows),
        }
    }

    /// At a "sealed through `floor_ms`" marker (see `SpanStore::forget_unsealed_through`).
    pub(crate) fn forget_unsealed_through(&mut self, width: i64, floor_ms: i64) {
        if self.replay_sealing.take().is_none() {
            self.open
                .retain(|(_, window), _| window.saturating_add(width) > floor_ms);
        }
    }

    /// At a "sealing" marker (see `SpanStore::forget_sealed_since`): `written` are the
    /// windows with a partition of the seal's sequence numbers (or later) on disk.
    pub(crate) fn forget_sealed_since(
        &mut self,
        width: i64,
        through_ms: i64,
        written: &HashSet<WindowKey>,
    ) {
        // A seal before this one never finished: what it took is unsealed.
        self.restore_replay_sealing();
        let mut taken = BTreeMap::new();
        for (key, rows) in std::mem::take(&mut self.open) {
            if key.1.saturating_add(width) > through_ms {
                self.open.insert(key, rows);
            } else if !written.contains(&key) {
                taken.insert(key, rows);
            }
        }
        self.replay_sealing = Some(taken);
    }

    pub(crate) fn restore_replay_sealing(&mut self) {
        for (key, rows) in self.replay_sealing.take().unwrap_or_default() {
            let open = self.open.entry(key).or_default();
            // Taken rows were logged before anything replayed into `open` since.
            let newer = std::mem::replace(open, rows);
            open.extend(newer);
        }
    }

    pub(crate) fn checkpoint_begin(&mut self, typed_copies: bool) {
        self.checkpoint_abort();
        self.stash = Some(std::mem::take(&mut self.open));
        self.replay_copies = typed_copies.then(BTreeMap::new);
    }

    pub(crate) fn checkpoint_end(&mut self) {
        self.stash = None;
        if let Some(copies) = self.replay_copies.take() {
            let appended = std::mem::replace(&mut self.open, copies);
            merge_rows(&mut self.open, appended);
        }
    }

    pub(crate) fn checkpoint_abort(&mut self) -> bool {
        let Some(stash) = self.stash.take() else {
            return false;
        };
        let after_begin = std::mem::replace(&mut self.open, stash);
        if self.replay_copies.take().is_some() {
            merge_rows(&mut self.open, after_begin);
        }
        true
    }
}
