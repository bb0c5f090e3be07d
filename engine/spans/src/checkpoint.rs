//! The span part of a WAL checkpoint: counting the rows at its begin marker, then copying
//! exactly those with appends going on.

use super::*;

/// Each in-memory window and its row count when a checkpoint began
/// ([`SpanStore::checkpoint_marks`]).
#[derive(Debug, Clone, Default)]
pub struct CheckpointMarks(Vec<(WindowKey, usize)>);

impl SpanStore {
    /// For a checkpoint, with appends paused: how many rows each in-memory window holds now.
    /// Rows are only appended to a window between seals, so [`Self::copy_payloads`] later
    /// copies exactly the spans that were in memory at this moment.
    pub fn checkpoint_marks(&self) -> CheckpointMarks {
        let st = self.state.read();
        CheckpointMarks(
            st.memory_rows()
                .map(|(k, v)| (k.clone(), v.len()))
                .collect(),
        )
    }

    /// The checkpoint's copies of the spans `marks` counted, as flagged WAL payloads of at
    /// most `max_spans_per_record` spans, handed to `emit` one at a time. The state lock is
    /// held only while a payload's spans are cloned: appends go on meanwhile. Callers hold
    /// off seals and retention (the engine's maintenance lock) until it returns.
    pub fn copy_payloads<E>(
        &self,
        marks: &CheckpointMarks,
        mut emit: impl FnMut(Vec<u8>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let per_record = self.options.max_spans_per_record.max(1);
        for (key, count) in &marks.0 {
            let mut from = 0;
            while from < *count {
                let to = (from + per_record).min(*count);
                let batch = self.clone_rows(key, from, to);
                if batch.is_empty() {
                    break;
                }
                from = to;
                emit(codec::encode_copy_payload(&batch))?;
            }
        }
        Ok(())
    }

    /// Rows `from..to` of an in-memory window as spans with their content (fewer if the
    /// window holds fewer).
    fn clone_rows(&self, key: &WindowKey, from: usize, to: usize) -> Vec<Span> {
        let st = self.state.read();
        let rows = st
            .open
            .get(key)
            .map(Vec::as_slice)
            .or_else(|| st.sealing.get(key).map(|v| v.as_slice()))
            .unwrap_or(&[]);
        let to = to.min(rows.len());
        rows.get(from..to)
            .unwrap_or(&[])
            .iter()
            .map(Row::span_with_content)
            .collect()
    }
}
