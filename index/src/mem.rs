//! The in-memory indexes: [`MemIndex`] (series registry + postings, the head of the engine) and
//! [`RowIndex`] (postings over span-table row ids).

use crate::error::Result;
use crate::labels::{Labels, Limits, with_canonical};
use crate::postings::{Postings, roaring_heap_bytes};
use crate::query::sealed::Source;
use crate::series::SeriesStore;
use crate::symbols::Symbols;
use roaring::RoaringBitmap;
use std::borrow::Cow;

/// A series id: dense, assigned in order of first appearance, starting at 0.
pub type SeriesId = u32;

/// Where the memory of an index goes, counting allocated capacity rather than used length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Series (or rows) indexed.
    pub ids: u64,
    /// Bytes of the distinct label names and values themselves, each stored once.
    pub label_string_bytes: u64,
    /// Symbol table around those strings: arena slack, offsets, hash table.
    pub symbol_overhead_bytes: u64,
    /// Series registry: label pairs, offsets, hash table.
    pub series_bytes: u64,
    /// Postings: roaring bitmaps, their (name, value) table, per-name value lists.
    pub postings_bytes: u64,
    /// The struct itself and scratch buffers.
    pub other_bytes: u64,
}

impl MemoryUsage {
    pub fn total_bytes(&self) -> u64 {
        self.label_string_bytes + self.beyond_strings_bytes()
    }

    /// Everything except the label string bytes.
    pub fn beyond_strings_bytes(&self) -> u64 {
        self.symbol_overhead_bytes + self.series_bytes + self.postings_bytes + self.other_bytes
    }

    /// The "Done when" figure of issue 4: memory per series beyond the label strings.
    pub fn bytes_per_id_beyond_strings(&self) -> f64 {
        self.beyond_strings_bytes() as f64 / self.ids.max(1) as f64
    }
}

/// Interns a canonical label set into `scratch` as (name, value) id pairs.
fn intern_pairs(
    symbols: &mut Symbols,
    canon: &[(&str, &str)],
    scratch: &mut Vec<u32>,
) -> Result<()> {
    scratch.clear();
    for (n, v) in canon {
        scratch.push(symbols.intern(n)?);
        scratch.push(symbols.intern(v)?);
    }
    Ok(())
}

/// Looks a canonical label set up without interning; `false` if some string is unknown.
fn find_pairs(symbols: &Symbols, canon: &[(&str, &str)], scratch: &mut Vec<u32>) -> bool {
    scratch.clear();
    for (n, v) in canon {
        match (symbols.find(n), symbols.find(v)) {
            (Some(n), Some(v)) => scratch.extend([n, v]),
            _ => return false,
        }
    }
    true
}

/// The id of an already registered canonical label set, without interning anything.
fn find_series(
    symbols: &Symbols,
    series: &SeriesStore,
    canon: &[(&str, &str)],
    scratch: &mut Vec<u32>,
) -> Option<SeriesId> {
    if !find_pairs(symbols, canon, scratch) {
        return None;
    }
    series.find(scratch)
}

/// The series index of the head: a label set → series id registry, and postings over the ids.
///
/// Inserting takes `&mut self` and querying `&self`; the engine decides the locking.
#[derive(Clone, Default)]
pub struct MemIndex {
    limits: Limits,
    pub(crate) symbols: Symbols,
    pub(crate) series: SeriesStore,
    pub(crate) postings: Postings,
    /// Reused by every insert so a known series is found without allocating.
    scratch: Vec<u32>,
}

impl MemIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limits(limits: Limits) -> Self {
        MemIndex {
            limits,
            ..Self::default()
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.len() == 0
    }

    /// The id of the series with these labels, registering it if new. Labels are validated and
    /// canonicalised first (see [`crate::labels`]): order does not matter, empty values are
    /// dropped.
    pub fn get_or_insert<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        labels: &[(N, V)],
    ) -> Result<SeriesId> {
        let limits = self.limits;
        with_canonical(labels, &limits, |canon| {
            if let Some(id) = find_series(&self.symbols, &self.series, canon, &mut self.scratch) {
                return Ok(id);
            }
            intern_pairs(&mut self.symbols, canon, &mut self.scratch)?;
            let id = self.series.push(&self.scratch)?;
            self.postings.add(&self.symbols, id, &self.scratch)?;
            Ok(id)
        })
    }

    /// The id of the series with these labels, if registered.
    pub fn get<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        labels: &[(N, V)],
    ) -> Result<Option<SeriesId>> {
        with_canonical(labels, &self.limits, |canon| {
            let mut pairs = Vec::with_capacity(canon.len() * 2);
            Ok(find_series(&self.symbols, &self.series, canon, &mut pairs))
        })
    }

    /// The labels of a series, borrowed from the index, in canonical order.
    pub fn labels(&self, id: SeriesId) -> Option<impl Iterator<Item = (&str, &str)> + '_> {
        let pairs = self.series.get(id)?;
        Some(
            pairs
                .chunks_exact(2)
                .map(|p| (self.symbols.get(p[0]), self.symbols.get(p[1]))),
        )
    }

    /// The labels of a series as an owned [`Labels`].
    pub fn labels_owned(&self, id: SeriesId) -> Option<Labels> {
        Some(Labels::from_canonical(
            self.labels(id)?
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        ))
    }

    pub fn memory_usage(&self) -> MemoryUsage {
        MemoryUsage {
            ids: self.len() as u64,
            label_string_bytes: self.symbols.string_bytes() as u64,
            symbol_overhead_bytes: self.symbols.overhead_bytes() as u64,
            series_bytes: self.series.heap_bytes() as u64,
            postings_bytes: self.postings.heap_bytes() as u64,
            other_bytes: (size_of::<Self>() + self.scratch.capacity() * 4) as u64,
        }
    }

    /// The index file of this index (`docs/format/index.md`); series ids are kept.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let ids = self.universe()?;
        crate::file::writer::encode(&self.symbols, &self.postings, Some(&self.series), &ids)
    }

    /// Writes [`Self::encode`] to `path` and syncs the file; returns its size. Making the
    /// file's directory entry durable (rename, directory fsync) is the caller's business.
    pub fn write_file(
        &self,
        fs: &dyn strata_storage::FileSystem,
        path: &std::path::Path,
    ) -> Result<u64> {
        let bytes = self.encode()?;
        fs.write_synced(path, &bytes)?;
        Ok(bytes.len() as u64)
    }
}

/// A summary: an index can hold millions of series.
impl std::fmt::Debug for MemIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemIndex")
            .field("series", &self.len())
            .field("symbols", &self.symbols.len())
            .field("postings_lists", &self.postings.list_count())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Source for MemIndex {
    fn universe(&self) -> Result<Cow<'_, RoaringBitmap>> {
        let mut all = RoaringBitmap::new();
        all.insert_range(0..self.len() as u32);
        Ok(Cow::Owned(all))
    }

    fn id_span(&self) -> u64 {
        self.len() as u64
    }

    fn lookup(&self, name: &str, value: &str) -> Result<Option<u32>> {
        lookup(&self.symbols, &self.postings, name, value)
    }

    fn scan(
        &self,
        name: &str,
        prefix: &str,
        f: &mut dyn FnMut(&str, u32) -> Result<bool>,
    ) -> Result<()> {
        match self.symbols.find(name) {
            Some(n) => self.postings.scan(&self.symbols, n, prefix, f),
            None => Ok(()),
        }
    }

    fn for_each_name(&self, f: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
        for n in self.postings.names() {
            f(self.symbols.get(n.name))?;
        }
        Ok(())
    }

    fn cardinality(&self, list: u32) -> Result<u64> {
        Ok(self.postings.list(list).len())
    }

    fn load(&self, list: u32) -> Result<Cow<'_, RoaringBitmap>> {
        Ok(Cow::Borrowed(self.postings.list(list)))
    }
}

fn lookup(symbols: &Symbols, postings: &Postings, name: &str, value: &str) -> Result<Option<u32>> {
    Ok(match (symbols.find(name), symbols.find(value)) {
        (Some(n), Some(v)) => postings.find(n, v),
        _ => None,
    })
}

/// Postings over row ids of a span table (or any table): rows are not deduplicated by their
/// labels and need no metric name. Queries are the same as for series ([`crate::LabelIndex`]).
///
/// The rows of the index are the rows added, labelled or not (or declared with
/// [`RowIndex::set_row_count`]): a row without labels still exists, so a negative matcher such
/// as `{model!="x"}` selects it.
#[derive(Clone)]
pub struct RowIndex {
    limits: Limits,
    symbols: Symbols,
    postings: Postings,
    rows: RoaringBitmap,
    scratch: Vec<u32>,
}

impl Default for RowIndex {
    fn default() -> Self {
        RowIndex::with_limits(Limits::for_rows())
    }
}

impl RowIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limits(limits: Limits) -> Self {
        RowIndex {
            limits,
            symbols: Symbols::default(),
            postings: Postings::default(),
            rows: RoaringBitmap::new(),
            scratch: Vec::new(),
        }
    }

    /// Indexes `row` under `labels` (validated like series labels). Adding a row twice adds
    /// the union of its labels.
    pub fn add_row<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        row: u32,
        labels: &[(N, V)],
    ) -> Result<()> {
        let limits = self.limits;
        if row == u32::MAX {
            return Err(crate::Error::LimitExceeded {
                what: "rows",
                max: u64::from(u32::MAX - 1),
            });
        }
        with_canonical(labels, &limits, |canon| {
            intern_pairs(&mut self.symbols, canon, &mut self.scratch)?;
            self.postings.add(&self.symbols, row, &self.scratch)?;
            if !self.rows.push(row) {
                self.rows.insert(row);
            }
            Ok(())
        })
    }

    /// Declares rows `0..rows` to exist, labelled or not.
    pub fn set_row_count(&mut self, rows: u32) {
        self.rows.insert_range(0..rows.min(u32::MAX - 1));
    }

    /// Rows in the index.
    pub fn len(&self) -> u64 {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn memory_usage(&self) -> MemoryUsage {
        MemoryUsage {
            ids: self.rows.len(),
            label_string_bytes: self.symbols.string_bytes() as u64,
            symbol_overhead_bytes: self.symbols.overhead_bytes() as u64,
            series_bytes: 0,
            postings_bytes: (self.postings.heap_bytes() + roaring_heap_bytes(&self.rows)) as u64,
            other_bytes: (size_of::<Self>() + self.scratch.capacity() * 4) as u64,
        }
    }

    /// An index file without series labels; its ids are the rows.
    pub fn encode(&self) -> Result<Vec<u8>> {
        crate::file::writer::encode(&self.symbols, &self.postings, None, &self.rows)
    }
}

/// A summary: an index can hold millions of rows.
impl std::fmt::Debug for RowIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowIndex")
            .field("rows", &self.rows.len())
            .field("symbols", &self.symbols.len())
            .field("postings_lists", &self.postings.list_count())
            .finish_non_exhaustive()
    }
}

impl Source for RowIndex {
    fn universe(&self) -> Result<Cow<'_, RoaringBitmap>> {
        Ok(Cow::Borrowed(&self.rows))
    }

    fn id_span(&self) -> u64 {
        self.rows.max().map_or(0, |m| u64::from(m) + 1)
    }

    fn lookup(&self, name: &str, value: &str) -> Result<Option<u32>> {
        lookup(&self.symbols, &self.postings, name, value)
    }

    fn scan(
        &self,
        name: &str,
        prefix: &str,
        f: &mut dyn FnMut(&str, u32) -> Result<bool>,
    ) -> Result<()> {
        match self.symbols.find(name) {
            Some(n) => self.postings.scan(&self.symbols, n, prefix, f),
            None => Ok(()),
        }
    }

    fn for_each_name(&self, f: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
        for n in self.postings.names() {
            f(self.symbols.get(n.name))?;
        }
        Ok(())
    }

    fn cardinality(&self, list: u32) -> Result<u64> {
        Ok(self.postings.list(list).len())
    }

    fn load(&self, list: u32) -> Result<Cow<'_, RoaringBitmap>> {
        Ok(Cow::Borrowed(self.postings.list(list)))
    }
}
