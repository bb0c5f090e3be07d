//! Prometheus text exposition, one sample per line: `name{label="value",…} value [timestamp_ms]`,
//! optionally followed by an OpenMetrics exemplar `# {trace_id="…"} value [timestamp_s]`
//! ([`Line::exemplar`], parsed by [`parse_exemplar`]). `# HELP` / `# TYPE` / `# UNIT`
//! comments are read by [`parse_comment`]; other comments and blank lines are skipped. Label values may contain `\\`,
//! `\"` and `\n` escapes. Values use Go's float syntax (`NaN`, `+Inf`, `-Inf`, exponents).
//! Errors name the line and what is wrong; nothing panics on malformed input.

use std::fmt;

/// A parse error with its line number (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// One sample line, borrowing from the input. `series` is the text before the value (the key
/// to cache series references by); `labels` are parsed only on request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line<'a> {
    pub series: &'a str,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
    /// The exemplar after ` # `, unparsed (see [`parse_exemplar`]).
    pub exemplar: Option<&'a str>,
}

/// Parses a float the way Prometheus does: Go syntax, case-insensitive `NaN` / `Inf`.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "+inf" | "Inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => {
            let b = s.as_bytes();
            // Rust accepts "infinity"/"nan" spellings Go does not, and Go accepts '_' never in
            // exposition; keep to digits, sign, dot, exponent.
            if b.is_empty() || !b.iter().all(|c| c.is_ascii_digit() || b"+-.eE".contains(c)) {
                return None;
            }
            s.parse().ok()
        }
    }
}

/// Splits a sample line. `Ok(None)` for comments and blank lines.
pub fn parse_line(text: &str, line: u64) -> Result<Option<Line<'_>>, ParseError> {
    let err = |m: &str| ParseError {
        line,
        message: m.to_owned(),
    };
    let t = text.trim();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    // The series part ends at the closing brace if there are labels, else at the first space.
    let series_end = match t.find('{') {
        Some(open) if t[..open].find(char::is_whitespace).is_none() => {
            let close =
                find_closing_brace(&t[open..]).ok_or_else(|| err("unterminated label set"))?;
            open + close + 1
        }
        _ => t
            .find(char::is_whitespace)
            .ok_or_else(|| err("no value after the metric name"))?,
    };
    let series = &t[..series_end];
    let (sample, exemplar) = match t[series_end..].split_once(" # ") {
        Some((sample, ex)) => (sample, Some(ex.trim())),
        None => (&t[series_end..], None),
    };
    let mut rest = sample.split_whitespace();
    let value = rest.next().ok_or_else(|| err("no value"))?;
    let value =
        parse_value(value).ok_or_else(|| err(&format!("value {value:?} is not a number")))?;
    let timestamp_ms = match rest.next() {
        None => None,
        Some(ts) => Some(ts.parse::<i64>().map_err(|_| {
            err(&format!(
                "timestamp {ts:?} is not an integer of milliseconds"
            ))
        })?),
    };
    if rest.next().is_some() {
        return Err(err("unexpected text after the timestamp"));
    }
    Ok(Some(Line {
        series,
        value,
        timestamp_ms,
        exemplar,
    }))
}

/// A metadata comment: `# TYPE name kind`, `# HELP name text`, `# UNIT name unit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comment<'a> {
    Type {
        metric: &'a str,
        kind: &'a str,
    },
    /// The help text with `\\` and `\n` unescaped.
    Help {
        metric: &'a str,
        text: String,
    },
    Unit {
        metric: &'a str,
        unit: &'a str,
    },
}

/// The metadata comment on this line, if it is one (other lines: `None`).
pub fn parse_comment(text: &str) -> Option<Comment<'_>> {
    let rest = text.trim_start().strip_prefix('#')?.trim_start();
    let (word, rest) = rest.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let (metric, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if metric.is_empty() {
        return None;
    }
    let value = value.trim();
    match word {
        "TYPE" => Some(Comment::Type {
            metric,
            kind: value,
        }),
        "HELP" => Some(Comment::Help {
            metric,
            text: unescape_help(value),
        }),
        "UNIT" => Some(Comment::Unit {
            metric,
            unit: value,
        }),
        _ => None,
    }
}

fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// An OpenMetrics exemplar, `{labels} value [timestamp]`: its labels, value and time in
/// milliseconds (OpenMetrics writes seconds, with a fraction).
pub type ParsedExemplar = (Vec<(String, String)>, f64, Option<i64>);

/// Parses the text [`Line::exemplar`] holds.
pub fn parse_exemplar(text: &str, line: u64) -> Result<ParsedExemplar, ParseError> {
    let err = |m: String| ParseError { line, message: m };
    let t = text.trim();
    if !t.starts_with('{') {
        return Err(err("exemplar: expected a label set".into()));
    }
    let close =
        find_closing_brace(t).ok_or_else(|| err("exemplar: unterminated label set".into()))?;
    // The label set parses as a series' does (a placeholder name in front, dropped after).
    let mut labels = parse_series(&format!("x{}", &t[..=close]), line)?;
    labels.remove(0);
    let mut rest = t[close + 1..].split_whitespace();
    let value = rest
        .next()
        .ok_or_else(|| err("exemplar: no value".into()))?;
    let value = parse_value(value)
        .ok_or_else(|| err(format!("exemplar value {value:?} is not a number")))?;
    let ts = match rest.next() {
        None => None,
        Some(s) => {
            let secs: f64 = s
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && v.abs() < 9.2e15)
                .ok_or_else(|| {
                    err(format!(
                        "exemplar timestamp {s:?} is not a number of seconds"
                    ))
                })?;
            Some((secs * 1000.0).round() as i64)
        }
    };
    if rest.next().is_some() {
        return Err(err("exemplar: unexpected text after the timestamp".into()));
    }
    Ok((labels, value, ts))
}

/// Index of the `}` closing the label set that starts at `s[0] == '{'`, honouring quotes.
fn find_closing_brace(s: &str) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '}' if !in_quotes => return Some(i),
            _ => {}
        }
    }
    None
}

/// Parses the series part (`name{a="b",…}`) into label pairs, `__name__` first.
pub fn parse_series(series: &str, line: u64) -> Result<Vec<(String, String)>, ParseError> {
    let err = |m: String| ParseError { line, message: m };
    let (name, body) = match series.find('{') {
        Some(i) => (&series[..i], Some(&series[i + 1..series.len() - 1])),
        None => (series, None),
    };
    if !valid_metric_name(name) {
        return Err(err(format!("invalid metric name {name:?}")));
    }
    let mut labels = vec![("__name__".to_owned(), name.to_owned())];
    let Some(body) = body else {
        return Ok(labels);
    };
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| err(format!("label without '=' in {series:?}")))?;
        let lname = rest[..eq].trim();
        if !valid_label_name(lname) {
            return Err(err(format!("invalid label name {lname:?}")));
        }
        let after = rest[eq + 1..].trim_start();
        let mut chars = after.char_indices();
        if chars.next().map(|c| c.1) != Some('"') {
            return Err(err(format!("value of label {lname:?} is not quoted")));
        }
        let mut value = String::new();
        let mut end = None;
        let mut escaped = false;
        for (i, c) in chars {
            if escaped {
                match c {
                    'n' => value.push('\n'),
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    other => {
                        return Err(err(format!("unknown escape \\{other} in label {lname:?}")));
                    }
                }
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                end = Some(i);
                break;
            } else {
                value.push(c);
            }
        }
        let end = end.ok_or_else(|| err(format!("unterminated value of label {lname:?}")))?;
        labels.push((lname.to_owned(), value));
        rest = after[end + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return Err(err(format!("expected ',' after label {lname:?}")));
        }
    }
    Ok(labels)
}

fn valid_metric_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn valid_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Formats a float as Prometheus does (Go's `strconv.FormatFloat(v, 'g', -1, 64)`: the
/// shortest digits that round-trip, in exponent form when the exponent is below -4 or at least
/// 6), and `NaN`, `+Inf`, `-Inf`. [`parse_value`] reads back the same bits, except that text
/// has a single NaN: NaN payloads are not kept.
pub fn format_value(v: f64, out: &mut String) {
    use std::fmt::Write;
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.000024e6", "1e-5".
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
}

/// Formats `name{a="b",…}` with labels in the given order (callers sort them), escaping values.
pub fn format_series(labels: &[(String, String)], out: &mut String) {
    let name = labels
        .iter()
        .find(|(n, _)| n == "__name__")
        .map_or("", |(_, v)| v.as_str());
    out.push_str(name);
    let mut first = true;
    for (n, v) in labels.iter().filter(|(n, _)| n != "__name__") {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(n);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    if !first {
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_labels_and_escapes() {
        let l = parse_line(r#"a_b{x="1 2",y="q\"\\\n"} -Inf 1795322189462"#, 1)
            .unwrap()
            .unwrap();
        assert_eq!(l.value, f64::NEG_INFINITY);
        assert_eq!(l.timestamp_ms, Some(1_795_322_189_462));
        let labels = parse_series(l.series, 1).unwrap();
        assert_eq!(labels[1], ("x".into(), "1 2".into()));
        assert_eq!(labels[2], ("y".into(), "q\"\\\n".into()));
        let mut s = String::new();
        format_series(&labels, &mut s);
        assert_eq!(s, l.series);
        assert_eq!(parse_line("up 1", 2).unwrap().unwrap().timestamp_ms, None);
        assert!(parse_line("# TYPE up gauge", 3).unwrap().is_none());
    }

    #[test]
    fn malformed_lines_are_errors_with_line_numbers() {
        for bad in [
            "up",
            "up{a=\"1\" 1 2",
            "up x 1",
            "up 1 1.5",
            "up 1 2 3",
            "up{a=1} 1",
        ] {
            let e = parse_line(bad, 7)
                .and_then(|l| parse_series(l.map(|l| l.series).unwrap_or("up"), 7).map(|_| ()));
            assert!(e.is_err(), "{bad}");
        }
        assert_eq!(parse_series("9up", 4).unwrap_err().line, 4);
        assert!(parse_series("up{a=\"1\" b=\"2\"}", 1).is_err());
        assert!(parse_value("infinity").is_none());
    }

    #[test]
    fn formatted_values_parse_back_exactly() {
        for v in [
            0.1,
            -0.0,
            1e-300,
            5e-324,
            f64::MAX,
            61234.56,
            1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let mut s = String::new();
            format_value(v, &mut s);
            assert_eq!(parse_value(&s).unwrap().to_bits(), v.to_bits(), "{s}");
        }
        let mut s = String::new();
        format_value(f64::NAN, &mut s);
        assert!(parse_value(&s).unwrap().is_nan());
    }
}

#[cfg(test)]
mod openmetrics_tests {
    use super::*;

    #[test]
    fn exemplars_follow_the_sample_and_parse_in_seconds() {
        let l = parse_line(
            r#"http_seconds_bucket{le="0.5",path="/a # b"} 17 1520879607789 # {trace_id="0af7651916cd43dd8448eb211c80319c"} 0.43 1520879607.7"#,
            1,
        )
        .expect("parses")
        .expect("a sample");
        assert_eq!((l.value, l.timestamp_ms), (17.0, Some(1_520_879_607_789)));
        let (labels, v, ts) = parse_exemplar(l.exemplar.expect("exemplar"), 1).expect("exemplar");
        assert_eq!(
            labels,
            [(
                "trace_id".to_owned(),
                "0af7651916cd43dd8448eb211c80319c".to_owned()
            )]
        );
        assert_eq!((v, ts), (0.43, Some(1_520_879_607_700)));
        let plain = parse_line("up 1", 2).expect("parses").expect("sample");
        assert_eq!(plain.exemplar, None);
        for bad in [
            "trace_id=\"x\"} 1",
            "{trace_id=\"x\"}",
            "{a=\"x\"} 1 nope",
            "{a=\"x\"} 1 2 3",
        ] {
            assert!(parse_exemplar(bad, 3).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_comments_are_read() {
        assert_eq!(
            parse_comment("# TYPE http_requests_total counter"),
            Some(Comment::Type {
                metric: "http_requests_total",
                kind: "counter"
            })
        );
        assert_eq!(
            parse_comment(r"# HELP up Whether the target is up.\nSecond \\ line"),
            Some(Comment::Help {
                metric: "up",
                text: "Whether the target is up.\nSecond \\ line".into()
            })
        );
        assert_eq!(
            parse_comment("# UNIT queue_seconds seconds"),
            Some(Comment::Unit {
                metric: "queue_seconds",
                unit: "seconds"
            })
        );
        assert_eq!(parse_comment("# just a comment"), None);
        assert_eq!(parse_comment("# HELP"), None);
        assert_eq!(parse_comment("up 1"), None);
    }
}
