//! Shared helpers for Strata's benchmarks: loading the real data in `../shared/data` and running
//! the same workload through Strata and its peers.

pub mod gorilla_cmp;
pub mod prom;

use std::path::PathBuf;

/// `../shared/data` beside the workspace, or `$STRATA_DATA_DIR` (the test kit's lookup).
pub fn shared_data_dir() -> PathBuf {
    strata_testkit::shared_data_dir()
}
