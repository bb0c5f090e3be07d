//! PromQL text → Strata's own small plan.
//!
//! `promql-parser` does the parsing and type checking; this file walks its AST once and keeps
//! only what the subset evaluates, so the evaluator never meets a construct it cannot handle.
//! Everything else becomes [`QueryError::Unsupported`] naming the construct.

use super::aggregate::{AggOp, Grouping};
use super::binary::{BinOp, Matching};
use super::error::QueryError;
use super::functions::RangeFn;
use super::labels::METRIC_NAME;
use super::limits::{self, MAX_DEPTH};
use super::querier::{LabelMatcher, MatchOp};
use promql_parser::label::{MatchOp as PMatchOp, Matcher};
use promql_parser::parser::{
    self as pp, AggregateExpr, BinaryExpr, Call, Expr, LabelModifier, Offset,
    VectorMatchCardinality, VectorSelector,
};
use std::time::Duration;

/// A parsed, checked query, ready to evaluate any number of times.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) root: Node,
    /// Upper bound on the depth of `root` (at most [`MAX_DEPTH`]), from [`limits::check`].
    pub(crate) depth: usize,
}

/// An instant-vector selector: matchers and an offset (positive looks back).
#[derive(Debug, Clone)]
pub(crate) struct Selector {
    pub matchers: Vec<LabelMatcher>,
    pub offset_ms: i64,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Number(f64),
    Selector(Selector),
    /// A function of a range vector, e.g. `rate(sel[range])`; `param` is the scalar first
    /// argument of `quantile_over_time`.
    RangeCall {
        func: RangeFn,
        selector: Selector,
        range_ms: i64,
        param: Option<Box<Node>>,
    },
    HistogramQuantile {
        phi: Box<Node>,
        input: Box<Node>,
    },
    Aggregate {
        op: AggOp,
        grouping: Grouping,
        input: Box<Node>,
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

/// Parses `expr` into a [`Plan`]: [`QueryError::Parse`] for invalid PromQL,
/// [`QueryError::Unsupported`] for PromQL outside the subset, [`QueryError::Limit`] for a
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
    let ast = pp::parse(expr).map_err(|message| QueryError::Parse { message })?;
    convert(&ast, 1)
}

/// `depth` is `e`'s depth in the AST (the root is 1). [`limits::check`] bounds it already; the
/// check here keeps the conversion and everything after it bounded on its own.
fn convert(e: &Expr, depth: usize) -> Result<Node, QueryError> {
    if depth > MAX_DEPTH {
        return Err(QueryError::Limit {
            what: "levels of expression depth (operators and brackets)",
            limit: MAX_DEPTH as u64,
            requested: depth as u64,
        });
    }
    let next = depth + 1;
    match e {
        Expr::Paren(p) => convert(&p.expr, next),
        Expr::NumberLiteral(n) => Ok(Node::Number(n.val)),
        Expr::StringLiteral(_) => Err(QueryError::unsupported("string literal")),
        Expr::Unary(u) => Ok(Node::Negate(Box::new(convert(&u.expr, next)?))),
        Expr::VectorSelector(vs) => Ok(Node::Selector(selector(vs)?)),
        Expr::MatrixSelector(_) => Err(QueryError::unsupported(
            "range vector as a result (wrap it in a function such as rate())",
        )),
        Expr::Subquery(_) => Err(QueryError::unsupported("subquery")),
        Expr::Call(c) => call(c, next),
        Expr::Aggregate(a) => aggregate(a, next),
        Expr::Binary(b) => binary(b, next),
        Expr::Extension(_) => Err(QueryError::unsupported("extension expression")),
    }
}

fn selector(vs: &VectorSelector) -> Result<Selector, QueryError> {
    if vs.at.is_some() {
        return Err(QueryError::unsupported("`@` modifier"));
    }
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
    let offset_ms = match &vs.offset {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(d)?,
        Some(Offset::Neg(d)) => -duration_ms(d)?,
    };
    Ok(Selector {
        matchers,
        offset_ms,
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

fn call(c: &Call, next: usize) -> Result<Node, QueryError> {
    let name = c.func.name;
    let args = &c.args.args;
    if name == "histogram_quantile" {
        let [phi, input] = args.as_slice() else {
            return Err(QueryError::invalid("histogram_quantile takes 2 arguments"));
        };
        return Ok(Node::HistogramQuantile {
            phi: Box::new(convert(phi, next)?),
            input: Box::new(convert(input, next)?),
        });
    }
    let Some(func) = RangeFn::from_name(name) else {
        return Err(QueryError::unsupported(format!("function `{name}`")));
    };
    let (param, range_arg) = match (func.takes_param(), args.as_slice()) {
        (false, [r]) => (None, r),
        (true, [p, r]) => (Some(Box::new(convert(p, next)?)), r),
        _ => {
            return Err(QueryError::invalid(format!(
                "wrong number of arguments to `{name}`"
            )));
        }
    };
    let (selector, range_ms) = range_selector(range_arg, name)?;
    if range_ms <= 0 {
        return Err(QueryError::invalid(format!(
            "the range of `{name}` must be positive"
        )));
    }
    Ok(Node::RangeCall {
        func,
        selector,
        range_ms,
        param,
    })
}

/// The `sel[range]` argument of a range function, looking through parentheses.
fn range_selector(e: &Expr, func: &str) -> Result<(Selector, i64), QueryError> {
    match e {
        Expr::Paren(p) => range_selector(&p.expr, func),
        Expr::MatrixSelector(ms) => Ok((selector(&ms.vs)?, duration_ms(&ms.range)?)),
        Expr::Subquery(_) => Err(QueryError::unsupported("subquery")),
        _ => Err(QueryError::invalid(format!(
            "`{func}` needs a range vector selector such as `metric[5m]`"
        ))),
    }
}

fn aggregate(a: &AggregateExpr, next: usize) -> Result<Node, QueryError> {
    let name = a.op.to_string();
    let op = match name.as_str() {
        "sum" => AggOp::Sum,
        "avg" => AggOp::Avg,
        "min" => AggOp::Min,
        "max" => AggOp::Max,
        "count" => AggOp::Count,
        _ => return Err(QueryError::unsupported(format!("aggregation `{name}`"))),
    };
    let grouping = match &a.modifier {
        None => Grouping::By(Vec::new()),
        Some(LabelModifier::Include(l)) => Grouping::By(l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => Grouping::Without(l.labels.clone()),
    };
    Ok(Node::Aggregate {
        op,
        grouping,
        input: Box::new(convert(&a.expr, next)?),
    })
}

fn binary(b: &BinaryExpr, next: usize) -> Result<Node, QueryError> {
    let sym = b.op.to_string();
    let Some(op) = BinOp::from_symbol(&sym) else {
        return Err(QueryError::unsupported(match sym.as_str() {
            "and" | "or" | "unless" => format!("set operator `{sym}`"),
            _ => format!("binary operator `{sym}`"),
        }));
    };
    let mut matching = Matching::default();
    let mut return_bool = false;
    if let Some(m) = &b.modifier {
        match &m.card {
            VectorMatchCardinality::OneToOne => {}
            VectorMatchCardinality::ManyToOne(_) => {
                return Err(QueryError::unsupported("`group_left` modifier"));
            }
            VectorMatchCardinality::OneToMany(_) => {
                return Err(QueryError::unsupported("`group_right` modifier"));
            }
            VectorMatchCardinality::ManyToMany => {
                return Err(QueryError::unsupported("many-to-many vector matching"));
            }
        }
        if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
            return Err(QueryError::unsupported("`fill` modifier"));
        }
        matching = match &m.matching {
            None => Matching::default(),
            Some(LabelModifier::Include(l)) => Matching::On(l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => Matching::Ignoring(l.labels.clone()),
        };
        return_bool = m.return_bool;
    }
    Ok(Node::Binary {
        op,
        lhs: Box::new(convert(&b.lhs, next)?),
        rhs: Box::new(convert(&b.rhs, next)?),
        matching,
        return_bool,
    })
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
        assert_eq!(
            unsupported("predict_linear(x[5m], 60)"),
            "function `predict_linear`"
        );
        assert_eq!(unsupported("x @ 100"), "`@` modifier");
        assert_eq!(unsupported("rate(x[5m] @ end())"), "`@` modifier");
        assert_eq!(unsupported("max_over_time(rate(x[1m])[5m:1m])"), "subquery");
        assert_eq!(unsupported("topk(3, x)"), "aggregation `topk`");
        assert_eq!(unsupported("a and b"), "set operator `and`");
        assert_eq!(
            unsupported("a * on(x) group_left b"),
            "`group_left` modifier"
        );
        assert_eq!(unsupported("\"text\""), "string literal");
        assert!(unsupported("x[5m]").starts_with("range vector as a result"));
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
    fn selectors_get_a_name_matcher_and_offsets() {
        let Plan {
            root: Node::Selector(s),
            ..
        } = parse("up{job=~\"a|b\"} offset -1m").unwrap()
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
    }

    #[test]
    fn range_functions_look_through_parentheses() {
        let p = parse("changes((x[50m]))").unwrap();
        assert!(matches!(
            p.root,
            Node::RangeCall {
                func: RangeFn::Changes,
                range_ms: 3_000_000,
                ..
            }
        ));
    }
}
