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
    let mut order: Vec<u32> = (0..symbols.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| symbols.get(a).cmp(symbols.get(b)));
    let mut remap = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old as usize] = new as u32;
    }

    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[VERSION, 0, 0, 0]);
    let mut toc = [(0u64, 0u64, 0u32); SECTION_COUNT];
    let close = |out: &Vec<u8>, start: usize| {
        let s = &out[start..];
        (start as u64, s.len() as u64, crc32fast::hash(s))
    };

    // Symbols: count, end offsets, bytes.
    let start = out.len();
    put_u32(&mut out, order.len() as u32);
    let mut end = 0u32;
    for &id in &order {
        end += symbols.get(id).len() as u32;
        put_u32(&mut out, end);
    }
    for &id in &order {
        out.extend_from_slice(symbols.get(id).as_bytes());
    }
    toc[SYMBOLS] = close(&out, start);

    // Series: offset table, then one checksummed entry per series.
    let start = out.len();
    let series_count = series.map_or(0, |s| s.len());
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
        put_u32(&mut out, crc);
    }
    toc[SERIES] = close(&out, start);

    // Postings: the lists, names in symbol order, each name's values in symbol order.
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
    toc[POSTINGS] = close(&out, start);

    // Label index: the name table, then the value table.
    let start = out.len();
    put_u32(&mut out, (name_entries.len() / NAME_ENTRY_LEN) as u32);
    out.extend_from_slice(&name_entries);
    out.extend_from_slice(&value_entries);
    toc[LABEL_INDEX] = close(&out, start);

    // Ids: the id space itself, so a reader never sizes it from a number alone.
    let start = out.len();
    ids.serialize_into(&mut out)?;
    toc[IDS] = close(&out, start);

    // TOC and footer.
    let toc_start = out.len();
    put_u32(&mut out, id_count);
    put_u32(&mut out, series_count as u32);
    put_u32(&mut out, SECTION_COUNT as u32);
    for (offset, len, crc) in toc {
        put_u64(&mut out, offset);
        put_u64(&mut out, len);
        put_u32(&mut out, crc);
    }
    let toc_crc = crc32fast::hash(&out[toc_start..]);
    put_u64(&mut out, toc_start as u64);
    put_u32(&mut out, toc_crc);
    out.extend_from_slice(&MAGIC);
    Ok(out)
}

pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<u64> {
    strata_storage::files::write_synced(path, bytes)?;
    Ok(bytes.len() as u64)
}
