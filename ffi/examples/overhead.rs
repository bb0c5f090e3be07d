//! FFI overhead benchmark, Rust side: batch ingest through the Rust API, the same shape as
//! `ffi/bench/overhead.c` does through the C ABI (1000 series, batches of 10,000 samples, 300
//! batches, `Fsync::Never`, fresh temporary directory; only the appends are timed). Prints
//! `rust_api_samples_per_s=<rate>`. `.ci/ffi.sh` runs both alternately and prints the ratio.
//!
//! `cargo run --release -p strata-ffi --example overhead`

use std::time::Instant;
use strata_engine::{Db, Fsync, Options, SeriesRef};

const SERIES: usize = 1000;
const PER_BATCH: usize = 10;
const BATCHES: usize = 300;
const N: usize = SERIES * PER_BATCH;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("strata-overhead-rust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::open(
        &dir,
        Options {
            fsync: Fsync::Never,
            ..Options::default()
        },
    )?;
    let mut refs = Vec::with_capacity(SERIES);
    for s in 0..SERIES {
        let (model, id) = (format!("model-{}", s % 10), s.to_string());
        refs.push(db.series_ref(&[
            ("__name__", "overhead_total"),
            ("model", model.as_str()),
            ("series", id.as_str()),
        ])?);
    }
    let mut br: Vec<SeriesRef> = Vec::with_capacity(N * BATCHES);
    let mut bt: Vec<i64> = Vec::with_capacity(N * BATCHES);
    let mut bv: Vec<f64> = Vec::with_capacity(N * BATCHES);
    for b in 0..BATCHES {
        for i in 0..N {
            let (s, k) = (i % SERIES, b * PER_BATCH + i / SERIES);
            br.push(refs[s]);
            bt.push(k as i64 * 1000);
            bv.push((s * 7 + k) as f64);
        }
    }
    let start = Instant::now();
    for b in 0..BATCHES {
        let range = b * N..(b + 1) * N;
        let out = db.append_batch(&br[range.clone()], &bt[range.clone()], &bv[range])?;
        assert_eq!(out.accepted, N);
    }
    let secs = start.elapsed().as_secs_f64();
    println!("rust_api_samples_per_s={:.0}", (N * BATCHES) as f64 / secs);
    db.close()?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
