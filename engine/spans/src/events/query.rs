//! Event queries: the events of a trace or of a span, and events by service, model,
//! provider, name, time range and attribute matchers. In-memory rows and sealed partitions
//! are merged; partitions are pruned by time and by their trace index before any column is
//! decoded.

use std::collections::BTreeMap;

use strata_index::Matcher;

use super::model::{EventHit, LogEvent};
use crate::error::Result;
use crate::genai::GenAi;
use crate::model::{AttrValue, KeyValue};
use crate::{SpanStore, State};

/// Which events to find. Times filter on [`LogEvent::timestamp_ns`], `[start_ns, end_ns)`;
/// `None` means "any".
#[derive(Debug, Clone, PartialEq)]
pub struct EventFilter {
    pub start_ns: i64,
    pub end_ns: i64,
    pub trace_id: Option<[u8; 16]>,
    pub span_id: Option<[u8; 8]>,
    pub service: Option<String>,
    /// Request model, else response model.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub operation: Option<String>,
    pub event_name: Option<String>,
    pub error_type: Option<String>,
    /// Conditions on attributes, as for spans: the event attribute of the matcher's name,
    /// else the resource attribute, by its text form; absent is `""`. Content is not searched.
    pub attributes: Vec<Matcher>,
    /// Also return each event's stored content.
    pub with_content: bool,
    /// The newest `limit` events are returned (all of a trace's when `trace_id` is set),
    /// oldest first.
    pub limit: usize,
}

impl Default for EventFilter {
    fn default() -> Self {
        EventFilter {
            start_ns: i64::MIN,
            end_ns: i64::MAX,
            trace_id: None,
            span_id: None,
            service: None,
            model: None,
            provider: None,
            operation: None,
            event_name: None,
            error_type: None,
            attributes: Vec::new(),
            with_content: false,
            limit: 100,
        }
    }
}

impl EventFilter {
    fn matches(&self, e: &LogEvent, g: &GenAi) -> bool {
        let eq = |f: &Option<String>, v: &str| f.as_deref().is_none_or(|f| f == v);
        let t = e.timestamp_ns();
        t >= self.start_ns
            && t < self.end_ns
            && self.trace_id.is_none_or(|x| x == e.trace_id)
            && self.span_id.is_none_or(|x| x == e.span_id)
            && eq(&self.service, &g.service)
            && eq(&self.model, g.model())
            && eq(&self.provider, &g.provider)
            && eq(&self.operation, &g.operation)
            && eq(&self.event_name, &e.event_name)
            && eq(&self.error_type, &g.error_type)
            && self.attributes.iter().all(|m| {
                let v = e
                    .attribute(m.name())
                    .or_else(|| e.resource_attribute(m.name()))
                    .map(AttrValue::to_text)
                    .unwrap_or_default();
                m.matches(&v)
            })
    }
}

/// A hit before its content is looked up: the window it is in, whether content was stored.
type Pending = (i64, bool, EventHit);

impl SpanStore {
    /// Events matching `filter`, oldest first (see [`EventFilter::limit`]).
    pub fn find_events(&self, filter: &EventFilter) -> Result<Vec<EventHit>> {
        let st = self.state.read();
        let mut hits = Self::matching_events(&st, filter)?;
        hits.sort_by_key(|(_, _, h)| (h.event.timestamp_ns(), h.event.id));
        if filter.trace_id.is_none() && hits.len() > filter.limit {
            hits.drain(..hits.len() - filter.limit);
        }
        if filter.with_content {
            Self::fill_content(&st, &mut hits)?;
        }
        Ok(hits.into_iter().map(|(.., h)| h).collect())
    }

    /// Every event of `trace_id`, oldest first, with its content.
    pub fn trace_events(&self, trace_id: &[u8; 16]) -> Result<Vec<EventHit>> {
        self.find_events(&EventFilter {
            trace_id: Some(*trace_id),
            with_content: true,
            ..EventFilter::default()
        })
    }

    fn matching_events(st: &State, filter: &EventFilter) -> Result<Vec<Pending>> {
        let mut out = Vec::new();
        for ((bucket, window), rows) in st.events.rows() {
            for r in rows.iter().filter(|r| filter.matches(&r.event, &r.genai)) {
                let hit = EventHit {
                    bucket: bucket.clone(),
                    event: r.event.clone(),
                    genai: r.genai.clone(),
                    content: r.content.clone(),
                };
                // In-memory content is already there.
                out.push((*window, false, hit));
            }
        }
        for p in &st.event_parts {
            if p.meta.rows == 0
                || p.meta.max_time_ns < filter.start_ns
                || p.meta.min_time_ns >= filter.end_ns
            {
                continue;
            }
            let groups = match &filter.trace_id {
                Some(t) => p.groups_of_trace(t),
                None => (0..p.groups()).collect(),
            };
            for g in groups {
                if !p.group_overlaps(g, filter.start_ns, filter.end_ns) {
                    continue;
                }
                for (event, genai, has) in p.read_group(g, filter.trace_id.as_ref())? {
                    if filter.matches(&event, &genai) {
                        let hit = EventHit {
                            bucket: p.meta.bucket.clone(),
                            event,
                            genai,
                            content: Vec::new(),
                        };
                        out.push((p.meta.window_start_ms, has, hit));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Looks up the content of sealed hits that have some: in any event partition of the
    /// same window (their own, or the content bucket's).
    fn fill_content(st: &State, hits: &mut [Pending]) -> Result<()> {
        let mut wanted: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
        for (window, has, h) in hits.iter() {
            if *has {
                wanted.entry(*window).or_default().push(h.event.id);
            }
        }
        let mut found: BTreeMap<u64, Vec<KeyValue>> = BTreeMap::new();
        for (window, mut ids) in wanted {
            ids.sort_unstable();
            for p in st
                .event_parts
                .iter()
                .filter(|p| p.meta.window_start_ms == window)
            {
                found.extend(p.content_of(&ids)?);
            }
        }
        for (_, has, h) in hits.iter_mut() {
            if *has && let Some(c) = found.remove(&h.event.id) {
                h.content = c;
            }
        }
        Ok(())
    }
}
