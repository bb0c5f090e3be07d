//! Arbitrary text as a PromQL query over a small fixed database: parsing and evaluation (instant
//! and range) give a result or a typed `QueryError`, never a panic, a hang or an allocation the
//! query has not earned — the text limits of `strata_promql::limits` and the evaluation limits
//! of `EvalOptions` (samples, points per series) hold for every input.
//!
//! Input: `mode t:i16 len:u8 step:u8 rest…`, the query being `rest` (invalid UTF-8 replaced):
//! - `mode` bit 0: also run a range query; bits 1-2: lookback (5m, 1m, 1ms, 1h); bits 3-4:
//!   samples limit (50 M, 10 k, 100, 0); bit 5: subquery default step 1 ms instead of 1 m;
//! - `t`: the instant, in seconds from the database's start (so −9 h … +9 h around the data);
//! - `len`: the range query's length, in units of 15 s (the range starts at `t`);
//! - `step`: the step, from a table (1 ms to 1 h; values past it are seconds).
//!
//! Checked on every result: a range result's series are sorted, unique, and their points
//! ascending, on the step grid and inside the range; an instant vector's samples are at the
//! instant. Storage errors cannot happen (the querier is in memory), nor cancellation.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use strata_promql::{
    EvalOptions, InstantValue, Labels, MemQuerier, QueryError, STALE_NAN_BITS, Series, parse,
};

/// The database's samples start here (ms), a minute apart unless said otherwise.
const BASE_MS: i64 = 1_700_000_000_000;
const STEPS_MS: [i64; 8] = [1, 1000, 15_000, 60_000, 7_000, 300_000, 3_600_000, 30_000];

fn series(labels: &[(&str, &str)], points: impl IntoIterator<Item = (i64, f64)>) -> Series {
    let (timestamps, values) = points
        .into_iter()
        .map(|(i, v)| (BASE_MS + i * 60_000, v))
        .unzip();
    Series {
        labels: Labels::new(labels.iter().copied()),
        timestamps,
        values,
    }
}

/// Counters (one with a reset), gauges with NaN, ±Inf and a staleness marker, classic histogram
/// buckets (one `le` malformed, one bucket not monotonic), series whose labels coincide once
/// `__name__` is dropped, and a series of one sample.
fn database() -> &'static MemQuerier {
    static DB: OnceLock<MemQuerier> = OnceLock::new();
    DB.get_or_init(|| {
        let stale = f64::from_bits(STALE_NAN_BITS);
        let mut all = Vec::new();
        for (job, inst, per_min) in [("api", "0", 10.0), ("api", "1", 3.0), ("db", "0", 0.5)] {
            let labels = [
                ("__name__", "http_requests_total"),
                ("job", job),
                ("instance", inst),
            ];
            all.push(series(
                &labels,
                (0..30).map(|i| (i, per_min * (i % 17) as f64)),
            ));
        }
        for (name, x) in [("foo", "1"), ("bar", "1"), ("foo", "2")] {
            let labels = [("__name__", name), ("x", x)];
            all.push(series(
                &labels,
                (0..30).map(|i| (i, (i as f64 - 12.0) / 3.0)),
            ));
        }
        let gauge = [
            0.5,
            f64::NAN,
            2.0,
            f64::INFINITY,
            -1.0,
            f64::NEG_INFINITY,
            7.0,
            stale,
        ];
        all.push(series(
            &[("__name__", "metric"), ("group", "a")],
            gauge.iter().enumerate().map(|(i, &v)| (i as i64 * 2, v)),
        ));
        all.push(series(
            &[("__name__", "metric"), ("group", "b")],
            [(3, 42.0)],
        ));
        for (le, scale) in [
            ("0.1", 1.0),
            ("0.5", 4.0),
            ("1", 3.0),
            ("+Inf", 6.0),
            ("x", 1.0),
        ] {
            let labels = [
                ("__name__", "latency_seconds_bucket"),
                ("le", le),
                ("job", "api"),
            ];
            all.push(series(&labels, (0..30).map(|i| (i, scale * i as f64))));
        }
        // Irregular times, some closer than a millisecond-step query would sample.
        let irregular = (0..40i64).map(|i| (BASE_MS + i * i * 997 + i, (i % 5) as f64));
        let (timestamps, values) = irregular.unzip();
        all.push(Series {
            labels: Labels::new([("__name__", "testmetric"), ("src", "a\"b\\c")]),
            timestamps,
            values,
        });
        MemQuerier::new(all).expect("the fixed database is valid")
    })
}

fn options(mode: u8) -> EvalOptions {
    let mut o = EvalOptions::default();
    o.lookback_ms = [300_000, 60_000, 1, 3_600_000][usize::from((mode >> 1) & 3)];
    o.max_samples = [50_000_000, 10_000, 100, 0][usize::from((mode >> 3) & 3)];
    if mode & 0x20 != 0 {
        o.subquery_step_ms = 1;
    }
    // Long enough never to fire on a sane input; libFuzzer's own timeout catches a hang.
    o.timeout = Some(Duration::from_secs(60));
    o
}

/// Errors are typed: never a storage error (there is no storage) or a cancellation, and each
/// says something.
fn check_error(e: &QueryError) {
    assert!(
        !matches!(e, QueryError::Storage(_) | QueryError::Cancelled),
        "unexpected error {e:?}"
    );
    assert!(!e.to_string().is_empty());
}

fuzz_target!(|data: &[u8]| {
    let [mode, t0, t1, len, step, rest @ ..] = data else {
        return;
    };
    let expr = String::from_utf8_lossy(rest);
    let plan = match parse(&expr) {
        Ok(plan) => plan,
        Err(e) => return check_error(&e),
    };
    let db = database();
    let opts = options(*mode);
    let t_ms = BASE_MS + i64::from(i16::from_le_bytes([*t0, *t1])) * 1000;
    match plan.instant(db, t_ms, &opts) {
        Ok(r) => {
            if let InstantValue::Vector(v) = &r.value {
                assert!(v.iter().all(|s| s.t_ms == t_ms), "sample off the instant");
            }
        }
        Err(e) => check_error(&e),
    }
    if mode & 1 == 0 {
        return;
    }
    let step_ms = STEPS_MS
        .get(usize::from(*step))
        .copied()
        .unwrap_or(i64::from(*step) * 1000);
    let end_ms = t_ms + i64::from(*len) * 15_000;
    match plan.range(db, t_ms, end_ms, step_ms, &opts) {
        Ok(r) => {
            for w in r.value.windows(2) {
                assert!(
                    w[0].labels < w[1].labels,
                    "range series unsorted or repeated"
                );
            }
            for s in &r.value {
                for w in s.points.windows(2) {
                    assert!(w[0].0 < w[1].0, "points out of order in {}", s.labels);
                }
                for &(t, _) in &s.points {
                    assert!(
                        (t_ms..=end_ms).contains(&t),
                        "point at {t} outside the range"
                    );
                    assert_eq!((t - t_ms) % step_ms, 0, "point at {t} off the step grid");
                }
            }
        }
        Err(e) => check_error(&e),
    }
});
