//! The span part of a WAL checkpoint: counting the rows at its begin marker, then copying
//! exactly those with appends going on.

use super::*;

/// Each in-memory window and its row count when a checkpoint began
/// ([`SpanStore::checkpoint_marks`]).
#[derive(Debug, Clone, Default)]
pub struct CheckpointMarks {
    spans: Vec<(WindowKey, usize)>,
    events: Vec<(WindowKey, usize)>,
}

impl SpanStore {
    /// For a checkpoint, with appends paused: how many rows each in-memory window holds now.
    /// Rows are only appended to a window between seals, so [`Self::copy_payloads`] later
    /// copies exactly the spans that were in memory at this moment.
    pub fn checkpoint_marks(&self) -> CheckpointMarks {
        let st = self.state.read();
        CheckpointMarks {
            spans: st.spans.rows().map(|(k, v)| (k.clone(), v.len())).collect(),
            events: st
                .events
                .rows()
                .map(|(k, v)| (k.clone(), v.len()))
                .collect(),
        }
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
        for (key, count) in &marks.spans {
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
        st.spans
            .slice(key, from, to)
            .iter()
            .map(Row::span_with_content)
            .collect()
    }

    /// The checkpoint's copies of the events `marks` counted, as flagged EVENTS payloads
    /// (content put back), handed to `emit` one at a time, as [`Self::copy_payloads`].
    pub fn copy_event_payloads<E>(
        &self,
        marks: &CheckpointMarks,
        mut emit: impl FnMut(Vec<u8>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let per_record = self.options.max_spans_per_record.max(1);
        for (key, count) in &marks.events {
            let mut from = 0;
            while from < *count {
                let to = (from + per_record).min(*count);
                let batch: Vec<LogEvent> = {
                    let st = self.state.read();
                    let rows = st.events.slice(key, from, to);
                    rows.iter().map(EventRow::event_with_content).collect()
                };
                if batch.is_empty() {
                    break;
                }
                from = to;
                emit(events::encode_events_copy_payload(&batch))?;
            }
        }
        Ok(())
    }
}
