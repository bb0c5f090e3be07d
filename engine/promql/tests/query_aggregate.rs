//! Aggregations with `by` / `without`, over selectors and over rates.

mod query_common;

use query_common::{MIN_MS, assert_instant, load, range};
use strata_promql::MemQuerier;

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

#[test]
fn sum_avg_count_min_max_by_and_without() {
    // At 50m the values are 100, 200 (api production), 300, 400 (api canary),
    // 500, 600 (app production), 700, 800 (app canary).
    let q = http_requests();
    let t = 50 * MIN_MS;
    assert_instant(&q, "sum(http_requests)", t, &[("{}", 3600.0)]);
    assert_instant(
        &q,
        "sum by (group) (http_requests)",
        t,
        &[
            (r#"{group="canary"}"#, 2200.0),
            (r#"{group="production"}"#, 1400.0),
        ],
    );
    assert_instant(
        &q,
        "sum without (instance) (http_requests)",
        t,
        &[
            (r#"{group="canary", job="api-server"}"#, 700.0),
            (r#"{group="canary", job="app-server"}"#, 1500.0),
            (r#"{group="production", job="api-server"}"#, 300.0),
            (r#"{group="production", job="app-server"}"#, 1100.0),
        ],
    );
    assert_instant(
        &q,
        "avg by (group) (http_requests)",
        t,
        &[
            (r#"{group="canary"}"#, 550.0),
            (r#"{group="production"}"#, 350.0),
        ],
    );
    assert_instant(
        &q,
        "count by (group) (http_requests)",
        t,
        &[
            (r#"{group="canary"}"#, 4.0),
            (r#"{group="production"}"#, 4.0),
        ],
    );
    assert_instant(
        &q,
        "min by (job) (http_requests)",
        t,
        &[
            (r#"{job="api-server"}"#, 100.0),
            (r#"{job="app-server"}"#, 500.0),
        ],
    );
    assert_instant(
        &q,
        "max by (job) (http_requests)",
        t,
        &[
            (r#"{job="api-server"}"#, 400.0),
            (r#"{job="app-server"}"#, 800.0),
        ],
    );
    // Grouping by a label nobody has makes one group; by (__name__) keeps the name.
    assert_instant(
        &q,
        "sum by (nonexistent) (http_requests)",
        t,
        &[("{}", 3600.0)],
    );
    assert_instant(
        &q,
        "sum by (__name__) (http_requests)",
        t,
        &[("http_requests", 3600.0)],
    );
    // The grouping clause may follow the arguments.
    assert_instant(
        &q,
        "count(http_requests) by (job)",
        t,
        &[
            (r#"{job="api-server"}"#, 4.0),
            (r#"{job="app-server"}"#, 4.0),
        ],
    );
}

#[test]
fn sum_of_rates_by_label() {
    // rate over 25m at 50m sees a steady slope: 10…80 per 5 minutes.
    let q = http_requests();
    assert_instant(
        &q,
        "sum by (group) (rate(http_requests[25m]))",
        50 * MIN_MS,
        &[
            (r#"{group="canary"}"#, 220.0 / 300.0),
            (r#"{group="production"}"#, 140.0 / 300.0),
        ],
    );
}

#[test]
fn aggregation_over_series_with_gaps() {
    // b appears at 30 s and goes stale at 60 s: the sum follows what is present at each step.
    let q = load(
        15_000,
        &[
            (r#"m{i="a"}"#, "1 1 1 1 1 1 1"),
            (r#"m{i="b"}"#, "_ _ 5 5 stale"),
        ],
    );
    let m = range(&q, "sum(m)", 0, 90_000, 15_000);
    let values: Vec<f64> = m[0].points.iter().map(|p| p.1).collect();
    assert_eq!(values, [1.0, 1.0, 6.0, 6.0, 1.0, 1.0, 1.0]);
    let m = range(&q, "count(m)", 0, 90_000, 15_000);
    let values: Vec<f64> = m[0].points.iter().map(|p| p.1).collect();
    assert_eq!(values, [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0]);
}

#[test]
fn nan_loses_in_min_and_max() {
    let q = load(
        MIN_MS,
        &[
            (r#"m{i="a"}"#, "NaN"),
            (r#"m{i="b"}"#, "3"),
            (r#"m{i="c"}"#, "1"),
        ],
    );
    assert_instant(&q, "max(m)", 0, &[("{}", 3.0)]);
    assert_instant(&q, "min(m)", 0, &[("{}", 1.0)]);
    assert_instant(&q, "sum(m)", 0, &[("{}", f64::NAN)]);
}
