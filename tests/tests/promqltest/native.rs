//! The promqltest native histogram notation: `{{schema:1 sum:3 count:22 z_bucket:1
//! z_bucket_w:0.001 buckets:[5 10 7] offset:-1 n_buckets:[1] n_offset:2 custom_values:[1 2]
//! counter_reset_hint:gauge}}`, and the series notation's `{{a}}+{{b}}xN` (a, a+b, …).

use std::collections::BTreeMap;
use strata_engine::{BucketSpan, CounterResetHint, FloatHistogram, NativeHistogram};

/// Parses the body of one `{{…}}` (without the braces).
pub fn parse_histogram(body: &str) -> Result<NativeHistogram, String> {
    let mut h = NativeHistogram::default();
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let (mut offset, mut n_offset) = (0i32, 0i32);
    let mut rest = body.trim();
    while !rest.is_empty() {
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("no ':' in {rest:?}"))?;
        let key = rest[..colon].trim();
        rest = rest[colon + 1..].trim_start();
        let value = if rest.starts_with('[') {
            let end = rest.find(']').ok_or("unterminated list")? + 1;
            let (v, r) = rest.split_at(end);
            rest = r.trim_start();
            v
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let (v, r) = rest.split_at(end);
            rest = r.trim_start();
            v
        };
        let num = |v: &str| crate::promqltest::script::series_value(v);
        let list = |v: &str| -> Result<Vec<f64>, String> {
            let inner = v.trim_start_matches('[').trim_end_matches(']');
            inner.split_whitespace().map(num).collect()
        };
        let int = |v: &str| v.parse::<i32>().map_err(|e| format!("{key}: {e}"));
        match key {
            "schema" => h.schema = int(value)?,
            "sum" => h.sum = num(value)?,
            "count" => h.count = num(value)?,
            "z_bucket" => h.zero_count = num(value)?,
            "z_bucket_w" => h.zero_threshold = num(value)?,
            "buckets" => pos = list(value)?,
            "n_buckets" => neg = list(value)?,
            "offset" => offset = int(value)?,
            "n_offset" => n_offset = int(value)?,
            "custom_values" => h.custom_values = list(value)?,
            "counter_reset_hint" => {
                h.counter_reset_hint = match value {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    other => return Err(format!("counter_reset_hint {other:?}")),
                }
            }
            other => return Err(format!("unknown histogram field {other:?}")),
        }
    }
    let span = |offset: i32, n: usize| match n {
        0 => Vec::new(),
        n => vec![BucketSpan {
            offset,
            length: n as u32,
        }],
    };
    h.positive_spans = span(offset, pos.len());
    h.positive_buckets = pos;
    h.negative_spans = span(n_offset, neg.len());
    h.negative_buckets = neg;
    Ok(h)
}

/// Bucket index → count of one side.
pub fn side(spans: &[BucketSpan], counts: &[f64]) -> BTreeMap<i64, f64> {
    let mut out = BTreeMap::new();
    let (mut index, mut k) = (0i64, 0usize);
    for s in spans {
        index += i64::from(s.offset);
        for _ in 0..s.length {
            *out.entry(index).or_insert(0.0) += counts.get(k).copied().unwrap_or(0.0);
            (index, k) = (index + 1, k + 1);
        }
    }
    out
}

/// `a + sign·b` as Prometheus' loader computes it (`FloatHistogram.Add` / `Sub`: schemas and
/// zero buckets reconciled, the hint adjusted).
pub fn add(a: &NativeHistogram, b: &NativeHistogram, sign: f64) -> NativeHistogram {
    let mut x = FloatHistogram::from_native(a);
    let y = FloatHistogram::from_native(b);
    let done = if sign < 0.0 { x.sub(&y) } else { x.add(&y) };
    match done {
        Ok(_) => x.to_native(),
        Err(_) => a.clone(), // custom and exponential buckets: the loader would refuse it
    }
}

/// Expands one histogram item — `{{a}}`, `{{a}}xN`, `{{a}}+{{b}}xN`, `{{a}}-{{b}}xN` — into
/// its histograms.
pub fn expand(item: &str) -> Result<Vec<NativeHistogram>, String> {
    let first_end = item.find("}}").ok_or("unterminated histogram")?;
    let a = parse_histogram(&item[2..first_end])?;
    let rest = &item[first_end + 2..];
    let (inc, rest) = match rest.as_bytes().first() {
        Some(c @ (b'+' | b'-')) if rest[1..].starts_with("{{") => {
            let end = rest[1..].find("}}").ok_or("unterminated histogram")? + 1;
            let sign = if *c == b'+' { 1.0 } else { -1.0 };
            (
                Some((parse_histogram(&rest[3..end])?, sign)),
                &rest[end + 2..],
            )
        }
        _ => (None, rest),
    };
    let times = match rest.strip_prefix('x') {
        Some(n) => n
            .parse::<usize>()
            .map_err(|e| format!("repetitions {n:?}: {e}"))?,
        None if rest.is_empty() => 0,
        None => return Err(format!("unexpected {rest:?} after a histogram")),
    };
    let mut out = vec![a];
    for _ in 0..times {
        let last = out.last().cloned().unwrap_or_default();
        out.push(match &inc {
            Some((b, sign)) => add(&last, b, *sign),
            None => last,
        });
    }
    Ok(out)
}

/// Prometheus' `compareNativeHistogram` on compacted histograms: same schema, zero threshold
/// and custom bounds, counts and sums within `eq`, the same non-empty buckets; the counter
/// reset hint only when the expected text gave one.
pub fn matches(
    want: &NativeHistogram,
    hint_set: bool,
    got: &NativeHistogram,
    eq: fn(f64, f64) -> bool,
) -> bool {
    let buckets = |spans: &[BucketSpan], counts: &[f64]| -> Vec<(i64, f64)> {
        side(spans, counts)
            .into_iter()
            .filter(|b| b.1 != 0.0)
            .collect()
    };
    let same_side = |a: Vec<(i64, f64)>, b: Vec<(i64, f64)>| {
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0 && eq(x.1, y.1))
    };
    want.schema == got.schema
        && eq(want.count, got.count)
        && eq(want.sum, got.sum)
        && (!want.uses_custom_buckets() || want.custom_values == got.custom_values)
        && want.zero_threshold == got.zero_threshold
        && eq(want.zero_count, got.zero_count)
        && same_side(
            buckets(&want.positive_spans, &want.positive_buckets),
            buckets(&got.positive_spans, &got.positive_buckets),
        )
        && same_side(
            buckets(&want.negative_spans, &want.negative_buckets),
            buckets(&got.negative_spans, &got.negative_buckets),
        )
        && (!hint_set || want.counter_reset_hint == got.counter_reset_hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notation_parses_and_expands() {
        let h =
            parse_histogram("schema:1 sum:3 count:22 buckets:[5 10 7] offset:-1").expect("parses");
        assert_eq!((h.schema, h.sum, h.count), (1, 3.0, 22.0));
        assert_eq!(
            h.positive_spans,
            [BucketSpan {
                offset: -1,
                length: 3
            }]
        );
        let seq = expand(
            "{{schema:0 sum:4 count:4 buckets:[1 2 1]}}+{{sum:2 count:1 buckets:[1] offset:1}}x2",
        )
        .expect("expands");
        assert_eq!(seq.len(), 3);
        assert_eq!(seq[2].count, 6.0);
        assert_eq!(seq[2].positive_buckets, [1.0, 4.0, 1.0]);
        assert!(expand("{{}}").expect("empty")[0].validate().is_ok());
        assert!(parse_histogram("bogus:1").is_err());
    }
}
