//! Every failure is a typed error naming its cause: parse errors, constructs outside the
//! subset, limits, bad arguments, storage failures.

mod query_common;

use query_common::load;
use strata_promql::{
    EvalOptions, LabelMatcher, Querier, QueryError, Series, eval_instant, eval_range, parse,
};

fn unsupported(expr: &str) -> String {
    match parse(expr) {
        Err(QueryError::Unsupported { what }) => what,
        other => panic!("{expr}: expected Unsupported, got {other:?}"),
    }
}

#[test]
fn unsupported_constructs_are_named() {
    let cases = [
        ("info(x)", "function `info`"),
        ("start_timestamp(x)", "function `start_timestamp`"),
        ("x{a=\"1\" or b=\"2\"}", "`or` between label matchers"),
        ("a + fill(0) b", "`fill` modifier"),
    ];
    for (expr, what) in cases {
        match parse(expr) {
            Err(QueryError::Unsupported { what: got }) => assert_eq!(got, what, "{expr}"),
            // Syntax the parser does not know yet is a parse error.
            Err(QueryError::Parse { .. }) => {}
            other => panic!("{expr}: expected Unsupported, got {other:?}"),
        }
    }
    let _ = unsupported;
    // The message carries the name too.
    let e = parse("holt_winters(x[5m], 0.5, 0.5)")
        .unwrap_err()
        .to_string();
    assert!(e.contains("holt_winters") || e.contains("parse"), "{e}");
}

#[test]
fn invalid_promql_is_a_parse_error() {
    for expr in [
        "",
        "sum(",
        "rate(x)",
        "x{a=}",
        "1 +",
        "sum by (a) x",
        "x[5m",
        "nonexistent_fn(x)",
        "{}",
    ] {
        assert!(
            matches!(parse(expr), Err(QueryError::Parse { .. })),
            "{expr}: {:?}",
            parse(expr)
        );
    }
    let e = eval_instant(&load(1000, &[]), "sum(", 0).unwrap_err();
    assert!(e.to_string().starts_with("cannot parse query"), "{e}");
}

#[test]
fn steps_are_checked_and_limited() {
    let q = load(1000, &[("x", "1 2 3")]);
    for step in [0, -1] {
        let r = eval_range(&q, "x", 0, 10, step);
        assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
    }
    let r = eval_range(&q, "x", 10, 0, 1);
    assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
    // 11,000 points is the limit: 0..=10_999 at step 1 is fine, one more is not.
    assert!(eval_range(&q, "x", 0, 10_999, 1).is_ok());
    match eval_range(&q, "x", 0, 11_000, 1) {
        Err(QueryError::Limit {
            what,
            limit,
            requested,
        }) => {
            assert_eq!(
                (what, limit, requested),
                ("points per series", 11_000, 11_001)
            );
        }
        other => panic!("{other:?}"),
    }
    // Extreme ranges do not overflow.
    let r = eval_range(&q, "x", i64::MIN, i64::MAX, 1);
    assert!(matches!(r, Err(QueryError::Limit { .. })), "{r:?}");
}

#[test]
fn samples_read_are_limited() {
    let q = load(1000, &[("x", "0+1x99"), ("y", "0+1x99")]);
    let mut opts = EvalOptions::default();
    opts.max_samples = 150;
    let plan = parse("sum_over_time(x[1m])").unwrap();
    assert!(plan.eval_instant(&q, 99_000, &opts).is_ok());
    // Each selector reads 100 samples: the second one crosses the limit.
    let plan = parse("sum_over_time(x[1m]) + sum_over_time(y[1m])").unwrap();
    match plan.eval_range(&q, 0, 99_000, 1000, &opts) {
        Err(QueryError::Limit { what, .. }) => assert_eq!(what, "samples read"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_regex_is_invalid() {
    let q = load(1000, &[("x", "1")]);
    // Go's RE2 accepts `a{b}` as a literal, Rust's regex does not; the querier says so.
    let r = eval_instant(&q, r#"x{a=~"x{1,2"}"#, 0);
    assert!(
        matches!(
            r,
            Err(QueryError::Invalid { .. }) | Err(QueryError::Parse { .. })
        ),
        "{r:?}"
    );
}

/// A storage that always fails.
struct Broken;

impl Querier for Broken {
    fn select(&self, _: &[LabelMatcher], _: i64, _: i64) -> Result<Vec<Series>, QueryError> {
        Err(QueryError::storage(std::io::Error::other("disk on fire")))
    }
}

#[test]
fn storage_errors_pass_through_with_their_source() {
    let e = eval_instant(&Broken, "sum(rate(x[5m]))", 0).unwrap_err();
    assert!(matches!(e, QueryError::Storage(_)));
    assert!(e.to_string().contains("disk on fire"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
    // Scalars never touch storage.
    assert!(eval_instant(&Broken, "1 + 1", 0).is_ok());
}

/// Found by the `promql_eval` fuzz target: `promql-parser` 0.11 converts a number written as a
/// duration with `Duration::from_secs_f64`, which panics on `Inf`, `NaN` and anything over
/// 2^64 s. Strata refuses these first, as Prometheus does ("duration out of range").
#[test]
fn numbers_as_durations_out_of_range_are_parse_errors_not_panics() {
    let crash = format!("foo offset -{} ^ 2", "9".repeat(54));
    for expr in [
        crash.as_str(),
        "foo offset Inf",
        "foo offset NaN",
        "foo[1e20]",
        "foo[5m:1e400]",
        "rate(foo[1e300])",
    ] {
        match parse(expr) {
            Err(QueryError::Parse { message }) => {
                assert_eq!(message, "duration out of range", "{expr}")
            }
            other => panic!("{expr}: expected a parse error, got {other:?}"),
        }
    }
    // In range, numbers are seconds, as in Prometheus.
    let q = load(60_000, &[("foo", "1 2")]);
    let v = eval_instant(&q, "foo offset 60", 120_000).expect("offset in seconds");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].value, 2.0);
}
