//! The columnar result of `find`: spans as columns, strings as ids into one dictionary, so a
//! query returning tens of thousands of spans allocates per distinct string, not per span.

use std::collections::HashMap;

use super::genai::GenAi;
use super::model::{Span, StatusCode};
use super::partition::{Dict, Hot, Partition, Row, from_opt};
use super::query::SpanHit;
use crate::error::{Error, Result};

/// Spans found by [`super::SpanStore::find_columns`]: row `i` of every column is the `i`-th
/// span in the filter's order. The string columns hold ids into [`FoundSpans::strings`]
/// (`""` included); [`FoundSpans::hit`] builds one row as a [`SpanHit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoundSpans {
    pub strings: Vec<String>,
    pub bucket: Vec<u32>,
    pub trace_id: Vec<[u8; 16]>,
    pub span_id: Vec<[u8; 8]>,
    pub parent_span_id: Vec<Option<[u8; 8]>>,
    pub name: Vec<u32>,
    pub kind: Vec<u8>,
    pub start_ns: Vec<i64>,
    pub end_ns: Vec<i64>,
    pub status: Vec<StatusCode>,
    pub status_message: Vec<u32>,
    pub service: Vec<u32>,
    pub provider: Vec<u32>,
    pub request_model: Vec<u32>,
    pub response_model: Vec<u32>,
    pub operation: Vec<u32>,
    pub finish_reasons: Vec<u32>,
    pub agent_name: Vec<u32>,
    pub tool_name: Vec<u32>,
    pub error_type: Vec<u32>,
    pub input_tokens: Vec<Option<u64>>,
    pub output_tokens: Vec<Option<u64>>,
    pub cache_read_tokens: Vec<Option<u64>>,
    pub streaming: Vec<Option<bool>>,
    pub ttft_ns: Vec<Option<i64>>,
    pub cost_usd: Vec<Option<f64>>,
}

impl FoundSpans {
    pub fn len(&self) -> usize {
        self.span_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.span_id.is_empty()
    }

    /// The string with id `id`.
    pub fn str(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    /// Reorders the rows: row `r` becomes the row that was at `order[r]`.
    pub(crate) fn permute(&mut self, order: &[usize]) {
        fn p<T: Copy>(v: &mut Vec<T>, order: &[usize]) {
            *v = order.iter().map(|&i| v[i]).collect();
        }
        p(&mut self.bucket, order);
        p(&mut self.trace_id, order);
        p(&mut self.span_id, order);
        p(&mut self.parent_span_id, order);
        p(&mut self.name, order);
        p(&mut self.kind, order);
        p(&mut self.start_ns, order);
        p(&mut self.end_ns, order);
        p(&mut self.status, order);
        p(&mut self.status_message, order);
        p(&mut self.service, order);
        p(&mut self.provider, order);
        p(&mut self.request_model, order);
        p(&mut self.response_model, order);
        p(&mut self.operation, order);
        p(&mut self.finish_reasons, order);
        p(&mut self.agent_name, order);
        p(&mut self.tool_name, order);
        p(&mut self.error_type, order);
        p(&mut self.input_tokens, order);
        p(&mut self.output_tokens, order);
        p(&mut self.cache_read_tokens, order);
        p(&mut self.streaming, order);
        p(&mut self.ttft_ns, order);
        p(&mut self.cost_usd, order);
    }

    /// Row `i` as a span hit (hot columns only: attributes, events and links empty).
    pub fn hit(&self, i: usize) -> SpanHit {
        let s = |c: &Vec<u32>| self.strings[c[i] as usize].clone();
        SpanHit {
            bucket: s(&self.bucket),
            span: Span {
                trace_id: self.trace_id[i],
                span_id: self.span_id[i],
                parent_span_id: self.parent_span_id[i],
                name: s(&self.name),
                kind: self.kind[i],
                start_ns: self.start_ns[i],
                end_ns: self.end_ns[i],
                status_code: self.status[i],
                status_message: s(&self.status_message),
                ..Span::default()
            },
            genai: GenAi {
                service: s(&self.service),
                provider: s(&self.provider),
                request_model: s(&self.request_model),
                response_model: s(&self.response_model),
                operation: s(&self.operation),
                input_tokens: self.input_tokens[i],
                output_tokens: self.output_tokens[i],
                cache_read_tokens: self.cache_read_tokens[i],
                finish_reasons: s(&self.finish_reasons),
                agent_name: s(&self.agent_name),
                tool_name: s(&self.tool_name),
                error_type: s(&self.error_type),
                streaming: self.streaming[i],
                ttft_ns: self.ttft_ns[i],
                cost_usd: self.cost_usd[i],
            },
            content: Vec::new(),
        }
    }
}

/// Identity, kind, times and status of a row.
type SpanPart<'a> = (
    &'a [u8; 16],
    &'a [u8; 8],
    Option<[u8; 8]>,
    u8,
    i64,
    i64,
    StatusCode,
);
/// Tokens (input, output, cache read), streaming, TTFT and cost of a row.
type GenAiPart = (
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<bool>,
    Option<i64>,
    Option<f64>,
);

/// Fills a [`FoundSpans`], interning strings once per distinct value of each source.
#[derive(Default)]
pub(crate) struct Builder {
    out: FoundSpans,
    ids: HashMap<String, u32>,
    /// Per sealed source (group; index `src - 1`), per dictionary column, local dictionary
    /// index → string id.
    maps: Vec<Option<Vec<Vec<u32>>>>,
}

impl Builder {
    pub(crate) fn with_capacity(n: usize) -> Builder {
        let mut b = Builder::default();
        let o = &mut b.out;
        o.bucket.reserve(n);
        o.trace_id.reserve(n);
        o.span_id.reserve(n);
        o.start_ns.reserve(n);
        b
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.out.strings.len() as u32;
        self.out.strings.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }

    fn push_common(&mut self, span: SpanPart<'_>, strs: [u32; 12], g: GenAiPart) {
        let o = &mut self.out;
        o.trace_id.push(*span.0);
        o.span_id.push(*span.1);
        o.parent_span_id.push(span.2);
        o.kind.push(span.3);
        o.start_ns.push(span.4);
        o.end_ns.push(span.5);
        o.status.push(span.6);
        let [b, n, sm, sv, pr, rq, rs, op, fr, ag, tl, et] = strs;
        o.bucket.push(b);
        o.name.push(n);
        o.status_message.push(sm);
        o.service.push(sv);
        o.provider.push(pr);
        o.request_model.push(rq);
        o.response_model.push(rs);
        o.operation.push(op);
        o.finish_reasons.push(fr);
        o.agent_name.push(ag);
        o.tool_name.push(tl);
        o.error_type.push(et);
        o.input_tokens.push(g.0);
        o.output_tokens.push(g.1);
        o.cache_read_tokens.push(g.2);
        o.streaming.push(g.3);
        o.ttft_ns.push(g.4);
        o.cost_usd.push(g.5);
    }

    /// Appends an in-memory row (hot columns only).
    pub(crate) fn push_open(&mut self, bucket: &str, r: &Row) {
        let (s, g) = (&r.span, &r.genai);
        let strs = [
            self.intern(bucket),
            self.intern(&s.name),
            self.intern(&s.status_message),
            self.intern(&g.service),
            self.intern(&g.provider),
            self.intern(&g.request_model),
            self.intern(&g.response_model),
            self.intern(&g.operation),
            self.intern(&g.finish_reasons),
            self.intern(&g.agent_name),
            self.intern(&g.tool_name),
            self.intern(&g.error_type),
        ];
        self.push_common(
            (
                &s.trace_id,
                &s.span_id,
                s.parent_span_id,
                s.kind,
                s.start_ns,
                s.end_ns,
                s.status_code,
            ),
            strs,
            (
                g.input_tokens,
                g.output_tokens,
                g.cache_read_tokens,
                g.streaming,
                g.ttft_ns,
                g.cost_usd,
            ),
        );
    }

    /// Appends row `row` of sealed source `src` (its decoded group `hot` of partition `p`),
    /// whose trace id the caller already looked up.
    pub(crate) fn push_sealed(
        &mut self,
        src: usize,
        p: &Partition,
        hot: &Hot,
        row: usize,
        trace_id: &[u8; 16],
    ) -> Result<()> {
        let i = row - hot.base;
        if self.maps.len() < src {
            self.maps.resize(src, None);
        }
        // The string columns, in the order of `push_common`'s string ids after the bucket.
        let dicts: [&Dict<String>; 11] = [
            &hot.name,
            &hot.status_message,
            &hot.service,
            &hot.provider,
            &hot.request_model,
            &hot.response_model,
            &hot.operation,
            &hot.finish_reasons,
            &hot.agent,
            &hot.tool,
            &hot.error_type,
        ];
        if self.maps[src - 1].is_none() {
            let mut maps = Vec::with_capacity(dicts.len() + 1);
            maps.push(vec![self.intern(&p.meta.bucket)]);
            for d in dicts {
                maps.push(d.dict.iter().map(|s| self.intern(s)).collect());
            }
            self.maps[src - 1] = Some(maps);
        }
        let m = self.maps[src - 1].as_ref().expect("filled above");
        let mut strs = [m[0][0]; 12];
        for (k, d) in dicts.iter().enumerate() {
            strs[k + 1] = m[k + 1][d.ids[i] as usize];
        }
        let bad = |d: &str| Error::corrupt(p.dir.join("hot.col"), format!("row {row}: {d}"));
        let kind = u8::try_from(hot.kind[i]).map_err(|_| bad("kind out of range"))?;
        let status = u8::try_from(hot.status[i]).map_err(|_| bad("status out of range"))?;
        self.push_common(
            (
                trace_id,
                &hot.span_id[i].to_be_bytes(),
                hot.parent[i],
                kind,
                hot.start_ns[i],
                hot.start_ns[i].wrapping_add(hot.duration_ns[i]),
                StatusCode::from_u8(status),
            ),
            strs,
            (
                from_opt(hot.input_tokens[i]),
                from_opt(hot.output_tokens[i]),
                from_opt(hot.cache_read_tokens[i]),
                match hot.streaming[i] {
                    0 => Some(false),
                    1 => Some(true),
                    _ => None,
                },
                (hot.ttft_ns[i] >= 0).then_some(hot.ttft_ns[i]),
                (!hot.cost[i].is_nan()).then_some(hot.cost[i]),
            ),
        );
        Ok(())
    }

    pub(crate) fn finish(self) -> FoundSpans {
        self.out
    }
}
