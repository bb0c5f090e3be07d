//! Postings: for every (label name, value) pair, the roaring bitmap of ids carrying it; per
//! label name, its values in byte order for prefix scans and autocompletion.
//!
//! Ids are opaque u32s: series ids for the series index, row ids for span tables.

use crate::error::{Error, Result};
use crate::hash::{IdTable, hash_words, random_seed};
use crate::symbols::Symbols;
use roaring::RoaringBitmap;

/// The values of one label name, as postings-list indexes. `sorted` is in value byte order;
/// `tail` holds recent additions in arrival order and is merged in once it outgrows an eighth
/// of `sorted`, so adding a value costs amortised O(1) moves even for names with millions of
/// values, and a prefix scan is a binary search plus a scan of the short tail.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameValues {
    pub(crate) name: u32,
    sorted: Vec<u32>,
    tail: Vec<u32>,
}

impl NameValues {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sorted.len() + self.tail.len()
    }

    /// All list indexes of this name, in no particular order.
    pub(crate) fn lists(&self) -> impl Iterator<Item = u32> + '_ {
        self.sorted.iter().chain(&self.tail).copied()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Postings {
    seed: u64,
    /// `keys[i]` is the (name, value) symbol pair of list `i`.
    keys: Vec<[u32; 2]>,
    lists: Vec<RoaringBitmap>,
    /// (name, value) → list index.
    pairs: IdTable,
    names: Vec<NameValues>,
    /// name symbol → index into `names`.
    name_index: IdTable,
}

impl Default for Postings {
    fn default() -> Self {
        Postings {
            seed: random_seed(),
            keys: Vec::new(),
            lists: Vec::new(),
            pairs: IdTable::default(),
            names: Vec::new(),
            name_index: IdTable::default(),
        }
    }
}

impl Postings {
    pub(crate) fn list_count(&self) -> usize {
        self.lists.len()
    }

    pub(crate) fn list(&self, i: u32) -> &RoaringBitmap {
        &self.lists[i as usize]
    }

    pub(crate) fn key(&self, i: u32) -> [u32; 2] {
        self.keys[i as usize]
    }

    pub(crate) fn names(&self) -> &[NameValues] {
        &self.names
    }

    pub(crate) fn find_name(&self, name: u32) -> Option<&NameValues> {
        let h = hash_words(self.seed, &[name]);
        let i = self
            .name_index
            .find(h, |i| self.names[i as usize].name == name)?;
        Some(&self.names[i as usize])
    }

    pub(crate) fn find(&self, name: u32, value: u32) -> Option<u32> {
        let h = hash_words(self.seed, &[name, value]);
        self.pairs
            .find(h, |i| self.keys[i as usize] == [name, value])
    }

    /// Adds `id` to the list of every (name, value) pair in `pairs` (flat: n0, v0, n1, v1, …).
    pub(crate) fn add(&mut self, symbols: &Symbols, id: u32, pairs: &[u32]) -> Result<()> {
        for p in pairs.chunks_exact(2) {
            let list = match self.find(p[0], p[1]) {
                Some(i) => i,
                None => self.new_list(symbols, p[0], p[1])?,
            };
            let bm = &mut self.lists[list as usize];
            // Series ids arrive in increasing order, where `push` is O(1); rows may not.
            if !bm.push(id) {
                bm.insert(id);
            }
        }
        Ok(())
    }

    fn new_list(&mut self, symbols: &Symbols, name: u32, value: u32) -> Result<u32> {
        if self.lists.len() >= (u32::MAX - 1) as usize {
            return Err(Error::LimitExceeded {
                what: "postings lists",
                max: u64::from(u32::MAX - 1),
            });
        }
        let list = self.lists.len() as u32;
        self.keys.push([name, value]);
        self.lists.push(RoaringBitmap::new());
        self.pairs
            .insert(hash_words(self.seed, &[name, value]), list);

        let h = hash_words(self.seed, &[name]);
        let ni = match self
            .name_index
            .find(h, |i| self.names[i as usize].name == name)
        {
            Some(i) => i as usize,
            None => {
                self.name_index.insert(h, self.names.len() as u32);
                self.names.push(NameValues {
                    name,
                    ..NameValues::default()
                });
                self.names.len() - 1
            }
        };
        let keys = &self.keys;
        let entry = &mut self.names[ni];
        entry.tail.push(list);
        if entry.tail.len() > 32.max(entry.sorted.len() / 8) {
            let value_of = |l: &u32| symbols.get(keys[*l as usize][1]);
            entry
                .tail
                .sort_unstable_by(|a, b| value_of(a).cmp(value_of(b)));
            let (sorted, tail) = (&entry.sorted, &entry.tail);
            let mut merged = Vec::with_capacity(sorted.len() + tail.len());
            let (mut i, mut j) = (0, 0);
            while i < sorted.len() && j < tail.len() {
                if value_of(&sorted[i]) <= value_of(&tail[j]) {
                    merged.push(sorted[i]);
                    i += 1;
                } else {
                    merged.push(tail[j]);
                    j += 1;
                }
            }
            merged.extend_from_slice(&sorted[i..]);
            merged.extend_from_slice(&tail[j..]);
            entry.sorted = merged;
            entry.tail.clear();
        }
        Ok(list)
    }

    /// Calls `f(value, list)` for each value of `name` that starts with `prefix`, sorted values
    /// first, then the unsorted tail. `f` returns `false` to stop.
    pub(crate) fn scan(
        &self,
        symbols: &Symbols,
        name: u32,
        prefix: &str,
        f: &mut dyn FnMut(&str, u32) -> Result<bool>,
    ) -> Result<()> {
        let Some(entry) = self.find_name(name) else {
            return Ok(());
        };
        let value_of = |l: u32| symbols.get(self.keys[l as usize][1]);
        let start = entry.sorted.partition_point(|&l| value_of(l) < prefix);
        for &l in &entry.sorted[start..] {
            let v = value_of(l);
            if !v.starts_with(prefix) {
                break;
            }
            if !f(v, l)? {
                return Ok(());
            }
        }
        for &l in &entry.tail {
            let v = value_of(l);
            if v.starts_with(prefix) && !f(v, l)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Heap bytes held by the postings structures, roaring containers included.
    pub(crate) fn heap_bytes(&self) -> usize {
        let tables = self.keys.capacity() * 8
            + self.lists.capacity() * size_of::<RoaringBitmap>()
            + self.pairs.heap_bytes()
            + self.names.capacity() * size_of::<NameValues>()
            + self.name_index.heap_bytes();
        let per_name: usize = self
            .names
            .iter()
            .map(|n| (n.sorted.capacity() + n.tail.capacity()) * 4)
            .sum();
        let bitmaps: usize = self.lists.iter().map(roaring_heap_bytes).sum();
        tables + per_name + bitmaps
    }
}

/// Size of one roaring container record (`key: u16` + the store enum) in roaring 0.10.
const CONTAINER_BYTES: usize = 32;
/// A bitmap container is a boxed `[u64; 1024]`.
const BITMAP_CONTAINER_BYTES: usize = 8192;

/// Heap bytes of one bitmap. roaring 0.10's `Statistics` reports array containers at 4 bytes
/// per u16 slot of capacity and bitset containers in bits, so both are corrected here (a unit
/// test pins that behaviour). The container vector's capacity is not visible; it grows by
/// doubling from 4, which is what is assumed.
pub(crate) fn roaring_heap_bytes(bm: &RoaringBitmap) -> usize {
    let s = bm.statistics();
    let containers = match s.n_containers as usize {
        0 => 0,
        n => n.next_power_of_two().max(4) * CONTAINER_BYTES,
    };
    containers
        + (s.n_bytes_array_containers / 2) as usize
        + s.n_bitset_containers as usize * BITMAP_CONTAINER_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roaring_statistics_units_are_what_roaring_heap_bytes_assumes() {
        // 99 values pushed one by one: one array container whose Vec<u16> grew to capacity 128.
        let mut bm = RoaringBitmap::new();
        for v in 1..100 {
            bm.push(v);
        }
        let s = bm.statistics();
        assert_eq!(s.n_bytes_array_containers, 128 * 4);
        assert_eq!(roaring_heap_bytes(&bm), 4 * CONTAINER_BYTES + 128 * 2);
        let dense: RoaringBitmap = (0..10_000).collect();
        assert_eq!(dense.statistics().n_bitset_containers, 1);
        assert_eq!(dense.statistics().n_bytes_bitset_containers, 65536);
    }

    #[test]
    fn values_stay_findable_and_prefix_scans_see_sorted_and_tail() {
        let mut syms = Symbols::default();
        let mut p = Postings::default();
        let name = syms.intern("model").unwrap();
        // Enough values to force several tail merges, inserted out of order.
        let values: Vec<String> = (0..500)
            .map(|i| format!("m{:03}", (i * 37) % 500))
            .collect();
        for (id, v) in values.iter().enumerate() {
            let v = syms.intern(v).unwrap();
            p.add(&syms, id as u32, &[name, v]).unwrap();
        }
        for (id, v) in values.iter().enumerate() {
            let l = p.find(name, syms.find(v).unwrap()).unwrap();
            assert!(p.list(l).contains(id as u32));
        }
        let mut seen = Vec::new();
        p.scan(&syms, name, "m04", &mut |v, _| {
            seen.push(v.to_owned());
            Ok(true)
        })
        .unwrap();
        seen.sort();
        assert_eq!(
            seen,
            (40..50).map(|i| format!("m{i:03}")).collect::<Vec<_>>()
        );
        let mut first = 0;
        p.scan(&syms, name, "", &mut |_, _| {
            first += 1;
            Ok(false)
        })
        .unwrap();
        assert_eq!(first, 1);
        assert_eq!(p.find_name(name).unwrap().len(), 500);
    }
}
