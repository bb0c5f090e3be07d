//! The event table: OTLP log records (GenAI events) beside the spans, in the same buckets,
//! windows and seals, durable through the same WAL (`RecordType::EVENTS`) and the same seal
//! and checkpoint markers. Layout: `docs/format/events.md`.

mod codec;
pub mod json;
mod model;
mod partition;
mod query;
mod seal;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use strata_wal::{Position, RecordType, Wal};

pub use codec::{
    EVENTS_PAYLOAD_VERSION, decode_events_payload, encode_events_copy_payload,
    encode_events_payload,
};
pub(crate) use model::EventRow;
pub use model::{EventHit, LogEvent};
pub use partition::{
    EVENT_DIR_PREFIX, EVENT_GROUP_ROWS, EVENT_PARTITION_VERSION, EventPartition, EventPartitionMeta,
};
pub use query::EventFilter;

use super::config::{Router, SpanConfig};
use super::{SpanStore, TimeRules, WindowKey, genai, window_of};
use crate::error::{Error, Result};

/// What an event append did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventAppendOutcome {
    /// Events stored.
    pub events: usize,
    /// Position of the last WAL record written.
    pub position: Position,
    /// Events refused (too far ahead of the clock, or outside retention when that is
    /// refused), with the first reason; the rest of the batch is stored.
    pub rejected: usize,
    pub first_rejection: Option<String>,
    /// Stored events already older than their bucket's retention.
    pub outside_retention: usize,
}

/// Figures for stats and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventStats {
    pub open_events: u64,
    pub sealed_events: u64,
    pub sealed_partitions: u64,
    /// Every byte of the sealed event partitions, content included.
    pub sealed_bytes: u64,
    pub content_rows: u64,
    /// Bytes of the sealed content files.
    pub content_bytes: u64,
}

impl SpanStore {
    fn validate_events(&self, events: &[LogEvent]) -> Result<()> {
        for (i, e) in events.iter().enumerate() {
            let attrs = e.attributes.len() + e.resource.len();
            if attrs > self.options.max_attributes_per_span {
                return Err(Error::InvalidEvent {
                    index: i,
                    detail: format!(
                        "{attrs} attributes, more than the limit {}",
                        self.options.max_attributes_per_span
                    ),
                });
            }
            if e.timestamp_ns() == 0 {
                return Err(Error::InvalidEvent {
                    index: i,
                    detail: "neither time nor observed time is set".into(),
                });
            }
        }
        Ok(())
    }

    /// Splits off the events `rules` refuse and counts those stored outside retention (as
    /// [`SpanStore::screen`] does for spans).
    pub fn screen_events(
        &self,
        events: Vec<LogEvent>,
        rules: TimeRules,
    ) -> (Vec<LogEvent>, EventAppendOutcome) {
        let mut out = EventAppendOutcome::default();
        let max_ms = rules.now_ms.saturating_add(rules.future_tolerance_ms);
        let st = self.state.read();
        let mut kept = Vec::with_capacity(events.len());
        for e in events {
            let t_ms = e.timestamp_ns().div_euclid(1_000_000);
            let what = || format!("event {}", super::hex16(&e.trace_id));
            if t_ms > max_ms {
                let err = Error::TooFarInFuture {
                    what: what(),
                    timestamp_ms: t_ms,
                    max_ms,
                };
                out.rejected += 1;
                out.first_rejection.get_or_insert(err.to_string());
                continue;
            }
            let bucket = st.router.route_event(&e);
            let cutoff = st
                .config
                .buckets
                .iter()
                .find(|b| b.name == bucket)
                .map_or(i64::MIN, |b| rules.now_ms.saturating_sub(b.retention_ms));
            let window_end = window_of(e.timestamp_ns(), self.options.partition_ms)
                .saturating_add(self.options.partition_ms);
            if window_end <= cutoff {
                if rules.reject_outside_retention {
                    let err = Error::OutsideRetention {
                        what: what(),
                        timestamp_ms: t_ms,
                        cutoff_ms: cutoff,
                        bucket: bucket.to_owned(),
                    };
                    out.rejected += 1;
                    out.first_rejection.get_or_insert(err.to_string());
                    continue;
                }
                out.outside_retention += 1;
            }
            kept.push(e);
        }
        (kept, out)
    }

    /// Gives `events` their ids, makes them durable (EVENTS WAL records, split at
    /// `max_spans_per_record`) and applies them. A refused batch writes nothing.
    pub fn append_events(
        &self,
        wal: &Wal,
        mut events: Vec<LogEvent>,
    ) -> Result<EventAppendOutcome> {
        self.validate_events(&events)?;
        let first = self
            .next_event_id
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        for (e, id) in events.iter_mut().zip(first..) {
            e.id = id;
        }
        let mut position = Position::ZERO;
        for chunk in events.chunks(self.options.max_spans_per_record.max(1)) {
            let payload = encode_events_payload(chunk);
            if payload.len() > strata_wal::MAX_RECORD_LEN {
                return Err(Error::Limit {
                    what: "bytes in one WAL record of events (send smaller batches)",
                    limit: strata_wal::MAX_RECORD_LEN as u64,
                    actual: payload.len() as u64,
                });
            }
            position = wal.append(RecordType::EVENTS, &payload)?;
        }
        let n = events.len();
        self.apply_events(events);
        Ok(EventAppendOutcome {
            events: n,
            position,
            ..EventAppendOutcome::default()
        })
    }

    /// Applies events without the WAL (tests; data durable elsewhere). Ids are assigned.
    pub fn insert_events_unlogged(&self, mut events: Vec<LogEvent>) -> Result<()> {
        self.validate_events(&events)?;
        let first = self
            .next_event_id
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        for (e, id) in events.iter_mut().zip(first..) {
            e.id = id;
        }
        self.apply_events(events);
        Ok(())
    }

    fn apply_events(&self, events: Vec<LogEvent>) {
        let mut st = self.state.write();
        let st = &mut *st;
        for e in events {
            let (key, row) = self.event_row_of(e, &st.config, &st.router);
            st.events.open.entry(key).or_default().push(row);
        }
    }

    /// Applies one EVENTS WAL record during replay.
    pub fn replay_events_record(&self, payload: &[u8]) -> Result<()> {
        let events = decode_events_payload(payload)
            .map_err(|e| Error::corrupt(&self.root, format!("EVENTS WAL record: {e}")))?;
        let max_id = events.iter().map(|e| e.id).max();
        let mut st = self.state.write();
        let st = &mut *st;
        let mut rows = BTreeMap::new();
        for e in events {
            let (key, row) = self.event_row_of(e, &st.config, &st.router);
            rows.entry(key).or_insert_with(Vec::new).push(row);
        }
        st.events
            .replay_rows(rows, super::codec::is_copy_payload(payload));
        if let Some(m) = max_id {
            self.next_event_id.fetch_max(m + 1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The window an event belongs in and its row (content split off, GenAI columns).
    fn event_row_of(
        &self,
        mut event: LogEvent,
        config: &SpanConfig,
        router: &Router,
    ) -> (WindowKey, EventRow) {
        // Older SDKs name the event in an attribute, not the LogRecord field.
        if event.event_name.is_empty()
            && let Some(super::AttrValue::Str(name)) = event.attribute("event.name")
        {
            event.event_name = name.clone();
        }
        let content = genai::split_content(&mut event.attributes);
        let mut g = genai::from_attributes(&event.attributes, &event.resource);
        g.cost_usd = config.prices.cost(&g);
        let bucket = router.route_event(&event).to_owned();
        let window = window_of(event.timestamp_ns(), self.options.partition_ms);
        let row = EventRow {
            event,
            genai: g,
            content,
        };
        ((bucket, window), row)
    }

    /// Whether any span or event is still only in memory (a seal has work).
    pub fn has_open_rows(&self) -> bool {
        let st = self.state.read();
        !st.spans.open.is_empty() || !st.events.open.is_empty()
    }

    pub fn event_stats(&self) -> EventStats {
        let st = self.state.read();
        let parts = &st.event_parts;
        EventStats {
            open_events: st.events.row_count(),
            sealed_events: parts.iter().map(|p| u64::from(p.meta.rows)).sum(),
            sealed_partitions: parts.len() as u64,
            sealed_bytes: parts.iter().map(|p| p.bytes_on_disk).sum(),
            content_rows: parts.iter().map(|p| u64::from(p.meta.content_rows)).sum(),
            content_bytes: parts.iter().map(|p| p.content_bytes).sum(),
        }
    }

    /// Metadata of the sealed event partitions.
    pub fn event_partitions(&self) -> Vec<EventPartitionMeta> {
        let st = self.state.read();
        st.event_parts.iter().map(|p| p.meta.clone()).collect()
    }
}
