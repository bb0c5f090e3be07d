//! The series registry: label set → series id, stored as symbol-id pairs.

use crate::error::{Error, Result};
use crate::hash::{IdTable, hash_words, random_seed};

/// Every series' canonical label set as flat (name id, value id) pairs. A lookup hashes the
/// pairs; a hash match is confirmed by comparing the pairs, so collisions cannot alias series.
#[derive(Debug, Clone)]
pub(crate) struct SeriesStore {
    /// n0, v0, n1, v1, … of every series, back to back.
    pairs: Vec<u32>,
    /// `ends[id]` is the end of series `id`'s pairs; it starts where series `id - 1` ends.
    ends: Vec<u32>,
    table: IdTable,
    seed: u64,
}

impl Default for SeriesStore {
    fn default() -> Self {
        SeriesStore {
            pairs: Vec::new(),
            ends: Vec::new(),
            table: IdTable::default(),
            seed: random_seed(),
        }
    }
}

impl SeriesStore {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The pairs of a series this store handed out, or `None` for an unknown id.
    pub(crate) fn get(&self, id: u32) -> Option<&[u32]> {
        let i = id as usize;
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.pairs[start..end])
    }

    pub(crate) fn find(&self, pairs: &[u32]) -> Option<u32> {
        let h = hash_words(self.seed, pairs);
        self.table.find(h, |id| self.get(id) == Some(pairs))
    }

    /// Registers a label set known to be absent; returns its id.
    pub(crate) fn push(&mut self, pairs: &[u32]) -> Result<u32> {
        let end = self.pairs.len() + pairs.len();
        if end > u32::MAX as usize || self.ends.len() >= (u32::MAX - 1) as usize {
            return Err(Error::LimitExceeded {
                what: "series",
                max: u64::from(u32::MAX - 1),
            });
        }
        let id = self.ends.len() as u32;
        self.pairs.extend_from_slice(pairs);
        self.ends.push(end as u32);
        self.table.insert(hash_words(self.seed, pairs), id);
        Ok(id)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.pairs.capacity() * 4 + self.ends.capacity() * 4 + self.table.heap_bytes()
    }
}
