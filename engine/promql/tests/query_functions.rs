//! Range functions against expectations from Prometheus' `promql/promqltest/testdata/
//! functions.test` (ported as facts, not code) and hand computations.

mod query_common;

use query_common::{MIN_MS, assert_instant, load, range};
use strata_promql::{QueryError, eval_instant};

#[test]
fn resets_and_changes() {
    let q = load(
        5 * MIN_MS,
        &[
            (r#"http_requests{path="/foo"}"#, "1 2 3 0 1 0 0 1 2 0"),
            (r#"http_requests{path="/bar"}"#, "1 2 3 4 5 1 2 3 4 5"),
            (r#"http_requests{path="/biz"}"#, "0 0 0 0 0 1 1 1 1 1"),
        ],
    );
    let t = 50 * MIN_MS;
    // The window (45m, 50m] holds no sample.
    assert_instant(&q, "resets(http_requests[5m])", t, &[]);
    let zeros = [
        (r#"{path="/foo"}"#, 0.0),
        (r#"{path="/bar"}"#, 0.0),
        (r#"{path="/biz"}"#, 0.0),
    ];
    assert_instant(&q, "resets(http_requests[10m])", t, &zeros);
    assert_instant(&q, "resets(http_requests[600])", t, &zeros);
    let cases: [(&str, [f64; 3]); 4] = [
        ("resets(http_requests[20m])", [1.0, 0.0, 0.0]),
        ("resets(http_requests[30m])", [1.0, 0.0, 0.0]),
        ("resets(http_requests[32m])", [2.0, 1.0, 0.0]),
        ("resets(http_requests[50m])", [3.0, 1.0, 0.0]),
    ];
    for (expr, [foo, bar, biz]) in cases {
        let want = [
            (r#"{path="/foo"}"#, foo),
            (r#"{path="/bar"}"#, bar),
            (r#"{path="/biz"}"#, biz),
        ];
        assert_instant(&q, expr, t, &want);
    }
    assert_instant(&q, "changes(http_requests[5m])", t, &[]);
    let cases: [(&str, [f64; 3]); 5] = [
        ("changes(http_requests[6m])", [0.0, 0.0, 0.0]),
        ("changes(http_requests[20m])", [2.0, 2.0, 0.0]),
        ("changes(http_requests[30m])", [3.0, 4.0, 0.0]),
        ("changes(http_requests[50m])", [7.0, 8.0, 1.0]),
        ("changes((http_requests[50m]))", [7.0, 8.0, 1.0]),
    ];
    for (expr, [foo, bar, biz]) in cases {
        let want = [
            (r#"{path="/foo"}"#, foo),
            (r#"{path="/bar"}"#, bar),
            (r#"{path="/biz"}"#, biz),
        ];
        assert_instant(&q, expr, t, &want);
    }
    assert_instant(&q, "changes(nonexistent_metric[50m])", t, &[]);
}

#[test]
fn changes_treats_nan_to_nan_as_no_change() {
    let q = load(
        5 * MIN_MS,
        &[(r#"x{a="b"}"#, "NaN NaN NaN"), (r#"x{a="c"}"#, "0 NaN 0")],
    );
    assert_instant(
        &q,
        "changes(x[20m])",
        15 * MIN_MS,
        &[(r#"{a="b"}"#, 0.0), (r#"{a="c"}"#, 2.0)],
    );
}

#[test]
fn increase_extrapolation_and_the_zero_cut() {
    let q = load(
        5 * MIN_MS,
        &[
            (r#"http_requests_total{path="/foo"}"#, "0+10x10"),
            (r#"http_requests_total{path="/bar"}"#, "0+18x5 0+18x5"),
            (r#"http_requests_total{path="/dings"}"#, "10+10x10"),
            (r#"http_requests_total{path="/bumms"}"#, "1+10x10"),
        ],
    );
    let t = 50 * MIN_MS;
    assert_instant(
        &q,
        "increase(http_requests_total[50m])",
        t,
        &[
            (r#"{path="/foo"}"#, 100.0),
            (r#"{path="/bar"}"#, 160.0),
            (r#"{path="/dings"}"#, 100.0),
            (r#"{path="/bumms"}"#, 100.0),
        ],
    );
    // The window reaches back to -50m: "foo" and "bar" start at 0, so no extrapolation to the
    // left; "dings" would reach 0 at -5m, beyond the half-interval (2m30s) it is extended by;
    // "bumms" reaches 0 at -30s, which cuts the extension to 30 s.
    assert_instant(
        &q,
        "increase(http_requests_total[100m])",
        t,
        &[
            (r#"{path="/foo"}"#, 100.0),
            (r#"{path="/bar"}"#, 162.0),
            (r#"{path="/dings"}"#, 105.0),
            (r#"{path="/bumms"}"#, 101.0),
        ],
    );
}

#[test]
fn increase_across_a_counter_reset() {
    let q = load(
        5 * MIN_MS,
        &[(r#"http_requests_total{path="/foo"}"#, "0 1 2 3 2 3 4")],
    );
    assert_instant(
        &q,
        "increase(http_requests_total[30m])",
        30 * MIN_MS,
        &[(r#"{path="/foo"}"#, 7.0)],
    );
}

#[test]
fn rate_with_resets_in_the_middle_and_at_the_end() {
    let q = load(
        5 * MIN_MS,
        &[
            ("testcounter_reset_middle_total", "0+27x4 0+27x5"),
            ("testcounter_reset_end_total", "0+10x9 0 10"),
        ],
    );
    let t = 50 * MIN_MS;
    assert_instant(
        &q,
        "rate(testcounter_reset_middle_total[50m])",
        t,
        &[("{}", 0.08)],
    );
    assert_instant(&q, "rate(testcounter_reset_end_total[5m])", t, &[]);
    assert_instant(
        &q,
        "rate(testcounter_reset_end_total[6m])",
        t,
        &[("{}", 0.0)],
    );
}

#[test]
fn rate_is_per_second_and_honours_offset() {
    let q = load(
        5 * MIN_MS,
        &[
            (r#"calculate_rate_offset_total{x="a"}"#, "0+10x10"),
            (r#"calculate_rate_offset_total{x="b"}"#, "0+20x10"),
            ("calculate_rate_window_total", "0+80x10"),
        ],
    );
    let t = 50 * MIN_MS;
    assert_instant(
        &q,
        "rate(calculate_rate_window_total[50m])",
        t,
        &[("{}", 0.266_666_666_666_666_66)],
    );
    assert_instant(
        &q,
        "rate(calculate_rate_offset_total[10m] offset 5m)",
        t,
        &[
            (r#"{x="a"}"#, 0.033_333_333_333_333_33),
            (r#"{x="b"}"#, 0.066_666_666_666_666_67),
        ],
    );
}

#[test]
fn rate_zero_cutoff_near_the_series_start() {
    let q = load(
        4 * MIN_MS,
        &[
            (r#"testcounter_zero_cutoff_total{start="0m"}"#, "0+240x10"),
            (r#"testcounter_zero_cutoff_total{start="1m"}"#, "60+240x10"),
            (r#"testcounter_zero_cutoff_total{start="2m"}"#, "120+240x10"),
            (r#"testcounter_zero_cutoff_total{start="3m"}"#, "180+240x10"),
            (r#"testcounter_zero_cutoff_total{start="4m"}"#, "240+240x10"),
            (r#"testcounter_zero_cutoff_total{start="5m"}"#, "300+240x10"),
        ],
    );
    // At 10m the series starts inside the window: the extension to the left is the distance
    // to the counter's zero point, capped at half an interval (2m).
    let want = [
        (r#"{start="0m"}"#, 0.5),
        (r#"{start="1m"}"#, 0.55),
        (r#"{start="2m"}"#, 0.6),
        (r#"{start="3m"}"#, 0.6),
        (r#"{start="4m"}"#, 0.6),
        (r#"{start="5m"}"#, 0.6),
    ];
    assert_instant(
        &q,
        "rate(testcounter_zero_cutoff_total[20m])",
        10 * MIN_MS,
        &want,
    );
    let all = want.map(|(l, _)| (l, 0.6));
    assert_instant(
        &q,
        "rate(testcounter_zero_cutoff_total[20m])",
        50 * MIN_MS,
        &all,
    );
}

#[test]
fn irate_and_idelta() {
    let q = load(
        5 * MIN_MS,
        &[
            (r#"http_requests_total{path="/foo"}"#, "0+10x10"),
            (r#"http_requests_total{path="/bar"}"#, "0+10x5 0+10x5"),
            ("http_requests_nan", "1 NaN NaN 5 11"),
            (r#"gauge{path="/foo"}"#, "0 50 100 150"),
            (r#"gauge{path="/bar"}"#, "0 50 100 50"),
        ],
    );
    let both = [
        (r#"{path="/foo"}"#, 0.033_333_333_333_333_33),
        (r#"{path="/bar"}"#, 0.033_333_333_333_333_33),
    ];
    assert_instant(&q, "irate(http_requests_total[50m])", 50 * MIN_MS, &both);
    // At 30m "bar" has just reset: irate counts the new value from zero, here 0.
    assert_instant(
        &q,
        "irate(http_requests_total[50m])",
        30 * MIN_MS,
        &[
            (r#"{path="/foo"}"#, 0.033_333_333_333_333_33),
            (r#"{path="/bar"}"#, 0.0),
        ],
    );
    assert_instant(
        &q,
        "idelta(gauge[20m])",
        20 * MIN_MS,
        &[(r#"{path="/foo"}"#, 50.0), (r#"{path="/bar"}"#, -50.0)],
    );

    // NaNs propagate; the first step has a single sample and no value.
    for (expr, last) in [
        ("irate(http_requests_nan[15m1s])", 0.02),
        ("idelta(http_requests_nan[15m1s])", 6.0),
    ] {
        let m = range(&q, expr, 0, 20 * MIN_MS, 5 * MIN_MS);
        assert_eq!(m.len(), 1);
        let p = &m[0].points;
        assert_eq!(
            p.iter().map(|p| p.0).collect::<Vec<_>>(),
            [5, 10, 15, 20].map(|m| m * MIN_MS)
        );
        assert!(p[..3].iter().all(|p| p.1.is_nan()), "{expr}: {p:?}");
        assert!((p[3].1 - last).abs() < 1e-12, "{expr}: {p:?}");
    }
}

#[test]
fn delta_of_gauges() {
    let q = load(
        5 * MIN_MS,
        &[
            (r#"http_requests{path="/foo"}"#, "0 50 100 150 200"),
            (r#"http_requests{path="/bar"}"#, "200 150 100 50 0"),
        ],
    );
    assert_instant(
        &q,
        "delta(http_requests[20m])",
        20 * MIN_MS,
        &[(r#"{path="/foo"}"#, 200.0), (r#"{path="/bar"}"#, -200.0)],
    );
}

#[test]
fn min_max_last_count_over_time_with_nans_and_gaps() {
    let q = load(
        10_000,
        &[
            (r#"data{type="numbers"}"#, "2 0 3"),
            (r#"data{type="some_nan"}"#, "2 0 NaN"),
            (r#"data{type="some_nan2"}"#, "2 NaN 1"),
            (r#"data{type="some_nan3"}"#, "NaN 0 1"),
            (r#"data{type="only_nan"}"#, "NaN NaN NaN"),
            (r#"data_sparse{type="sparse_numbers"}"#, "_ 5 2 _ 4 _"),
        ],
    );
    let t = MIN_MS;
    let types = ["numbers", "some_nan", "some_nan2", "some_nan3", "only_nan"];
    let want = |vals: [f64; 5]| -> Vec<(String, f64)> {
        types
            .iter()
            .zip(vals)
            .map(|(t, v)| (format!(r#"{{type="{t}"}}"#), v))
            .collect()
    };
    let check = |expr: &str, w: Vec<(String, f64)>| {
        let w: Vec<(&str, f64)> = w.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        assert_instant(&q, expr, t, &w);
    };
    check(
        "min_over_time(data[2m])",
        want([0.0, 0.0, 1.0, 0.0, f64::NAN]),
    );
    check(
        "max_over_time(data[2m])",
        want([3.0, 2.0, 2.0, 1.0, f64::NAN]),
    );
    assert_instant(
        &q,
        "min_over_time(data_sparse[2m])",
        t,
        &[(r#"{type="sparse_numbers"}"#, 2.0)],
    );
    assert_instant(
        &q,
        "max_over_time(data_sparse[2m])",
        t,
        &[(r#"{type="sparse_numbers"}"#, 5.0)],
    );
    // last_over_time keeps the metric name.
    assert_instant(
        &q,
        r#"last_over_time({__name__=~"data(_sparse)?"}[2m])"#,
        t,
        &[
            (r#"data{type="numbers"}"#, 3.0),
            (r#"data{type="some_nan"}"#, f64::NAN),
            (r#"data{type="some_nan2"}"#, 1.0),
            (r#"data{type="some_nan3"}"#, 1.0),
            (r#"data{type="only_nan"}"#, f64::NAN),
            (r#"data_sparse{type="sparse_numbers"}"#, 4.0),
        ],
    );
    let mut counts = want([3.0; 5]);
    counts.push((r#"{type="sparse_numbers"}"#.into(), 3.0));
    check(
        r#"count_over_time({__name__=~"data(_sparse)?"}[2m])"#,
        counts,
    );
}

#[test]
fn quantile_over_time() {
    let q = load(
        10_000,
        &[
            (r#"data{test="two samples"}"#, "0 1"),
            (r#"data{test="three samples"}"#, "0 1 2"),
            (r#"data{test="uneven samples"}"#, "0 1 4"),
        ],
    );
    let cases: [(&str, [f64; 3]); 7] = [
        ("0", [0.0, 0.0, 0.0]),
        ("0.5", [0.5, 1.0, 1.0]),
        ("0.75", [0.75, 1.5, 2.5]),
        ("0.8", [0.8, 1.6, 2.8]),
        ("1", [1.0, 2.0, 4.0]),
        ("-1", [f64::NEG_INFINITY; 3]),
        ("2", [f64::INFINITY; 3]),
    ];
    for (phi, [two, three, uneven]) in cases {
        assert_instant(
            &q,
            &format!("quantile_over_time({phi}, data[2m])"),
            MIN_MS,
            &[
                (r#"{test="two samples"}"#, two),
                (r#"{test="three samples"}"#, three),
                (r#"{test="uneven samples"}"#, uneven),
            ],
        );
    }
}

#[test]
fn avg_and_sum_over_time() {
    let q = load(10_000, &[("foo", "52+0x100")]);
    for r in ["100s", "110s", "120s", "130s"] {
        assert_instant(
            &q,
            &format!("avg_over_time(foo[{r}]) - 52"),
            10 * MIN_MS,
            &[("{}", 0.0)],
        );
    }
    // Windows are left-open: (3000 ms, 4000 ms] holds exactly 1000 one-millisecond samples.
    let q = load(1, &[("metric", "1+0x4000")]);
    for n in [1000, 1001, 1002, 2000, 3003] {
        assert_instant(
            &q,
            &format!("sum_over_time(metric[{n}ms])"),
            4000,
            &[("{}", n as f64)],
        );
    }
}

#[test]
fn hand_computed_range_query_across_a_reset() {
    // A counter scraped every 15 s: 0, 15, …, 150 at 0..150 s, restarting at 165 s with
    // 5, 20, 35. rate over 60 s at 180 s sees (120, 180]: 135, 150, 5, 20 → increase
    // 20 - 135 + 150 = 35 over 45 s of samples, extended to the window's start (15 s away,
    // within 1.1 × 15 s) but not past the end (a sample is on it): 35 × 60/45 per 60 s.
    let q = load(15_000, &[("c_total", "0+15x10 5+15x2")]);
    let m = range(&q, "rate(c_total[1m])", 180_000, 180_000, 15_000);
    assert!(
        (m[0].points[0].1 - 35.0 * 60.0 / 45.0 / 60.0).abs() < 1e-12,
        "{m:?}"
    );
    // Every step of a steady stretch gives the slope, 1 per second.
    let m = range(&q, "rate(c_total[1m])", 60_000, 150_000, 15_000);
    assert_eq!(m[0].points.len(), 7);
    assert!(
        m[0].points.iter().all(|p| (p.1 - 1.0).abs() < 1e-12),
        "{m:?}"
    );
}

#[test]
fn functions_drop_the_name_and_collisions_are_errors() {
    let q = load(
        5 * MIN_MS,
        &[
            (r#"testmetric1{src="a",dst="b"}"#, "0"),
            (r#"testmetric2{src="a",dst="b"}"#, "1"),
        ],
    );
    let r = eval_instant(&q, "changes({__name__=~'testmetric1|testmetric2'}[5m])", 0);
    assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
    // last_over_time keeps the names, so the two series stay apart.
    let v = query_common::instant(
        &q,
        "last_over_time({__name__=~'testmetric1|testmetric2'}[5m])",
        0,
    );
    assert_eq!(v.len(), 2);
}
