//! Strata's file seam, below every crate that keeps files.
//!
//! - [`Storage`] / [`StorageFile`]: a flat directory and its files. [`FsStorage`] is the real
//!   file system; [`MemStorage`] keeps files in memory and can fail writes, cut them short, run
//!   out of space, fail syncs and "crash" (forget everything not synced). The WAL does all its
//!   I/O through it.
//! - [`FileSystem`] / [`Fs`]: the tree every other file lives in — blocks, span partitions,
//!   configuration, the lock — and where the WAL's [`Storage`] comes from. [`RealFs`] is the
//!   real one; [`MemFs`] keeps the tree in memory with the same crash model and faults, so a
//!   whole database can be crashed at any step and reopened from what was durable.
//! - [`mmap`]: the workspace's one `unsafe` block, mapping an immutable file read-only.
//!
//! It depends on nothing of Strata's; everything else may depend on it.

#![deny(clippy::unwrap_used, clippy::too_many_lines)]

mod corruption;
mod dir;
mod fs;
mod mem;
mod memfs;
pub mod mmap;

pub use corruption::Corruption;
pub use dir::{FsStorage, Storage, StorageFile, read_full_at};
pub use fs::{DirEntry, DirLock, FileBytes, FileSystem, Fs, PathResult, RealFs};
pub use mem::{MemDir, MemFile, MemStorage};
pub use memfs::{Fault, MemFs};
