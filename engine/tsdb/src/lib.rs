//! Strata's metrics storage, below the engine's `Db`.
//!
//! - [`head`]: the in-memory head — the series registry (labels → ids, postings) and each
//!   series' open Gorilla and histogram chunks.
//! - [`block`]: immutable, memory-mapped blocks (`docs/format/block.md`): reading, writing.
//! - [`compaction`]: what a head cut writes, which blocks merge, how parts combine.
//! - [`records`]: the metric WAL records (`SERIES`, samples, markers) and their encoding.
//! - [`replay`]: WAL replay of those records into a head, with its report.
//! - [`samples`]: small helpers over (timestamp, value) columns.
//!
//! It knows nothing of spans, queries or the engine that owns it: the engine orders the WAL,
//! the append gate, checkpoints and compaction over these parts. No `unsafe` here (block
//! files are mapped through `strata-storage`).

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

pub mod api;
pub mod block;
pub mod checkpoint;
pub mod compaction;
mod error;
pub mod exemplars;
pub mod head;
pub mod metadata;
pub mod read;
pub mod records;
pub mod replay;
pub mod report;
pub mod samples;

pub use error::{Error, Result};
