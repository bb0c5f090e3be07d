//! Writes an index file (`docs/format/index.md`) from the in-memory structures.

use super::*;
use crate::error::{Error, Result};
use crate::postings::Postings;
use crate::series::SeriesStore;
use crate::symbols::Symbols;
use roaring::RoaringBitmap;
use strata_codec::bytes::put_uvarint;

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn too_big(what: &'static str) -> Error {
    Error::LimitExceeded {
        what,
        max: u64::from(u32::MAX),
    }
}

/// A TOC entry: a section's offset, length and checksum.
type TocEntry = (u64, u64, u32);

/// The TOC entry of the section from `start` to the end of `out`.
fn close(out: &[u8], start: usize) -> TocEntry {
    let s = &out[start..];
    (start as u64, s.len() as u64, crc32fast::hash(s))
}

/// Symbols are renumbered in byte order of their strings, so that in the file symbol order is
/// string order: value tables sorted by symbol id are sorted by value, and a prefix is a range.
pub(crate) fn encode(
    symbols: &Symbols,
    postings: &Postings,
    series: Option<&SeriesStore>,
    ids: &RoaringBitmap,
) -> Result<Vec<u8>> {
    // Every id is below `id_count`; `ids` < 2^32 - 1, so the sum cannot overflow.
    let id_count = ids.max().map_or(0, |m| m + 1);
    let (order, remap) = symbol_order(symbols);

    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[VERSION, 0, 0, 0]);
    let mut toc = [(0u64, 0u64, 0u32); SECTION_COUNT];
    toc[SYMBOLS] = write_symbols(&mut out, symbols, &order);
    let series_count = series.map_or(0, |s| s.len());
    toc[SERIES] = write_series(&mut out, series, series_count, &remap);
    let (entry, tables) = write_postings(&mut out, postings, &remap)?;
    toc[POSTINGS] = entry;
    toc[LABEL_INDEX] = write_label_index(&mut out, &tables);

    // Ids: the id space itself, so a reader never sizes it from a number alone.
    let start = out.len();
    ids.serialize_into(&mut out)?;
    toc[IDS] = close(&out, start);

    write_toc_and_footer(&mut out, id_count, series_count as u32, &toc);
    Ok(out)
}

/// The symbol ids in byte order of their strings (`order`), and each id's position in that
/// order (`remap`: old id → file id).
fn symbol_order(symbols: &Symbols) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..symbols.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| symbols.get(a).cmp(symbols.get(b)));
    let mut remap = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old as usize] = new as u32;
    }
    (order, remap)
}

/// Symbols: count, end offsets, bytes.
fn write_symbols(out: &mut Vec<u8>, symbols: &Symbols, order: &[u32]) -> TocEntry {
    let start = out.len();
    put_u32(out, order.len() as u32);
    let mut end = 0u32;
    for &id in order {
        end += symbols.get(id).len() as u32;
        put_u32(out, end);
    }
    for &id in order {
        out.extend_from_slice(symbols.get(id).as_bytes());
    }
    close(out, start)
}

/// Series: offset table, then one checksummed entry per series.
fn write_series(
    out: &mut Vec<u8>,
    series: Option<&SeriesStore>,
    series_count: usize,
    remap: &[u32],
) -> TocEntry {
    let start = out.len();
    let table = out.len();
    out.resize(table + series_count * 8, 0);
    let mut entry = Vec::new();
    for id in 0..series_count as u32 {
        let pairs = series.and_then(|s| s.get(id)).unwrap_or_default();
        let rel = (out.len() - start) as u64;
        let slot = table + id as usize * 8;
        out[slot..slot + 8].copy_from_slice(&rel.to_le_bytes());
        entry.clear();
        put_uvarint(&mut entry, (pairs.len() / 2) as u64);
        for &sym in pairs {
            put_uvarint(&mut entry, u64::from(remap[sym as usize]));
        }
        let crc = crc32fast::hash(&entry);
        out.extend_from_slice(&entry);
        put_u32(out, crc);
    }
    close(out, start)
}

/// The label index's tables, built while writing the postings they point into.
struct LabelTables {
    /// `NAME_ENTRY_LEN` bytes per name.
    name_entries: Vec<u8>,
    /// `VALUE_ENTRY_LEN` bytes per value.
    value_entries: Vec<u8>,
}

/// Postings: the lists, names in symbol order, each name's values in symbol order. Returns the
/// section's TOC entry and the label index tables pointing into it.
fn write_postings(
    out: &mut Vec<u8>,
    postings: &Postings,
    remap: &[u32],
) -> Result<(TocEntry, LabelTables)> {
    let start = out.len();
    let mut names: Vec<_> = postings.names().iter().collect();
    names.sort_unstable_by_key(|n| remap[n.name as usize]);
    let mut name_entries = Vec::with_capacity(names.len() * NAME_ENTRY_LEN);
    let mut value_entries = Vec::with_capacity(postings.list_count() * VALUE_ENTRY_LEN);
    let mut value_count = 0u32;
    let mut bytes = Vec::new();
    for nv in names {
        let mut lists: Vec<u32> = nv.lists().collect();
        lists.sort_unstable_by_key(|&l| remap[postings.key(l)[1] as usize]);
        put_u32(&mut name_entries, remap[nv.name as usize]);
        put_u32(&mut name_entries, value_count);
        put_u32(&mut name_entries, lists.len() as u32);
        value_count += lists.len() as u32;
        for l in lists {
            let bm = postings.list(l);
            bytes.clear();
            bm.serialize_into(&mut bytes)?;
            put_u32(&mut value_entries, remap[postings.key(l)[1] as usize]);
            put_u32(
                &mut value_entries,
                u32::try_from(bm.len()).map_err(|_| too_big("postings list"))?,
            );
            put_u64(&mut value_entries, (out.len() - start) as u64);
            put_u32(
                &mut value_entries,
                u32::try_from(bytes.len()).map_err(|_| too_big("postings bytes"))?,
            );
            put_u32(&mut value_entries, crc32fast::hash(&bytes));
            out.extend_from_slice(&bytes);
        }
    }
    let tables = LabelTables {
        name_entries,
        value_entries,
    };
    Ok((close(out, start), tables))
}

/// Label index: the name table, then the value table.
fn write_label_index(out: &mut Vec<u8>, tables: &LabelTables) -> TocEntry {
    let start = out.len();
    put_u32(out, (tables.name_entries.len() / NAME_ENTRY_LEN) as u32);
    out.extend_from_slice(&tables.name_entries);
    out.extend_from_slice(&tables.value_entries);
    close(out, start)
}

/// TOC and footer.
fn write_toc_and_footer(
    out: &mut Vec<u8>,
    id_count: u32,
    series_count: u32,
    toc: &[TocEntry; SECTION_COUNT],
) {
    let toc_start = out.len();
    put_u32(out, id_count);
    put_u32(out, series_count);
    put_u32(out, SECTION_COUNT as u32);
    for &(offset, len, crc) in toc {
        put_u64(out, offset);
        put_u64(out, len);
        put_u32(out, crc);
    }
    let toc_crc = crc32fast::hash(&out[toc_start..]);
    put_u64(out, toc_start as u64);
    put_u32(out, toc_crc);
    out.extend_from_slice(&MAGIC);
}
