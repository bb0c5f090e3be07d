//! Span queries: find, trace by id, GenAI aggregates. In-memory spans and sealed partitions
//! are merged; partitions are pruned by time and by their label index before any column is
//! decoded.

use std::collections::BTreeMap;

use strata_index::{Matcher, RoaringBitmap};

use super::found::{Builder, FoundSpans};
use super::genai::GenAi;
use super::model::{AttrValue, KeyValue, Span, StatusCode};
use super::partition::Row;
use super::partition::{Hot, Partition};
use super::rollup::{Collector, RollupKey, Totals};
use super::{SpanStore, State};
use crate::error::Result;

/// Result order of [`SpanStore::find`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Newest,
    Slowest,
    /// Error spans first, then slowest.
    FailedFirst,
}

/// Which spans to find. Times filter on the span start, `[start_ns, end_ns)`; empty strings
/// and `None` mean "any".
#[derive(Debug, Clone, PartialEq)]
pub struct SpanFilter {
    pub start_ns: i64,
    pub end_ns: i64,
    pub service: Option<String>,
    /// Request model, else response model.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub operation: Option<String>,
    pub status: Option<StatusCode>,
    pub error_type: Option<String>,
    pub min_duration_ns: Option<i64>,
    /// Conditions on attributes: each matcher tests the span attribute of its name, else the
    /// resource attribute, by its text form (arrays joined by `,`); an absent attribute is
    /// `""`, so `key!=""` asks for spans that have it. Prompt/completion content is not
    /// searched.
    pub attributes: Vec<Matcher>,
    pub order: Order,
    pub limit: usize,
}

impl Default for SpanFilter {
    fn default() -> Self {
        SpanFilter {
            start_ns: i64::MIN,
            end_ns: i64::MAX,
            service: None,
            model: None,
            provider: None,
            operation: None,
            status: None,
            error_type: None,
            min_duration_ns: None,
            attributes: Vec::new(),
            order: Order::Newest,
            limit: 100,
        }
    }
}

/// A span found. `find` returns the hot columns only (attributes, events and links empty);
/// `trace` returns whole spans and their stored content.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanHit {
    pub bucket: String,
    pub span: Span,
    pub genai: GenAi,
    pub content: Vec<KeyValue>,
}

impl SpanFilter {
    fn dims(&self) -> Vec<(&'static str, &str)> {
        let mut d = Vec::new();
        for (k, v) in [
            ("service", &self.service),
            ("model", &self.model),
            ("provider", &self.provider),
            ("operation", &self.operation),
            ("error_type", &self.error_type),
        ] {
            if let Some(v) = v {
                d.push((k, v.as_str()));
            }
        }
        if let Some(s) = self.status {
            d.push(("status", s.as_str()));
        }
        d.retain(|(k, v)| super::partition::indexed(k, v));
        d
    }

    /// Whether partition rollups can answer this filter (it names only rollup dimensions).
    fn rollup_ok(&self) -> bool {
        self.min_duration_ns.is_none() && self.attributes.is_empty()
    }

    /// Whether the span's attributes (else its resource's) satisfy every attribute matcher.
    fn matches_attributes(&self, s: &Span) -> bool {
        self.attributes.iter().all(|m| {
            let v = s
                .attribute(m.name())
                .or_else(|| s.resource_attribute(m.name()))
                .map(AttrValue::to_text)
                .unwrap_or_default();
            m.matches(&v)
        })
    }

    /// The dimension conditions (everything but time, duration and attributes) on a span's
    /// service, model, provider, operation, error type and status code.
    fn matches_dims(&self, d: [&str; 5], status: i64) -> bool {
        let eq = |f: &Option<String>, v: &str| f.as_deref().is_none_or(|f| f == v);
        eq(&self.service, d[0])
            && eq(&self.model, d[1])
            && eq(&self.provider, d[2])
            && eq(&self.operation, d[3])
            && eq(&self.error_type, d[4])
            && self.status.is_none_or(|st| i64::from(st.as_u8()) == status)
    }

    /// The time range and minimum duration conditions.
    fn matches_times(&self, start_ns: i64, duration_ns: i64) -> bool {
        start_ns >= self.start_ns
            && start_ns < self.end_ns
            && self.min_duration_ns.is_none_or(|m| duration_ns >= m)
    }

    fn matches_key(&self, k: &RollupKey) -> bool {
        let d = [
            &k.service,
            &k.model,
            &k.provider,
            &k.operation,
            &k.error_type,
        ];
        self.matches_dims(d.map(String::as_str), i64::from(k.status))
    }

    /// [`Self::matches`] on decoded hot columns, without building the span.
    fn matches_hot(&self, h: &Hot, i: usize) -> bool {
        let model = if h.request_model[i].is_empty() {
            &h.response_model[i]
        } else {
            &h.request_model[i]
        };
        let d = [
            &h.service[i],
            model,
            &h.provider[i],
            &h.operation[i],
            &h.error_type[i],
        ];
        self.matches_times(h.start_ns[i], h.duration_ns[i].max(0))
            && self.matches_dims(d.map(String::as_str), h.status[i])
    }

    fn matches(&self, s: &Span, g: &GenAi) -> bool {
        let d = [
            g.service.as_str(),
            g.model(),
            g.provider.as_str(),
            g.operation.as_str(),
            g.error_type.as_str(),
        ];
        self.matches_times(s.start_ns, s.duration_ns())
            && self.matches_dims(d, i64::from(s.status_code.as_u8()))
            && self.matches_attributes(s)
    }
}

/// Row groups of a partition that may hold spans with `dims`, from its label index.
fn candidate_groups(p: &Partition, dims: &[(&'static str, &str)]) -> Result<Vec<usize>> {
    let mut acc: Option<RoaringBitmap> = None;
    for (k, v) in dims {
        let b = p.group_postings(k, v)?;
        let a = match acc {
            None => b,
            Some(a) => a & b,
        };
        if a.is_empty() {
            return Ok(Vec::new());
        }
        acc = Some(a);
    }
    Ok(match acc {
        Some(a) => a
            .iter()
            .map(|g| g as usize)
            .filter(|g| *g < p.groups())
            .collect(),
        None => (0..p.groups()).collect(),
    })
}

/// Decodes the candidate groups of each partition in the filter's time range (but those
/// `skip` names) and calls `f` with each group's hot columns and each row matching the filter.
fn for_each_sealed_match<'s>(
    st: &'s State,
    filter: &SpanFilter,
    skip: &dyn Fn(&Partition) -> bool,
    f: &mut dyn FnMut(&'s Partition, &Hot, usize),
    mut keep: impl FnMut(&'s Partition, Hot),
) -> Result<()> {
    let dims = filter.dims();
    let mut jobs: Vec<(&'s Partition, usize)> = Vec::new();
    for p in st.sealed.iter().map(|p| p.as_ref()) {
        if p.meta.rows == 0
            || skip(p)
            || p.meta.max_start_ns < filter.start_ns
            || p.meta.min_start_ns >= filter.end_ns
        {
            continue;
        }
        jobs.extend(candidate_groups(p, &dims)?.into_iter().map(|g| (p, g)));
    }
    // Groups decode independently: in parallel, then matched in order.
    let hots: Vec<Result<Hot>> = {
        use rayon::prelude::*;
        jobs.par_iter()
            .map(|(p, g)| p.read_hot(*g..*g + 1))
            .collect()
    };
    for ((p, g), hot) in jobs.into_iter().zip(hots) {
        let hot = hot?;
        let rows = hot.base..hot.base + hot.start_ns.len();
        let mut hits: Vec<usize> = rows
            .clone()
            .filter(|row| filter.matches_hot(&hot, row - hot.base))
            .collect();
        if !filter.attributes.is_empty() && !hits.is_empty() {
            // Attribute matchers need the group's cold columns and whole spans.
            let cold = p.read_cold(g, None)?;
            let (mut spans, mut genai) = (Vec::new(), Vec::new());
            for row in rows {
                let (s, gen_ai) = p.row(&hot, row)?;
                spans.push(s);
                genai.push(gen_ai);
            }
            let genai: Vec<&GenAi> = genai.iter().collect();
            let mut refs: Vec<&mut Span> = spans.iter_mut().collect();
            let all: Vec<usize> = (0..refs.len()).collect();
            cold.fill(&all, &mut refs, &genai)?;
            hits.retain(|row| filter.matches_attributes(&spans[row - hot.base]));
        }
        for row in hits {
            f(p, &hot, row);
        }
        keep(p, hot);
    }
    Ok(())
}

/// Visits every span (hot columns) in range matching the filter; `f` gets the bucket, span
/// and GenAI columns.
fn visit(
    st: &State,
    filter: &SpanFilter,
    skip: &dyn Fn(&Partition) -> bool,
    f: &mut dyn FnMut(&str, Span, GenAi),
) -> Result<()> {
    for ((bucket, _), rows) in st.memory_rows() {
        for r in rows {
            if filter.matches(&r.span, &r.genai) {
                let mut s = r.span.clone();
                s.attributes.clear();
                s.resource.clear();
                s.events.clear();
                s.links.clear();
                s.scope.clear();
                f(bucket, s, r.genai.clone());
            }
        }
    }
    let mut err = None;
    for_each_sealed_match(
        st,
        filter,
        skip,
        &mut |p, hot, row| match p.row(hot, row) {
            Ok((s, g)) => f(&p.meta.bucket, s, g),
            Err(e) => {
                err.get_or_insert(e);
            }
        },
        |_, _| {},
    )?;
    err.map_or(Ok(()), Err)
}

/// Nearest-rank percentiles of a set of values, from a log-linear sketch: each is within
/// 0.78 % of the exact value (and never outside the exact minimum and maximum).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

/// What aggregates group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupBy {
    Model,
    Provider,
    Service,
    Operation,
    Agent,
    Tool,
}

impl GroupBy {
    fn key(self, g: &GenAi) -> &str {
        match self {
            GroupBy::Model => g.model(),
            GroupBy::Provider => &g.provider,
            GroupBy::Service => &g.service,
            GroupBy::Operation => &g.operation,
            GroupBy::Agent => &g.agent_name,
            GroupBy::Tool => &g.tool_name,
        }
    }

    fn rollup_key(self, k: &RollupKey) -> &str {
        match self {
            GroupBy::Model => &k.model,
            GroupBy::Provider => &k.provider,
            GroupBy::Service => &k.service,
            GroupBy::Operation => &k.operation,
            GroupBy::Agent => &k.agent,
            GroupBy::Tool => &k.tool,
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "model" => GroupBy::Model,
            "provider" => GroupBy::Provider,
            "service" => GroupBy::Service,
            "operation" => GroupBy::Operation,
            "agent" => GroupBy::Agent,
            "tool" => GroupBy::Tool,
            _ => return None,
        })
    }
}

/// An aggregate query: spans matching `filter` (its order and limit ignored), grouped by
/// `by`, optionally per `step_ns` bucket of start time.
#[derive(Debug, Clone, PartialEq)]
pub struct AggQuery {
    pub filter: SpanFilter,
    pub by: Vec<GroupBy>,
    pub step_ns: Option<i64>,
    /// Only spans with a model (LLM calls), the usual scope of GenAI aggregates.
    pub only_llm_calls: bool,
}

/// One group of an aggregate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AggRow {
    /// One value per `by`, in order.
    pub group: Vec<String>,
    /// Start of the step, when the query has one.
    pub step_start_ns: Option<i64>,
    pub count: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    /// Sum of the known costs.
    pub cost_usd: f64,
    /// Spans whose cost is unknown (no price for the model, or no token counts).
    pub cost_unknown: u64,
    /// Latency percentiles, nanoseconds.
    pub latency_ns: Option<Percentiles>,
    /// Time to first token percentiles over the spans that have one, nanoseconds.
    pub ttft_ns: Option<Percentiles>,
}

impl AggRow {
    pub fn error_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }
}

impl SpanStore {
    /// Spans matching `filter`, in its order (ties broken by trace and span id), at most
    /// `limit`, with their hot columns.
    pub fn find(&self, filter: &SpanFilter) -> Result<Vec<SpanHit>> {
        let found = self.find_columns(filter)?;
        // Building a hit allocates its strings: spread large results over the rayon pool.
        if found.len() >= 4096 {
            use rayon::prelude::*;
            Ok((0..found.len())
                .into_par_iter()
                .map(|i| found.hit(i))
                .collect())
        } else {
            Ok((0..found.len()).map(|i| found.hit(i)).collect())
        }
    }

    /// [`Self::find`] as columns: the fast form for many results (strings are ids into one
    /// dictionary). Matches are ranked by a small key first; only those returned are built.
    pub fn find_columns(&self, filter: &SpanFilter) -> Result<FoundSpans> {
        let order_key = |start: i64, dur: i64, failed: bool| -> (i64, i64) {
            // `!x` reverses the order of an i64 without overflow.
            match filter.order {
                Order::Newest => (!start, 0),
                Order::Slowest => (!dur, !start),
                Order::FailedFirst => (!i64::from(failed), !dur),
            }
        };
        let st = self.state.read();
        // Every match, in storage order: where it is (source 0: in-memory rows by position in
        // `open`; source k: hots[k - 1]), its ids, and its rank key with its position.
        let mut refs: Vec<(usize, usize)> = Vec::new();
        let mut ids: Vec<([u8; 16], [u8; 8])> = Vec::new();
        let mut keys: Vec<(i64, i64, u32)> = Vec::new();
        let open: Vec<(&str, &Row)> = st
            .memory_rows()
            .flat_map(|((b, _), rows)| rows.iter().map(move |r| (b.as_str(), r)))
            .collect();
        for (i, (_, r)) in open.iter().enumerate() {
            if filter.matches(&r.span, &r.genai) {
                let s = &r.span;
                let failed = s.status_code == StatusCode::Error || !r.genai.error_type.is_empty();
                let (a, b) = order_key(s.start_ns, s.duration_ns(), failed);
                keys.push((a, b, refs.len() as u32));
                refs.push((0, i));
                ids.push((s.trace_id, s.span_id));
            }
        }
        let mut hots: Vec<(&Partition, Hot)> = Vec::new();
        let kept = std::cell::Cell::new(0usize);
        for_each_sealed_match(
            &st,
            filter,
            &|_| false,
            &mut |p, hot, row| {
                let i = row - hot.base;
                let failed = hot.status[i] == 2 || !hot.error_type[i].is_empty();
                let (a, b) = order_key(hot.start_ns[i], hot.duration_ns[i].max(0), failed);
                keys.push((a, b, refs.len() as u32));
                refs.push((kept.get() + 1, row));
                ids.push((p.trace_id(hot, i), hot.span_id[i].to_be_bytes()));
            },
            |p, hot| {
                hots.push((p, hot));
                kept.set(hots.len());
            },
        )?;
        // Rank: by key, ties by trace and span id.
        let cmp = |x: &(i64, i64, u32), y: &(i64, i64, u32)| {
            (x.0, x.1)
                .cmp(&(y.0, y.1))
                .then_with(|| ids[x.2 as usize].cmp(&ids[y.2 as usize]))
        };
        let limit = filter.limit.min(keys.len());
        if limit < keys.len() {
            keys.select_nth_unstable_by(limit, cmp);
            keys.truncate(limit);
        }
        keys.sort_unstable_by(cmp);
        // Build the columns in storage order (each group's columns read front to back, not
        // at random), then put the rows in rank order.
        let mut rank_of = vec![u32::MAX; refs.len()];
        for (rank, k) in keys.iter().enumerate() {
            rank_of[k.2 as usize] = rank as u32;
        }
        let mut b = Builder::with_capacity(keys.len());
        let mut order = vec![0usize; keys.len()];
        let mut at = 0;
        for (seq, &(src, row)) in refs.iter().enumerate() {
            if rank_of[seq] == u32::MAX {
                continue;
            }
            if src == 0 {
                let (bucket, r) = open[row];
                b.push_open(bucket, r);
            } else {
                let (p, hot) = &hots[src - 1];
                b.push_sealed(src, p, hot, row, &ids[seq].0)?;
            }
            order[rank_of[seq] as usize] = at;
            at += 1;
        }
        let mut found = b.finish();
        found.permute(&order);
        Ok(found)
    }

    /// Every span of trace `id` (whole: attributes, events, links, and content wherever its
    /// bucket put it), ordered by start time. Sealed partitions are found through their trace
    /// index; only partitions holding the trace are read.
    pub fn trace(&self, id: &[u8; 16]) -> Result<Vec<SpanHit>> {
        let st = self.state.read();
        let mut hits = Vec::new();
        for ((bucket, _), rows) in st.memory_rows() {
            for r in rows.iter().filter(|r| &r.span.trace_id == id) {
                let content = match &st.config.content {
                    super::ContentPolicy::Drop => Vec::new(),
                    _ => r.content.clone(),
                };
                hits.push(SpanHit {
                    bucket: bucket.clone(),
                    span: r.span.clone(),
                    genai: r.genai.clone(),
                    content,
                });
            }
        }
        let mut contents: Vec<([u8; 8], Vec<KeyValue>)> = Vec::new();
        let first_sealed = hits.len();
        // Content sits in a partition of the same window as its span (its own bucket's, or
        // the content bucket's): only those windows are searched.
        let mut windows: Vec<i64> = Vec::new();
        // (partition, group, the trace's rows in it): decoded in parallel below.
        let mut jobs: Vec<(&Partition, usize, Vec<usize>)> = Vec::new();
        for p in st.sealed.iter().map(|p| p.as_ref()) {
            let ranges = p.trace_rows(id)?;
            if ranges.is_empty() {
                continue;
            }
            windows.push(p.meta.window_start_ms);
            let gr = p.group_rows();
            // The trace's rows, per row group (a group may hold several of its runs).
            let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for r in &ranges {
                for row in r.start as usize..r.end as usize {
                    by_group.entry(row / gr).or_default().push(row);
                }
            }
            jobs.extend(by_group.into_iter().map(|(g, rows)| (p, g, rows)));
        }
        let decode = |(p, g, rows): &(&Partition, usize, Vec<usize>)| -> Result<Vec<SpanHit>> {
            let (p, g) = (*p, *g);
            let hot = p.read_hot(g..g + 1)?;
            let first = g * p.group_rows();
            let in_group: Vec<usize> = rows.iter().map(|r| r - first).collect();
            let cold = p.read_cold(g, Some(&in_group))?;
            let mut out = Vec::with_capacity(rows.len());
            let mut genai = Vec::with_capacity(rows.len());
            let mut spans = Vec::with_capacity(rows.len());
            for &i in rows {
                let (span, g) = p.row(&hot, i)?;
                spans.push(span);
                genai.push(g);
            }
            {
                let genai: Vec<&GenAi> = genai.iter().collect();
                let mut refs: Vec<&mut Span> = spans.iter_mut().collect();
                cold.fill(&in_group, &mut refs, &genai)?;
            }
            for (span, genai) in spans.into_iter().zip(genai) {
                out.push(SpanHit {
                    bucket: p.meta.bucket.clone(),
                    span,
                    genai,
                    content: Vec::new(),
                });
            }
            Ok(out)
        };
        // A trace usually spans a few row groups (one per cluster it has rows in).
        let decoded: Vec<Result<Vec<SpanHit>>> = if jobs.len() > 1 {
            use rayon::prelude::*;
            jobs.par_iter().map(decode).collect()
        } else {
            jobs.iter().map(decode).collect()
        };
        for d in decoded {
            hits.extend(d?);
        }
        for p in &st.sealed {
            if windows.contains(&p.meta.window_start_ms) {
                contents.extend(p.content(id)?);
            }
        }
        for h in &mut hits[first_sealed..] {
            if let Some(k) = contents.iter().position(|(s, _)| *s == h.span.span_id) {
                h.content = contents.swap_remove(k).1;
            }
        }
        hits.sort_by(|a, b| {
            (a.span.start_ns, a.span.span_id).cmp(&(b.span.start_ns, b.span.span_id))
        });
        Ok(hits)
    }

    /// GenAI aggregates (module docs). Groups sorted by key, then step.
    pub fn aggregate(&self, q: &AggQuery) -> Result<Vec<AggRow>> {
        type Key = (Vec<String>, Option<i64>);
        let st = self.state.read();
        let step = q.step_ns.filter(|s| *s > 0);
        let step_of = |t: i64| step.map(|st| t - t.rem_euclid(st));
        let f = &q.filter;
        // Partitions wholly inside the time range (and inside one step) are answered from
        // their rollups, when the filter only names rollup dimensions.
        let from_rollup = |p: &Partition| {
            p.rollup.is_some()
                && f.rollup_ok()
                && p.meta.rows > 0
                && p.meta.min_start_ns >= f.start_ns
                && p.meta.max_start_ns < f.end_ns
                && step_of(p.meta.min_start_ns) == step_of(p.meta.max_start_ns)
        };
        let mut totals: BTreeMap<Key, Totals> = BTreeMap::new();
        for p in st.sealed.iter().filter(|p| from_rollup(p)) {
            let step = step_of(p.meta.min_start_ns);
            for (k, t) in p.rollup.as_deref().unwrap_or_default() {
                if (q.only_llm_calls && k.model.is_empty()) || !f.matches_key(k) {
                    continue;
                }
                let group = q.by.iter().map(|b| b.rollup_key(k).to_owned()).collect();
                totals.entry((group, step)).or_default().merge(t);
            }
        }
        let mut scanned: BTreeMap<Key, Collector> = BTreeMap::new();
        visit(&st, f, &from_rollup, &mut |_, s, g| {
            if q.only_llm_calls && g.model().is_empty() {
                return;
            }
            let key: Vec<String> = q.by.iter().map(|b| b.key(&g).to_owned()).collect();
            scanned.entry((key, step_of(s.start_ns))).or_default().add(
                s.status_code,
                s.duration_ns(),
                &g,
            );
        })?;
        for (k, c) in scanned {
            totals.entry(k).or_default().merge(&c.finish());
        }
        Ok(totals
            .into_iter()
            .map(|((group, step_start_ns), t)| AggRow {
                group,
                step_start_ns,
                count: t.count,
                errors: t.errors,
                input_tokens: t.input_tokens,
                output_tokens: t.output_tokens,
                cache_read_tokens: t.cache_read_tokens,
                cost_usd: t.cost_pico as f64 / 1e12,
                cost_unknown: t.cost_unknown,
                latency_ns: t.latency.percentiles(),
                ttft_ns: t.ttft.percentiles(),
            })
            .collect())
    }
}
