//! How a database is opened.

use std::time::Duration;

use strata_model::Clock;
use strata_storage::Fs;

/// When a commit is acknowledged relative to fsync (see `docs/format/wal.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// A commit returns after an fsync covering it; concurrent commits share fsyncs.
    Always,
    /// A background fsync every `ms` milliseconds: a power loss loses at most that window
    /// (a process crash loses nothing acknowledged).
    IntervalMs(u64),
    /// The operating system decides.
    Never,
}

impl Fsync {
    pub(crate) fn to_wal(self) -> strata_wal::SyncPolicy {
        match self {
            Fsync::Always => strata_wal::SyncPolicy::Always,
            Fsync::IntervalMs(ms) => {
                strata_wal::SyncPolicy::Interval(Duration::from_millis(ms.max(1)))
            }
            Fsync::Never => strata_wal::SyncPolicy::Never,
        }
    }
}

/// Options for [`crate::Db::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub fsync: Fsync,
    /// Length of a head partition cut into a block (default 2 h).
    pub block_duration_ms: i64,
    /// Samples up to this much older than their series' newest are accepted (default 0: rejected).
    pub out_of_order_window_ms: i64,
    /// Samples per Gorilla chunk in the head (default 120).
    pub chunk_samples: usize,
    /// The bucket metric blocks belong to, and its retention (default `metrics`, 15 months).
    pub metrics_bucket: String,
    pub metrics_retention_ms: i64,
    /// Cut the head into blocks automatically once it spans 1.5 block durations (default on).
    pub auto_cut: bool,
    /// WAL segment size (default 64 MiB).
    pub wal_segment_bytes: u64,
    /// Open a damaged WAL by skipping damaged records (default: fail with a corruption error).
    pub wal_salvage: bool,
    /// Where "now" comes from: retention, the future bound below and span sealing read it
    /// (default: the system clock). Pin it in tests and when replaying old data.
    pub clock: Clock,
    /// Samples and spans more than this far ahead of [`Options::clock`] are refused with
    /// [`crate::Error::TooFarInFuture`] (default 10 minutes, as Prometheus' out-of-bounds
    /// check): one mistyped timestamp (nanoseconds as milliseconds) must not move any window.
    pub future_tolerance_ms: i64,
    /// Samples and spans already older than their bucket's retention when appended: refused
    /// with [`crate::Error::OutsideRetention`] when true; when false (default) accepted, counted
    /// in the append's outcome (`outside_retention`) and dropped by the next retention pass.
    pub reject_outside_retention: bool,
    /// Create the directory and an empty database when none exists (default true). Tools that
    /// only read set it false: opening a missing database is then [`crate::Error::NoDatabase`].
    pub create_if_missing: bool,
    /// Where every file lives: WAL, blocks, span partitions, config, the lock (default: the
    /// real file system; tests pass a [`strata_storage::MemFs`] to crash it at any step).
    pub fs: Fs,
    /// Exemplars kept per series (default 16): appending more evicts the oldest, counted in
    /// `Stats::exemplars_evicted`.
    pub exemplars_per_series: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fsync: Fsync::IntervalMs(1000),
            block_duration_ms: 2 * 3600 * 1000,
            out_of_order_window_ms: 0,
            chunk_samples: 120,
            metrics_bucket: "metrics".to_owned(),
            metrics_retention_ms: 15 * 30 * 24 * 3600 * 1000,
            auto_cut: true,
            wal_segment_bytes: 64 << 20,
            wal_salvage: false,
            clock: Clock::system(),
            future_tolerance_ms: 10 * 60 * 1000,
            reject_outside_retention: false,
            create_if_missing: true,
            fs: Fs::default(),
            exemplars_per_series: 16,
        }
    }
}

impl Options {
    pub(crate) fn validate(&self) -> crate::Result<()> {
        let bad = |option: &'static str, detail: String| {
            Err(crate::Error::InvalidOptions { option, detail })
        };
        if self.block_duration_ms < 1000 {
            let ms = self.block_duration_ms;
            return bad("block_duration_ms", format!("{ms} is below 1000"));
        }
        if self.out_of_order_window_ms < 0 {
            return bad("out_of_order_window_ms", "is negative".into());
        }
        if !(1..=65535).contains(&self.chunk_samples) {
            let n = self.chunk_samples;
            return bad("chunk_samples", format!("{n} not in 1..=65535"));
        }
        if self.future_tolerance_ms < 0 {
            return bad("future_tolerance_ms", "is negative".into());
        }
        if self.metrics_retention_ms <= 0 {
            return bad("metrics_retention_ms", "must be positive".into());
        }
        if !(1..=4096).contains(&self.exemplars_per_series) {
            let n = self.exemplars_per_series;
            return bad("exemplars_per_series", format!("{n} not in 1..=4096"));
        }
        // The metrics bucket is a directory name, under the span buckets' rules.
        if let Err(e) = strata_spans::check_bucket_name(&self.metrics_bucket) {
            return bad("metrics_bucket", e.to_string());
        }
        Ok(())
    }
}
