//! Strata's label index: which series (or span rows) carry which labels.
//!
//! "Here are label matchers, give me the ids": symbols are interned once, each series is a
//! compact array of symbol-id pairs, and every (label name, value) pair has a roaring bitmap of
//! the ids that carry it. Matchers become unions, intersections and differences of bitmaps,
//! cheapest first.
//!
//! - [`MemIndex`]: the head's series registry and postings ([`MemIndex::get_or_insert`],
//!   [`MemIndex::memory_usage`]).
//! - [`RowIndex`]: postings over span-table row ids, same queries.
//! - [`IndexFile`]: an immutable index file, memory-mapped and read lazily
//!   (format: `docs/format/index.md`).
//! - [`LabelIndex`]: the queries all three answer — [`LabelIndex::select`] for matchers,
//!   [`LabelIndex::select_dimensions`] for service × model × provider,
//!   [`LabelIndex::label_names`] / [`LabelIndex::label_values`] for autocompletion.
//! - [`Matcher`]: `=`, `!=`, `=~`, `!~` with Prometheus semantics; [`Labels`] and [`Limits`]
//!   for label-set validation.
//!
//! Index files are untrusted bytes: every read is bounds-checked, every section and list is
//! checksummed, and damage is an [`Error`], never a panic or an allocation the input did not
//! pay for.
//!
//! # Unsafe code
//!
//! None (`forbid(unsafe_code)`): index files are mapped through `strata_storage::mmap`, whose one `unsafe` block
//! states the assumption (files are never modified or truncated in place).

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

mod dimension;
mod error;
mod file;
mod hash;
pub mod labels;
mod matcher;
mod mem;
mod postings;
mod query;
mod series;
mod symbols;

#[doc(hidden)]
pub mod testing;

pub use dimension::{Dimension, DimensionAliases, DimensionFilter};
pub use error::{Error, LabelPart, Result, Section};
pub use file::reader::IndexFile;
pub use file::{MAGIC, VERSION};
pub use labels::{Labels, Limits, METRIC_NAME};
pub use matcher::{MatchOp, Matcher};
pub use mem::{MemIndex, MemoryUsage, RowIndex, SeriesId};
pub use query::LabelIndex;
pub use roaring::RoaringBitmap;
