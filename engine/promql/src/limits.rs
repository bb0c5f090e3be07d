//! What a query's text may ask of the parser and the evaluator, checked before either runs.
//!
//! `promql-parser` and the evaluator recurse: the AST's `Drop`, the parser's type checks
//! (`Expr::value_type` walks the left spine of a binary chain from every new node), our
//! [`convert`](super::plan) and `Evaluator::eval` take one or more frames per level of the
//! expression, and the parser's lexer takes two frames per escape sequence in a string and
//! three to six per comment line between two tokens (its `Iterator::next` calls itself for
//! every state that yields no token). Without a bound, `1+1+…+1` with 32,767 operators — 64 KB —
//! overflows even the 8 MiB main thread.
//!
//! [`check`] is a single non-recursive pass over the bytes that follows the lexer's rules for
//! strings (`"…"`, `'…'`, `` `…` ``, backslash escapes in all three), comments (`#` to the end of
//! the line) and brackets, and computes an upper bound on the depth of the expression tree:
//! binary operators chain into left-deep trees, so within one bracket group every operator token
//! (`+ - * / % ^ == != < <= > >= and or unless atan2`, unary signs included) may add a level,
//! every postfix `[…]` (range or subquery) one more, and every group one for the node it
//! becomes (parentheses, call, aggregation):
//!
//! ```text
//! depth(group) = operators and `[` at its own level + 1 + max(depth(child groups))
//! ```
//!
//! Overcounting (a `-` in `1e-5`, a label named `or` in `by (or)`) is harmless at these limits.
//! A query over any limit is [`QueryError::Limit`] naming it; nothing is parsed.
//!
//! The same pass rejects a number the parser would take as a duration — inside `[…]`, or after
//! `offset` and an optional sign — when it is out of Prometheus' range (over 2^63 ns, about 292
//! years, or `Inf`/`NaN`): `promql-parser` 0.11 converts such a number with
//! `Duration::from_secs_f64`, which panics on it. Like Prometheus, that is the parse error
//! "duration out of range" ([`QueryError::Parse`]).
//!
//! ## The limits, and why these numbers
//!
//! | limit | value | real queries |
//! |---|---|---|
//! | [`MAX_QUERY_BYTES`] | 64 KiB | VictoriaMetrics' default `-search.maxQueryLen` is 16 KiB; the largest real queries are Grafana multi-value variables expanded into a regex (`host=~"a\\.example|b\\.example|…"`), a few KB to a few tens of KB |
//! | [`MAX_NESTING`] | 64 | hand-written and generated queries nest (`histogram_quantile(0.9, sum by (le) (rate(x[5m])))` is 4) well under 20 |
//! | [`MAX_DEPTH`] | 256 | the depth is the longest operator chain plus the nesting; generated `a + b + …` or `… or …` chains reach tens, rarely a few hundred terms — 255 operators in one group fit |
//! | [`MAX_ESCAPES_PER_STRING`] | 8,192 | regex-escaped variable values carry one to three `\\` each: thousands of values |
//! | [`MAX_COMMENT_LINES_IN_A_ROW`] | 1,024 | comments are rare in PromQL; a long header is tens of lines |
//!
//! ## Where the parser and the evaluator run
//!
//! A query as small as almost all real ones ([`Shape::fits_inline`]: depth ≤ 32, ≤ 64 escapes
//! in a string, ≤ 16 comment lines in a row) is parsed and evaluated on the caller's thread.
//! Anything larger is parsed — its AST converted and dropped — and a plan deeper than 32 is
//! evaluated on a short-lived scoped thread with a [`QUERY_STACK_BYTES`] (8 MiB) stack, so the
//! caller's stack size does not matter. Measured by bisecting the smallest thread stack that
//! passes (dev profile: the engine at opt-level 1, `promql-parser` at 2; unoptimised figures in
//! brackets):
//!
//! - `promql-parser`, parse + drop: ≈ 48 bytes per level of a binary chain, ≈ 260 per level of
//!   nested aggregations [≈ 1.2 KB]; its lexer ≈ 350 per escape [≈ 380] and ≈ 530 per comment
//!   line [≈ 570] — at every limit at once under 4 MB of the 8 MiB;
//! - the evaluator ≈ 250 bytes per level [≈ 1.1 KB]: a chain of 255 operators evaluated on the
//!   caller's thread took 78 KB in all (86 KB for vectors), which is why deep plans moved to
//!   the query thread anyway: unoptimised, the same chain needs ≈ 300 KB;
//! - without these limits, `1+1+…+1` took ≈ 560 bytes per operator in parse + evaluate.
//!
//! `engine/tests/query_limits.rs` runs queries at and over every limit on a 256 KiB thread.

use super::error::QueryError;

/// Most bytes of query text.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Deepest nesting of `(`, `[` and `{` together.
pub const MAX_NESTING: usize = 64;
/// Largest upper bound on the depth of the expression tree: within each bracket group its
/// operator tokens (binary and unary) and postfix `[…]`, plus one per group, along the deepest
/// chain of nested groups.
pub const MAX_DEPTH: usize = 256;
/// Most backslash escapes in one string literal.
pub const MAX_ESCAPES_PER_STRING: usize = 8_192;
/// Most comment lines with no token between them.
pub const MAX_COMMENT_LINES_IN_A_ROW: usize = 1_024;

/// Largest duration written as a number of seconds, Prometheus' `durationLiteralOutOfRange`:
/// `time.Duration` is an i64 of nanoseconds.
const MAX_DURATION_SECONDS: f64 = 9_223_372_036.854_775;

/// Stack of the thread that parses, or evaluates, a query too large to handle on the caller's
/// thread (see the module docs).
pub(crate) const QUERY_STACK_BYTES: usize = 8 * 1024 * 1024;

/// Queries up to these are parsed on the caller's thread; plans up to `INLINE_DEPTH` are
/// evaluated on it.
pub(crate) const INLINE_DEPTH: usize = 32;
const INLINE_ESCAPES: usize = 64;
const INLINE_COMMENT_LINES: usize = 16;

/// What [`check`] found: the bounds the parser and evaluator may rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Upper bound on the depth of the expression tree.
    pub depth: usize,
    /// Most escapes in one string literal.
    pub escapes: usize,
    /// Most comment lines in a row.
    pub comment_lines: usize,
}

impl Shape {
    /// Whether the parser's stack use is small enough for any caller's thread.
    pub fn fits_inline(&self) -> bool {
        self.depth <= INLINE_DEPTH
            && self.escapes <= INLINE_ESCAPES
            && self.comment_lines <= INLINE_COMMENT_LINES
    }
}

/// One open bracket group of the scan.
#[derive(Debug, Clone, Copy)]
struct Group {
    open: u8,
    /// Operator tokens and postfix `[` at this group's own level.
    ops: usize,
    /// Deepest child group.
    child: usize,
}

impl Group {
    fn new(open: u8) -> Self {
        Group {
            open,
            ops: 0,
            child: 0,
        }
    }

    fn depth(&self) -> usize {
        self.ops.saturating_add(self.child).saturating_add(1)
    }
}

fn limit(what: &'static str, limit: usize, found: usize) -> QueryError {
    QueryError::Limit {
        what,
        limit: limit as u64,
        requested: found as u64,
    }
}

/// Checks `expr` against every limit without parsing it; `Ok` carries the bounds found.
pub(crate) fn check(expr: &str) -> Result<Shape, QueryError> {
    if expr.len() > MAX_QUERY_BYTES {
        return Err(limit("bytes of query text", MAX_QUERY_BYTES, expr.len()));
    }
    let b = expr.as_bytes();
    let mut scan = Scan::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'#' {
            // To the end of the line, as the lexer does; the line break is whitespace.
            scan.comment_line()?;
            i = line_end(b, i);
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        scan.comment_run = 0;
        i = scan.token(expr, i)?;
    }
    scan.finish()
}

/// The state of [`check`]'s pass: the open bracket groups and the largest counts seen so far.
struct Scan {
    /// Bounded by MAX_NESTING + 1 entries: the scan stops before pushing more.
    groups: Vec<Group>,
    /// Most escapes in one string literal so far.
    escapes: usize,
    /// Comment lines since the last token.
    comment_run: usize,
    /// Most comment lines in a row so far.
    comment_lines: usize,
    /// 1 right after the keyword `offset`, 2 after `offset` and a sign: the next number is a
    /// duration.
    after_offset: u8,
}

impl Scan {
    fn new() -> Self {
        Scan {
            groups: vec![Group::new(0)],
            escapes: 0,
            comment_run: 0,
            comment_lines: 0,
            after_offset: 0,
        }
    }

    /// Counts one more comment line in the current run of them.
    fn comment_line(&mut self) -> Result<(), QueryError> {
        self.comment_run += 1;
        self.comment_lines = self.comment_lines.max(self.comment_run);
        if self.comment_run > MAX_COMMENT_LINES_IN_A_ROW {
            return Err(limit(
                "comment lines in a row",
                MAX_COMMENT_LINES_IN_A_ROW,
                self.comment_run,
            ));
        }
        Ok(())
    }

    /// Scans the token starting at `b[i]` (not whitespace, not a comment) and returns where
    /// the next one may start.
    fn token(&mut self, expr: &str, mut i: usize) -> Result<usize, QueryError> {
        let b = expr.as_bytes();
        let c = b[i];
        let top = self.groups.len() - 1;
        // Inside `{…}` there are only matchers: `=`, `!=`, `or` there build no expression.
        let in_braces = self.groups[top].open == b'{';
        let after_offset = std::mem::take(&mut self.after_offset);
        let duration_position = if self.groups[top].open == b'[' {
            c.is_ascii_digit() // the lexer starts nothing else there
        } else {
            after_offset > 0 && !in_braces
        };
        if duration_position && let Some(end) = duration_number(expr, i)? {
            return Ok(end);
        }
        match c {
            b'"' | b'\'' | b'`' => return self.string(b, i),
            b'(' | b'[' | b'{' => self.open(c)?,
            // An unmatched closer is the parser's error to report.
            b')' | b']' | b'}' if self.groups.len() > 1 => close(&mut self.groups),
            b'=' | b'!' | b'<' | b'>' => {
                if b.get(i + 1) == Some(&b'=') || b.get(i + 1) == Some(&b'~') {
                    i += 1; // one two-character token
                }
                if !in_braces {
                    self.groups[top].ops += 1;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' if !in_braces => {
                self.groups[top].ops += 1;
                if after_offset == 1 && (c == b'+' || c == b'-') {
                    self.after_offset = 2;
                }
            }
            // In `[…]` a `:` separates a subquery's range from its step: a token of its own.
            b':' if self.groups[top].open == b'[' => {}
            c if is_word_byte(c) => {
                let mut end = word_end(b, i);
                if self.groups[top].open == b'[' {
                    end = expr[i..end].find(':').map_or(end, |k| i + k);
                }
                let word = &expr[i..end];
                if !in_braces && is_operator_word(word) {
                    self.groups[top].ops += 1;
                }
                if !in_braces && word.eq_ignore_ascii_case("offset") {
                    self.after_offset = 1;
                }
                return Ok(end);
            }
            _ => {}
        }
        Ok(i + 1)
    }

    /// Skips the string literal whose opening quote is `b[i]`, checks its escapes, and returns
    /// the index past its closing quote (or past the end).
    fn string(&mut self, b: &[u8], mut i: usize) -> Result<usize, QueryError> {
        let quote = b[i];
        let mut n = 0usize;
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => {
                    n += 1;
                    i += 2;
                }
                q if q == quote => break,
                _ => i += 1,
            }
        }
        i += 1; // the closing quote (or past the end)
        self.escapes = self.escapes.max(n);
        if n > MAX_ESCAPES_PER_STRING {
            return Err(limit(
                "escapes in one string literal",
                MAX_ESCAPES_PER_STRING,
                n,
            ));
        }
        Ok(i)
    }

    /// Opens a bracket group `c` (`(`, `[` or `{`); a `[` is also a node around its operand.
    fn open(&mut self, c: u8) -> Result<(), QueryError> {
        if c == b'[' {
            let top = self.groups.len() - 1;
            self.groups[top].ops += 1; // range vector or subquery: a node around the operand
        }
        if self.groups.len() > MAX_NESTING {
            return Err(limit(
                "levels of bracket nesting",
                MAX_NESTING,
                self.groups.len(),
            ));
        }
        self.groups.push(Group::new(c));
        Ok(())
    }

    /// Folds unclosed groups in and checks the depth bound of the whole expression.
    fn finish(mut self) -> Result<Shape, QueryError> {
        // Unclosed groups are a parse error, but fold them in so the bound stays an upper bound.
        while self.groups.len() > 1 {
            close(&mut self.groups);
        }
        let depth = self.groups[0].depth();
        if depth > MAX_DEPTH {
            return Err(limit(
                "levels of expression depth (operators and brackets)",
                MAX_DEPTH,
                depth,
            ));
        }
        Ok(Shape {
            depth,
            escapes: self.escapes,
            comment_lines: self.comment_lines,
        })
    }
}

/// Scans the number the lexer would read at `expr[i..]`, where the parser takes a number as a
/// duration (seconds), and returns the index past it; [`QueryError::Parse`] when it is out of
/// Prometheus' range. `None` when no plain number starts there: a duration with a unit (which
/// the parser converts with checked arithmetic), or text that is the parser's error to report.
fn duration_number(expr: &str, i: usize) -> Result<Option<usize>, QueryError> {
    let out_of_range = || QueryError::Parse {
        message: "duration out of range".into(),
    };
    let b = expr.as_bytes();
    let word = &expr[i..word_end(b, i)];
    if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("nan") {
        return Err(out_of_range());
    }
    if !(b[i].is_ascii_digit() || b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
        return Ok(None);
    }
    // As the lexer's `scan_number`: `0x` hex digits, or digits, `.` digits, `e` sign digits.
    let hex = b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X'));
    let mut j = if hex { i + 2 } else { i };
    let run = |mut j: usize, ok: fn(&u8) -> bool| {
        while b.get(j).is_some_and(ok) {
            j += 1;
        }
        j
    };
    let digit: fn(&u8) -> bool = if hex {
        u8::is_ascii_hexdigit
    } else {
        u8::is_ascii_digit
    };
    j = run(j, digit);
    if b.get(j) == Some(&b'.') {
        j = run(j + 1, digit);
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += usize::from(matches!(b.get(j + 1), Some(b'+' | b'-'))) + 1;
        j = run(j, u8::is_ascii_digit);
    }
    if b.get(j)
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'.')
    {
        return Ok(None);
    }
    match number_value(&expr[i..j]) {
        Some(v) if v.is_nan() || v > MAX_DURATION_SECONDS => Err(out_of_range()),
        _ => Ok(Some(j)),
    }
}

/// The value `promql-parser`'s `parse_str_radix` gives an unsigned number: hex after `0x`,
/// octal after a leading `0` (without `.`, `8` or `9`), else decimal; `None` where it fails.
fn number_value(s: &str) -> Option<f64> {
    let octal = s.len() > 1
        && s.starts_with('0')
        && !s.contains(['.', '8', '9'])
        && !s.starts_with("0x")
        && !s.starts_with("0X");
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok().map(|v| v as f64)
    } else if octal {
        i64::from_str_radix(&s[1..], 8).ok().map(|v| v as f64)
    } else {
        s.parse().ok()
    }
}

/// The index of the line break ending the comment that starts at `b[i]`, or the end of `b`.
fn line_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
        i += 1;
    }
    i
}

/// Whether `c` may be part of a word (identifier, keyword or number).
fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// The index past the word that starts at `b[i]`.
fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_word_byte(b[i]) {
        i += 1;
    }
    i
}

/// Whether `word` is a binary operator spelled as a word (case-insensitive, as in the lexer).
fn is_operator_word(word: &str) -> bool {
    ["and", "or", "unless", "atan2"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

fn close(groups: &mut Vec<Group>) {
    if let Some(g) = groups.pop()
        && let Some(parent) = groups.last_mut()
    {
        parent.child = parent.child.max(g.depth());
    }
}

/// Runs `f` on a new thread with a [`QUERY_STACK_BYTES`] stack and returns its result; a panic
/// in `f` continues in the caller. `f` may borrow from the caller (a scoped thread).
pub(crate) fn on_query_stack<T: Send>(
    f: impl FnOnce() -> Result<T, QueryError> + Send,
) -> Result<T, QueryError> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("strata-query".to_owned())
            .stack_size(QUERY_STACK_BYTES)
            .spawn_scoped(s, f)
            .map_err(|_| {
                // The OS refused a thread (thread or memory limits).
                limit("threads for a large query (the OS refused one)", 0, 1)
            })?;
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(q: &str) -> usize {
        check(q).unwrap().depth
    }

    #[test]
    fn depth_counts_operators_per_group_and_the_deepest_group() {
        assert_eq!(depth("1"), 1);
        assert_eq!(depth("1 + 1 + 1"), 3);
        assert_eq!(depth("(1)"), 2);
        assert_eq!(depth("((1))"), 3);
        // Sibling groups do not add up; operators in them count in their own group.
        assert_eq!(depth("sum(rate(a[5m])) + sum(rate(b[5m]))"), 1 + 1 + 4);
        assert_eq!(depth("- - x"), 3);
        assert_eq!(depth("a and b or c unless d AND e"), 5);
        assert_eq!(depth("a >= b != c == d"), 4);
    }

    #[test]
    fn strings_comments_and_braces_do_not_count() {
        assert_eq!(depth(r#"x{a="(((+-*", b!~'\'((', c=`#`}"#), 2);
        assert_eq!(depth("1 # ((((( + + +\n + 1"), 2);
        assert_eq!(depth(r#"x{a="b" or c="d"}"#), 2);
        let s = check(concat!(r#"x{a="\\.\\.\"", b='\''}"#, " # one\n # two")).unwrap();
        assert_eq!((s.escapes, s.comment_lines), (3, 2));
    }

    #[test]
    fn unclosed_and_unmatched_brackets_still_bound() {
        assert_eq!(depth("(((1"), 4);
        assert_eq!(depth("1))) + 1"), 2);
        // An unterminated string swallows the rest, as in the lexer.
        assert_eq!(depth("x{a=\"((((+"), 2);
    }

    #[test]
    fn numbers_as_durations_out_of_range_are_parse_errors() {
        let out_of_range = |q: &str| matches!(check(q), Err(QueryError::Parse { message }) if message == "duration out of range");
        // Found by the `promql_eval` fuzz target: each panicked in `Duration::from_secs_f64`.
        for q in [
            "foo offset 99999999999999999999999999 ^ 2",
            "foo offset -1e400",
            "foo offset Inf",
            "foo offset + nAn",
            "foo[1e20]",
            "foo[5m:1e300]",
            "foo[99999999999]",
            "foo offset 0x7fffffffffffffff",
            "sum(foo[5m] offset 1e10)",
        ] {
            assert!(out_of_range(q), "{q}: {:?}", check(q));
        }
        // In range, with a unit, not a duration, or someone else's error: the parser's call.
        for q in [
            "foo offset 9223372036",
            "foo[300]",
            "foo[5:1.5]",
            "foo[0x10:017]",
            "foo offset 5m",
            "foo[99999999999y]",
            "1e400 + foo",
            "foo{offset=\"1e400\"}",
            "foo offset 5m + Inf",
            "foo[1e400m]",
            "foo[5m] # offset Inf",
        ] {
            assert!(check(q).is_ok(), "{q}: {:?}", check(q));
        }
    }

    #[test]
    fn each_limit_is_a_typed_error() {
        let what = |q: &str| match check(q) {
            Err(QueryError::Limit { what, .. }) => what,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            what(&"1".repeat(MAX_QUERY_BYTES + 1)),
            "bytes of query text"
        );
        let nest = format!("{}1{}", "(".repeat(65), ")".repeat(65));
        assert_eq!(what(&nest), "levels of bracket nesting");
        assert!(what(&format!("1{}", "+1".repeat(256))).starts_with("levels of expression"));
        assert!(check(&format!("1{}", "+1".repeat(255))).is_ok());
        let esc = format!("x{{a=\"{}\"}}", "\\\\".repeat(MAX_ESCAPES_PER_STRING + 1));
        assert_eq!(what(&esc), "escapes in one string literal");
        let comments = format!("1{}", "#\n".repeat(MAX_COMMENT_LINES_IN_A_ROW + 1));
        assert_eq!(what(&comments), "comment lines in a row");
    }
}
