//! Shared helpers for Strata's benchmarks: loading the real data in `../shared/data` and running
//! the same workload through Strata and its peers.

pub mod gorilla_cmp;
pub mod prom;

use std::path::PathBuf;

/// `../shared/data` relative to the workspace root, or `$STRATA_DATA_DIR`.
pub fn shared_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRATA_DATA_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}
