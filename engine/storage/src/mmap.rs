//! The workspace's one use of `unsafe`: mapping an immutable file into memory.
//!
//! Only for files that are never modified or truncated once written: Strata's block chunk
//! files, index files and span partition columns are written to a temporary place, fsynced
//! and renamed into place; afterwards only whole files or directories are deleted (unlinking
//! keeps existing mappings valid on Unix). The data directory belongs to Strata; another
//! program changing files underneath it is outside the engine's contract
//! (`docs/format/block.md` and `docs/format/index.md`, "Assumptions"). Readers still treat
//! the mapped bytes as untrusted: every read is bounds-checked and checksummed.

use std::fs::File;
use std::io;
use std::path::Path;

pub use memmap2::Mmap;

/// Maps the file at `path` read-only.
pub fn map_readonly(path: &Path) -> io::Result<Mmap> {
    map_file(&File::open(path)?)
}

/// Maps an open file read-only.
#[expect(
    unsafe_code,
    reason = "memmap2::Mmap::map is unsafe; the assumption it needs is stated below"
)]
pub fn map_file(file: &File) -> io::Result<Mmap> {
    // SAFETY: a mapping is only sound while nobody truncates or rewrites the file underneath it
    // (truncation turns reads into SIGBUS, rewrites change bytes a `&[u8]` promised were fixed).
    // Strata writes these files once, syncs them, and never modifies or truncates them in
    // place (module docs); callers map only such files.
    unsafe { Mmap::map(file) }
}
