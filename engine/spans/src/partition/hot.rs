//! Hot columns (`hot.col`): the span fields and GenAI columns every query reads, one set of
//! columns per row group.

use std::ops::Range;

use strata_codec::column::{self, ColumnOptions};

use super::colfile::Columns;
use super::dict::{Dict, FastMap, dict_str_cols, pick};
use super::{HOT_FILE, Partition, Row, costs, parents};
use crate::error::{Error, Result};
use crate::genai::{GenAi, PriceTable};
use crate::model::{Span, StatusCode};

/// The hot columns of a partition, decoded.
#[derive(Debug, Default)]
pub(crate) struct Hot {
    /// Row number of the first decoded row.
    pub base: usize,
    pub trace_of_row: Vec<u32>,
    /// Span ids as big-endian u64s.
    pub span_id: Vec<u64>,
    pub parent: Vec<Option<[u8; 8]>>,
    pub name: Dict<String>,
    pub kind: Vec<i64>,
    pub start_ns: Vec<i64>,
    pub duration_ns: Vec<i64>,
    pub status: Vec<i64>,
    pub status_message: Dict<String>,
    pub service: Dict<String>,
    pub provider: Dict<String>,
    pub request_model: Dict<String>,
    pub response_model: Dict<String>,
    pub operation: Dict<String>,
    pub finish_reasons: Dict<String>,
    pub agent: Dict<String>,
    pub tool: Dict<String>,
    pub error_type: Dict<String>,
    pub input_tokens: Vec<i64>,
    pub output_tokens: Vec<i64>,
    pub cache_read_tokens: Vec<i64>,
    pub streaming: Vec<i64>,
    pub ttft_ns: Vec<i64>,
    pub cost: Vec<f64>,
}

/// An optional count as stored in an i64 column: -1 for none (values past `i64::MAX` are
/// clamped).
fn opt_to_i64(v: Option<u64>) -> i64 {
    v.map_or(-1, |x| x.min(i64::MAX as u64) as i64)
}

/// An optional count read back from an i64 column: negative means none.
pub(crate) fn from_opt(v: i64) -> Option<u64> {
    (v >= 0).then_some(v as u64)
}

/// Where a row group sits in its partition: its first row, its rows' trace ordinals, and
/// the row of every (trace, span) in the partition.
pub(super) struct Placement<'a> {
    pub first_row: usize,
    pub ordinal: &'a [u64],
    pub row_of: &'a FastMap<([u8; 16], [u8; 8]), usize>,
}

/// The hot columns of one row group, named without their group suffix. Parents are
/// references to a row of the same trace in the group where there is one, else raw.
pub(super) fn hot_columns(
    rows: &[&Row],
    place: &Placement<'_>,
    prices: &PriceTable,
    opts: &ColumnOptions,
) -> Result<Columns> {
    let span_ids: Vec<u64> = rows
        .iter()
        .map(|r| u64::from_be_bytes(r.span.span_id))
        .collect();
    let parents = parents::encode(rows, place);
    let costs = costs::encode(rows, prices);
    let mut b = HotColumns {
        rows,
        opts,
        plain: Vec::new(),
        dicts: Vec::new(),
    };
    b.u64s("span_id", &span_ids)?;
    b.i64s("parent_ref", &parents.refs)?;
    b.u64s("parent_raw", &parents.raws)?;
    b.u64s("parent_row", &parents.rows)?;
    b.u64s("trace", place.ordinal)?;
    b.span_columns()?;
    b.genai_columns()?;
    b.u64s("cost_ref", &costs.refs)?;
    b.f64s("cost_raw", &costs.raws)?;
    b.f64s("prices", &costs.prices)?;
    Ok(b.finish())
}

/// The hot columns of one row group as they are encoded: the plain columns in file order,
/// and the dictionary columns, which follow them in the file.
struct HotColumns<'a> {
    rows: &'a [&'a Row],
    opts: &'a ColumnOptions,
    plain: Columns,
    dicts: Columns,
}

impl HotColumns<'_> {
    /// Adds plain column `name`, unless its encoding is empty.
    fn push(&mut self, name: &str, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.plain.push((name.to_owned(), bytes));
        }
    }

    /// Adds u64 column `name` of values `v`.
    fn u64s(&mut self, name: &str, v: &[u64]) -> Result<()> {
        let bytes = pick(self.opts, |o| column::encode_u64(v, o))?;
        self.push(name, bytes);
        Ok(())
    }

    /// Adds i64 column `name` of values `v`.
    fn i64s(&mut self, name: &str, v: &[i64]) -> Result<()> {
        let bytes = pick(self.opts, |o| column::encode_i64(v, o))?;
        self.push(name, bytes);
        Ok(())
    }

    /// Adds f64 column `name` of values `v`.
    fn f64s(&mut self, name: &str, v: &[f64]) -> Result<()> {
        let bytes = pick(self.opts, |o| column::encode_f64(v, o))?;
        self.push(name, bytes);
        Ok(())
    }

    /// Adds i64 column `name` of `f` of each row.
    fn ints(&mut self, name: &str, f: fn(&Row) -> i64) -> Result<()> {
        let v: Vec<i64> = self.rows.iter().map(|r| f(r)).collect();
        self.i64s(name, &v)
    }

    /// Adds dictionary columns `name` of `f` of each row.
    fn strs(&mut self, name: &str, f: fn(&Row) -> &str) -> Result<()> {
        let v: Vec<&str> = self.rows.iter().map(|r| f(r)).collect();
        self.dicts.extend(dict_str_cols(name, &v, self.opts)?);
        Ok(())
    }

    /// Adds the span's own columns after its ids and parents.
    fn span_columns(&mut self) -> Result<()> {
        self.strs("name", |r| &r.span.name)?;
        self.ints("kind", |r| i64::from(r.span.kind))?;
        self.ints("start_ns", |r| r.span.start_ns)?;
        self.ints("duration_ns", |r| {
            r.span.end_ns.wrapping_sub(r.span.start_ns)
        })?;
        self.ints("status_code", |r| i64::from(r.span.status_code.as_u8()))?;
        self.strs("status_message", |r| &r.span.status_message)
    }

    /// Adds the GenAI columns but the cost.
    fn genai_columns(&mut self) -> Result<()> {
        self.strs("service", |r| &r.genai.service)?;
        self.strs("provider", |r| &r.genai.provider)?;
        self.strs("request_model", |r| &r.genai.request_model)?;
        self.strs("response_model", |r| &r.genai.response_model)?;
        self.strs("operation", |r| &r.genai.operation)?;
        self.strs("finish_reasons", |r| &r.genai.finish_reasons)?;
        self.strs("agent_name", |r| &r.genai.agent_name)?;
        self.strs("tool_name", |r| &r.genai.tool_name)?;
        self.strs("error_type", |r| &r.genai.error_type)?;
        self.ints("input_tokens", |r| opt_to_i64(r.genai.input_tokens))?;
        self.ints("output_tokens", |r| opt_to_i64(r.genai.output_tokens))?;
        self.ints("cache_read_tokens", |r| {
            opt_to_i64(r.genai.cache_read_tokens)
        })?;
        self.ints("streaming", |r| r.genai.streaming.map_or(-1, i64::from))?;
        self.ints("ttft_ns", |r| r.genai.ttft_ns.unwrap_or(-1))
    }

    /// The columns in file order: the plain ones, then the dictionaries.
    fn finish(self) -> Columns {
        let mut out = self.plain;
        out.extend(self.dicts);
        out
    }
}

impl Partition {
    /// The hot columns of row groups `groups`, decoded (rows from `groups.start` times the
    /// group size).
    pub(crate) fn read_hot(&self, groups: Range<usize>) -> Result<Hot> {
        let base = groups.start * self.group_rows();
        let end = (groups.end * self.group_rows()).min(self.meta.rows as usize);
        let mut hot = Hot {
            base,
            ..Hot::default()
        };
        if base >= end {
            return Ok(hot);
        }
        self.trace_of_rows(groups.clone(), base..end, &mut hot.trace_of_row)?;
        for g in groups {
            self.read_hot_group(g, &mut hot)?;
        }
        Ok(hot)
    }

    /// Decodes the hot columns of row group `g` but the trace ordinals, appending to `h`.
    fn read_hot_group(&self, g: usize, h: &mut Hot) -> Result<()> {
        let f = &self.hot;
        let n = self.group_len(g);
        let name = |c: &str| format!("{c}@{g}");
        let ints =
            |c: &str, out: &mut Vec<i64>| f.decode_into(&name(c), n, out, column::decode_i64);
        let strs =
            |c: &str, out: &mut Dict<String>| f.dict_into(&name(c), n, out, column::decode_str);
        let first = h.span_id.len();
        f.decode_into(&name("span_id"), n, &mut h.span_id, column::decode_u64)?;
        self.read_parents(f, g, &h.span_id[first..], n, &mut h.parent)?;
        strs("name", &mut h.name)?;
        ints("kind", &mut h.kind)?;
        ints("start_ns", &mut h.start_ns)?;
        ints("duration_ns", &mut h.duration_ns)?;
        ints("status_code", &mut h.status)?;
        strs("status_message", &mut h.status_message)?;
        strs("service", &mut h.service)?;
        strs("provider", &mut h.provider)?;
        strs("request_model", &mut h.request_model)?;
        strs("response_model", &mut h.response_model)?;
        strs("operation", &mut h.operation)?;
        strs("finish_reasons", &mut h.finish_reasons)?;
        strs("agent_name", &mut h.agent)?;
        strs("tool_name", &mut h.tool)?;
        strs("error_type", &mut h.error_type)?;
        ints("input_tokens", &mut h.input_tokens)?;
        ints("output_tokens", &mut h.output_tokens)?;
        ints("cache_read_tokens", &mut h.cache_read_tokens)?;
        ints("streaming", &mut h.streaming)?;
        ints("ttft_ns", &mut h.ttft_ns)?;
        if self.meta.version == 2 {
            f.decode_into(&name("cost_usd"), n, &mut h.cost, column::decode_f64)
        } else {
            self.read_costs(f, g, n, h)
        }
    }

    /// Row `i` of `hot` as a span (attributes not loaded) and its GenAI columns.
    pub(crate) fn row(&self, hot: &Hot, row: usize) -> Result<(Span, GenAi)> {
        let bad = |d: &str| Error::corrupt(self.dir.join(HOT_FILE), format!("row {row}: {d}"));
        let i = row - hot.base;
        let span_id = hot.span_id[i].to_be_bytes();
        let parent_span_id = hot.parent[i];
        let kind = u8::try_from(hot.kind[i]).map_err(|_| bad("kind out of range"))?;
        let status = u8::try_from(hot.status[i]).map_err(|_| bad("status out of range"))?;
        let span = Span {
            trace_id: self.trace_ids[hot.trace_of_row[i] as usize],
            span_id,
            parent_span_id,
            name: hot.name[i].clone(),
            kind,
            start_ns: hot.start_ns[i],
            end_ns: hot.start_ns[i].wrapping_add(hot.duration_ns[i]),
            status_code: StatusCode::from_u8(status),
            status_message: hot.status_message[i].clone(),
            ..Span::default()
        };
        let genai = GenAi {
            service: hot.service[i].clone(),
            provider: hot.provider[i].clone(),
            request_model: hot.request_model[i].clone(),
            response_model: hot.response_model[i].clone(),
            operation: hot.operation[i].clone(),
            input_tokens: from_opt(hot.input_tokens[i]),
            output_tokens: from_opt(hot.output_tokens[i]),
            cache_read_tokens: from_opt(hot.cache_read_tokens[i]),
            finish_reasons: hot.finish_reasons[i].clone(),
            agent_name: hot.agent[i].clone(),
            tool_name: hot.tool[i].clone(),
            error_type: hot.error_type[i].clone(),
            streaming: match hot.streaming[i] {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            },
            ttft_ns: (hot.ttft_ns[i] >= 0).then_some(hot.ttft_ns[i]),
            cost_usd: (!hot.cost[i].is_nan()).then_some(hot.cost[i]),
        };
        Ok((span, genai))
    }
}
