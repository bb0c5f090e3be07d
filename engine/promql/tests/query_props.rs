//! Properties: `sum by` agrees with a naive sum, and `rate` of a regularly sampled counter is
//! its slope.

mod query_common;

use proptest::prelude::*;
use strata_promql::{Labels, MemQuerier, Series, eval_range};

const LOOKBACK_MS: i64 = 300_000;

/// The latest sample in `(t - 5m, t]`, as an instant selector sees it.
fn naive_latest(s: &Series, t: i64) -> Option<f64> {
    let i = s.timestamps.iter().rposition(|&ts| ts <= t)?;
    (s.timestamps[i] > t - LOOKBACK_MS).then(|| s.values[i])
}

fn arb_series() -> impl Strategy<Value = Vec<Series>> {
    // Up to 12 series over three values of `x`; samples on a 10 s grid with gaps; integer
    // values so that every summation order gives the same exact result.
    prop::collection::vec(
        (
            0usize..3,
            prop::collection::vec(prop::option::of(-1000i32..1000), 1..80),
        ),
        1..12,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (x, samples))| {
                let (timestamps, values) = samples
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| Some((k as i64 * 10_000, f64::from((*v)?))))
                    .unzip();
                Series {
                    labels: Labels::new([
                        ("__name__", "m".to_string()),
                        ("x", ["a", "b", "c"][x].to_string()),
                        ("y", i.to_string()),
                    ]),
                    timestamps,
                    values,
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sum_by_equals_the_naive_sum(
        series in arb_series(),
        start_ms in 0i64..400_000,
        step_ms in 1_000i64..90_000,
    ) {
        let q = MemQuerier::new(series.clone()).unwrap();
        let end_ms = start_ms + 600_000;
        let got = eval_range(&q, "sum by (x) (m)", start_ms, end_ms, step_ms).unwrap();
        let mut want = Vec::new();
        for x in ["a", "b", "c"] {
            let mut points = Vec::new();
            let mut t = start_ms;
            while t <= end_ms {
                let present: Vec<f64> = series
                    .iter()
                    .filter(|s| s.labels.get("x") == Some(x))
                    .filter_map(|s| naive_latest(s, t))
                    .collect();
                if !present.is_empty() {
                    points.push((t, present.iter().sum::<f64>()));
                }
                t += step_ms;
            }
            if !points.is_empty() {
                want.push((Labels::new([("x", x)]), points));
            }
        }
        let got: Vec<_> = got.into_iter().map(|s| (s.labels, s.points)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn rate_of_a_regular_counter_is_its_slope(
        slope_per_s in 0.001f64..1000.0,
        start_value in 0.0f64..1e6,
        interval_s in 1i64..60,
        samples in 10usize..200,
        range_intervals in 2i64..8,
        offset_pick in 0.0f64..1.0,
    ) {
        let interval_ms = interval_s * 1000;
        let timestamps: Vec<i64> = (0..samples as i64).map(|k| k * interval_ms).collect();
        let values = timestamps
            .iter()
            .map(|&t| start_value + slope_per_s * t as f64 / 1000.0)
            .collect();
        let q = MemQuerier::new(vec![Series {
            labels: Labels::new([("__name__", "c_total")]),
            timestamps: timestamps.clone(),
            values,
        }])
        .unwrap();
        // Any evaluation time whose window lies inside the sampled span, not necessarily on a
        // sample: the extrapolation then covers exactly the window.
        let range_ms = range_intervals * interval_ms;
        let last_ms = *timestamps.last().unwrap();
        prop_assume!(last_ms > range_ms);
        let t = range_ms + ((last_ms - range_ms) as f64 * offset_pick) as i64;
        let expr = format!("rate(c_total[{range_ms}ms])");
        let m = eval_range(&q, &expr, t, t, 1000).unwrap();
        prop_assert_eq!(m.len(), 1);
        let got = m[0].points[0].1;
        prop_assert!(
            (got - slope_per_s).abs() <= 1e-9 * slope_per_s.max(1.0),
            "rate {} vs slope {}", got, slope_per_s
        );
    }
}
