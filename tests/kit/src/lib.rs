//! What Strata's tests, benches, fuzz targets and the CLI benches share, so each does not carry
//! its own copy:
//!
//! - where the real captures are (`../shared/data` beside the checkout, or `$STRATA_DATA_DIR`)
//!   and how to read a directory of OTLP payloads (this file);
//! - [`spans`]: the one span generator — seeded GenAI agent traces ([`spans::TraceGen`], with
//!   the bench's services, models and price table) and numbered spans a crash test can rebuild
//!   from their number ([`spans::numbered_span`]);
//! - [`series`]: the one series generator — the seeded scrape of an LLM gateway
//!   ([`series::LlmMetrics`]: counters, latency and TTFT histograms, GPU gauges);
//! - [`rng`]: the seeded draws behind both.
//!
//! The crash helpers (kill a child process, collect what it acknowledged) are in the `tests`
//! crate (`strata-tests`), beside the crash tests.
//!
//! The kit depends on `strata-spans` (for the span types), not on `strata-engine`: the engine's
//! tests use the kit, and `strata-spans` is what `strata_engine::spans` re-exports. Crates below
//! `strata-spans` (codec, wal, index, storage) cannot use the kit without a dependency cycle.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

pub mod rng;
pub mod series;
pub mod spans;

use std::path::PathBuf;

/// The shared real data: `$STRATA_DATA_DIR`, or `../shared/data` beside the workspace.
pub fn shared_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRATA_DATA_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// A file or directory in the shared data; panics with a hint when it is missing.
pub fn shared_data(name: &str) -> PathBuf {
    let path = shared_data_dir().join(name);
    assert!(
        path.exists(),
        "{}: missing (put ../shared beside the checkout, or set STRATA_DATA_DIR)",
        path.display()
    );
    path
}

/// The files in the shared-data directory `capture` whose names start with `prefix`, in name
/// order, read whole (OTLP captures: `v1_traces_*.pb`, `v1_metrics_*.pb`, `v1_logs_*.pb`).
pub fn payloads(capture: &str, prefix: &str) -> Vec<Vec<u8>> {
    let dir = shared_data(capture);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}
