//! PromQL text → Strata's own plan.
//!
//! `promql-parser` does the parsing and type checking; this file walks its AST once into
//! [`Node`]s, resolving names (functions, aggregations, operators) so the evaluator never meets
//! a construct it cannot handle. Anything it does not evaluate becomes
//! [`QueryError::Unsupported`] naming the construct.

use super::aggregate::{AggOp, Grouping};
use super::annotations::{Locator, Pos, rewrite_trims};
use super::binary::{BinOp, Card, Matching};
use super::error::QueryError;
use super::functions::RangeFn;
use super::instant::InstantFn;
use super::labels::METRIC_NAME;
use super::limits::{self, MAX_DEPTH};
use super::querier::{LabelMatcher, MatchOp};
use promql_parser::label::{MatchOp as PMatchOp, Matcher};
use promql_parser::parser::{
    self as pp, AggregateExpr, AtModifier, BinaryExpr, Call, Expr, LabelModifier, Offset,
    SubqueryExpr, VectorMatchCardinality, VectorSelector,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A parsed, checked query, ready to evaluate any number of times.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) root: Node,
    /// Upper bound on the depth of `root` (at most [`MAX_DEPTH`]), from [`limits::check`].
    pub(crate) depth: usize,
}

/// The `@` modifier: a fixed time, or the query's start or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    Ms(i64),
    Start,
    End,
}

/// An instant-vector selector: matchers, an offset (positive looks back) and an `@`.
#[derive(Debug, Clone)]
pub(crate) struct Selector {
    pub matchers: Vec<LabelMatcher>,
    pub offset_ms: i64,
    pub at: Option<At>,
    /// Under `histogram_count`/`sum`/`avg` and nothing that needs buckets (Prometheus'
    /// `SkipHistogramBuckets`): unknown counter-reset hints are resolved while reading, as
    /// its `HistogramStatsIterator` does.
    pub stats_only: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Number(f64),
    String(String),
    Selector(Selector),
    /// `sel[range]`.
    MatrixSelector {
        selector: Selector,
        range_ms: i64,
    },
    /// `expr[range:step]`; `step_ms` `None` takes the default subquery step.
    Subquery {
        expr: Box<Node>,
        range_ms: i64,
        step_ms: Option<i64>,
        offset_ms: i64,
        at: Option<At>,
    },
    /// A function of a range vector (`arg` is a matrix selector or a subquery) with scalar
    /// parameters (`quantile_over_time`'s φ, `predict_linear`'s t, …).
    RangeCall {
        func: RangeFn,
        arg: Box<Node>,
        params: Vec<Node>,
        pos: Box<Pos>,
    },
    Call {
        func: InstantFn,
        args: Vec<Node>,
        pos: Box<Pos>,
    },
    Aggregate {
        op: AggOp,
        grouping: Grouping,
        param: Option<Box<Node>>,
        input: Box<Node>,
        pos: Box<Pos>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
        matching: Matching,
        return_bool: bool,
    },
    Negate(Box<Node>),
}

impl Plan {
    /// The label matchers of every selector in the query (instant, range and in subqueries),
    /// in the order they appear.
    pub fn selectors(&self) -> Vec<Vec<LabelMatcher>> {
        let mut out = Vec::new();
        self.root.selectors(&mut out);
        out
    }
}

impl Node {
    /// Collects the matchers of the selectors below (a plan is at most [`MAX_DEPTH`] deep).
    fn selectors(&self, out: &mut Vec<Vec<LabelMatcher>>) {
        match self {
            Node::Number(_) | Node::String(_) => {}
            Node::Selector(s) | Node::MatrixSelector { selector: s, .. } => {
                out.push(s.matchers.clone());
            }
            Node::Subquery { expr, .. } | Node::Negate(expr) => expr.selectors(out),
            Node::RangeCall { arg, params, .. } => {
                params.iter().for_each(|p| p.selectors(out));
                arg.selectors(out);
            }
            Node::Call { args, .. } => args.iter().for_each(|a| a.selectors(out)),
            Node::Aggregate { param, input, .. } => {
                if let Some(p) = param {
                    p.selectors(out);
                }
                input.selectors(out);
            }
            Node::Binary { lhs, rhs, .. } => {
                lhs.selectors(out);
                rhs.selectors(out);
            }
        }
    }

    /// The node itself, looking through nothing (parentheses are not kept in the plan).
    pub(crate) fn as_selector(&self) -> Option<&Selector> {
        match self {
            Node::Selector(s) | Node::MatrixSelector { selector: s, .. } => Some(s),
            _ => None,
        }
    }
}

/// Parses `expr` into a [`Plan`]: [`QueryError::Parse`] for invalid PromQL,
/// [`QueryError::Unsupported`] for PromQL Strata does not evaluate, [`QueryError::Limit`] for a
/// query over one of the limits ([`MAX_QUERY_BYTES`](super::MAX_QUERY_BYTES),
/// [`MAX_NESTING`](super::MAX_NESTING), [`MAX_DEPTH`], …), checked before the parser runs.
///
/// Small queries are parsed on the caller's thread, larger ones on a thread of the query layer
/// with a stack the parser cannot exhaust within the limits; either way a [`Plan`] is at most
/// [`MAX_DEPTH`] nodes deep, so evaluating and dropping it need a bounded stack.
pub fn parse(expr: &str) -> Result<Plan, QueryError> {
    let shape = limits::check(expr)?;
    let root = if shape.fits_inline() {
        parse_checked(expr)?
    } else {
        limits::on_query_stack(|| parse_checked(expr))?
    };
    Ok(Plan {
        root,
        depth: shape.depth,
    })
}

/// Parses, converts and drops the AST; `expr` passed [`limits::check`].
fn parse_checked(expr: &str) -> Result<Node, QueryError> {
    if !expr.contains("</") && !expr.contains(">/") {
        let ast = pp::parse(expr).map_err(|message| QueryError::Parse { message })?;
        return convert(&ast, 1, &mut Locator::new(expr));
    }
    let (text, comparisons) = rewrite_trims(expr);
    let ast = pp::parse(&text).map_err(|message| QueryError::Parse { message })?;
    convert(&ast, 1, &mut Locator::with_comparisons(expr, comparisons))
}

/// `depth` is `e`'s depth in the AST (the root is 1). [`limits::check`] bounds it already; the
/// check here keeps the conversion and everything after it bounded on its own.
fn convert(e: &Expr, depth: usize, loc: &mut Locator<'_>) -> Result<Node, QueryError> {
    if depth > MAX_DEPTH {
        return Err(QueryError::Limit {
            what: "levels of expression depth (operators and brackets)",
            limit: MAX_DEPTH as u64,
            requested: depth as u64,
        });
    }
    let next = depth + 1;
    match e {
        Expr::Paren(p) => convert(&p.expr, next, loc),
        Expr::NumberLiteral(n) => Ok(Node::Number(n.val)),
        Expr::StringLiteral(s) => Ok(Node::String(s.val.clone())),
        Expr::Unary(u) => Ok(Node::Negate(Box::new(convert(&u.expr, next, loc)?))),
        Expr::VectorSelector(vs) => Ok(Node::Selector(selector(vs, loc.stats_only())?)),
        Expr::MatrixSelector(ms) => Ok(Node::MatrixSelector {
            selector: selector(&ms.vs, loc.stats_only())?,
            range_ms: positive_ms(&ms.range, "range")?,
        }),
        Expr::Subquery(sq) => subquery(sq, next, loc),
        Expr::Call(c) => call(c, next, loc),
        Expr::Aggregate(a) => aggregate(a, next, loc),
        Expr::Binary(b) => binary(b, next, loc),
        Expr::Extension(_) => Err(QueryError::unsupported("extension expression")),
    }
}

fn at(a: &Option<AtModifier>) -> Result<Option<At>, QueryError> {
    Ok(match a {
        None => None,
        Some(AtModifier::Start) => Some(At::Start),
        Some(AtModifier::End) => Some(At::End),
        Some(AtModifier::At(t)) => Some(At::Ms(system_time_ms(*t)?)),
    })
}

fn system_time_ms(t: SystemTime) -> Result<i64, QueryError> {
    let too_far = || QueryError::invalid("timestamp of `@` out of range");
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).map_err(|_| too_far()),
        Err(e) => i64::try_from(e.duration().as_millis())
            .map(|ms| -ms)
            .map_err(|_| too_far()),
    }
}

fn offset_ms(o: &Option<Offset>) -> Result<i64, QueryError> {
    Ok(match o {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(d)?,
        Some(Offset::Neg(d)) => -duration_ms(d)?,
    })
}

fn selector(vs: &VectorSelector, stats_only: bool) -> Result<Selector, QueryError> {
    if !vs.matchers.or_matchers.is_empty() {
        return Err(QueryError::unsupported("`or` between label matchers"));
    }
    let mut matchers: Vec<LabelMatcher> = vs.matchers.matchers.iter().map(matcher).collect();
    let has_name_matcher = matchers.iter().any(|m| m.name == METRIC_NAME);
    match &vs.name {
        Some(name) if !has_name_matcher => {
            matchers.insert(0, LabelMatcher::new(METRIC_NAME, MatchOp::Equal, name));
        }
        _ => {}
    }
    Ok(Selector {
        matchers,
        offset_ms: offset_ms(&vs.offset)?,
        at: at(&vs.at)?,
        stats_only,
    })
}

fn matcher(m: &Matcher) -> LabelMatcher {
    let op = match m.op {
        PMatchOp::Equal => MatchOp::Equal,
        PMatchOp::NotEqual => MatchOp::NotEqual,
        PMatchOp::Re(_) => MatchOp::RegexMatch,
        PMatchOp::NotRe(_) => MatchOp::RegexNoMatch,
    };
    // `value` is the regex as written; the parser's compiled copy is anchored its own way.
    LabelMatcher::new(m.name.clone(), op, m.value.clone())
}

fn duration_ms(d: &Duration) -> Result<i64, QueryError> {
    i64::try_from(d.as_millis())
        .map_err(|_| QueryError::invalid(format!("duration {d:?} is too long")))
}

fn positive_ms(d: &Duration, what: &str) -> Result<i64, QueryError> {
    let ms = duration_ms(d)?;
    if ms <= 0 {
        return Err(QueryError::invalid(format!("the {what} must be positive")));
    }
    Ok(ms)
}

fn subquery(sq: &SubqueryExpr, next: usize, loc: &mut Locator<'_>) -> Result<Node, QueryError> {
    let step_ms = match &sq.step {
        Some(d) if !d.is_zero() => Some(positive_ms(d, "subquery step")?),
        _ => None,
    };
    loc.enter_bucket_user();
    let expr = convert(&sq.expr, next, loc);
    loc.leave_bucket_user();
    Ok(Node::Subquery {
        expr: Box::new(expr?),
        range_ms: positive_ms(&sq.range, "subquery range")?,
        step_ms,
        offset_ms: offset_ms(&sq.offset)?,
        at: at(&sq.at)?,
    })
}

fn call(c: &Call, next: usize, loc: &mut Locator<'_>) -> Result<Node, QueryError> {
    let name = c.func.name;
    let pos = Box::new(loc.next(name));
    let role = loc.enter_call(name);
    let args = c
        .args
        .args
        .iter()
        .map(|a| convert(a, next, loc))
        .collect::<Result<Vec<_>, _>>();
    loc.leave_call(role);
    let args = args?;
    if let Some(func) = RangeFn::from_name(name) {
        let mut args = args;
        let index = func.range_arg_index();
        if index >= args.len() {
            return Err(QueryError::invalid(format!(
                "wrong number of arguments to `{name}`"
            )));
        }
        let arg = args.remove(index);
        if !matches!(arg, Node::MatrixSelector { .. } | Node::Subquery { .. }) {
            return Err(QueryError::invalid(format!(
                "`{name}` needs a range vector such as `metric[5m]`"
            )));
        }
        return Ok(Node::RangeCall {
            func,
            arg: Box::new(arg),
            params: args,
            pos,
        });
    }
    match InstantFn::from_name(name) {
        Some(func) => Ok(Node::Call { func, args, pos }),
        None => Err(QueryError::unsupported(format!("function `{name}`"))),
    }
}

fn aggregate(a: &AggregateExpr, next: usize, loc: &mut Locator<'_>) -> Result<Node, QueryError> {
    let name = a.op.to_string();
    let pos = Box::new(loc.next(&name));
    let Some(op) = AggOp::from_name(&name) else {
        return Err(QueryError::unsupported(format!("aggregation `{name}`")));
    };
    let grouping = match &a.modifier {
        None => Grouping::By(Vec::new()),
        Some(LabelModifier::Include(l)) => Grouping::By(l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => Grouping::Without(l.labels.clone()),
    };
    let param = match &a.param {
        Some(p) => Some(Box::new(convert(p, next, loc)?)),
        None => None,
    };
    Ok(Node::Aggregate {
        op,
        grouping,
        param,
        input: Box::new(convert(&a.expr, next, loc)?),
        pos,
    })
}

fn binary(b: &BinaryExpr, next: usize, loc: &mut Locator<'_>) -> Result<Node, QueryError> {
    let sym = b.op.to_string();
    let Some(mut op) = BinOp::from_symbol(&sym) else {
        return Err(QueryError::unsupported(format!("binary operator `{sym}`")));
    };
    let mut matching = Matching::default();
    let mut return_bool = false;
    if let Some(m) = &b.modifier {
        if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
            return Err(QueryError::unsupported("`fill` modifier"));
        }
        matching.card = match &m.card {
            VectorMatchCardinality::OneToOne | VectorMatchCardinality::ManyToMany => Card::OneToOne,
            VectorMatchCardinality::ManyToOne(l) => Card::ManyToOne(l.labels.clone()),
            VectorMatchCardinality::OneToMany(l) => Card::OneToMany(l.labels.clone()),
        };
        match &m.matching {
            None => {}
            Some(LabelModifier::Include(l)) => {
                matching.on = true;
                matching.labels = l.labels.clone();
            }
            Some(LabelModifier::Exclude(l)) => matching.labels = l.labels.clone(),
        }
        return_bool = m.return_bool;
    }
    // In-order: the comparisons of the left side come first in the text.
    let mut lhs = Box::new(convert(&b.lhs, next, loc)?);
    if matches!(op, BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge) {
        match loc.next_comparison() {
            Some(true) => op = BinOp::TrimUpper,
            Some(false) => op = BinOp::TrimLower,
            None => {}
        }
    }
    let mut rhs = Box::new(convert(&b.rhs, next, loc)?);
    if matches!(op, BinOp::TrimUpper | BinOp::TrimLower) {
        // Trimming needs the buckets: selectors under it read them (both sides were
        // converted already, so mark them now).
        mark_bucket_users(&mut lhs);
        mark_bucket_users(&mut rhs);
    }
    Ok(Node::Binary {
        op,
        lhs,
        rhs,
        matching,
        return_bool,
    })
}

/// Clears `stats_only` on every selector of `node` (recursion bounded by the plan's depth).
fn mark_bucket_users(node: &mut Node) {
    match node {
        Node::Selector(s) | Node::MatrixSelector { selector: s, .. } => s.stats_only = false,
        Node::Number(_) | Node::String(_) => {}
        Node::Subquery { expr, .. } | Node::Negate(expr) => mark_bucket_users(expr),
        Node::RangeCall { arg, params, .. } => {
            mark_bucket_users(arg);
            params.iter_mut().for_each(mark_bucket_users);
        }
        Node::Call { args, .. } => args.iter_mut().for_each(mark_bucket_users),
        Node::Aggregate { param, input, .. } => {
            param.iter_mut().for_each(|p| mark_bucket_users(p));
            mark_bucket_users(input);
        }
        Node::Binary { lhs, rhs, .. } => {
            mark_bucket_users(lhs);
            mark_bucket_users(rhs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsupported(q: &str) -> String {
        match parse(q) {
            Err(QueryError::Unsupported { what }) => what,
            other => panic!("{q}: expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn names_what_is_unsupported() {
        assert_eq!(unsupported("info(x)"), "function `info`");
        assert_eq!(
            unsupported("x{a=\"b\" or c=\"d\"}"),
            "`or` between label matchers"
        );
    }

    #[test]
    fn parse_errors_are_parse_errors() {
        for q in ["sum(", "rate(x)", "x{", "1 +", ""] {
            assert!(
                matches!(parse(q), Err(QueryError::Parse { .. })),
                "{q}: {:?}",
                parse(q)
            );
        }
    }

    #[test]
    fn selectors_get_a_name_matcher_offsets_and_at() {
        let Plan {
            root: Node::Selector(s),
            ..
        } = parse("up{job=~\"a|b\"} offset -1m @ 100").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            s.matchers[0],
            LabelMatcher::new("__name__", MatchOp::Equal, "up")
        );
        assert_eq!(
            s.matchers[1],
            LabelMatcher::new("job", MatchOp::RegexMatch, "a|b")
        );
        assert_eq!(s.offset_ms, -60_000);
        assert_eq!(s.at, Some(At::Ms(100_000)));
    }

    #[test]
    fn range_functions_look_through_parentheses() {
        let p = parse("changes((x[50m]))").unwrap();
        assert!(matches!(
            p.root,
            Node::RangeCall {
                func: RangeFn::Changes,
                ..
            }
        ));
        assert!(matches!(
            parse("max_over_time(rate(x[1m])[5m:])").unwrap().root,
            Node::RangeCall { .. }
        ));
    }
}
