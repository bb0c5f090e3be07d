//! The engine's one use of `unsafe`: mapping an immutable block file into memory.

use memmap2::Mmap;
use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};

/// Maps a whole file read-only.
#[allow(unsafe_code)]
pub(crate) fn map(path: &Path) -> Result<Mmap> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // SAFETY: block files are written once to a temporary directory, fsynced and renamed into
    // place; Strata never modifies or truncates them afterwards, only deletes whole block
    // directories (unlinking keeps existing mappings valid on Unix). Another program changing
    // them underneath us is outside the engine's contract (docs/format/block.md, "Assumptions").
    unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))
}
