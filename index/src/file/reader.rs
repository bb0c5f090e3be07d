//! Reads index files through a memory map, lazily: opening checks the framing and the small
//! tables; series entries and postings lists are located through offset tables and checked
//! (CRC32 each) only when a query touches them.

use super::*;
use crate::error::{Error, Result, Section};
use crate::labels::Labels;
use crate::query::sealed::Source;
use roaring::RoaringBitmap;
use std::borrow::Cow;
use std::ops::Range;
use strata_codec::bytes::ByteReader;

/// The file's bytes: mapped, or in memory.
pub(super) type Backing = strata_storage::FileBytes;

/// One value entry of the label index.
#[derive(Debug, Clone, Copy)]
pub(super) struct ValueEntry {
    pub(super) symbol: u32,
    pub(super) cardinality: u32,
    pub(super) offset: u64,
    pub(super) len: u32,
    pub(super) crc: u32,
}

/// An index file opened for queries ([`crate::LabelIndex`]).
#[derive(Debug)]
pub struct IndexFile {
    pub(super) data: Backing,
    pub(super) id_count: u32,
    pub(super) series_count: u32,
    /// Section ranges (absolute) and checksums, in TOC order.
    pub(super) sections: [Range<usize>; SECTION_COUNT],
    pub(super) crcs: [u32; SECTION_COUNT],
    pub(super) symbol_count: u32,
    /// Absolute start of the symbol end-offset table and of the string bytes.
    pub(super) symbol_ends: usize,
    pub(super) symbol_bytes: Range<usize>,
    pub(super) name_count: u32,
    pub(super) names_at: usize,
    pub(super) value_count: u32,
    pub(super) values_at: usize,
}

pub(super) fn truncated(section: Section, offset: usize, needed: usize, available: usize) -> Error {
    Error::Truncated {
        section,
        offset: offset as u64,
        needed: needed as u64,
        available: available as u64,
    }
}

pub(super) fn check_crc(
    section: Section,
    offset: usize,
    bytes: &[u8],
    expected: u32,
) -> Result<()> {
    let actual = crc32fast::hash(bytes);
    if actual != expected {
        return Err(Error::ChecksumMismatch {
            section,
            offset: offset as u64,
            expected,
            actual,
        });
    }
    Ok(())
}

impl IndexFile {
    fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Ids in the file: `0..id_count`.
    pub fn id_count(&self) -> u32 {
        self.id_count
    }

    /// Series with labels in the file (0 for a row index).
    pub fn series_count(&self) -> u32 {
        self.series_count
    }

    /// File size in bytes.
    pub fn len_bytes(&self) -> u64 {
        self.bytes().len() as u64
    }

    fn u32_at(&self, section: Section, at: usize) -> Result<u32> {
        le_u32(self.bytes(), at)
            .ok_or_else(|| truncated(section, at, 4, self.bytes().len().saturating_sub(at)))
    }

    fn symbol_raw(&self, id: u32) -> Result<&[u8]> {
        if id >= self.symbol_count {
            return Err(Error::corrupt(
                Section::Symbols,
                self.symbol_ends as u64,
                format!("symbol {id} of {}", self.symbol_count),
            ));
        }
        let end = self.u32_at(Section::Symbols, self.symbol_ends + id as usize * 4)? as usize;
        let start = match id {
            0 => 0,
            _ => self.u32_at(Section::Symbols, self.symbol_ends + (id as usize - 1) * 4)? as usize,
        };
        let all = &self.bytes()[self.symbol_bytes.clone()];
        all.get(start..end).ok_or_else(|| {
            Error::corrupt(
                Section::Symbols,
                (self.symbol_ends + id as usize * 4) as u64,
                format!("symbol {id} spans {start}..{end} of {} bytes", all.len()),
            )
        })
    }

    fn symbol(&self, id: u32) -> Result<&str> {
        let raw = self.symbol_raw(id)?;
        std::str::from_utf8(raw).map_err(|e| {
            Error::corrupt(
                Section::Symbols,
                self.symbol_bytes.start as u64,
                format!("symbol {id}: {e}"),
            )
        })
    }

    /// (name symbol, first value, value count) of name entry `i`.
    pub(super) fn name_entry(&self, i: u32) -> Result<(u32, u32, u32)> {
        let at = self.names_at + i as usize * NAME_ENTRY_LEN;
        Ok((
            self.u32_at(Section::LabelIndex, at)?,
            self.u32_at(Section::LabelIndex, at + 4)?,
            self.u32_at(Section::LabelIndex, at + 8)?,
        ))
    }

    pub(super) fn value_entry(&self, j: u32) -> Result<ValueEntry> {
        if j >= self.value_count {
            return Err(Error::corrupt(
                Section::LabelIndex,
                self.values_at as u64,
                format!("value {j} of {}", self.value_count),
            ));
        }
        let at = self.values_at + j as usize * VALUE_ENTRY_LEN;
        let b = self.bytes();
        let field = |k| {
            le_u32(b, at + k).ok_or_else(|| truncated(Section::LabelIndex, at, VALUE_ENTRY_LEN, 0))
        };
        Ok(ValueEntry {
            symbol: field(0)?,
            cardinality: field(4)?,
            offset: le_u64(b, at + 8)
                .ok_or_else(|| truncated(Section::LabelIndex, at, VALUE_ENTRY_LEN, 0))?,
            len: field(16)?,
            crc: field(20)?,
        })
    }

    /// The value run of label `name`, by binary search over the (sorted) name table.
    fn find_name(&self, name: &str) -> Result<Option<Range<u32>>> {
        let (mut lo, mut hi) = (0u32, self.name_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (sym, first, count) = self.name_entry(mid)?;
            match self.symbol_raw(sym)?.cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(first..first + count)),
            }
        }
        Ok(None)
    }

    /// First value in `run` whose bytes are ≥ `key`.
    fn lower_bound(&self, run: Range<u32>, key: &[u8]) -> Result<u32> {
        let (mut lo, mut hi) = (run.start, run.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.symbol_raw(self.value_entry(mid)?.symbol)? < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The labels of series `id`, or `None` past the last series.
    pub fn series_labels(&self, id: u32) -> Result<Option<Labels>> {
        if id >= self.series_count {
            return Ok(None);
        }
        let sec = self.sections[SERIES].clone();
        let b = &self.bytes()[sec.clone()];
        let table_len = self.series_count as usize * 8;
        let offset_of = |i: u32| le_u64(b, i as usize * 8).unwrap_or(u64::MAX);
        let start = offset_of(id);
        let end = if id + 1 < self.series_count {
            offset_of(id + 1)
        } else {
            b.len() as u64
        };
        let at = sec.start as u64 + start.min(b.len() as u64);
        if start < table_len as u64 || start > end || end > b.len() as u64 || end - start < 5 {
            return Err(Error::corrupt(
                Section::Series,
                at,
                format!("series {id} spans {start}..{end}"),
            ));
        }
        let entry = &b[start as usize..end as usize];
        let (body, crc) = entry.split_at(entry.len() - 4);
        check_crc(
            Section::Series,
            at as usize,
            body,
            le_u32(crc, 0).unwrap_or(0),
        )?;
        let codec = |e: strata_codec::Error| Error::corrupt(Section::Series, at, e.to_string());
        let mut r = ByteReader::new(body, "series entry");
        // Each pair takes at least two bytes, which bounds the allocation below.
        let n = r
            .len_at_most(body.len() / 2, "label count")
            .map_err(codec)?;
        let mut pairs: Vec<(String, String)> = Vec::with_capacity(n);
        for _ in 0..n {
            let (name, value) = (r.uvarint().map_err(codec)?, r.uvarint().map_err(codec)?);
            let (Ok(name), Ok(value)) = (u32::try_from(name), u32::try_from(value)) else {
                return Err(Error::corrupt(
                    Section::Series,
                    at,
                    format!("series {id}: symbol out of range"),
                ));
            };
            let (name, value) = (self.symbol(name)?, self.symbol(value)?);
            // Canonical order is by name bytes. Checked on the strings, not the ids, so a file
            // whose symbols are out of order cannot produce a non-canonical label set.
            let ordered = pairs.last().is_none_or(|(p, _)| p.as_str() < name);
            if !ordered || name.is_empty() || value.is_empty() {
                return Err(Error::corrupt(
                    Section::Series,
                    at,
                    format!("series {id}: labels out of order or empty"),
                ));
            }
            pairs.push((name.to_owned(), value.to_owned()));
        }
        if !r.is_empty() {
            return Err(Error::corrupt(
                Section::Series,
                at,
                format!("series {id}: {} trailing bytes", r.remaining()),
            ));
        }
        Ok(Some(Labels::from_canonical(pairs)))
    }

    /// Every id of the file, from the ids section: its size is paid for by the file's bytes,
    /// never taken from `id_count` alone.
    fn ids(&self) -> Result<RoaringBitmap> {
        let sec = self.sections[IDS].clone();
        let at = sec.start as u64;
        let bytes = &self.bytes()[sec];
        check_crc(Section::Ids, at as usize, bytes, self.crcs[IDS])?;
        roaring_check::validate(bytes).map_err(|d| Error::corrupt(Section::Ids, at, d))?;
        let ids = RoaringBitmap::deserialize_from(bytes)
            .map_err(|d| Error::corrupt(Section::Ids, at, d.to_string()))?;
        let dense = self.series_count == 0 || ids.len() == u64::from(self.series_count);
        if !dense || ids.max().is_some_and(|m| m >= self.id_count) {
            return Err(Error::corrupt(
                Section::Ids,
                at,
                format!(
                    "{} ids up to {:?} for {} series below {}",
                    ids.len(),
                    ids.max(),
                    self.series_count,
                    self.id_count
                ),
            ));
        }
        Ok(ids)
    }

    /// Checks everything `open` leaves for later: every section checksum, symbol order and
    /// encoding, every series entry and every postings list. For `strata check`, repair tools
    /// and tests; queries do not need it.
    pub fn verify(&self) -> Result<()> {
        let b = self.bytes();
        for (i, section) in [
            Section::Symbols,
            Section::Series,
            Section::Postings,
            Section::LabelIndex,
            Section::Ids,
        ]
        .into_iter()
        .enumerate()
        {
            check_crc(
                section,
                self.sections[i].start,
                &b[self.sections[i].clone()],
                self.crcs[i],
            )?;
        }
        let mut prev: Option<&[u8]> = None;
        for id in 0..self.symbol_count {
            self.symbol(id)?;
            let s = self.symbol_raw(id)?;
            if prev.is_some_and(|p| p >= s) {
                return Err(Error::corrupt(
                    Section::Symbols,
                    self.symbol_ends as u64,
                    format!("symbol {id} out of order"),
                ));
            }
            prev = Some(s);
        }
        for id in 0..self.series_count {
            self.series_labels(id)?;
        }
        for j in 0..self.value_count {
            self.load(j)?;
        }
        self.ids()?;
        Ok(())
    }
}

impl Source for IndexFile {
    fn universe(&self) -> Result<Cow<'_, RoaringBitmap>> {
        Ok(Cow::Owned(self.ids()?))
    }

    fn id_span(&self) -> u64 {
        u64::from(self.id_count)
    }

    fn lookup(&self, name: &str, value: &str) -> Result<Option<u32>> {
        let Some(run) = self.find_name(name)? else {
            return Ok(None);
        };
        let end = run.end;
        let j = self.lower_bound(run, value.as_bytes())?;
        Ok(
            (j < end && self.symbol_raw(self.value_entry(j)?.symbol)? == value.as_bytes())
                .then_some(j),
        )
    }

    fn scan(
        &self,
        name: &str,
        prefix: &str,
        f: &mut dyn FnMut(&str, u32) -> Result<bool>,
    ) -> Result<()> {
        let Some(run) = self.find_name(name)? else {
            return Ok(());
        };
        let end = run.end;
        for j in self.lower_bound(run, prefix.as_bytes())?..end {
            let v = self.symbol(self.value_entry(j)?.symbol)?;
            if !v.starts_with(prefix) || !f(v, j)? {
                break;
            }
        }
        Ok(())
    }

    fn for_each_name(&self, f: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
        for i in 0..self.name_count {
            f(self.symbol(self.name_entry(i)?.0)?)?;
        }
        Ok(())
    }

    fn cardinality(&self, list: u32) -> Result<u64> {
        Ok(u64::from(self.value_entry(list)?.cardinality))
    }

    fn load(&self, list: u32) -> Result<Cow<'_, RoaringBitmap>> {
        let e = self.value_entry(list)?;
        let sec = self.sections[POSTINGS].clone();
        let at = sec.start as u64 + e.offset.min(sec.len() as u64);
        let bytes = e
            .offset
            .checked_add(u64::from(e.len))
            .filter(|&end| end <= sec.len() as u64)
            .map(|end| &self.bytes()[sec.start + e.offset as usize..sec.start + end as usize])
            .ok_or_else(|| {
                Error::corrupt(
                    Section::Postings,
                    at,
                    format!(
                        "list {list} at {}+{} is outside the section",
                        e.offset, e.len
                    ),
                )
            })?;
        check_crc(Section::Postings, at as usize, bytes, e.crc)?;
        roaring_check::validate(bytes).map_err(|d| Error::corrupt(Section::Postings, at, d))?;
        let bm = RoaringBitmap::deserialize_from(bytes)
            .map_err(|d| Error::corrupt(Section::Postings, at, d.to_string()))?;
        if bm.len() != u64::from(e.cardinality)
            || bm.max().is_some_and(|m| m >= self.id_count)
            || bm.is_empty()
        {
            return Err(Error::corrupt(
                Section::Postings,
                at,
                format!(
                    "list {list}: {} ids up to {:?}, expected {} below {}",
                    bm.len(),
                    bm.max(),
                    e.cardinality,
                    self.id_count
                ),
            ));
        }
        Ok(Cow::Owned(bm))
    }
}
