//! Opening an index file: the checks that run before any query (framing, TOC, the symbol and
//! label-index tables). Everything else is checked when read (`reader.rs`).

use super::reader::{Backing, IndexFile, check_crc, truncated};
use super::*;
use crate::error::{Error, Result, Section};
use std::ops::Range;
use std::path::Path;
use strata_storage::{FileBytes, FileSystem};

impl IndexFile {
    /// Maps and opens the file at `path`.
    pub fn open(fs: &dyn FileSystem, path: &Path) -> Result<Self> {
        let len = fs.file_len(path)?;
        let min = (HEADER_LEN + TOC_FIXED_LEN + FOOTER_LEN) as u64;
        if len < min {
            return Err(truncated(Section::Header, 0, min as usize, len as usize));
        }
        Self::from_file_bytes(fs.map(path)?)
    }

    /// Opens an index held in memory (tests, fuzzing, or a file read by other means).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        Self::parse(Backing::from(bytes))
    }

    /// Opens an index from a file's bytes (mapped or in memory).
    pub fn from_file_bytes(bytes: FileBytes) -> Result<Self> {
        if bytes.len() < HEADER_LEN + TOC_FIXED_LEN + FOOTER_LEN {
            let min = HEADER_LEN + TOC_FIXED_LEN + FOOTER_LEN;
            return Err(truncated(Section::Header, 0, min, bytes.len()));
        }
        Self::parse(bytes)
    }

    fn parse(data: Backing) -> Result<Self> {
        let b: &[u8] = &data;
        let toc = check_framing(b)?;
        let Toc {
            id_count,
            series_count,
            sections,
            crcs,
        } = parse_toc(&b[toc.clone()], toc.start)?;
        // The small sections every query needs are checked now; series entries and postings
        // lists carry their own checksums, checked when read.
        for (i, section) in [
            (SYMBOLS, Section::Symbols),
            (LABEL_INDEX, Section::LabelIndex),
        ] {
            check_crc(section, sections[i].start, &b[sections[i].clone()], crcs[i])?;
        }
        let symbols = parse_symbols(b, sections[SYMBOLS].clone())?;
        check_series_table(series_count, sections[SERIES].clone())?;
        let labels = parse_label_index(b, sections[LABEL_INDEX].clone())?;
        let file = IndexFile {
            id_count,
            series_count,
            sections,
            crcs,
            symbol_count: symbols.count,
            symbol_ends: symbols.ends,
            symbol_bytes: symbols.bytes,
            name_count: labels.name_count,
            names_at: labels.names_at,
            value_count: labels.value_count,
            values_at: labels.values_at,
            data,
        };
        file.check_label_index()?;
        Ok(file)
    }

    /// Names strictly increasing, each name's values a contiguous run of strictly increasing
    /// symbols, the runs covering the value table exactly.
    fn check_label_index(&self) -> Result<()> {
        let mut next_value = 0u64;
        let mut prev_name: Option<u32> = None;
        for i in 0..self.name_count {
            let (name, first, count) = self.name_entry(i)?;
            let at = (self.names_at + i as usize * NAME_ENTRY_LEN) as u64;
            if name >= self.symbol_count || prev_name.is_some_and(|p| p >= name) {
                return Err(Error::corrupt(
                    Section::LabelIndex,
                    at,
                    format!("name symbol {name} out of order or range"),
                ));
            }
            if u64::from(first) != next_value {
                return Err(Error::corrupt(
                    Section::LabelIndex,
                    at,
                    format!("values start at {first}, expected {next_value}"),
                ));
            }
            next_value += u64::from(count);
            if next_value > u64::from(self.value_count) {
                return Err(Error::corrupt(
                    Section::LabelIndex,
                    at,
                    "value run past the value table",
                ));
            }
            prev_name = Some(name);
            let mut prev_value: Option<u32> = None;
            for j in first..first + count {
                let v = self.value_entry(j)?.symbol;
                if v >= self.symbol_count || prev_value.is_some_and(|p| p >= v) {
                    let at = (self.values_at + j as usize * VALUE_ENTRY_LEN) as u64;
                    return Err(Error::corrupt(
                        Section::LabelIndex,
                        at,
                        format!("value symbol {v} out of order or range"),
                    ));
                }
                prev_value = Some(v);
            }
        }
        if next_value != u64::from(self.value_count) {
            return Err(Error::corrupt(
                Section::LabelIndex,
                self.values_at as u64,
                format!("names cover {next_value} of {} values", self.value_count),
            ));
        }
        Ok(())
    }
}

/// Checks the header (magic, version), the footer's magic, and that the TOC offset is in range
/// and the TOC's checksum matches. Returns the TOC's byte range.
fn check_framing(b: &[u8]) -> Result<Range<usize>> {
    let min = HEADER_LEN + TOC_FIXED_LEN + FOOTER_LEN;
    if b.len() < min {
        return Err(truncated(Section::Header, 0, min, b.len()));
    }
    let magic = |at: usize| [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if magic(0) != MAGIC {
        return Err(Error::BadMagic {
            section: Section::Header,
            found: magic(0),
        });
    }
    if b[4] != VERSION {
        return Err(Error::UnsupportedVersion { version: b[4] });
    }
    let footer = b.len() - FOOTER_LEN;
    if magic(footer + 12) != MAGIC {
        return Err(Error::BadMagic {
            section: Section::Footer,
            found: magic(footer + 12),
        });
    }
    let toc_offset = le_u64(b, footer).unwrap_or(u64::MAX);
    if toc_offset < HEADER_LEN as u64 || toc_offset > (footer - TOC_FIXED_LEN) as u64 {
        return Err(Error::corrupt(
            Section::Footer,
            footer as u64,
            format!(
                "TOC offset {toc_offset} outside [{HEADER_LEN}, {}]",
                footer - TOC_FIXED_LEN
            ),
        ));
    }
    let toc_at = toc_offset as usize;
    check_crc(
        Section::Toc,
        toc_at,
        &b[toc_at..footer],
        le_u32(b, footer + 8).unwrap_or(0),
    )?;
    Ok(toc_at..footer)
}

/// What the TOC holds.
struct Toc {
    id_count: u32,
    series_count: u32,
    sections: [Range<usize>; SECTION_COUNT],
    crcs: [u32; SECTION_COUNT],
}

/// Parses the TOC `toc`, which starts at byte `toc_at` of the file: its counts must agree with
/// its size and each other, and each v1 section must lie between the header and the TOC.
fn parse_toc(toc: &[u8], toc_at: usize) -> Result<Toc> {
    let toc_offset = toc_at as u64;
    let field = |i: usize| le_u32(toc, 4 * i).unwrap_or(0);
    let (id_count, series_count, section_count) = (field(0), field(1), field(2) as usize);
    let toc_len = section_count
        .checked_mul(TOC_ENTRY_LEN)
        .and_then(|n| n.checked_add(TOC_FIXED_LEN));
    if section_count < SECTION_COUNT || toc_len != Some(toc.len()) {
        return Err(Error::corrupt(
            Section::Toc,
            toc_offset,
            format!("{section_count} sections in a TOC of {} bytes", toc.len()),
        ));
    }
    if series_count != 0 && series_count != id_count {
        return Err(Error::corrupt(
            Section::Toc,
            toc_offset,
            format!("{series_count} series but {id_count} ids"),
        ));
    }
    let mut sections: [Range<usize>; SECTION_COUNT] = Default::default();
    let mut crcs = [0u32; SECTION_COUNT];
    for (i, (range, crc)) in sections.iter_mut().zip(&mut crcs).enumerate() {
        let e = TOC_FIXED_LEN + i * TOC_ENTRY_LEN;
        let (offset, len) = (le_u64(toc, e).unwrap_or(0), le_u64(toc, e + 8).unwrap_or(0));
        match offset.checked_add(len) {
            Some(end) if offset >= HEADER_LEN as u64 && end <= toc_offset => {
                *range = offset as usize..end as usize;
            }
            _ => {
                return Err(Error::corrupt(
                    Section::Toc,
                    (toc_at + e) as u64,
                    format!(
                        "section {i} at {offset}+{len} is outside [{HEADER_LEN}, {toc_offset})"
                    ),
                ));
            }
        }
        *crc = le_u32(toc, e + 16).unwrap_or(0);
    }
    Ok(Toc {
        id_count,
        series_count,
        sections,
        crcs,
    })
}

/// Where the symbol table's parts are.
struct SymbolTable {
    count: u32,
    /// Offset of the end-offset table.
    ends: usize,
    bytes: Range<usize>,
}

/// Symbols: count, ends, bytes; the last end is the byte count.
fn parse_symbols(b: &[u8], sym: Range<usize>) -> Result<SymbolTable> {
    let symbol_count = le_u32(b, sym.start)
        .filter(|_| sym.len() >= 4)
        .ok_or_else(|| truncated(Section::Symbols, sym.start, 4, sym.len()))?;
    let ends_len = symbol_count as usize * 4;
    if sym.len() - 4 < ends_len {
        return Err(truncated(
            Section::Symbols,
            sym.start,
            4 + ends_len,
            sym.len(),
        ));
    }
    let symbol_ends = sym.start + 4;
    let symbol_bytes = symbol_ends + ends_len..sym.end;
    if symbol_count > 0 {
        let last = le_u32(b, symbol_ends + ends_len - 4).unwrap_or(0) as usize;
        if last != symbol_bytes.len() {
            return Err(Error::corrupt(
                Section::Symbols,
                sym.start as u64,
                format!(
                    "symbols end at {last}, the section holds {}",
                    symbol_bytes.len()
                ),
            ));
        }
    }
    Ok(SymbolTable {
        count: symbol_count,
        ends: symbol_ends,
        bytes: symbol_bytes,
    })
}

/// Series: the offset table must fit.
fn check_series_table(series_count: u32, series: Range<usize>) -> Result<()> {
    if (series_count as usize) * 8 > series.len() {
        return Err(truncated(
            Section::Series,
            series.start,
            series_count as usize * 8,
            series.len(),
        ));
    }
    Ok(())
}

/// Where the label index's tables are.
struct LabelIndexTables {
    name_count: u32,
    names_at: usize,
    value_count: u32,
    values_at: usize,
}

/// Label index: name table then value table, sizes consistent with each other. Their contents
/// are checked by `check_label_index`.
fn parse_label_index(b: &[u8], li: Range<usize>) -> Result<LabelIndexTables> {
    let name_count = le_u32(b, li.start)
        .filter(|_| li.len() >= 4)
        .ok_or_else(|| truncated(Section::LabelIndex, li.start, 4, li.len()))?;
    let names_len = name_count as usize * NAME_ENTRY_LEN;
    let values_len = (li.len() - 4).checked_sub(names_len);
    if values_len.is_none_or(|v| v / VALUE_ENTRY_LEN * VALUE_ENTRY_LEN != v) {
        return Err(Error::corrupt(
            Section::LabelIndex,
            li.start as u64,
            format!(
                "{name_count} names do not fit a label index of {} bytes",
                li.len()
            ),
        ));
    }
    let value_count = ((li.len() - 4 - names_len) / VALUE_ENTRY_LEN) as u32;
    Ok(LabelIndexTables {
        name_count,
        names_at: li.start + 4,
        value_count,
        values_at: li.start + 4 + names_len,
    })
}
