//! Per-partition rollups: for each distinct combination of the GenAI dimensions, the count,
//! token and cost sums and log-linear latency / TTFT sketches. A GenAI aggregate over whole
//! partitions merges these instead of decoding every span. Layout: `docs/format/spans.md`.

use strata_codec::column::{self, ColumnOptions};

use super::genai::GenAi;
use super::model::StatusCode;
use super::partition::{ColFile, FastMap, Row, col_file, dict_str_cols, pick};
use super::query::Percentiles;
use crate::error::{Error, Result};

/// Sub-buckets per power of two in a [`Sketch`] (6 bits): a bucket's width is at most 1/64
/// of its lower bound, so the midpoint reported is within 1/128 (0.78 %) of any value in it.
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

/// The bucket of a value: values below 64 have their own bucket, larger ones share one per
/// 1/64 of their power of two. Negative values count as 0.
pub fn bucket_of(v: i64) -> u32 {
    let v = v.max(0) as u64;
    if v < SUB {
        return v as u32;
    }
    let e = 63 - v.leading_zeros(); // >= SUB_BITS
    let sub = (v >> (e - SUB_BITS)) & (SUB - 1);
    ((e - SUB_BITS + 1) as u64 * SUB + sub) as u32
}

/// The value a bucket reports: the midpoint of its range.
pub fn bucket_value(b: u32) -> f64 {
    let b = u64::from(b);
    if b < SUB {
        return b as f64;
    }
    let e = b / SUB + u64::from(SUB_BITS) - 1;
    let lo = (SUB + b % SUB) << (e - u64::from(SUB_BITS));
    let width = 1u64 << (e - u64::from(SUB_BITS));
    lo as f64 + (width as f64 - 1.0) / 2.0
}

/// A mergeable distribution of non-negative integers: counts per bucket, plus the exact
/// minimum and maximum (percentiles are clamped to them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sketch {
    /// (bucket, count), buckets ascending, counts positive.
    pub buckets: Vec<(u32, u64)>,
    pub min: i64,
    pub max: i64,
}

impl Sketch {
    pub fn count(&self) -> u64 {
        self.buckets.iter().fold(0u64, |a, b| a.saturating_add(b.1))
    }

    /// The sketch of `values` (sorted in place).
    pub fn of(values: &mut [i64]) -> Sketch {
        values.sort_unstable();
        let mut s = Sketch {
            buckets: Vec::new(),
            min: values.first().copied().unwrap_or(0),
            max: values.last().copied().unwrap_or(0),
        };
        for &v in values.iter() {
            let b = bucket_of(v);
            match s.buckets.last_mut() {
                Some((lb, c)) if *lb == b => *c += 1,
                _ => s.buckets.push((b, 1)),
            }
        }
        s
    }

    pub fn merge(&mut self, other: &Sketch) {
        if other.buckets.is_empty() {
            return;
        }
        if self.buckets.is_empty() {
            *self = other.clone();
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let mut out = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.buckets, &other.buckets);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].0 < b[j].0) {
                out.push(a[i]);
                i += 1;
            } else if i == a.len() || b[j].0 < a[i].0 {
                out.push(b[j]);
                j += 1;
            } else {
                out.push((a[i].0, a[i].1.saturating_add(b[j].1)));
                i += 1;
                j += 1;
            }
        }
        self.buckets = out;
    }

    /// Nearest-rank percentiles, each the midpoint of the bucket holding that rank, clamped
    /// to the exact minimum and maximum.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        // A damaged rollup may have min above max; never let that reach `clamp`.
        let (lo, hi) = (self.min.min(self.max) as f64, self.max.max(self.min) as f64);
        let q = |p: f64| {
            let rank = ((p * n as f64).ceil() as u64).clamp(1, n);
            let mut seen = 0u64;
            for &(b, c) in &self.buckets {
                seen = seen.saturating_add(c);
                if seen >= rank {
                    return bucket_value(b).clamp(lo, hi);
                }
            }
            hi
        };
        Some(Percentiles {
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
        })
    }
}

/// A known cost in pico-dollars (rounded), so that sums do not depend on the order of
/// addition.
pub fn cost_pico(usd: f64) -> i128 {
    (usd * 1e12).round() as i128
}

/// The dimensions a rollup row is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RollupKey {
    pub service: String,
    /// Request model, else response model.
    pub model: String,
    pub provider: String,
    pub operation: String,
    pub agent: String,
    pub tool: String,
    pub status: u8,
    pub error_type: String,
}

impl RollupKey {
    pub fn of(status: StatusCode, g: &GenAi) -> RollupKey {
        RollupKey {
            service: g.service.clone(),
            model: g.model().to_owned(),
            provider: g.provider.clone(),
            operation: g.operation.clone(),
            agent: g.agent_name.clone(),
            tool: g.tool_name.clone(),
            status: status.as_u8(),
            error_type: g.error_type.clone(),
        }
    }
}

/// Sums and sketches of the spans of one key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Totals {
    pub count: u64,
    /// Spans with status error or an error type.
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cost_pico: i128,
    pub cost_unknown: u64,
    pub latency: Sketch,
    pub ttft: Sketch,
}

impl Totals {
    pub fn merge(&mut self, o: &Totals) {
        // Saturating: the totals of a damaged rollup must not overflow a query.
        self.count = self.count.saturating_add(o.count);
        self.errors = self.errors.saturating_add(o.errors);
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(o.cache_read_tokens);
        self.cost_pico = self.cost_pico.saturating_add(o.cost_pico);
        self.cost_unknown = self.cost_unknown.saturating_add(o.cost_unknown);
        self.latency.merge(&o.latency);
        self.ttft.merge(&o.ttft);
    }
}

/// Collects spans into [`Totals`]: sums at once, latency and TTFT values until `finish`.
#[derive(Debug, Default)]
pub struct Collector {
    pub totals: Totals,
    latency: Vec<i64>,
    ttft: Vec<i64>,
}

impl Collector {
    pub fn add(&mut self, status: StatusCode, duration_ns: i64, g: &GenAi) {
        let t = &mut self.totals;
        t.count += 1;
        t.errors += u64::from(status == StatusCode::Error || !g.error_type.is_empty());
        // Token counts come from spans as sent: saturate rather than overflow.
        t.input_tokens = t.input_tokens.saturating_add(g.input_tokens.unwrap_or(0));
        t.output_tokens = t.output_tokens.saturating_add(g.output_tokens.unwrap_or(0));
        t.cache_read_tokens = t
            .cache_read_tokens
            .saturating_add(g.cache_read_tokens.unwrap_or(0));
        match g.cost_usd {
            Some(c) => t.cost_pico = t.cost_pico.saturating_add(cost_pico(c)),
            None => t.cost_unknown += 1,
        }
        self.latency.push(duration_ns.max(0));
        if let Some(f) = g.ttft_ns {
            self.ttft.push(f);
        }
    }

    pub fn finish(mut self) -> Totals {
        self.totals.latency.merge(&Sketch::of(&mut self.latency));
        self.totals.ttft.merge(&Sketch::of(&mut self.ttft));
        self.totals
    }
}

/// The rollup of a partition's rows, keys ascending.
pub fn build(rows: &[&Row]) -> Vec<(RollupKey, Totals)> {
    type Borrowed<'r> = (
        &'r str,
        &'r str,
        &'r str,
        &'r str,
        &'r str,
        &'r str,
        u8,
        &'r str,
    );
    let mut index: FastMap<Borrowed<'_>, usize> = FastMap::default();
    let mut groups: Vec<(RollupKey, Collector)> = Vec::new();
    let mut prev: Option<(Borrowed<'_>, usize)> = None;
    for r in rows {
        let g = &r.genai;
        let key = (
            g.service.as_str(),
            g.model(),
            g.provider.as_str(),
            g.operation.as_str(),
            g.agent_name.as_str(),
            g.tool_name.as_str(),
            r.span.status_code.as_u8(),
            g.error_type.as_str(),
        );
        // Rows are clustered: many have the previous row's key.
        let at = match prev {
            Some((p, at)) if p == key => at,
            _ => *index.entry(key).or_insert_with(|| {
                groups.push((RollupKey::of(r.span.status_code, g), Collector::default()));
                groups.len() - 1
            }),
        };
        prev = Some((key, at));
        groups[at]
            .1
            .add(r.span.status_code, r.span.duration_ns(), g);
    }
    let mut out: Vec<(RollupKey, Totals)> =
        groups.into_iter().map(|(k, c)| (k, c.finish())).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn sketch_cols(
    name: &str,
    sketches: &[&Sketch],
    opts: &ColumnOptions,
) -> Result<Vec<(String, Vec<u8>)>> {
    let c = |r: strata_codec::Result<Vec<u8>>| r.map_err(Error::Codec);
    let n: Vec<u64> = sketches.iter().map(|s| s.buckets.len() as u64).collect();
    let b: Vec<u64> = sketches
        .iter()
        .flat_map(|s| s.buckets.iter().map(|x| u64::from(x.0)))
        .collect();
    let k: Vec<u64> = sketches
        .iter()
        .flat_map(|s| s.buckets.iter().map(|x| x.1))
        .collect();
    let min: Vec<i64> = sketches.iter().map(|s| s.min).collect();
    let max: Vec<i64> = sketches.iter().map(|s| s.max).collect();
    Ok(vec![
        (
            format!("{name}_n"),
            c(pick(opts, |o| column::encode_u64(&n, o)))?,
        ),
        (
            format!("{name}_bucket"),
            c(pick(opts, |o| column::encode_u64(&b, o)))?,
        ),
        (
            format!("{name}_count"),
            c(pick(opts, |o| column::encode_u64(&k, o)))?,
        ),
        (
            format!("{name}_min"),
            c(pick(opts, |o| column::encode_i64(&min, o)))?,
        ),
        (
            format!("{name}_max"),
            c(pick(opts, |o| column::encode_i64(&max, o)))?,
        ),
    ])
}

/// The `rollup.col` file of `rows`.
pub fn encode(rows: &[(RollupKey, Totals)]) -> Result<Vec<u8>> {
    let opts = ColumnOptions::default();
    let c = |r: strata_codec::Result<Vec<u8>>| r.map_err(Error::Codec);
    let mut cols: Vec<(String, Vec<u8>)> = Vec::new();
    type StrField = fn(&RollupKey) -> &str;
    let strs: [(&str, StrField); 7] = [
        ("service", |k| &k.service),
        ("model", |k| &k.model),
        ("provider", |k| &k.provider),
        ("operation", |k| &k.operation),
        ("agent", |k| &k.agent),
        ("tool", |k| &k.tool),
        ("error_type", |k| &k.error_type),
    ];
    for (name, f) in strs {
        let v: Vec<&str> = rows.iter().map(|(k, _)| f(k)).collect();
        cols.extend(dict_str_cols(name, &v, &opts)?);
    }
    let status: Vec<u64> = rows.iter().map(|(k, _)| u64::from(k.status)).collect();
    cols.push(("status".into(), c(column::encode_u64(&status, &opts))?));
    type U64Field = fn(&Totals) -> u64;
    let u64s: [(&str, U64Field); 5] = [
        ("count", |t| t.count),
        ("input_tokens", |t| t.input_tokens),
        ("output_tokens", |t| t.output_tokens),
        ("cache_read_tokens", |t| t.cache_read_tokens),
        ("cost_unknown", |t| t.cost_unknown),
    ];
    for (name, f) in u64s {
        let v: Vec<u64> = rows.iter().map(|(_, t)| f(t)).collect();
        cols.push((name.into(), c(pick(&opts, |o| column::encode_u64(&v, o)))?));
    }
    // Pico-dollars as two halves: i128 has no column type.
    let hi: Vec<i64> = rows
        .iter()
        .map(|(_, t)| (t.cost_pico >> 64) as i64)
        .collect();
    let lo: Vec<u64> = rows.iter().map(|(_, t)| t.cost_pico as u64).collect();
    cols.push(("cost_pico_hi".into(), c(column::encode_i64(&hi, &opts))?));
    cols.push((
        "cost_pico_lo".into(),
        c(pick(&opts, |o| column::encode_u64(&lo, o)))?,
    ));
    let lat: Vec<&Sketch> = rows.iter().map(|(_, t)| &t.latency).collect();
    cols.extend(sketch_cols("latency", &lat, &opts)?);
    let ttft: Vec<&Sketch> = rows.iter().map(|(_, t)| &t.ttft).collect();
    cols.extend(sketch_cols("ttft", &ttft, &opts)?);
    col_file(&cols)
}

fn read_sketches(f: &ColFile, name: &str, rows: usize) -> Result<Vec<Sketch>> {
    let bad = |d: String| Error::corrupt(f.path(), d);
    let n = f.u64s(&format!("{name}_n"), rows)?;
    let total = n
        .iter()
        .try_fold(0u64, |a, b| a.checked_add(*b))
        .ok_or_else(|| bad(format!("{name}_n overflows")))?;
    let total = usize::try_from(total).map_err(|_| bad(format!("{name}_n: {total} buckets")))?;
    let b = f.u64s(&format!("{name}_bucket"), total)?;
    let k = f.u64s(&format!("{name}_count"), total)?;
    let min = f.i64s(&format!("{name}_min"), rows)?;
    let max = f.i64s(&format!("{name}_max"), rows)?;
    let mut out = Vec::with_capacity(rows);
    let mut at = 0usize;
    for i in 0..rows {
        let m = n[i] as usize;
        if min[i] > max[i] {
            return Err(bad(format!(
                "{name}: row {i} has min {} above max {}",
                min[i], max[i]
            )));
        }
        let mut s = Sketch {
            buckets: Vec::with_capacity(m.min(total)),
            min: min[i],
            max: max[i],
        };
        for j in at..at + m {
            let bucket = u32::try_from(b[j])
                .ok()
                .filter(|x| s.buckets.last().is_none_or(|l| l.0 < *x) && k[j] > 0)
                .ok_or_else(|| bad(format!("{name}: bucket {} out of order", b[j])))?;
            s.buckets.push((bucket, k[j]));
        }
        at += m;
        out.push(s);
    }
    Ok(out)
}

/// Reads a `rollup.col` file.
pub fn decode(f: &ColFile) -> Result<Vec<(RollupKey, Totals)>> {
    let rows = f.count("status")?;
    let status = f.u64s("status", rows)?;
    let mut strs = Vec::new();
    for name in [
        "service",
        "model",
        "provider",
        "operation",
        "agent",
        "tool",
        "error_type",
    ] {
        strs.push(f.dict(name, rows, column::decode_str)?);
    }
    let mut u = Vec::new();
    for name in [
        "count",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cost_unknown",
    ] {
        u.push(f.u64s(name, rows)?);
    }
    let hi = f.i64s("cost_pico_hi", rows)?;
    let lo = f.u64s("cost_pico_lo", rows)?;
    let lat = read_sketches(f, "latency", rows)?;
    let ttft = read_sketches(f, "ttft", rows)?;
    let mut out = Vec::with_capacity(rows);
    for (i, (latency, ttft)) in lat.into_iter().zip(ttft).enumerate() {
        let s = |k: usize| strs[k][i].clone();
        let key = RollupKey {
            service: s(0),
            model: s(1),
            provider: s(2),
            operation: s(3),
            agent: s(4),
            tool: s(5),
            status: u8::try_from(status[i])
                .map_err(|_| Error::corrupt(f.path(), format!("status {}", status[i])))?,
            error_type: s(6),
        };
        let errors = if key.status == StatusCode::Error.as_u8() || !key.error_type.is_empty() {
            u[0][i]
        } else {
            0
        };
        let totals = Totals {
            count: u[0][i],
            errors,
            input_tokens: u[1][i],
            output_tokens: u[2][i],
            cache_read_tokens: u[3][i],
            cost_unknown: u[4][i],
            cost_pico: (i128::from(hi[i]) << 64) | i128::from(lo[i]),
            latency,
            ttft,
        };
        out.push((key, totals));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut prev = 0;
        for (i, v) in (0..100_000i64)
            .chain((0..2000).map(|i| (1i64 << (i % 62)) | i))
            .enumerate()
        {
            let b = bucket_of(v);
            let mid = bucket_value(b);
            let err = (mid - v as f64).abs() / (v.max(1) as f64);
            assert!(err <= 1.0 / 128.0 + 1e-12, "{v}: bucket {b} reports {mid}");
            if i < 100_000 {
                assert!(b >= prev, "{v}");
                prev = b;
            }
        }
        assert_eq!(bucket_of(-5), 0);
        assert!(bucket_of(i64::MAX) < 4096);
    }

    #[test]
    fn percentiles_within_bound_and_merge_is_order_free() {
        let mut a: Vec<i64> = (1..=1000).map(|i| i * 1_234_567).collect();
        let mut b: Vec<i64> = (1..=500).map(|i| i * 7_654_321).collect();
        let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        let (sa, sb) = (Sketch::of(&mut a), Sketch::of(&mut b));
        let mut ab = sa.clone();
        ab.merge(&sb);
        let mut ba = sb.clone();
        ba.merge(&sa);
        assert_eq!(ab, ba);
        assert_eq!(ab, Sketch::of(&mut all.clone()));
        let p = ab.percentiles().unwrap();
        for (q, got) in [(0.5, p.p50), (0.9, p.p90), (0.95, p.p95), (0.99, p.p99)] {
            let exact = all[((q * all.len() as f64).ceil() as usize) - 1] as f64;
            assert!(
                (got - exact).abs() / exact <= 1.0 / 128.0,
                "p{q}: {got} vs {exact}"
            );
        }
        assert_eq!(Sketch::default().percentiles(), None);
    }
}
