//! Events (OTLP log records, GenAI events) through the `Db`: appended through the shared
//! WAL under the append gate, sealed, checkpointed and expired with the spans.

use super::Db;
use crate::error::{Error, Result};
use crate::otlp;
use crate::spans::{EventAppendOutcome, EventFilter, EventHit, LogEvent, TimeRules};

impl Db {
    /// Appends events: logged to the WAL (acknowledged per the sync policy), then queryable.
    /// A record with neither time nor observed time set is stamped with the clock's now as
    /// its observed time (as the OTLP specification asks of receivers). Events too far ahead
    /// of the clock are refused (and, with `Options::reject_outside_retention`, those older
    /// than their bucket keeps): counted in the outcome, the rest stored. Malformed events
    /// fail the whole batch.
    pub fn append_events(&self, mut events: Vec<LogEvent>) -> Result<EventAppendOutcome> {
        self.check_open()?;
        let now_ms = self.core.options.clock.now_ms();
        for e in events.iter_mut().filter(|e| e.timestamp_ns() == 0) {
            e.observed_ns = now_ms.saturating_mul(1_000_000);
        }
        let rules = TimeRules {
            now_ms,
            future_tolerance_ms: self.core.options.future_tolerance_ms,
            reject_outside_retention: self.core.options.reject_outside_retention,
        };
        let (events, screened) = self.core.spans.screen_events(events, rules);
        let _gate = self.core.append_gate.read();
        let stored = if events.is_empty() {
            EventAppendOutcome::default()
        } else {
            self.core.spans.append_events(&self.core.wal, events)?
        };
        Ok(EventAppendOutcome {
            events: stored.events,
            position: stored.position,
            ..screened
        })
    }

    /// Decodes an OTLP `ExportLogsServiceRequest` and appends its records as events.
    pub fn import_otlp_logs(&self, payload: &[u8]) -> Result<EventAppendOutcome> {
        let events = otlp::decode_logs(payload).map_err(|source| Error::Otlp {
            signal: "logs",
            source,
        })?;
        self.append_events(events)
    }

    /// Events matching `filter` (by trace, span, service, model, provider, name, time and
    /// attributes), oldest first.
    pub fn find_events(&self, filter: &EventFilter) -> Result<Vec<EventHit>> {
        self.check_open()?;
        Ok(self.core.spans.find_events(filter)?)
    }

    /// Every event of a trace, oldest first, with its stored content.
    pub fn trace_events(&self, trace_id: &[u8; 16]) -> Result<Vec<EventHit>> {
        self.check_open()?;
        Ok(self.core.spans.trace_events(trace_id)?)
    }

    /// The events of one span, oldest first, with their stored content.
    pub fn span_events(&self, trace_id: &[u8; 16], span_id: &[u8; 8]) -> Result<Vec<EventHit>> {
        self.find_events(&EventFilter {
            trace_id: Some(*trace_id),
            span_id: Some(*span_id),
            with_content: true,
            ..EventFilter::default()
        })
    }
}
