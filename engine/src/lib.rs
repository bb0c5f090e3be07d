//! Strata's engine: the [`Db`] a server embeds.
//!
//! - ingest: [`Db::series_ref`], [`Db::append`], [`Db::append_batch`] (columnar, the fast path),
//!   [`Db::append_histogram`]; every commit goes through the WAL first.
//! - reads: [`Db::select`] (float series), [`Db::select_histograms`], and the PromQL subset in
//!   [`query`].
//! - maintenance: [`Db::compact`] (head → blocks, block merges, retention), [`Db::stats`].
//!
//! The engine is the facade over the crates under `engine/` (see `ARCHITECTURE.md`): it owns
//! the shared WAL, the append gate, checkpoints, compaction and retention, and ties together
//! `strata-tsdb` (head, blocks), `strata-spans`, `strata-ingest` and `strata-promql`. It has
//! no `unsafe` code. Layout on disk: `docs/format/`.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

// The metrics storage, under the names the engine has always used for it.
use strata_tsdb::{block, head, records};

mod db;
mod error;
mod options;
mod wal_dump;

pub use block::{BlockMeta, BlockStats};
pub use db::compact::{CompactReport, Expired, ExpiredTotals};
pub use db::{
    BatchOutcome, Db, ExemplarOutcome, ExemplarSeries, HistogramSeries, NativeSeries,
    OtlpMetricsOutcome, ReplayReport, SeriesRef, SeriesSamples, Stats, WalRecovery,
};
pub use error::{Error, Result};
pub use options::{Fsync, Options};
pub use strata_codec::histogram::Histogram;
pub use strata_index::{MatchOp, Matcher};
/// The ingest decoders (the `strata-ingest` crate): OTLP and Prometheus text.
pub use strata_ingest::{otlp, prom_text};
pub use strata_model::float_histogram::FloatHistogram;
pub use strata_model::{
    BucketSpan, Clock, CounterResetHint, Exemplar, ManualClock, MetricKind, MetricMetadata,
    NativeHistogram,
};
/// The PromQL engine (the `strata-promql` crate), evaluated over a `Db` through its
/// [`query::Querier`] implementation.
pub use strata_promql as query;
/// The span tables (the `strata-spans` crate) the `Db` drives through the shared WAL.
pub use strata_spans as spans;
/// Exemplars and metadata in the JSON shapes of Prometheus' HTTP API.
pub use strata_tsdb::api;
/// Ingest formats, as before the decoders had a crate of their own.
pub mod ingest {
    pub use strata_ingest::prom_text;
}
pub use wal_dump::dump_wal;
