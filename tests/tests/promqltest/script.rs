//! The promqltest scripting language (`../shared/promqltest/FORMAT.md`): commands, series
//! descriptions with the expanding notation, durations and expectations.

use regex::Regex;

/// A label set as pairs sorted by name.
pub type Labels = Vec<(String, String)>;

/// One value of a series description.
#[derive(Debug, Clone, PartialEq)]
pub enum Point {
    /// `_`: no sample at this step.
    Omitted,
    Float(f64),
    /// `{{…}}`: a native histogram (loaded through the `Db`; queries over them are skipped).
    /// The bool: whether the text gave a `counter_reset_hint` (only then is it compared).
    Histogram(Box<strata_engine::NativeHistogram>, bool),
}

/// `metric{labels} points…`.
#[derive(Debug, Clone)]
pub struct SeriesDesc {
    /// Sorted by name, `__name__` included.
    pub labels: Vec<(String, String)>,
    pub points: Vec<Point>,
}

impl SeriesDesc {
    pub fn metric_name(&self) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == "__name__")
            .map(|(_, v)| v.as_str())
    }
}

/// An annotation or error expectation (`expect warn regex: …`); `None` matches anything.
#[derive(Debug, Clone)]
pub enum Matcher {
    Any,
    Exact(String),
    Regex(Regex),
}

impl Matcher {
    pub fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Exact(m) => m == s,
            Matcher::Regex(r) => r.is_match(s),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Expectations {
    pub fail: Option<Matcher>,
    pub warn: Vec<Matcher>,
    pub info: Vec<Matcher>,
    pub no_warn: bool,
    pub no_info: bool,
    pub ordered: bool,
    /// Old `eval_warn` / `eval_info`: at least one annotation of the kind.
    pub some_warn: bool,
    pub some_info: bool,
}

#[derive(Debug, Clone)]
pub enum Expected {
    /// Series and their points (one point for an instant query).
    Series(Vec<SeriesDesc>),
    Scalar(f64),
    String(String),
}

#[derive(Debug, Clone)]
pub struct Eval {
    pub line: usize,
    pub expr: String,
    /// Instant: `start == end`, `step == 0`.
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    pub is_range: bool,
    /// `expect range vector from … to … step …` of an instant query.
    pub range_vector: Option<(i64, i64, i64)>,
    pub expect: Expectations,
    pub expected: Expected,
    /// Whether the expectation contains native histograms.
    pub has_histograms: bool,
}

#[derive(Debug, Clone)]
pub enum Command {
    Load {
        step_ms: i64,
        with_nhcb: bool,
        series: Vec<SeriesDesc>,
        /// `metric@st …` lines (start timestamps), not modelled by Strata.
        st_lines: usize,
    },
    Clear,
    Eval(Box<Eval>),
}

/// Parses a whole test file.
pub fn parse_file(text: &str) -> Result<Vec<Command>, String> {
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { "" } else { l }.to_owned()
        })
        .collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l.split_whitespace().next().unwrap_or("").to_lowercase();
        let (next, cmd) = if word == "clear" {
            (i + 1, Command::Clear)
        } else if word.starts_with("load") {
            parse_load(&lines, i)?
        } else if word.starts_with("eval") {
            parse_eval(&lines, i)?
        } else {
            return Err(format!("line {}: invalid command {l:?}", i + 1));
        };
        cmds.push(cmd);
        i = next;
    }
    Ok(cmds)
}

/// The block of non-empty lines after line `i`.
fn block(lines: &[String], i: usize) -> &[String] {
    let rest = &lines[i + 1..];
    let n = rest.iter().position(String::is_empty).unwrap_or(rest.len());
    &rest[..n]
}

fn parse_load(lines: &[String], i: usize) -> Result<(usize, Command), String> {
    let re = Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").map_err(|e| e.to_string())?;
    let caps = re
        .captures(&lines[i])
        .ok_or_else(|| format!("line {}: invalid load", i + 1))?;
    let step_ms = parse_duration(&caps[2]).map_err(|e| format!("line {}: {e}", i + 1))?;
    let with_nhcb = caps.get(1).is_some();
    let body = block(lines, i);
    let mut series = Vec::new();
    let mut st_lines = 0;
    for (k, l) in body.iter().enumerate() {
        let head = l.split_whitespace().next().unwrap_or("");
        if head.ends_with("@st") {
            st_lines += 1;
            continue;
        }
        let s = parse_series(l).map_err(|e| format!("line {}: {e}", i + k + 2))?;
        // As in Prometheus' runner, a series defined twice in one load keeps the last points.
        series.retain(|o: &SeriesDesc| o.labels != s.labels);
        series.push(s);
    }
    Ok((
        i + 1 + body.len(),
        Command::Load {
            step_ms,
            with_nhcb,
            series,
            st_lines,
        },
    ))
}

fn parse_eval(lines: &[String], i: usize) -> Result<(usize, Command), String> {
    let instant =
        Regex::new(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
            .map_err(|e| e.to_string())?;
    let range = Regex::new(
        r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
    )
    .map_err(|e| e.to_string())?;
    let line = &lines[i];
    let err = |e: String| format!("line {}: {e}", i + 1);
    let mut ev = if let Some(c) = instant.captures(line) {
        let t = parse_duration(c.get(2).map_or("", |m| m.as_str())).map_err(err)?;
        new_eval(i + 1, &c[3], (t, t, 0), false, c.get(1).map(|m| m.as_str()))
    } else if let Some(c) = range.captures(line) {
        let (s, e, st) = (
            parse_duration(&c[2]).map_err(err)?,
            parse_duration(&c[3]).map_err(err)?,
            parse_duration(&c[4]).map_err(err)?,
        );
        new_eval(i + 1, &c[5], (s, e, st), true, c.get(1).map(|m| m.as_str()))
    } else {
        return Err(err(format!("invalid eval {line:?}")));
    };
    let body = block(lines, i);
    let mut series = Vec::new();
    for l in body {
        parse_eval_line(&mut ev, &mut series, l).map_err(err)?;
    }
    if !matches!(ev.expected, Expected::Scalar(_) | Expected::String(_)) {
        ev.has_histograms |= series
            .iter()
            .any(|s: &SeriesDesc| s.points.iter().any(|p| matches!(p, Point::Histogram(..))));
        ev.expected = Expected::Series(series);
    }
    Ok((i + 1 + body.len(), Command::Eval(Box::new(ev))))
}

fn new_eval(
    line: usize,
    expr: &str,
    (start_ms, end_ms, step_ms): (i64, i64, i64),
    is_range: bool,
    modifier: Option<&str>,
) -> Eval {
    let mut expect = Expectations::default();
    match modifier {
        Some("fail") => expect.fail = Some(Matcher::Any),
        Some("warn") => expect.some_warn = true,
        Some("info") => expect.some_info = true,
        Some("ordered") => expect.ordered = true,
        _ => {}
    }
    Eval {
        line,
        expr: expr.to_owned(),
        start_ms,
        end_ms,
        step_ms,
        is_range,
        range_vector: None,
        expect,
        expected: Expected::Series(Vec::new()),
        has_histograms: false,
    }
}

fn parse_eval_line(ev: &mut Eval, series: &mut Vec<SeriesDesc>, l: &str) -> Result<(), String> {
    if let Some(rest) = l.strip_prefix("expected_fail_message") {
        ev.expect.fail = Some(Matcher::Exact(rest.trim().to_owned()));
    } else if let Some(rest) = l.strip_prefix("expected_fail_regexp") {
        let re = Regex::new(rest.trim()).map_err(|e| e.to_string())?;
        ev.expect.fail = Some(Matcher::Regex(re));
    } else if let Some(rest) = l.strip_prefix("expect range vector") {
        let re =
            Regex::new(r"^\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$").map_err(|e| e.to_string())?;
        let c = re
            .captures(rest)
            .ok_or("invalid range vector expectation")?;
        ev.range_vector = Some((
            parse_duration(&c[1])?,
            parse_duration(&c[2])?,
            parse_duration(&c[3])?,
        ));
    } else if let Some(rest) = l.strip_prefix("expect string") {
        ev.expected = Expected::String(unquote(rest.trim())?);
    } else if l.split(' ').next() == Some("expect") {
        parse_expect(&mut ev.expect, l)?;
    } else if let Some(v) = parse_number(l) {
        ev.expected = Expected::Scalar(v);
    } else {
        series.push(parse_series(l)?);
    }
    Ok(())
}

fn parse_expect(e: &mut Expectations, l: &str) -> Result<(), String> {
    let re =
        Regex::new(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
            .map_err(|e| e.to_string())?;
    let c = re
        .captures(l.trim())
        .ok_or_else(|| format!("invalid expect {l:?}"))?;
    let m = match (c.get(2).map(|m| m.as_str()), c.get(3)) {
        (Some("msg"), Some(s)) => Matcher::Exact(s.as_str().trim().to_owned()),
        (Some("regex"), Some(s)) => {
            Matcher::Regex(Regex::new(s.as_str().trim()).map_err(|e| e.to_string())?)
        }
        _ => Matcher::Any,
    };
    match &c[1] {
        "ordered" => e.ordered = true,
        "fail" => e.fail = Some(m),
        "warn" => e.warn.push(m),
        "info" => e.info.push(m),
        "no_warn" => e.no_warn = true,
        _ => e.no_info = true,
    }
    Ok(())
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseFloat`.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let int = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) {
        i64::from_str_radix(&body[1..], 8).ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(if neg { -(i as f64) } else { i as f64 });
    }
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if body
            .bytes()
            .all(|b| b.is_ascii_digit() || b"._eE+-".contains(&b)) =>
        {
            body.replace('_', "").parse::<f64>().ok()?
        }
        _ => return None,
    };
    Some(if neg { -v } else { v })
}

/// Prometheus' `model.ParseDuration` (`1h30m`, `5m`, `0`, `10ms`), in milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(0);
    }
    let units = [
        ("ms", 1i64),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
        ("w", 7 * 86_400_000),
        ("y", 365 * 86_400_000),
    ];
    let mut rest = s;
    let mut total = 0i64;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(format!("invalid duration {s:?}"));
        }
        let num: i64 = rest[..n]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        rest = &rest[n..];
        let (unit, mult) = units
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())
            .ok_or_else(|| format!("invalid duration {s:?}"))?;
        rest = &rest[unit.len()..];
        total = total.saturating_add(num.saturating_mul(*mult));
    }
    Ok(total)
}

/// A quoted string (`"…"`, `'…'` or `` `…` ``) with Go escapes.
pub fn unquote(s: &str) -> Result<String, String> {
    let (v, rest) = quoted(s)?;
    if !rest.trim().is_empty() {
        return Err(format!("trailing text after string in {s:?}"));
    }
    Ok(v)
}

/// The quoted string at the start of `s` and what follows it.
fn quoted(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let Some((_, q)) = chars.next() else {
        return Err("expected a string".into());
    };
    if !matches!(q, '"' | '\'' | '`') {
        return Err(format!("expected a string at {s:?}"));
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return Ok((out, &s[i + 1..]));
        }
        if c == '\\' && q != '`' {
            let (_, e) = chars.next().ok_or("unterminated escape")?;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = (0..n)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                    out.push(char::from_u32(code).ok_or("bad escape")?);
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        } else {
            out.push(c);
        }
    }
    Err(format!("unterminated string in {s:?}"))
}

/// `metric{a="b"} 1 2+3x4 _ stale {{…}}`.
pub fn parse_series(line: &str) -> Result<SeriesDesc, String> {
    let (labels, rest) = parse_metric(line.trim())?;
    Ok(SeriesDesc {
        labels,
        points: parse_points(rest)?,
    })
}

/// The metric part of a series line, and the rest.
fn parse_metric(s: &str) -> Result<(Labels, &str), String> {
    let name_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(s.len());
    let mut labels = Vec::new();
    if name_len > 0 {
        labels.push(("__name__".to_owned(), s[..name_len].to_owned()));
    }
    let mut rest = &s[name_len..];
    if let Some(body) = rest.strip_prefix('{') {
        rest = parse_label_body(body, &mut labels)?;
    } else if name_len == 0 {
        return Err(format!("no metric in {s:?}"));
    }
    labels.sort();
    if labels.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(format!("duplicate label in {s:?}"));
    }
    labels.retain(|(_, v)| !v.is_empty());
    Ok((labels, rest))
}

/// `a="b", "c"="d", "name"}` after the `{`; returns what follows the `}`.
fn parse_label_body<'a>(
    mut s: &'a str,
    labels: &mut Vec<(String, String)>,
) -> Result<&'a str, String> {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let (name, rest) = if s.starts_with(['"', '\'', '`']) {
            quoted(s)?
        } else {
            let n = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            (s[..n].to_owned(), &s[n..])
        };
        let rest = rest.trim_start();
        s = if let Some(v) = rest.strip_prefix('=') {
            let (value, rest) = quoted(v.trim_start())?;
            labels.push((name, value));
            rest
        } else {
            // A quoted metric name on its own: `{"metric.name", a="b"}`.
            labels.push(("__name__".to_owned(), name));
            rest
        };
        s = s.trim_start();
        s = s.strip_prefix(',').unwrap_or(s);
    }
}

/// The expanding notation: `_`, `_xN`, `v`, `vxN`, `v+dxN`, `v-dxN`, `stale`, `{{…}}`.
fn parse_points(s: &str) -> Result<Vec<Point>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        if rest.starts_with("{{") {
            let mut end = rest.find("}}").ok_or("unterminated histogram")? + 2;
            if rest[end..].starts_with("+{{") || rest[end..].starts_with("-{{") {
                end += rest[end..].find("}}").ok_or("unterminated histogram")? + 2;
            }
            let tail = &rest[end..];
            let item_end = tail.find(char::is_whitespace).unwrap_or(tail.len());
            // `{{…}}x3` or `{{…}}+{{…}}x3`.
            let item = &rest[..end + item_end];
            match super::native::expand(item) {
                Ok(hs) => {
                    let hint = item.contains("counter_reset_hint");
                    out.extend(hs.into_iter().map(|h| Point::Histogram(Box::new(h), hint)))
                }
                // A notation this runner does not read (yet): still a histogram per step.
                Err(_) => out.extend(std::iter::repeat_n(
                    Point::Histogram(Box::default(), false),
                    repetitions(item),
                )),
            }
            rest = tail[item_end..].trim_start();
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        parse_item(&rest[..end], &mut out)?;
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

/// How many points a histogram item expands to.
fn repetitions(item: &str) -> usize {
    match item.rfind("}}x") {
        Some(i) => item[i + 3..].parse::<usize>().map_or(1, |n| n + 1),
        None => 1,
    }
}

fn parse_item(item: &str, out: &mut Vec<Point>) -> Result<(), String> {
    if item == "_" {
        out.push(Point::Omitted);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        let n: usize = n.parse().map_err(|_| format!("bad item {item:?}"))?;
        out.extend(std::iter::repeat_n(Point::Omitted, n));
        return Ok(());
    }
    let (value_part, times) = match item.rfind('x') {
        Some(i) => {
            let n: u64 = item[i + 1..]
                .parse()
                .map_err(|_| format!("bad item {item:?}"))?;
            (&item[..i], Some(n))
        }
        _ => (item, None),
    };
    // Split `v+d` / `v-d` at a sign that is not at the start or after an exponent.
    let b = value_part.as_bytes();
    let split =
        (1..b.len()).find(|&k| (b[k] == b'+' || b[k] == b'-') && !matches!(b[k - 1], b'e' | b'E'));
    let (base, delta) = match (split, times) {
        (Some(k), Some(_)) => (&value_part[..k], Some(&value_part[k..])),
        _ => (value_part, None),
    };
    let mut v = series_value(base)?;
    let delta = match delta {
        Some(d) => series_value(d)?,
        None => 0.0,
    };
    match times {
        None => out.push(Point::Float(v)),
        Some(n) => {
            for _ in 0..=n {
                out.push(Point::Float(v));
                v += delta;
            }
        }
    }
    Ok(())
}

pub fn series_value(s: &str) -> Result<f64, String> {
    if s.eq_ignore_ascii_case("stale") {
        return Ok(f64::from_bits(strata_engine::query::STALE_NAN_BITS));
    }
    parse_number(s).ok_or_else(|| format!("bad value {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(s: &str) -> Vec<Option<f64>> {
        parse_points(s)
            .unwrap()
            .into_iter()
            .map(|p| match p {
                Point::Float(v) => Some(v),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn expanding_notation() {
        assert_eq!(
            floats("5 2+3x2 _ 1x1"),
            [
                Some(5.0),
                Some(2.0),
                Some(5.0),
                Some(8.0),
                None,
                Some(1.0),
                Some(1.0)
            ]
        );
        assert_eq!(
            floats("_x2 -1-1x1 1e3"),
            [None, None, Some(-1.0), Some(-2.0), Some(1000.0)]
        );
        assert_eq!(
            parse_points("{{schema:1 sum:3 buckets:[1 2]}}x2 1")
                .unwrap()
                .len(),
            4
        );
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        let s = parse_series(r#"{"a.b", c="d e"} 1"#).unwrap();
        assert_eq!(
            s.labels,
            [
                ("__name__".into(), "a.b".into()),
                ("c".into(), "d e".into())
            ]
        );
    }
}
