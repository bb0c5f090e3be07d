//! Shared helpers for the `query_*` tests: a loader for Prometheus' test notation
//! (`load 5m` / `metric{a="b"} 0+10x10`), and result formatting.
#![allow(dead_code, reason = "each test crate uses a different subset")]

use strata_promql::{
    EvalOptions, Labels, Matrix, MemQuerier, STALE_NAN_BITS, Series, Vector, eval_instant,
    eval_range, parse,
};

pub const MIN_MS: i64 = 60_000;

/// Builds a querier from `(series, values)` lines in promqltest notation, one sample every
/// `interval_ms` from t = 0: numbers, `_` (no sample), `stale`, and `a+bxn` / `a-bxn` / `axn`
/// for n + 1 samples starting at a.
pub fn load(interval_ms: i64, lines: &[(&str, &str)]) -> MemQuerier {
    MemQuerier::new(
        lines
            .iter()
            .map(|(s, v)| series(s, v, interval_ms))
            .collect(),
    )
    .expect("valid test series")
}

pub fn series(desc: &str, values: &str, interval_ms: i64) -> Series {
    let mut timestamps = Vec::new();
    let mut vals = Vec::new();
    let mut i = 0i64;
    for tok in values.split_whitespace() {
        for v in expand(tok) {
            if let Some(v) = v {
                timestamps.push(i * interval_ms);
                vals.push(v);
            }
            i += 1;
        }
    }
    Series {
        labels: labels(desc),
        timestamps,
        values: vals,
    }
}

fn number(s: &str) -> f64 {
    match s {
        "stale" => f64::from_bits(STALE_NAN_BITS),
        _ => s.parse().unwrap_or_else(|_| panic!("bad number {s}")),
    }
}

fn expand(tok: &str) -> Vec<Option<f64>> {
    let Some((head, n)) = tok.split_once('x') else {
        return vec![(tok != "_").then(|| number(tok))];
    };
    let n: usize = n.parse().expect("repeat count");
    if head == "_" {
        return vec![None; n + 1];
    }
    // The sign of the increment is the last + or - that is not at the start.
    let split = head
        .char_indices()
        .skip(1)
        .filter(|&(_, c)| c == '+' || c == '-')
        .map(|(i, _)| i)
        .last();
    let (start, step) = match split {
        Some(i) => (number(&head[..i]), number(&head[i..])),
        None => (number(head), 0.0),
    };
    (0..=n).map(|k| Some(start + step * k as f64)).collect()
}

/// `name{a="b", c="d"}` or `{a="b"}` → labels.
pub fn labels(desc: &str) -> Labels {
    let (name, rest) = match desc.find('{') {
        Some(i) => (&desc[..i], &desc[i + 1..desc.len() - 1]),
        None => (desc, ""),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".into(), name.into()));
    }
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').expect("label=value");
        pairs.push((k.trim().into(), v.trim().trim_matches('"').into()));
    }
    Labels::new(pairs)
}

/// An instant query at `t_ms` as `labels → value`, sorted by labels.
pub fn instant(q: &MemQuerier, expr: &str, t_ms: i64) -> Vec<(String, f64)> {
    eval_instant(q, expr, t_ms)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .into_iter()
        .map(|s| (s.labels.to_string(), s.value))
        .collect()
}

pub fn instant_vector(q: &MemQuerier, expr: &str, t_ms: i64) -> Vector {
    eval_instant(q, expr, t_ms).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

pub fn range(q: &MemQuerier, expr: &str, start_ms: i64, end_ms: i64, step_ms: i64) -> Matrix {
    eval_range(q, expr, start_ms, end_ms, step_ms).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Asserts an instant query's result against `(labels, value)` pairs in any order, values
/// compared to a relative 1e-9 (Prometheus' test tolerance is 1e-6), NaN equal to NaN.
pub fn assert_instant(q: &MemQuerier, expr: &str, t_ms: i64, want: &[(&str, f64)]) {
    let got = instant(q, expr, t_ms);
    let mut want: Vec<(String, f64)> = want
        .iter()
        .map(|(l, v)| (labels(l).to_string(), *v))
        .collect();
    want.sort_by_key(|w| labels(&w.0));
    let ok = got.len() == want.len()
        && got
            .iter()
            .zip(&want)
            .all(|(g, w)| g.0 == w.0 && close(g.1, w.1));
    assert!(ok, "{expr} at {t_ms} ms:\n got  {got:?}\n want {want:?}");
}

pub fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

pub fn default_opts() -> EvalOptions {
    EvalOptions::default()
}

/// Parses, panicking with the error.
pub fn plan(expr: &str) -> strata_promql::Plan {
    parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}
