//! Label matchers with Prometheus semantics.
//!
//! - `=`, `!=`, `=~`, `!~`; regexes are fully anchored (`^(?s:…)$`, so `.` also matches a
//!   newline, as in Prometheus).
//! - A series without the label is treated as having the empty value: `{a=""}` matches series
//!   without `a`, `{a!=""}` those with it, `{a=~".*"}` everything.
//! - Regexes are analysed once, here, so the index rarely runs them: a set of literals
//!   (`a|b|c`, `(?:a|b)`) becomes exact lookups, a literal prefix (`gpt-4.*`, `gpt-4o-.+`,
//!   `gpt-4(o|1)`) becomes a range scan over the sorted values of the label, and only the values
//!   inside that range are tested with the regex when the rest is not `.*` / `.+`.

use crate::error::{Error, Result, clip};
use regex::Regex;

/// How a matcher compares (shared with the PromQL engine through `strata-model`).
pub use strata_model::MatchOp;

/// What remains of a value after a literal prefix.
#[derive(Debug, Clone)]
pub(crate) enum Rest {
    /// Anything, including nothing (`.*`).
    Any,
    /// At least one character (`.+`).
    NonEmpty,
    /// Whatever the full, anchored regex accepts.
    Regex(Regex),
}

/// The set of values a matcher's operand describes (before `!=` / `!~` negate it).
#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    /// Exactly these strings; sorted, no duplicates.
    Literals(Vec<String>),
    /// Strings starting with `prefix` whose remainder satisfies `rest`.
    Prefix { prefix: String, rest: Rest },
}

impl Pattern {
    pub(crate) fn matches(&self, v: &str) -> bool {
        match self {
            Pattern::Literals(set) => set.binary_search_by(|s| s.as_str().cmp(v)).is_ok(),
            Pattern::Prefix { prefix, rest } => {
                v.starts_with(prefix.as_str())
                    && match rest {
                        Rest::Any => true,
                        Rest::NonEmpty => v.len() > prefix.len(),
                        Rest::Regex(re) => re.is_match(v),
                    }
            }
        }
    }

    /// True if every string matches (`.*`): the complement is empty.
    pub(crate) fn is_everything(&self) -> bool {
        matches!(self, Pattern::Prefix { prefix, rest: Rest::Any } if prefix.is_empty())
    }
}

/// One label matcher, compiled.
#[derive(Debug, Clone)]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    pattern: Pattern,
}

/// Matchers are equal when they have the same name, operator and operand.
impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Builds a matcher; regex operands are compiled and analysed here, so an invalid pattern is
    /// an [`Error::InvalidRegex`] now rather than at query time.
    pub fn new(op: MatchOp, name: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let (name, value) = (name.into(), value.into());
        let pattern = match op {
            MatchOp::Equal | MatchOp::NotEqual => Pattern::Literals(vec![value.clone()]),
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => analyse(&value)?,
        };
        Ok(Matcher {
            name,
            op,
            value,
            pattern,
        })
    }

    /// `name="value"`
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        Matcher {
            pattern: Pattern::Literals(vec![value.clone()]),
            name,
            op: MatchOp::Equal,
            value,
        }
    }

    /// `name!="value"`
    pub fn not_equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            op: MatchOp::NotEqual,
            ..Matcher::equal(name, value)
        }
    }

    /// `name=~"regex"`
    pub fn regex(name: impl Into<String>, re: impl Into<String>) -> Result<Self> {
        Matcher::new(MatchOp::RegexMatch, name, re)
    }

    /// `name!~"regex"`
    pub fn not_regex(name: impl Into<String>, re: impl Into<String>) -> Result<Self> {
        Matcher::new(MatchOp::RegexNoMatch, name, re)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn op(&self) -> MatchOp {
        self.op
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub(crate) fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// True for `!=` and `!~`.
    pub(crate) fn negated(&self) -> bool {
        matches!(self.op, MatchOp::NotEqual | MatchOp::RegexNoMatch)
    }

    /// Whether a series whose label `name` has `value` matches; pass `""` for a series without
    /// the label.
    pub fn matches(&self, value: &str) -> bool {
        self.pattern.matches(value) != self.negated()
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        };
        write!(f, "{}{op}{:?}", self.name, self.value)
    }
}

fn compile(re: &str) -> Result<Regex> {
    Regex::new(&format!("^(?s:{re})$")).map_err(|e| Error::InvalidRegex {
        pattern: clip(re, 256),
        detail: e.to_string(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Meta(char),
}

/// Characters with a meaning outside a class in the `regex` crate's syntax, and so the only ones
/// a backslash is taken to make literal here (any other escape, like `\d`, ends the analysis).
const META: &str = r"\.+*?()|[]{}^$#&-~";

/// Splits a pattern into literal characters and metacharacters; `None` on an escape this
/// analysis does not model.
fn tokenize(re: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(re.len());
    let mut chars = re.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => match chars.next() {
                Some(e) if META.contains(e) => Tok::Lit(e),
                _ => return None,
            },
            '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' => {
                Tok::Meta(c)
            }
            _ => Tok::Lit(c),
        });
    }
    Some(out)
}

/// Drops one group that wraps the whole pattern, `(…)` or `(?:…)`, when it holds no other
/// group (so the closing parenthesis at the end is the one that matches the opening one).
fn strip_group(toks: &[Tok]) -> &[Tok] {
    let inner = match toks {
        [
            Tok::Meta('('),
            Tok::Meta('?'),
            Tok::Lit(':'),
            inner @ ..,
            Tok::Meta(')'),
        ] => inner,
        [Tok::Meta('('), inner @ .., Tok::Meta(')')] if inner.first() != Some(&Tok::Meta('?')) => {
            inner
        }
        _ => return toks,
    };
    if inner
        .iter()
        .any(|t| matches!(t, Tok::Meta('(') | Tok::Meta(')')))
    {
        return toks;
    }
    inner
}

/// True if `|` may appear outside every group. Classes (`[…]`) can hold parentheses that are
/// not groups, so with a class present any `|` counts, which is conservative.
fn top_level_alternation(toks: &[Tok]) -> bool {
    if toks.contains(&Tok::Meta('[')) {
        return toks.contains(&Tok::Meta('|'));
    }
    let mut depth = 0i32;
    for t in toks {
        match t {
            Tok::Meta('(') => depth += 1,
            Tok::Meta(')') => depth -= 1,
            Tok::Meta('|') if depth <= 0 => return true,
            _ => {}
        }
    }
    false
}

fn literal(toks: &[Tok]) -> Option<String> {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            Tok::Meta(_) => None,
        })
        .collect()
}

/// Compiles `re` (so invalid patterns are rejected whatever the analysis finds) and classifies it.
fn analyse(re: &str) -> Result<Pattern> {
    let regex = compile(re)?;
    let general = |prefix: String| Pattern::Prefix {
        prefix,
        rest: Rest::Regex(regex.clone()),
    };
    let Some(all) = tokenize(re) else {
        return Ok(general(String::new()));
    };
    let toks = strip_group(&all);
    // A set of literals: `a|b|c`, possibly with an empty alternative.
    let alternatives: Vec<Option<String>> =
        toks.split(|t| *t == Tok::Meta('|')).map(literal).collect();
    if alternatives.iter().all(Option::is_some) {
        let mut set: Vec<String> = alternatives.into_iter().flatten().collect();
        set.sort_unstable();
        set.dedup();
        return Ok(Pattern::Literals(set));
    }
    // A literal prefix is only required of every match when no top-level alternation can
    // bypass it.
    if top_level_alternation(toks) {
        return Ok(general(String::new()));
    }
    let mut n = toks.iter().take_while(|t| matches!(t, Tok::Lit(_))).count();
    // A quantifier that can repeat zero times applies to the last literal: it is not required.
    if matches!(toks.get(n), Some(Tok::Meta('*' | '?' | '{'))) {
        n = n.saturating_sub(1);
    }
    let prefix = literal(&toks[..n]).unwrap_or_default();
    let rest = match &toks[n..] {
        [Tok::Meta('.'), Tok::Meta('*')] => Rest::Any,
        [Tok::Meta('.'), Tok::Meta('+')] => Rest::NonEmpty,
        _ => return Ok(general(prefix)),
    };
    Ok(Pattern::Prefix { prefix, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(re: &str) -> String {
        match analyse(re).unwrap() {
            Pattern::Literals(s) => format!("set{s:?}"),
            Pattern::Prefix { prefix, rest } => {
                let r = match rest {
                    Rest::Any => "any",
                    Rest::NonEmpty => "nonempty",
                    Rest::Regex(_) => "regex",
                };
                format!("prefix({prefix:?},{r})")
            }
        }
    }

    #[test]
    fn regexes_are_classified_for_the_index() {
        assert_eq!(shape("a|b|c"), r#"set["a", "b", "c"]"#);
        assert_eq!(shape("(?:gpt-4o|claude)"), r#"set["claude", "gpt-4o"]"#);
        assert_eq!(shape("(x|)"), r#"set["", "x"]"#);
        assert_eq!(shape(""), r#"set[""]"#);
        assert_eq!(shape(r"gpt-4\.1|o3"), r#"set["gpt-4.1", "o3"]"#);
        assert_eq!(shape("gpt-4.*"), r#"prefix("gpt-4",any)"#);
        assert_eq!(shape(".*"), r#"prefix("",any)"#);
        assert_eq!(shape(".+"), r#"prefix("",nonempty)"#);
        assert_eq!(shape("gpt-4o-.+"), r#"prefix("gpt-4o-",nonempty)"#);
        assert_eq!(shape("gpt-4.1"), r#"prefix("gpt-4",regex)"#);
        assert_eq!(shape("gpt-4o?"), r#"prefix("gpt-4",regex)"#);
        assert_eq!(shape("ab{2}"), r#"prefix("a",regex)"#);
        assert_eq!(shape("ab+"), r#"prefix("ab",regex)"#);
        assert_eq!(shape("gpt-(4|5)"), r#"prefix("gpt-",regex)"#);
        assert_eq!(shape("gpt-4(o|1)?"), r#"prefix("gpt-4",regex)"#);
        assert_eq!(shape("x[(]|y"), r#"prefix("",regex)"#);
        assert_eq!(shape("a.*|b"), r#"prefix("",regex)"#);
        assert_eq!(shape(r"\d+"), r#"prefix("",regex)"#);
        assert_eq!(shape("(?i)gpt"), r#"prefix("",regex)"#);
        assert_eq!(shape("(a)|(b)"), r#"prefix("",regex)"#);
        assert_eq!(shape("^a$"), r#"prefix("",regex)"#);
    }

    #[test]
    fn matching_is_anchored_and_empty_means_absent() {
        let re = Matcher::regex("a", "b.").unwrap();
        assert!(re.matches("bx") && re.matches("b\n"));
        assert!(!re.matches("abx") && !re.matches("bxx") && !re.matches(""));
        let nre = Matcher::not_regex("a", "b.").unwrap();
        assert!(nre.matches("") && nre.matches("abx") && !nre.matches("bz"));
        assert!(Matcher::equal("a", "").matches(""));
        assert!(!Matcher::not_equal("a", "").matches(""));
        assert!(Matcher::regex("a", ".*").unwrap().matches(""));
        assert!(Matcher::regex("a", "ü|日本").unwrap().matches("日本"));
        assert!(matches!(
            Matcher::regex("a", "(unclosed"),
            Err(Error::InvalidRegex { .. })
        ));
        assert_eq!(
            Matcher::regex("model", "gpt-4.*").unwrap().to_string(),
            r#"model=~"gpt-4.*""#
        );
    }
}
