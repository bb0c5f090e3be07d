//! A seeded 64-bit hash and an open-addressing table of u32 ids.
//!
//! The table stores only ids (plus 32 bits of hash); keys live elsewhere (the symbol arena, the
//! series pair array), so a symbol's bytes exist once and a slot costs 8 bytes. Lookups compare
//! the stored hash bits first and call back for the full key comparison only on a match, so a
//! hash collision costs a comparison, never a wrong answer.

use std::hash::BuildHasher;

const K0: u64 = 0x9e37_79b9_7f4a_7c15;
const K1: u64 = 0xbf58_476d_1ce4_e5b9;
const K2: u64 = 0x94d0_49bb_1331_11eb;

/// One 64×64→128 multiply folded to 64 bits: the mixing step of wyhash/foldhash.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A per-table random seed, so label values chosen by a client cannot be precomputed to collide
/// (hash flooding); within one process the hash is deterministic.
pub(crate) fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(0x5354_4958_u64)
}

/// Hashes bytes 8 at a time. Not cryptographic; seeded to resist precomputed collisions.
#[inline]
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ K0.wrapping_mul(bytes.len() as u64 + 1);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = fold_mul(h ^ w, K1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = fold_mul(h ^ u64::from_le_bytes(buf), K2);
    }
    fold_mul(h, K0)
}

/// Hashes a run of u32 words (a series' symbol-id pairs), two words per step.
#[inline]
pub(crate) fn hash_words(seed: u64, words: &[u32]) -> u64 {
    let mut h = seed ^ K0.wrapping_mul(words.len() as u64 + 1);
    let mut pairs = words.chunks_exact(2);
    for p in &mut pairs {
        h = fold_mul(h ^ (u64::from(p[0]) | (u64::from(p[1]) << 32)), K1);
    }
    if let [w] = pairs.remainder() {
        h = fold_mul(h ^ u64::from(*w), K2);
    }
    fold_mul(h, K0)
}

const EMPTY: u64 = u64::MAX;

/// Open addressing with linear probing over `u64` slots: high 32 bits are the top of the key's
/// hash, low 32 bits the id. The home slot comes from the top hash bits, so growing needs no
/// access to the keys: the stored 32 bits are enough while capacity ≤ 2^32.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdTable {
    slots: Vec<u64>,
    len: usize,
    /// log2 of the slot count (0 while empty).
    bits: u32,
}

impl IdTable {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of heap this table holds.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        if self.bits == 0 {
            0
        } else {
            (tag >> (32 - self.bits)) as usize
        }
    }

    /// The id whose key equals the probe, as decided by `eq(id)` for ids whose hash bits match.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let tag = (hash >> 32) as u32;
        let mask = self.slots.len() - 1;
        let mut i = self.home(tag);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if (s >> 32) as u32 == tag && eq(s as u32) {
                return Some(s as u32);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `id` under `hash`. The caller has checked the key is absent; `id` is not `u32::MAX`.
    pub(crate) fn insert(&mut self, hash: u64, id: u32) {
        debug_assert_ne!(id, u32::MAX);
        // Load stays ≤ 3/4 so a miss probes a few slots on average.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        self.place(((hash >> 32) << 32) | u64::from(id));
        self.len += 1;
    }

    fn place(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.home((slot >> 32) as u32);
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let bits = (self.bits + 1).max(4);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; 1 << bits]);
        self.bits = bits;
        for s in old.into_iter().filter(|&s| s != EMPTY) {
            self.place(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_finds_what_it_stores_even_when_every_hash_collides() {
        let mut t = IdTable::default();
        let keys: Vec<u64> = (0..5000).map(|i| i * 7919).collect();
        for (id, &k) in keys.iter().enumerate() {
            // Half the keys share one hash: lookups must fall back to the key comparison.
            let h = if id % 2 == 0 {
                42 << 32
            } else {
                hash_bytes(1, &k.to_le_bytes())
            };
            assert!(t.find(h, |i| keys[i as usize] == k).is_none());
            t.insert(h, id as u32);
        }
        for (id, &k) in keys.iter().enumerate() {
            let h = if id % 2 == 0 {
                42 << 32
            } else {
                hash_bytes(1, &k.to_le_bytes())
            };
            assert_eq!(t.find(h, |i| keys[i as usize] == k), Some(id as u32));
        }
        assert_eq!(t.len(), keys.len());
        assert!(t.heap_bytes() >= keys.len() * 8 * 4 / 3);
    }

    #[test]
    fn hashes_depend_on_every_byte_and_the_seed() {
        let a = hash_bytes(7, b"gen_ai.request.model");
        assert_ne!(a, hash_bytes(7, b"gen_ai.request.modem"));
        assert_ne!(a, hash_bytes(8, b"gen_ai.request.model"));
        assert_ne!(hash_bytes(7, b""), hash_bytes(7, b"\0"));
        assert_ne!(hash_words(1, &[1, 2]), hash_words(1, &[2, 1]));
        assert_ne!(hash_words(1, &[1, 2, 3]), hash_words(1, &[1, 2]));
    }
}
