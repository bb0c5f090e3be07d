//! The `Db` answers PromQL exactly as the in-memory reference querier does on the same data,
//! from the head and again from blocks after compaction.

use strata_engine::query::{Labels, MemQuerier, Series, eval_range};
use strata_engine::{Db, Fsync, Options};

/// (labels, timestamps, values) of one series.
type SeriesData = (Vec<(String, String)>, Vec<i64>, Vec<f64>);

fn data() -> Vec<SeriesData> {
    let mut out = Vec::new();
    for (m, model) in ["gpt-4o", "claude", "llama"].iter().enumerate() {
        for le in ["0.1", "1", "10", "+Inf"] {
            let labels = vec![
                ("__name__".to_owned(), "latency_bucket".to_owned()),
                ("le".to_owned(), le.to_owned()),
                ("model".to_owned(), model.to_string()),
            ];
            let ts: Vec<i64> = (0..720).map(|i| i * 15_000 + m as i64).collect();
            let scale = match le {
                "0.1" => 1.0,
                "1" => 3.0,
                "10" => 7.0,
                _ => 8.0,
            };
            // A counter with a reset at sample 400.
            let vs: Vec<f64> = (0..720)
                .map(|i| ((i % 400) as f64 * scale * (m + 1) as f64).floor())
                .collect();
            out.push((labels, ts, vs));
        }
    }
    out
}

#[test]
fn db_matches_the_reference_querier_in_head_and_blocks() {
    let dir = std::env::temp_dir().join(format!("strata-db-query-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::open(
        &dir,
        Options {
            fsync: Fsync::Never,
            auto_cut: false,
            block_duration_ms: 3_600_000,
            // The data starts at the epoch; pin "now" a day later.
            clock: strata_engine::Clock::fixed(86_400_000),
            ..Options::default()
        },
    )
    .unwrap();
    let data = data();
    for (labels, ts, vs) in &data {
        let r = db.series_ref(labels).unwrap();
        let out = db.append_batch(&vec![r; ts.len()], ts, vs).unwrap();
        assert!(out.rejected.is_empty());
    }
    let reference = MemQuerier::new(
        data.iter()
            .map(|(l, t, v)| Series {
                labels: Labels::new(l.clone()),
                timestamps: t.clone(),
                values: v.clone(),
            })
            .collect(),
    )
    .unwrap();
    let queries = [
        "latency_bucket",
        "sum by (model) (rate(latency_bucket[5m]))",
        "increase(latency_bucket{model=~\"gpt.*|llama\"}[10m])",
        "histogram_quantile(0.9, sum by (le, model) (rate(latency_bucket[5m])))",
        "max_over_time(latency_bucket{le=\"+Inf\"}[30m]) / 2",
        "count(latency_bucket{model!=\"claude\"})",
    ];
    let check = |when: &str| {
        for q in queries {
            let want = eval_range(&reference, q, 0, 720 * 15_000, 60_000).unwrap();
            let got = eval_range(&db, q, 0, 720 * 15_000, 60_000).unwrap();
            assert!(!want.is_empty(), "{q}");
            assert_eq!(got, want, "{when}: {q}");
        }
    };
    check("head");
    let report = db.compact().unwrap();
    assert!(report.blocks_written >= 3, "{report:?}");
    check("blocks");
    let _ = std::fs::remove_dir_all(&dir);
}
