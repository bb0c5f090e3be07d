//! Binary operators: vector/scalar arithmetic, comparisons as filters or `bool`, one-to-one
//! vector matching with `on` / `ignoring`. Cases from Prometheus' `operators.test` plus
//! hand-computed ones.

mod query_common;

use query_common::{MIN_MS, assert_instant, load};
use strata_promql::{MemQuerier, QueryError, eval_instant};

fn http_requests() -> MemQuerier {
    let mut lines = Vec::new();
    let mut slope = 10;
    for job in ["api-server", "app-server"] {
        for group in ["production", "canary"] {
            for instance in ["0", "1"] {
                lines.push((
                    format!(
                        r#"http_requests{{job="{job}", instance="{instance}", group="{group}"}}"#
                    ),
                    format!("0+{slope}x10"),
                ));
                slope += 10;
            }
        }
    }
    let lines: Vec<(&str, &str)> = lines
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    load(5 * MIN_MS, &lines)
}

const API: &str = r#"{job="api-server"}"#;
const APP: &str = r#"{job="app-server"}"#;

#[test]
fn arithmetic_between_aggregates_and_scalars() {
    let q = http_requests();
    let t = 50 * MIN_MS;
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) - COUNT(http_requests) BY (job)",
        t,
        &[(API, 996.0), (APP, 2596.0)],
    );
    assert_instant(
        &q,
        "2 - SUM(http_requests) BY (job)",
        t,
        &[(API, -998.0), (APP, -2598.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) / 0",
        t,
        &[(API, f64::INFINITY), (APP, f64::INFINITY)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) % 300",
        t,
        &[(API, 100.0), (APP, 200.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) ^ 2",
        t,
        &[(API, 1e6), (APP, 2600.0 * 2600.0)],
    );
    assert_instant(&q, "1 - 2 * 3", t, &[("{}", -5.0)]);
    // Arithmetic and unary minus drop the metric name.
    assert_instant(
        &q,
        r#"-http_requests{job="api-server",instance="0",group="production"}"#,
        t,
        &[(
            r#"{group="production", instance="0", job="api-server"}"#,
            -100.0,
        )],
    );
    assert_instant(
        &q,
        r#"http_requests{job="api-server",instance="0",group="production"} * 2"#,
        t,
        &[(
            r#"{group="production", instance="0", job="api-server"}"#,
            200.0,
        )],
    );
}

#[test]
fn vector_arithmetic_ignores_the_name_when_matching() {
    let q = http_requests();
    assert_instant(
        &q,
        r#"http_requests{job="api-server", group="canary"} + rate(http_requests{job="api-server"}[10m]) * 5 * 60"#,
        50 * MIN_MS,
        &[
            (r#"{group="canary", instance="0", job="api-server"}"#, 330.0),
            (r#"{group="canary", instance="1", job="api-server"}"#, 440.0),
        ],
    );
}

#[test]
fn comparisons_filter_or_return_bool() {
    let q = http_requests();
    let t = 50 * MIN_MS;
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) > 1000",
        t,
        &[(APP, 2600.0)],
    );
    assert_instant(
        &q,
        "1000 < SUM(http_requests) BY (job)",
        t,
        &[(APP, 2600.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) <= 1000",
        t,
        &[(API, 1000.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) != 1000",
        t,
        &[(APP, 2600.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) == 1000",
        t,
        &[(API, 1000.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) == bool 1000",
        t,
        &[(API, 1.0), (APP, 0.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) == bool SUM(http_requests) BY (job)",
        t,
        &[(API, 1.0), (APP, 1.0)],
    );
    assert_instant(
        &q,
        "SUM(http_requests) BY (job) != bool SUM(http_requests) BY (job)",
        t,
        &[(API, 0.0), (APP, 0.0)],
    );
    assert_instant(&q, "0 == bool 1", t, &[("{}", 0.0)]);
    assert_instant(&q, "1 == bool 1", t, &[("{}", 1.0)]);
    // A filter keeps the name; `bool` drops it.
    let one = r#"http_requests{job="api-server", instance="0", group="production"}"#;
    assert_instant(&q, &format!("{one} == 100"), t, &[(one, 100.0)]);
    assert_instant(
        &q,
        &format!("{one} == bool 100"),
        t,
        &[(
            r#"{group="production", instance="0", job="api-server"}"#,
            1.0,
        )],
    );
    // A vector-vector filter keeps the left value (and name) where the comparison holds;
    // one-to-one matching removes the `ignoring` labels from the result.
    assert_instant(
        &q,
        r#"http_requests{group="canary"} > ignoring(group) http_requests{group="production"}"#,
        t,
        &[
            (r#"http_requests{instance="0", job="api-server"}"#, 300.0),
            (r#"http_requests{instance="1", job="api-server"}"#, 400.0),
            (r#"http_requests{instance="0", job="app-server"}"#, 700.0),
            (r#"http_requests{instance="1", job="app-server"}"#, 800.0),
        ],
    );
    assert_instant(
        &q,
        r#"http_requests{group="production"} > ignoring(group) http_requests{group="canary"}"#,
        t,
        &[],
    );
}

#[test]
fn error_ratio_with_on_and_ignoring() {
    // errors{code} over requests: ignoring(code) pairs them; on(service) keeps only service.
    let q = load(
        15_000,
        &[
            (r#"errors_total{service="chat", code="500"}"#, "0+3x40"),
            (r#"errors_total{service="embed", code="500"}"#, "0+1x40"),
            (r#"requests_total{service="chat"}"#, "0+30x40"),
            (r#"requests_total{service="embed"}"#, "0+50x40"),
            (r#"requests_total{service="rerank"}"#, "0+50x40"),
        ],
    );
    let t = 10 * MIN_MS;
    let want = [(r#"{service="chat"}"#, 0.1), (r#"{service="embed"}"#, 0.02)];
    assert_instant(
        &q,
        "rate(errors_total[5m]) / ignoring(code) rate(requests_total[5m])",
        t,
        &want,
    );
    assert_instant(
        &q,
        "rate(errors_total[5m]) / on(service) rate(requests_total[5m])",
        t,
        &want,
    );
    // Without a modifier `code` is in the signature and nothing pairs.
    assert_instant(
        &q,
        "rate(errors_total[5m]) / rate(requests_total[5m])",
        t,
        &[],
    );
    // Two left series sharing a signature need group_left, which is not supported.
    let r = eval_instant(
        &q,
        r#"errors_total / ignoring(service) errors_total{service="chat"}"#,
        t,
    );
    assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
}

#[test]
fn ambiguous_matches_are_errors() {
    let q = load(
        15_000,
        &[
            (r#"a{job="x", i="1"}"#, "1"),
            (r#"a{job="x", i="2"}"#, "2"),
            (r#"b{job="x"}"#, "10"),
        ],
    );
    let r = eval_instant(&q, "a / on(job) b", 0);
    assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
    let r = eval_instant(&q, "b / on(job) a", 0);
    assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
    // Dropping the name would give a{…} * 2 and a{…} * 2 the same labels — not here, they
    // differ by `i`; but two metrics differing only by name collide.
    let q = load(15_000, &[(r#"a{job="x"}"#, "1"), (r#"b{job="x"}"#, "2")]);
    let r = eval_instant(&q, r#"{__name__=~"a|b"} * 2"#, 0);
    assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
    // A filter keeps the names, so no collision.
    assert_eq!(
        query_common::instant(&q, r#"{__name__=~"a|b"} > 0"#, 0).len(),
        2
    );
}
