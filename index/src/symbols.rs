//! Interned strings: every distinct label name and value is stored once, in one arena, and
//! named by a dense `u32` id from then on.

use crate::error::{Error, Result};
use crate::hash::{IdTable, hash_bytes, random_seed};

/// A string interner. Ids are assigned in first-seen order and never change.
#[derive(Debug, Clone)]
pub(crate) struct Symbols {
    /// All symbols back to back. Kept a `String` so slicing stays safe and free of re-validation.
    arena: String,
    /// `ends[i]` is the end of symbol `i` in `arena`; it starts where symbol `i - 1` ends.
    ends: Vec<u32>,
    table: IdTable,
    seed: u64,
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols {
            arena: String::new(),
            ends: Vec::new(),
            table: IdTable::default(),
            seed: random_seed(),
        }
    }
}

impl Symbols {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The string of an id this table handed out.
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    #[inline]
    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        let h = hash_bytes(self.seed, s.as_bytes());
        self.table.find(h, |id| self.get(id) == s)
    }

    pub(crate) fn intern(&mut self, s: &str) -> Result<u32> {
        let h = hash_bytes(self.seed, s.as_bytes());
        if let Some(id) = self.table.find(h, |id| self.get(id) == s) {
            return Ok(id);
        }
        let end = self.arena.len() + s.len();
        if end > u32::MAX as usize {
            return Err(Error::LimitExceeded {
                what: "symbol bytes",
                max: u64::from(u32::MAX),
            });
        }
        if self.ends.len() >= (u32::MAX - 1) as usize {
            return Err(Error::LimitExceeded {
                what: "symbols",
                max: u64::from(u32::MAX - 1),
            });
        }
        let id = self.ends.len() as u32;
        self.arena.push_str(s);
        self.ends.push(end as u32);
        self.table.insert(h, id);
        Ok(id)
    }

    /// Bytes of the distinct strings themselves (what "beyond the label strings" excludes).
    pub(crate) fn string_bytes(&self) -> usize {
        self.arena.len()
    }

    /// Heap held beyond the string bytes: arena slack, the end offsets, the hash table.
    pub(crate) fn overhead_bytes(&self) -> usize {
        (self.arena.capacity() - self.arena.len())
            + self.ends.capacity() * 4
            + self.table.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent_and_ids_are_dense() {
        let mut s = Symbols::default();
        let words = ["", "model", "gpt-4o", "модель", "model", "", "gpt-4o-mini"];
        let ids: Vec<u32> = words.iter().map(|w| s.intern(w).unwrap()).collect();
        assert_eq!(ids, [0, 1, 2, 3, 1, 0, 4]);
        for (w, id) in words.iter().zip(&ids) {
            assert_eq!(s.get(*id), *w);
            assert_eq!(s.find(w), Some(*id));
        }
        assert_eq!(s.find("gpt-4"), None);
        assert_eq!(s.len(), 5);
        assert_eq!(s.string_bytes(), "modelgpt-4oмодельgpt-4o-mini".len());
    }
}
