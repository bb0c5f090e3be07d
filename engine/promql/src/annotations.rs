//! Prometheus' warning and info annotations: facts about a query's result that are not errors
//! ("metric might not be a counter", "input to histogram_quantile needed to be fixed for
//! monotonicity", …), returned beside the result.

use std::collections::BTreeSet;
use std::fmt;

/// How serious an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The result may be wrong or misleading.
    Warning,
    /// The result is right, but the query may not mean what its author thinks.
    Info,
}

/// One annotation: its level, Prometheus' message (without the `PromQL warning: ` prefix) and
/// where in the query the expression it is about starts (line and column, from 1), if known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Annotation {
    pub level: Level,
    pub message: String,
    pub position: Option<(u32, u32)>,
}

impl fmt::Display for Annotation {
    /// As Prometheus' HTTP API renders it: `PromQL warning: …` or `PromQL info: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level {
            Level::Warning => write!(f, "PromQL warning: {}", self.message)?,
            Level::Info => write!(f, "PromQL info: {}", self.message)?,
        }
        match self.position {
            Some((line, col)) => write!(f, " ({line}:{col})"),
            None => Ok(()),
        }
    }
}

/// The annotations of one query, each once, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations(BTreeSet<Annotation>);

impl Annotations {
    pub(crate) fn warn(&mut self, message: impl Into<String>, position: Option<(u32, u32)>) {
        self.0.insert(Annotation {
            level: Level::Warning,
            message: message.into(),
            position,
        });
    }

    pub(crate) fn info(&mut self, message: impl Into<String>, position: Option<(u32, u32)>) {
        self.0.insert(Annotation {
            level: Level::Info,
            message: message.into(),
            position,
        });
    }

    pub fn iter(&self) -> impl Iterator<Item = &Annotation> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The warnings, rendered as Prometheus' API does.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.of(Level::Warning)
    }

    /// The infos, rendered as Prometheus' API does.
    pub fn infos(&self) -> impl Iterator<Item = String> + '_ {
        self.of(Level::Info)
    }

    fn of(&self, level: Level) -> impl Iterator<Item = String> + '_ {
        self.0
            .iter()
            .filter(move |a| a.level == level)
            .map(ToString::to_string)
    }
}

/// Where a call (function or aggregation) and each of its arguments start in the query text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pos {
    pub call: Option<(u32, u32)>,
    pub args: Vec<(u32, u32)>,
}

impl Pos {
    pub(crate) fn arg(&self, i: usize) -> Option<(u32, u32)> {
        self.args.get(i).copied()
    }
}

/// Finds calls in the query text: the `n`-th call of a name in the plan's pre-order is the
/// `n`-th occurrence of `name (` in the text, strings and comments skipped.
#[derive(Debug)]
pub(crate) struct Locator<'a> {
    text: &'a str,
    seen: std::collections::HashMap<String, usize>,
    /// For each `<`, `<=`, `>`, `>=` of the query in text order: whether it was written as a
    /// trim operator (`</` upper, `>/` lower), which the parser is shown as `<` / `>`.
    comparisons: std::collections::VecDeque<Option<bool>>,
    /// Enclosing `histogram_count`/`sum`/`avg` calls, and enclosing nodes that need the
    /// buckets (subqueries, `histogram_quantile(s)`, `histogram_fraction`).
    stats_calls: usize,
    bucket_users: usize,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Locator {
            text,
            seen: Default::default(),
            comparisons: Default::default(),
            stats_calls: 0,
            bucket_users: 0,
        }
    }

    /// A locator that knows which comparisons of `text` were trim operators.
    pub(crate) fn with_comparisons(text: &'a str, c: Vec<Option<bool>>) -> Self {
        Locator {
            comparisons: c.into(),
            ..Locator::new(text)
        }
    }

    /// Whether a selector here may skip the buckets (Prometheus' `detectHistogramStatsDecoding`).
    pub(crate) fn stats_only(&self) -> bool {
        self.stats_calls > 0 && self.bucket_users == 0
    }

    /// Entering a call's arguments; what to pass to [`Locator::leave_call`].
    pub(crate) fn enter_call(&mut self, name: &str) -> u8 {
        match name {
            "histogram_count" | "histogram_sum" | "histogram_avg" => {
                self.stats_calls += 1;
                1
            }
            "histogram_quantile" | "histogram_quantiles" | "histogram_fraction" => {
                self.bucket_users += 1;
                2
            }
            _ => 0,
        }
    }

    pub(crate) fn leave_call(&mut self, role: u8) {
        match role {
            1 => self.stats_calls -= 1,
            2 => self.bucket_users -= 1,
            _ => {}
        }
    }

    pub(crate) fn enter_bucket_user(&mut self) {
        self.bucket_users += 1;
    }

    pub(crate) fn leave_bucket_user(&mut self) {
        self.bucket_users -= 1;
    }

    /// Whether the next `<`/`>` comparison (in text order) is a trim, and which.
    pub(crate) fn next_comparison(&mut self) -> Option<bool> {
        self.comparisons.pop_front().flatten()
    }

    /// The position of the next call of `name` and of its arguments.
    pub(crate) fn next(&mut self, name: &str) -> Pos {
        let n = self.seen.entry(name.to_owned()).or_insert(0);
        let k = *n;
        *n += 1;
        let b = self.text.as_bytes();
        let mut found = 0;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'"' | b'\'' | b'`' => i = skip_string(b, i),
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                c if is_word(c) => {
                    let start = i;
                    while i < b.len() && is_word(b[i]) {
                        i += 1;
                    }
                    if self.text[start..i].eq_ignore_ascii_case(name)
                        && let Some(open) = args_open(b, i)
                    {
                        if found == k {
                            return Pos {
                                call: Some(self.line_col(start)),
                                args: arg_starts(b, open)
                                    .into_iter()
                                    .map(|o| self.line_col(o))
                                    .collect(),
                            };
                        }
                        found += 1;
                    }
                }
                _ => i += 1,
            }
        }
        Pos::default()
    }

    fn line_col(&self, offset: usize) -> (u32, u32) {
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line as u32, col as u32)
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// `text` with the trim operators `</` and `>/` written as `< ` and `> ` (which the parser
/// knows, at the same precedence), and for each `<`/`>` comparison in text order whether it
/// was a trim: `Some(true)` upper, `Some(false)` lower.
pub(crate) fn rewrite_trims(text: &str) -> (String, Vec<Option<bool>>) {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => i = skip_string(b, i),
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => {
                // Label matchers: their strings are skipped above, nothing else compares.
                while i < b.len() && b[i] != b'}' {
                    i = if matches!(b[i], b'"' | b'\'' | b'`') {
                        skip_string(b, i)
                    } else {
                        i + 1
                    };
                }
            }
            c @ (b'<' | b'>') => {
                if b.get(i + 1) == Some(&b'/') {
                    found.push(Some(c == b'<'));
                    out[i + 1] = b' ';
                    i += 2;
                    continue;
                }
                found.push(None);
                i += 1;
            }
            _ => i += 1,
        }
    }
    (
        String::from_utf8(out).unwrap_or_else(|_| text.to_owned()),
        found,
    )
}

fn skip_string(b: &[u8], mut i: usize) -> usize {
    let q = b[i];
    i += 1;
    while i < b.len() && b[i] != q {
        i += if b[i] == b'\\' && q != b'`' { 2 } else { 1 };
    }
    i + 1
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// After a name ending at `i`: the index of the `(` opening its arguments, skipping a
/// `by (…)` / `without (…)` clause.
fn args_open(b: &[u8], i: usize) -> Option<usize> {
    let mut i = skip_ws(b, i);
    let word_end = (i..b.len()).find(|&k| !is_word(b[k])).unwrap_or(b.len());
    let word = std::str::from_utf8(&b[i..word_end]).ok()?;
    if word.eq_ignore_ascii_case("by") || word.eq_ignore_ascii_case("without") {
        i = skip_ws(b, word_end);
        i = close_of(b, i)? + 1;
        i = skip_ws(b, i);
    }
    (b.get(i) == Some(&b'(')).then_some(i)
}

/// The index of the bracket closing the one at `i`.
fn close_of(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where each argument inside the parentheses opened at `open` starts.
fn arg_starts(b: &[u8], open: usize) -> Vec<usize> {
    let mut out = vec![skip_ws(b, open + 1)];
    let mut depth = 0usize;
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => break,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => out.push(skip_ws(b, i + 1)),
            _ => {}
        }
        i += 1;
    }
    out
}
