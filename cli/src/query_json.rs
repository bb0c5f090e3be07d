//! `strata query --json`: the body Prometheus' HTTP API answers `/api/v1/query` and
//! `/api/v1/query_range` with, byte for byte as Prometheus 3 writes it (`web/api/v1/api.go`'s
//! `Response`, the encoders of `json_codec.go` and `util/jsonutil`):
//!
//! ```text
//! {"status":"success","data":{"resultType":"vector","result":[
//!   {"metric":{"__name__":"up","job":"node"},"value":[1790000000.500,"1"]}]},
//!  "warnings":["PromQL warning: …"],"infos":["PromQL info: …"]}
//! ```
//!
//! on one line. `warnings` and `infos` appear only when there are some. Sample values are
//! strings (`"1.5"`, `"+Inf"`, `"NaN"`, `"1e-07"`); sample timestamps are seconds with the
//! milliseconds written out (`1790000000.500`), while a scalar's or string's timestamp is a plain
//! float (`1790000000.5`), as Prometheus writes them.

use std::fmt::Write;
use strata_engine::query::{Annotations, InstantValue, Labels, Matrix, MatrixSeries, Vector};
use strata_engine::{FloatHistogram, NativeHistogram};

/// The response to an instant query at `t_ms`.
pub fn instant(value: &InstantValue, t_ms: i64, annotations: &Annotations) -> String {
    let mut result = String::new();
    let kind = match value {
        InstantValue::Vector(v) => {
            vector(&mut result, v);
            "vector"
        }
        InstantValue::Matrix(m) => {
            matrix(&mut result, m);
            "matrix"
        }
        InstantValue::Scalar(v) => {
            let _ = write!(result, "[{},\"{}\"]", go_float(seconds(t_ms)), go_fixed(*v));
            "scalar"
        }
        InstantValue::String(s) => {
            let _ = write!(result, "[{},", go_float(seconds(t_ms)));
            string(&mut result, s, true);
            result.push(']');
            "string"
        }
    };
    envelope(kind, &result, annotations)
}

/// The response to a range query.
pub fn range(m: &Matrix, annotations: &Annotations) -> String {
    let mut result = String::new();
    matrix(&mut result, m);
    envelope("matrix", &result, annotations)
}

fn envelope(kind: &str, result: &str, annotations: &Annotations) -> String {
    let mut out =
        format!(r#"{{"status":"success","data":{{"resultType":"{kind}","result":{result}}}"#);
    for (key, messages) in [
        ("warnings", annotations.warnings().collect::<Vec<_>>()),
        ("infos", annotations.infos().collect()),
    ] {
        if messages.is_empty() {
            continue;
        }
        let _ = write!(out, ",\"{key}\":[");
        for (i, m) in messages.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            string(&mut out, m, true);
        }
        out.push(']');
    }
    out.push('}');
    out
}

fn vector(out: &mut String, v: &Vector) {
    out.push('[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"metric\":");
        metric(out, &s.labels);
        match &s.histogram {
            Some(h) => {
                out.push_str(",\"histogram\":");
                histogram_point(out, s.t_ms, h);
            }
            None => {
                out.push_str(",\"value\":");
                point(out, s.t_ms, s.value);
            }
        }
        out.push('}');
    }
    out.push(']');
}

fn matrix(out: &mut String, m: &Matrix) {
    out.push('[');
    for (i, s) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        series(out, s);
    }
    out.push(']');
}

/// `{"metric":{…},"values":[[t,"v"],…]}`; a series without points has no `values`.
fn series(out: &mut String, s: &MatrixSeries) {
    out.push_str("{\"metric\":");
    metric(out, &s.labels);
    for (i, &(t, v)) in s.points.iter().enumerate() {
        out.push_str(if i == 0 { ",\"values\":[" } else { "," });
        point(out, t, v);
    }
    if !s.points.is_empty() {
        out.push(']');
    }
    for (i, (t, h)) in s.histograms.iter().enumerate() {
        out.push_str(if i == 0 { ",\"histograms\":[" } else { "," });
        histogram_point(out, *t, h);
    }
    if !s.histograms.is_empty() {
        out.push(']');
    }
    out.push('}');
}

/// `[t,{"count":"…","sum":"…","buckets":[[boundaries,"lower","upper","count"],…]}]`, the
/// buckets with observations from the lowest up; `boundaries` as Prometheus numbers them:
/// 0 `(lower, upper]`, 1 `[lower, upper)`, 3 `[lower, upper]` (the zero bucket).
fn histogram_point(out: &mut String, t_ms: i64, h: &NativeHistogram) {
    out.push('[');
    timestamp(out, t_ms);
    let _ = write!(
        out,
        ",{{\"count\":\"{}\",\"sum\":\"{}\"",
        sample_value(h.count),
        sample_value(h.sum)
    );
    let f = FloatHistogram::from_native(h);
    let buckets: Vec<_> = f
        .all_buckets()
        .into_iter()
        .filter(|b| b.count != 0.0)
        .collect();
    for (i, b) in buckets.iter().enumerate() {
        out.push_str(if i == 0 { ",\"buckets\":[" } else { "," });
        let rule = if b.lower < 0.0 && b.upper > 0.0 {
            3
        } else if b.upper <= 0.0 {
            1
        } else {
            0
        };
        let _ = write!(
            out,
            "[{rule},\"{}\",\"{}\",\"{}\"]",
            sample_value(b.lower),
            sample_value(b.upper),
            sample_value(b.count)
        );
    }
    if !buckets.is_empty() {
        out.push(']');
    }
    out.push_str("}]");
}

fn metric(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, &l.name, false);
        out.push(':');
        string(out, &l.value, false);
    }
    out.push('}');
}

/// `[t,"v"]`, with `jsonutil.MarshalTimestamp` and `MarshalFloat`.
fn point(out: &mut String, t_ms: i64, v: f64) {
    out.push('[');
    timestamp(out, t_ms);
    let _ = write!(out, ",\"{}\"]", sample_value(v));
}

/// Seconds, then `.` and the milliseconds as three digits unless they are zero.
fn timestamp(out: &mut String, t_ms: i64) {
    let sign = if t_ms < 0 { "-" } else { "" };
    let abs = t_ms.unsigned_abs();
    let _ = write!(out, "{sign}{}", abs / 1000);
    if !abs.is_multiple_of(1000) {
        let _ = write!(out, ".{:03}", abs % 1000);
    }
}

fn seconds(t_ms: i64) -> f64 {
    t_ms as f64 / 1000.0
}

/// A sample value as `jsonutil.MarshalFloat` writes it: Go's shortest `'f'` form, or its `'e'`
/// form for magnitudes below 1e-6 or from 1e21 on; `+Inf`, `-Inf`, `NaN`.
pub fn sample_value(v: f64) -> String {
    let abs = v.abs();
    if v.is_finite() && abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        go_exponent(v, 2)
    } else {
        go_fixed(v)
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that read back as `v`.
fn go_fixed(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        v.to_string()
    }
}

/// Go's `'e'` form of the shortest digits, the exponent signed and at least `min_digits` long.
fn go_exponent(v: f64, min_digits: usize) -> String {
    let rust = format!("{v:e}");
    let (mantissa, exp) = rust.split_once('e').unwrap_or((&rust, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>min_digits$}")
}

/// A float as Go's `encoding/json` writes a number (a scalar's or string's timestamp).
fn go_float(v: f64) -> String {
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        go_exponent(v, 1)
    } else {
        v.to_string()
    }
}

/// A JSON string as jsoniter writes it: `\"`, `\\`, `\n`, `\r`, `\t`, other control characters
/// as `\u00xx`; `html` also escapes `<`, `>`, `&`, U+2028 and U+2029 (Prometheus' encoder does
/// for the strings it marshals through the standard library's rules: annotations and string
/// results, not label names and values).
fn string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_as_prometheus_writes_them() {
        let cases = [
            (1.5, "1.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (100.0, "100"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-6, "0.000001"),
            (1e-7, "1e-07"),
            (-2.5e-10, "-2.5e-10"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(sample_value(v), want, "{v:e}");
        }
        assert_eq!(go_fixed(1e-7), "0.0000001");
        assert_eq!(go_float(1e-7), "1e-7");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1_790_000_000.5), "1790000000.5");
    }

    #[test]
    fn timestamps_and_strings() {
        let mut s = String::new();
        for t in [
            1_790_000_000_500,
            1_790_000_000_000,
            5,
            -1500,
            0,
            1_790_000_000_050,
        ] {
            timestamp(&mut s, t);
            s.push(' ');
        }
        assert_eq!(
            s,
            "1790000000.500 1790000000 0.005 -1.500 0 1790000000.050 "
        );
        let mut s = String::new();
        string(&mut s, "a\"b\\c\n\u{1}<&>", false);
        string(&mut s, "<&>\u{2028}", true);
        assert_eq!(s, r#""a\"b\\c\n\u0001<&>""\u003c\u0026\u003e\u2028""#);
    }
}
