//! Strata's file seam, below every crate that keeps files.
//!
//! - [`Storage`] / [`StorageFile`]: a flat directory and its files. [`FsStorage`] is the real
//!   file system; [`MemStorage`] keeps files in memory and can fail writes, cut them short, run
//!   out of space, fail syncs and "crash" (forget everything not synced). The WAL does all its
//!   I/O through it.
//! - [`files`]: write-and-fsync, fsync of a directory, replace-by-rename — the one copy of
//!   each for blocks, span partitions and configuration.
//! - [`mmap`]: the workspace's one `unsafe` block, mapping an immutable file read-only.
//!
//! It depends on nothing of Strata's; everything else may depend on it.

#![deny(clippy::unwrap_used, clippy::too_many_lines)]

mod dir;
pub mod files;
mod mem;
pub mod mmap;

pub use dir::{FsStorage, Storage, StorageFile, read_full_at};
pub use mem::{Fault, MemStorage};
