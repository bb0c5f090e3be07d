//! Index files: the immutable index of a block, or of a span table partition.
//! The byte layout is `docs/format/index.md`; this module is its only implementation.

pub(crate) mod open;
pub(crate) mod reader;
pub(crate) mod roaring_check;
pub(crate) mod writer;

/// First and last four bytes of every index file.
pub const MAGIC: [u8; 4] = *b"STIX";
/// The format version this build writes and reads.
pub const VERSION: u8 = 1;

pub(crate) const HEADER_LEN: usize = 8;
pub(crate) const FOOTER_LEN: usize = 16;
/// `id_count`, `series_count`, `section_count`.
pub(crate) const TOC_FIXED_LEN: usize = 12;
pub(crate) const TOC_ENTRY_LEN: usize = 20;
/// Sections a v1 file has, in TOC order; entries past these are skipped by a v1 reader.
pub(crate) const SECTION_COUNT: usize = 5;
pub(crate) const SYMBOLS: usize = 0;
pub(crate) const SERIES: usize = 1;
pub(crate) const POSTINGS: usize = 2;
pub(crate) const LABEL_INDEX: usize = 3;
pub(crate) const IDS: usize = 4;
pub(crate) const NAME_ENTRY_LEN: usize = 12;
pub(crate) const VALUE_ENTRY_LEN: usize = 24;

/// Little-endian reads from a slice the caller has bounds-checked.
pub(crate) fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(crate) fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}
