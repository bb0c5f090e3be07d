//! The crate's only unsafe code: mapping an index file into memory.

use memmap2::Mmap;
use std::fs::File;

/// Maps `file` read-only.
#[expect(
    unsafe_code,
    reason = "memmap2::Mmap::map is unsafe; the assumption it needs is stated below"
)]
pub(crate) fn map(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: a mapping is only sound while nobody truncates or rewrites the file underneath it
    // (truncation turns reads into SIGBUS, rewrites change bytes a `&[u8]` promised were fixed).
    // Strata writes an index file once, syncs it, and never modifies or truncates it in place:
    // blocks are immutable and are removed by deleting whole files, which leaves existing
    // mappings intact. The data directory belongs to Strata; nothing else may write into it
    // (docs/format/index.md, "Assumptions"). Beyond that, every read of the mapping is
    // bounds-checked and checksummed, so the bytes themselves are treated as untrusted.
    unsafe { Mmap::map(file) }
}
