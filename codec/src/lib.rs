//! Strata's codecs: pure functions from values to bytes and back, with no I/O.
//!
//! - [`bits`]: LSB-first bit writer and a 64-bit buffered bit reader.
//! - [`bytes`]: zigzag, varints, a bounds-checked byte cursor.
//! - [`gorilla`]: metric chunks — delta-of-delta timestamps and XOR floats (format: `docs/format/chunks.md`).
//! - [`histogram`]: explicit-bucket histogram chunks (format: `docs/format/chunks.md`).
//! - [`native`]: native (sparse exponential and custom-bucket) histogram chunks (format: `docs/format/chunks.md`).
//! - [`column`](mod@column): column codecs for sealed blocks and span tables (format: `docs/format/columns.md`).
//!
//! Every decoder takes untrusted bytes and returns [`Error`] on anything malformed: no panics, and
//! no allocation sized by a number the input has not paid for in bytes.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::too_many_lines)]

pub mod bits;
pub mod bytes;
pub mod column;
pub mod error;
pub mod gorilla;
pub mod histogram;
pub mod native;

pub use error::{Error, Result};
