//! The workspace's one use of `unsafe`: mapping an immutable file into memory.

pub use memmap2::Mmap;
use std::fs::File;
use std::io;
use std::path::Path;

/// Maps a whole file read-only.
///
/// Only for files that are never modified or truncated once written: Strata's block chunk
/// files and span partition columns are written to a temporary directory, fsynced and renamed
/// into place, and afterwards only whole directories are deleted (unlinking keeps existing
/// mappings valid on Unix). Another program changing them underneath is outside the engine's
/// contract (`docs/format/block.md`, "Assumptions").
#[allow(unsafe_code)]
pub fn map_readonly(path: &Path) -> io::Result<Mmap> {
    let file = File::open(path)?;
    // SAFETY: see above — the file is immutable for as long as the mapping lives.
    unsafe { Mmap::map(&file) }
}
