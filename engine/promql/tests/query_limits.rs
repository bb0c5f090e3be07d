//! Issue 12: queries that nest or chain without a bound are a typed `Limit` error, not a stack
//! overflow, and queries at every limit still parse and evaluate — on a thread with a 256 KiB
//! stack, an eighth of a Rust thread's default.

mod query_common;

use query_common::load;
use strata_promql::{
    EvalOptions, MAX_COMMENT_LINES_IN_A_ROW, MAX_DEPTH, MAX_ESCAPES_PER_STRING, MAX_NESTING,
    MAX_QUERY_BYTES, MemQuerier, QueryError, Vector, eval_instant, eval_range, parse,
};

const SMALL_STACK: usize = 256 * 1024;

/// Runs `f` on a new thread with a 256 KiB stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// One series `x{a="b"}` with the value 1 everywhere.
fn data() -> MemQuerier {
    load(60_000, &[(r#"x{a="b"}"#, "1x20")])
}

/// Evaluates `q` at t = 10 min, instant and range, on a 256 KiB stack; both must agree.
fn eval(q: String) -> Result<Vector, QueryError> {
    on_small_stack(move || {
        let data = data();
        let instant = eval_instant(&data, &q, 600_000);
        let range = eval_range(&data, &q, 540_000, 600_000, 60_000);
        match (&instant, range) {
            (Ok(v), Ok(m)) => {
                assert_eq!(m.len(), v.len(), "{q:.80}");
                for (s, r) in v.iter().zip(&m) {
                    assert_eq!(r.points.last().map(|p| p.1), Some(s.value));
                }
            }
            (Err(e), Err(r)) => assert_eq!(e.to_string(), r.to_string()),
            (i, r) => panic!("instant {i:?} but range {r:?}"),
        }
        instant
    })
}

fn value(q: String) -> f64 {
    let v = eval(q.clone()).unwrap_or_else(|e| panic!("{q:.80}…: {e}"));
    assert_eq!(v.len(), 1, "{q:.80}");
    v[0].value
}

/// The `what` of the Limit error `q` must give.
fn limit(q: String) -> &'static str {
    match eval(q.clone()) {
        Err(QueryError::Limit {
            what,
            limit,
            requested,
        }) => {
            assert!(requested > limit, "{what}: {requested} > {limit}");
            what
        }
        other => panic!("{q:.80}…: expected Limit, got {other:?}"),
    }
}

fn chain(op: &str, n: usize) -> String {
    chain_of("1", op, n)
}

fn chain_of(operand: &str, op: &str, n: usize) -> String {
    format!("{operand}{}", format!(" {op} {operand}").repeat(n))
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

const DEPTH: &str = "levels of expression depth (operators and brackets)";
const NESTING: &str = "levels of bracket nesting";

#[test]
fn issue_12_reproducers_are_limit_errors_on_a_small_stack() {
    // 32,767 operators (64 KB) crashed even the 8 MiB main thread.
    let ops = format!("1{}", "+1".repeat(32_767));
    assert_eq!(limit(ops), DEPTH);
    // 32,767 nested parentheses crashed a 2 MiB thread.
    assert_eq!(limit(nested("(", "1", ")", 32_767)), NESTING);
    // 600 operators crashed a 256 KiB thread, 2,500 a 1 MiB one.
    assert_eq!(limit(format!("1{}", "+1".repeat(600))), DEPTH);
    assert_eq!(limit(format!("1{}", "+1".repeat(2_500))), DEPTH);
}

#[test]
fn a_binary_chain_at_the_depth_limit_evaluates() {
    // n operators in one group: depth n + 1.
    let n = MAX_DEPTH - 1;
    assert_eq!(value(chain("+", n)), MAX_DEPTH as f64);
    assert_eq!(limit(chain("+", n + 1)), DEPTH);
    assert_eq!(limit(chain("+", n + 10)), DEPTH);
    // Right-associative `^` builds a right-deep tree: same bound.
    assert_eq!(value(chain("^", n)), 1.0);
    assert_eq!(limit(chain("^", n + 1)), DEPTH);
    // Comparisons with `bool`, and vectors: `x + x + …` over one series.
    assert_eq!(value(chain("== bool", n)), 1.0);
    let v = eval(format!("x{}", " + x".repeat(n))).unwrap();
    assert_eq!((v.len(), v[0].value), (1, MAX_DEPTH as f64));
    assert_eq!(v[0].labels.get("a"), Some("b"));
    assert_eq!(limit(format!("x{}", " + x".repeat(n + 1))), DEPTH);
}

#[test]
fn deep_unary_minus() {
    let n = MAX_DEPTH - 1;
    // On a number literal the parser folds the signs; on a vector each is a node.
    assert_eq!(value(format!("{}1", "- ".repeat(n))), -1.0);
    assert_eq!(value(format!("{}x", "- ".repeat(n))), -1.0);
    assert_eq!(value(format!("{}x", "- ".repeat(n - 1))), 1.0);
    assert_eq!(limit(format!("{}x", "- ".repeat(n + 1))), DEPTH);
    assert_eq!(limit(format!("{}x", "-".repeat(60_000))), DEPTH);
}

#[test]
fn nesting_at_the_limit_parses_and_evaluates() {
    assert_eq!(value(nested("(", "1", ")", MAX_NESTING)), 1.0);
    assert_eq!(limit(nested("(", "1", ")", MAX_NESTING + 1)), NESTING);
    // Aggregations: `sum(sum(…(x)…))`, and with `by`.
    assert_eq!(value(nested("sum(", "x", ")", MAX_NESTING)), 1.0);
    assert_eq!(limit(nested("sum(", "x", ")", MAX_NESTING + 1)), NESTING);
    assert_eq!(
        value(nested("sum by (a) (", "x", ")", MAX_NESTING)),
        1.0,
        "the `(a)` of `by` opens and closes at each level"
    );
    // histogram_quantile inside histogram_quantile: valid and empty (no `le`).
    let hq = nested("histogram_quantile(0.5, ", "x", ")", MAX_NESTING);
    assert!(eval(hq).unwrap().is_empty());
    // Brackets and braces count: `{` inside 63 parentheses is level 64.
    assert_eq!(
        value(nested("(", r#"sum(x{a="b"})"#, ")", MAX_NESTING - 2)),
        1.0
    );
    assert_eq!(
        limit(nested("(", r#"sum(x{a="b"})"#, ")", MAX_NESTING - 1)),
        NESTING
    );
}

#[test]
fn deep_functions_subqueries_and_set_operators_evaluate_until_the_limit() {
    // Functions: `abs(abs(…(x)…))`.
    assert_eq!(value(nested("abs(", "x", ")", MAX_NESTING)), 1.0);
    assert_eq!(limit(nested("abs(", "x", ")", MAX_NESTING + 1)), NESTING);
    assert_eq!(limit(nested("abs(", "x", ")", 10_000)), NESTING);
    // Subqueries: `max_over_time(max_over_time(x[5m:])[5m:])` nests parentheses and brackets.
    let sub = |n| nested("max_over_time(", "x", "[5m:])", n);
    assert!(eval(sub(MAX_NESTING / 2 - 1)).is_ok());
    assert_eq!(limit(sub(3_000)), NESTING);
    // Set operators chain like the others.
    assert_eq!(value(chain_of("x", "or", MAX_DEPTH - 1)), 1.0);
    assert_eq!(limit(chain_of("x", "or", MAX_DEPTH)), DEPTH);
    assert_eq!(limit(chain_of("x", "AND", 10_000)), DEPTH);
}

#[test]
fn operators_in_sibling_groups_do_not_add_up() {
    // 100 terms of `sum(rate(x[5m]))` joined by `+`: 99 operators at the top, depth ~104.
    let terms = vec!["sum(rate(x[5m]))"; 100].join(" + ");
    assert_eq!(value(terms), 0.0);
    // 150 operators inside each of 50 parenthesised groups: 7,500 operators, but each group is
    // 151 deep and the 49 `+` between groups add to the top level only: 49 + 151 + 1.
    let group = format!("({})", chain("*", 150));
    assert_eq!(value(vec![group.as_str(); 50].join(" + ")), 50.0);
}

#[test]
fn strings_and_comments_are_not_structure() {
    // Brackets and operators inside label values and comments do not count…
    let q = format!(
        "sum(x{{a=\"{}\"}}) # {}\n",
        "(((+".repeat(1_000),
        "((((-".repeat(1_000)
    );
    assert!(eval(q).unwrap().is_empty());
    // …and the lexer's own recursion (two frames per escape, three or more per comment line)
    // is bounded: at the limits the query is parsed on the parser's thread.
    let esc = |n| format!("count(x{{a!~\"{}\"}})", "\\\\".repeat(n));
    assert_eq!(value(esc(MAX_ESCAPES_PER_STRING)), 1.0);
    assert_eq!(
        limit(esc(MAX_ESCAPES_PER_STRING + 1)),
        "escapes in one string literal"
    );
    let comments = |n| format!("1 +{} 1", " # c\n".repeat(n));
    assert_eq!(value(comments(MAX_COMMENT_LINES_IN_A_ROW)), 2.0);
    assert_eq!(
        limit(comments(MAX_COMMENT_LINES_IN_A_ROW + 1)),
        "comment lines in a row"
    );
    // Comments separated by tokens do not form a run.
    let spread = format!("1{}", " # c\n + 0".repeat(200));
    assert_eq!(value(spread), 1.0);
}

#[test]
fn query_size_limit() {
    // A large regex of the kind Grafana's multi-value variables produce, exactly at the limit.
    let head = r#"count(x{a=~"b"#;
    let tail = r#""})"#;
    let mut alts = String::new();
    while head.len() + alts.len() + tail.len() + 8 <= MAX_QUERY_BYTES {
        alts.push_str("|node-0042");
    }
    let mut q = format!("{head}{alts}{tail}");
    q.push_str(&" ".repeat(MAX_QUERY_BYTES - q.len()));
    assert_eq!(q.len(), MAX_QUERY_BYTES);
    assert_eq!(value(q.clone()), 1.0);
    q.push(' ');
    assert_eq!(limit(q), "bytes of query text");
}

#[test]
fn at_every_limit_at_once() {
    // P parentheses around `1 + 1 + … + count(x{a!~"<escapes>"}) <comments>`: the braces are
    // at level P + 2, and the depth is P + (k + 1 operators) + 3 (count, braces, the group).
    let p = MAX_NESTING - 2;
    let k = MAX_DEPTH - 4 - p;
    let mut inner = String::from("1");
    inner.push_str(&" + 1".repeat(k));
    inner.push_str(&format!(
        " + count(x{{a!~\"{}\"}})",
        "\\\\".repeat(MAX_ESCAPES_PER_STRING)
    ));
    inner.push_str(&" # comment\n".repeat(MAX_COMMENT_LINES_IN_A_ROW));
    let mut q = nested("(", &inner, ")", p);
    assert!(q.len() <= MAX_QUERY_BYTES, "{}", q.len());
    q.push_str(&" ".repeat(MAX_QUERY_BYTES - q.len()));
    assert_eq!(value(q.clone()), (k + 2) as f64);
    // One more of anything is over.
    assert_eq!(limit(format!("{q} ")), "bytes of query text");
    assert_eq!(limit(format!("({})", q.trim_end())), NESTING);
    assert_eq!(limit(q.trim_end().replacen("1 + 1", "1 + 1 + 1", 1)), DEPTH);
}

#[test]
fn a_deep_plan_evaluates_many_times_on_a_small_stack() {
    let plan = parse(&chain("-", MAX_DEPTH - 1)).unwrap();
    let v = on_small_stack(move || {
        let data = data();
        let opts = EvalOptions::default();
        let m = plan.eval_range(&data, 0, 600_000, 60_000, &opts).unwrap();
        let i = plan.eval_instant(&data, 0, &opts).unwrap();
        drop(plan);
        (m[0].points.len(), i[0].value)
    });
    assert_eq!(v, (11, 1.0 - (MAX_DEPTH - 1) as f64));
}

#[test]
fn limit_errors_say_what_and_how_much() {
    let e = eval(chain("+", 1_000)).unwrap_err().to_string();
    assert_eq!(
        e,
        "query exceeds the limit of 256 levels of expression depth (operators and brackets) \
         (needs at least 1001)"
    );
    let e = eval(nested("(", "1", ")", 100)).unwrap_err().to_string();
    assert_eq!(
        e,
        "query exceeds the limit of 64 levels of bracket nesting (needs at least 65)"
    );
}
