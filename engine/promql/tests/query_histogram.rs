//! `histogram_quantile` over classic `le` buckets, cases from Prometheus' `histograms.test`.

mod query_common;

use query_common::{MIN_MS, assert_instant, load};
use strata_promql::{MemQuerier, QueryError, eval_instant};

fn testhistogram() -> MemQuerier {
    load(
        5 * MIN_MS,
        &[
            (
                r#"testhistogram_bucket{le="0.1", start="positive"}"#,
                "0+5x10",
            ),
            (
                r#"testhistogram_bucket{le=".2", start="positive"}"#,
                "0+7x10",
            ),
            (
                r#"testhistogram_bucket{le="1e0", start="positive"}"#,
                "0+11x10",
            ),
            (
                r#"testhistogram_bucket{le="+Inf", start="positive"}"#,
                "0+12x10",
            ),
            (
                r#"testhistogram_bucket{le="-.2", start="negative"}"#,
                "0+1x10",
            ),
            (
                r#"testhistogram_bucket{le="-0.1", start="negative"}"#,
                "0+2x10",
            ),
            (
                r#"testhistogram_bucket{le="0.3", start="negative"}"#,
                "0+2x10",
            ),
            (
                r#"testhistogram_bucket{le="+Inf", start="negative"}"#,
                "0+3x10",
            ),
            (r#"testhistogram2_bucket{le="0"}"#, "0+0x10"),
            (r#"testhistogram2_bucket{le="2"}"#, "0+1x10"),
            (r#"testhistogram2_bucket{le="4"}"#, "0+2x10"),
            (r#"testhistogram2_bucket{le="6"}"#, "0+3x10"),
            (r#"testhistogram2_bucket{le="+Inf"}"#, "0+3x10"),
            (
                r#"testhistogram3_bucket{le="0", start="positive"}"#,
                "0+0x10",
            ),
            (
                r#"testhistogram3_bucket{le="0.1", start="positive"}"#,
                "0+5x10",
            ),
            (
                r#"testhistogram3_bucket{le=".2", start="positive"}"#,
                "0+7x10",
            ),
            (
                r#"testhistogram3_bucket{le="1e0", start="positive"}"#,
                "0+11x10",
            ),
            (
                r#"testhistogram3_bucket{le="+Inf", start="positive"}"#,
                "0+11x10",
            ),
            (
                r#"testhistogram3_bucket{le="-.25", start="negative"}"#,
                "0+0x10",
            ),
            (
                r#"testhistogram3_bucket{le="-.2", start="negative"}"#,
                "0+1x10",
            ),
            (
                r#"testhistogram3_bucket{le="-0.1", start="negative"}"#,
                "0+2x10",
            ),
            (
                r#"testhistogram3_bucket{le="0.3", start="negative"}"#,
                "0+2x10",
            ),
            (
                r#"testhistogram3_bucket{le="+Inf", start="negative"}"#,
                "0+2x10",
            ),
        ],
    )
}

const POS: &str = r#"{start="positive"}"#;
const NEG: &str = r#"{start="negative"}"#;

#[test]
fn quantiles_interpolate_with_the_lowest_bucket_rule() {
    let q = testhistogram();
    let t = 50 * MIN_MS;
    let cases = [
        ("0", 0.0, -0.2),
        ("1", 1.0, 0.3),
        ("0.2", 0.048, -0.2),
        ("0.5", 0.15, -0.15),
        ("0.8", 0.72, 0.3),
    ];
    for (phi, pos, neg) in cases {
        let want = [(POS, pos), (NEG, neg)];
        assert_instant(
            &q,
            &format!("histogram_quantile({phi}, testhistogram_bucket)"),
            t,
            &want,
        );
        assert_instant(
            &q,
            &format!("histogram_quantile({phi}, rate(testhistogram_bucket[10m]))"),
            t,
            &want,
        );
    }
    // A lowest bucket at 0 (positive) or below (negative) answers with its bound.
    let cases = [
        ("0", 0.0, -0.25),
        ("0.25", 0.055, -0.225),
        ("0.5", 0.125, -0.2),
        ("0.75", 0.45, -0.15),
        ("1", 1.0, -0.1),
    ];
    for (phi, pos, neg) in cases {
        assert_instant(
            &q,
            &format!("histogram_quantile({phi}, testhistogram3_bucket)"),
            t,
            &[(POS, pos), (NEG, neg)],
        );
    }
}

#[test]
fn phi_outside_zero_one() {
    let q = testhistogram();
    let t = 50 * MIN_MS;
    for (phi, v) in [
        ("-0.1", f64::NEG_INFINITY),
        ("1.01", f64::INFINITY),
        ("NaN", f64::NAN),
    ] {
        assert_instant(
            &q,
            &format!("histogram_quantile({phi}, testhistogram_bucket)"),
            t,
            &[(POS, v), (NEG, v)],
        );
    }
}

#[test]
fn middle_of_bucket_quantiles_also_over_rates() {
    let q = testhistogram();
    for (phi, v) in [("1./6.", 1.0), ("0.5", 3.0), ("5./6.", 5.0)] {
        assert_instant(
            &q,
            &format!("histogram_quantile({phi}, testhistogram2_bucket)"),
            7 * MIN_MS,
            &[("{}", v)],
        );
        assert_instant(
            &q,
            &format!("histogram_quantile({phi}, rate(testhistogram2_bucket[15m]))"),
            47 * MIN_MS,
            &[("{}", v)],
        );
    }
}

fn request_duration() -> MemQuerier {
    let series = [
        ("job1", "ins1", ["0+1x10", "0+3x10", "0+4x10"]),
        ("job1", "ins2", ["0+2x10", "0+5x10", "0+6x10"]),
        ("job2", "ins1", ["0+3x10", "0+4x10", "0+6x10"]),
        ("job2", "ins2", ["0+4x10", "0+7x10", "0+9x10"]),
    ];
    let mut lines = Vec::new();
    for (job, ins, values) in series {
        for (le, v) in ["0.1", "0.2", "+Inf"].into_iter().zip(values) {
            lines.push((
                format!(
                    r#"request_duration_seconds_bucket{{job="{job}", instance="{ins}", le="{le}"}}"#
                ),
                v.to_string(),
            ));
        }
    }
    let lines: Vec<(&str, &str)> = lines
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    load(5 * MIN_MS, &lines)
}

#[test]
fn aggregated_histograms() {
    let q = request_duration();
    let t = 50 * MIN_MS;
    let h = |phi: &str, by: &str| {
        format!(
            "histogram_quantile({phi}, sum(rate(request_duration_seconds_bucket[10m])) by ({by}))"
        )
    };
    assert_instant(&q, &h("0.3", "le"), t, &[("{}", 0.075)]);
    assert_instant(&q, &h("0.5", "le"), t, &[("{}", 0.127_777_777_777_777_8)]);
    assert_instant(
        &q,
        "histogram_quantile(0.5, avg(rate(request_duration_seconds_bucket[10m])) by (le))",
        t,
        &[("{}", 0.127_777_777_777_777_8)],
    );
    let ins = |a: f64, b: f64| [(r#"{instance="ins1"}"#, a), (r#"{instance="ins2"}"#, b)];
    assert_instant(&q, &h("0.3", "le, instance"), t, &ins(0.075, 0.075));
    assert_instant(
        &q,
        &h("0.5", "le, instance"),
        t,
        &ins(0.133_333_333_3, 0.125),
    );
    let job = |a: f64, b: f64| [(r#"{job="job1"}"#, a), (r#"{job="job2"}"#, b)];
    assert_instant(
        &q,
        &h("0.3", "le, job"),
        t,
        &job(0.1, 0.064_285_714_285_714_3),
    );
    assert_instant(&q, &h("0.5", "le, job"), t, &job(0.14, 0.1125));
    let all = |v: [f64; 4]| {
        [
            (r#"{instance="ins1", job="job1"}"#, v[0]),
            (r#"{instance="ins2", job="job1"}"#, v[1]),
            (r#"{instance="ins1", job="job2"}"#, v[2]),
            (r#"{instance="ins2", job="job2"}"#, v[3]),
        ]
    };
    let want = all([
        0.15,
        0.133_333_333_333_333_33,
        0.1,
        0.116_666_666_666_666_67,
    ]);
    assert_instant(&q, &h("0.5", "le, job, instance"), t, &want);
    // Unaggregated: same answer, and the name is dropped.
    assert_instant(
        &q,
        "histogram_quantile(0.5, rate(request_duration_seconds_bucket[10m]))",
        t,
        &want,
    );
    assert_instant(
        &q,
        "histogram_quantile(0.3, rate(request_duration_seconds_bucket[10m]))",
        t,
        &all([0.11, 0.09, 0.06, 0.0675]),
    );
}

#[test]
fn spellings_of_one_bound_are_merged() {
    let q = load(
        5 * MIN_MS,
        &[
            (
                r#"mixed_bucket{job="job1", instance="ins1", le="0.1"}"#,
                "0+1x10",
            ),
            (
                r#"mixed_bucket{job="job1", instance="ins1", le="0.2"}"#,
                "0+1x10",
            ),
            (
                r#"mixed_bucket{job="job1", instance="ins1", le="2e-1"}"#,
                "0+1x10",
            ),
            (
                r#"mixed_bucket{job="job1", instance="ins1", le="2.0e-1"}"#,
                "0+1x10",
            ),
            (
                r#"mixed_bucket{job="job1", instance="ins1", le="+Inf"}"#,
                "0+4x10",
            ),
            (
                r#"mixed_bucket{job="job1", instance="ins2", le="+inf"}"#,
                "0+0x10",
            ),
            (
                r#"mixed_bucket{job="job1", instance="ins2", le="+Inf"}"#,
                "0+0x10",
            ),
        ],
    );
    let t = 50 * MIN_MS;
    for (phi, ins1) in [("0.5", 0.15), ("0.75", 0.2), ("1", 0.2)] {
        assert_instant(
            &q,
            &format!("histogram_quantile({phi}, rate(mixed_bucket[10m]))"),
            t,
            &[
                (r#"{instance="ins1", job="job1"}"#, ins1),
                (r#"{instance="ins2", job="job1"}"#, f64::NAN),
            ],
        );
    }
}

#[test]
fn non_monotonic_buckets() {
    let q = load(
        5 * MIN_MS,
        &[
            (r#"nonmonotonic_bucket{le="0.1"}"#, "0+2x10"),
            (r#"nonmonotonic_bucket{le="1"}"#, "0+1x10"),
            (r#"nonmonotonic_bucket{le="10"}"#, "0+5x10"),
            (r#"nonmonotonic_bucket{le="100"}"#, "0+4x10"),
            (r#"nonmonotonic_bucket{le="1000"}"#, "0+9x10"),
            (r#"nonmonotonic_bucket{le="+Inf"}"#, "0+8x10"),
        ],
    );
    let t = 50 * MIN_MS;
    assert_instant(
        &q,
        "histogram_quantile(0.01, nonmonotonic_bucket)",
        t,
        &[("{}", 0.0045)],
    );
    assert_instant(
        &q,
        "histogram_quantile(0.5, nonmonotonic_bucket)",
        t,
        &[("{}", 8.5)],
    );
    assert_instant(
        &q,
        "histogram_quantile(0.99, nonmonotonic_bucket)",
        t,
        &[("{}", 979.75)],
    );
}

#[test]
fn no_observations_or_no_inf_bucket_is_nan() {
    let q = load(
        MIN_MS,
        &[
            (r#"const_bucket{le="0.0"}"#, "1 1 1 1 1 1"),
            (r#"const_bucket{le="1.0"}"#, "1 1 1 1 1 1"),
            (r#"const_bucket{le="+Inf"}"#, "1 1 1 1 1 1"),
            (r#"no_inf_bucket{le="1"}"#, "5"),
            (r#"no_inf_bucket{le="2"}"#, "10"),
            (r#"no_le{a="b"}"#, "5"),
        ],
    );
    // The buckets never move, so every rate is 0: no observations to rank.
    assert_instant(
        &q,
        "histogram_quantile(1.0, sum by (le) (rate(const_bucket[5m])))",
        5 * MIN_MS,
        &[("{}", f64::NAN)],
    );
    assert_instant(
        &q,
        "histogram_quantile(0.5, no_inf_bucket)",
        0,
        &[("{}", f64::NAN)],
    );
    // Series without `le` are ignored.
    assert_instant(&q, "histogram_quantile(0.5, no_le)", 0, &[]);
}

#[test]
fn two_histograms_with_the_same_labels_are_an_error() {
    let q = load(
        5 * MIN_MS,
        &[
            (
                r#"request_duration_seconds_bucket{job="job1", le="0.1"}"#,
                "0+1x10",
            ),
            (
                r#"request_duration_seconds_bucket{job="job1", le="+Inf"}"#,
                "0+4x10",
            ),
            (
                r#"request_duration_seconds2_bucket{job="job1", le="0.1"}"#,
                "0+1x10",
            ),
            (
                r#"request_duration_seconds2_bucket{job="job1", le="+Inf"}"#,
                "0+4x10",
            ),
        ],
    );
    let r = eval_instant(
        &q,
        r#"histogram_quantile(0.99, {__name__=~"request_duration_seconds\\d*_bucket"})"#,
        50 * MIN_MS,
    );
    assert!(matches!(r, Err(QueryError::Invalid { .. })), "{r:?}");
}
