//! Instant and range selectors: lookback, staleness, offset, matchers, range-query shape.

mod query_common;

use query_common::{MIN_MS, assert_instant, load, range};

#[test]
fn staleness_marker_hides_the_series_until_the_next_sample() {
    // Prometheus' staleness.test, with Prometheus 3's left-open lookback (t - 5m, t].
    let q = load(10_000, &[("metric", "0 1 stale 2")]);
    assert_instant(&q, "metric", 10_000, &[("metric", 1.0)]);
    assert_instant(&q, "metric", 20_000, &[]);
    assert_instant(&q, "metric", 30_000, &[("metric", 2.0)]);
    assert_instant(&q, "metric", 40_000, &[("metric", 2.0)]);
    // The last sample (30 s) is visible until it is 5 minutes old.
    assert_instant(&q, "metric", 329_999, &[("metric", 2.0)]);
    assert_instant(&q, "metric", 330_000, &[]);
    // Range vectors skip the marker.
    assert_instant(&q, "count_over_time(metric[1m])", 30_000, &[("{}", 3.0)]);
    assert_instant(&q, "count_over_time(metric[1s])", 10_000, &[("{}", 1.0)]);
    assert_instant(&q, "count_over_time(metric[1s])", 20_000, &[]);
    assert_instant(&q, "count_over_time(metric[10s])", 20_000, &[]);
    assert_instant(&q, "count_over_time(metric[20s])", 20_000, &[("{}", 1.0)]);
}

#[test]
fn a_single_sample_is_seen_for_five_minutes() {
    let q = load(10_000, &[("metric", "0")]);
    assert_instant(&q, "metric", 0, &[("metric", 0.0)]);
    assert_instant(&q, "metric", 150_000, &[("metric", 0.0)]);
    assert_instant(&q, "metric", 299_999, &[("metric", 0.0)]);
    assert_instant(&q, "metric", 300_000, &[]);
}

#[test]
fn matchers_and_offsets() {
    let q = load(
        5 * MIN_MS,
        &[
            (
                r#"http_requests_total{job="api-server", instance="0", group="production"}"#,
                "0+10x10",
            ),
            (
                r#"http_requests_total{job="api-server", instance="1", group="production"}"#,
                "0+20x10",
            ),
            (
                r#"http_requests_total{job="app-server", instance="0", group="canary"}"#,
                "0+70x10",
            ),
            (r#"x{y="testvalue"}"#, "0+10x10"),
        ],
    );
    let t = 50 * MIN_MS;
    assert_instant(
        &q,
        r#"x{y="testvalue"}"#,
        t,
        &[(r#"x{y="testvalue"}"#, 100.0)],
    );
    assert_instant(
        &q,
        r#"{job=~".+-server", job!~"api-.+"}"#,
        t,
        &[(
            r#"http_requests_total{group="canary", instance="0", job="app-server"}"#,
            700.0,
        )],
    );
    assert_instant(
        &q,
        r#"http_requests_total{group="production",job="api-server"} offset 5m"#,
        t,
        &[
            (
                r#"http_requests_total{group="production", instance="0", job="api-server"}"#,
                90.0,
            ),
            (
                r#"http_requests_total{group="production", instance="1", job="api-server"}"#,
                180.0,
            ),
        ],
    );
    // A matcher on a label nobody has: `!=` and `=""` match, `=~".+"` does not.
    assert_instant(
        &q,
        r#"http_requests_total{foo!="bar", z="", group!="", instance="1"}"#,
        0,
        &[(
            r#"http_requests_total{group="production", instance="1", job="api-server"}"#,
            0.0,
        )],
    );
    // Case-insensitive regex groups work, anchored.
    let v = query_common::instant(&q, r#"http_requests_total{group=~"(?i:PRO).*"}"#, t);
    assert_eq!(v.len(), 2);
    assert!(query_common::instant(&q, r#"http_requests_total{group=~"prod"}"#, t).is_empty());
}

#[test]
fn negative_offset_looks_ahead() {
    let q = load(10_000, &[(r#"c_total{i="1"}"#, "0+40x2000")]);
    // rate over [1m] 4000 s in the future, evaluated at 4000 s: the counter grows 4/s.
    assert_instant(
        &q,
        "rate(c_total[1m] offset -4000s)",
        4_000_000,
        &[(r#"{i="1"}"#, 4.0)],
    );
}

#[test]
fn range_query_shape() {
    let q = load(
        15_000,
        &[
            (r#"g{a="1"}"#, "1 2 3 4 5 6 7 8"),
            (r#"g{a="2"}"#, "_ _ _ _ 10 20"),
        ],
    );
    let m = range(&q, "g", 0, 150_000, 30_000);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].labels.to_string(), r#"g{a="1"}"#);
    // Steps at 0, 30, …, 150 s; the last sample (105 s) is still within the lookback at 150 s.
    assert_eq!(
        m[0].points,
        [
            (0, 1.0),
            (30_000, 3.0),
            (60_000, 5.0),
            (90_000, 7.0),
            (120_000, 8.0),
            (150_000, 8.0)
        ]
    );
    // The second series starts at 60 s: no points before.
    assert_eq!(
        m[1].points,
        [
            (60_000, 10.0),
            (90_000, 20.0),
            (120_000, 20.0),
            (150_000, 20.0)
        ]
    );
    // A step not dividing the range ends at the last step before `end`.
    let m = range(&q, "g", 0, 100_000, 40_000);
    assert_eq!(
        m[0].points.iter().map(|p| p.0).collect::<Vec<_>>(),
        [0, 40_000, 80_000]
    );
    // A scalar result is one unlabeled series with every step.
    let m = range(&q, "1 + 2", 0, 60_000, 30_000);
    assert_eq!(m.len(), 1);
    assert!(m[0].labels.is_empty());
    assert_eq!(m[0].points, [(0, 3.0), (30_000, 3.0), (60_000, 3.0)]);
}

#[test]
fn instant_scalar_result() {
    let q = load(15_000, &[]);
    let v = query_common::instant_vector(&q, "-(2 ^ 3) + 1", 5);
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].t_ms, v[0].value), (5, -7.0));
    assert!(v[0].labels.is_empty());
}
