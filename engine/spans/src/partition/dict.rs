//! Dictionary-coded columns (distinct values plus one id per row), the choice of zstd for
//! small columns, and the hash maps the writer builds them with.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use strata_codec::column::{self, ColumnOptions};

use crate::error::Result;

/// A hash map keyed by [`FastState`]: what the writer uses to find distinct values.
pub(crate) type FastMap<K, V> = HashMap<K, V, FastState>;

/// Builds [`FastHasher`]s keyed by a secret drawn once per process. The writer hashes every
/// value of every dictionary column; SipHash was a tenth of a seal. Eight bytes a step, each
/// a folded 64x64→128-bit multiply by the key (as foldhash and aHash's fallback do): fast on
/// short strings and, with a key an input cannot know, no cheap way to make values collide.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastState {
    key: u64,
}

impl Default for FastState {
    fn default() -> FastState {
        static KEY: OnceLock<u64> = OnceLock::new();
        let key =
            *KEY.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0u64));
        // Odd, with both halves populated: the multiply must not lose the low bits.
        FastState {
            key: key | 1 | (1 << 63),
        }
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher {
            acc: self.key.rotate_left(32),
            key: self.key,
        }
    }
}

/// The hasher of [`FastState`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastHasher {
    acc: u64,
    key: u64,
}

impl FastHasher {
    #[inline(always)]
    fn mix(&mut self, w: u64) {
        let p = u128::from(self.acc ^ w) * u128::from(self.key);
        self.acc = (p as u64) ^ ((p >> 64) as u64);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.mix(u64::from_le_bytes(b));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let mut b = [0u8; 8];
            b[..tail.len()].copy_from_slice(tail);
            // The tail's length in the top byte: "a" and "a\0" differ.
            self.mix(u64::from_le_bytes(b) ^ ((tail.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.mix(u64::from(v));
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // One more round, so that the last word reaches every bit (hashbrown reads the top
        // seven bits and the low bits).
        let p = u128::from(self.acc.rotate_left(23)) * u128::from(self.key ^ 0x9E37_79B9_7F4A_7C15);
        (p as u64) ^ ((p >> 64) as u64)
    }
}

/// Below this many bytes of plain encoding a column is stored without zstd.
const ZSTD_MIN_BYTES: usize = 256;

/// A dictionary-coded column: distinct values in first-appearance order, one id per row.
#[derive(Debug, Default)]
pub(crate) struct Dict<T> {
    pub dict: Vec<T>,
    pub ids: Vec<u32>,
}

impl<T> std::ops::Index<usize> for Dict<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.dict[self.ids[i] as usize]
    }
}

/// Distinct values of `values` (indexes of first appearance) and one id per value.
fn dict_of<T: AsRef<[u8]>>(values: &[T]) -> (Vec<usize>, Vec<u64>) {
    let mut seen: FastMap<&[u8], u64> = FastMap::default();
    let mut first = Vec::new();
    let mut prev: Option<(&[u8], u64)> = None;
    let ids = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = v.as_ref();
            // Rows are clustered: most values repeat the previous row's.
            if let Some((p, id)) = prev
                && p == v
            {
                return id;
            }
            let id = *seen.entry(v).or_insert_with(|| {
                first.push(i);
                (first.len() - 1) as u64
            });
            prev = Some((v, id));
            id
        })
        .collect();
    (first, ids)
}

/// Columns `<name>.d` (distinct strings) and `<name>.i` (ids) for `values`.
pub(crate) fn dict_str_cols(
    name: &str,
    values: &[&str],
    opts: &ColumnOptions,
) -> Result<[(String, Vec<u8>); 2]> {
    let (first, ids) = dict_of(values);
    let d: Vec<&str> = first.iter().map(|&i| values[i]).collect();
    Ok([
        (
            format!("{name}.d"),
            pick(opts, |o| column::encode_str(&d, o))?,
        ),
        (
            format!("{name}.i"),
            pick(opts, |o| column::encode_u64(&ids, o))?,
        ),
    ])
}

/// Columns `<name>.d` (distinct byte strings) and `<name>.i` (ids) for `values`.
pub(super) fn dict_bytes_cols<T: AsRef<[u8]>>(
    name: &str,
    values: &[T],
    opts: &ColumnOptions,
) -> Result<[(String, Vec<u8>); 2]> {
    let (first, ids) = dict_of(values);
    let d: Vec<&[u8]> = first.iter().map(|&i| values[i].as_ref()).collect();
    Ok([
        (
            format!("{name}.d"),
            pick(opts, |o| column::encode_bytes(&d, o))?,
        ),
        (
            format!("{name}.i"),
            pick(opts, |o| column::encode_u64(&ids, o))?,
        ),
    ])
}

/// A dictionary column of byte strings built value by value, for values made on the fly (a
/// row's resource or shape as a blob): each distinct value is kept once, in first-appearance
/// order. Its columns are those [`dict_bytes_cols`] makes of the same values.
#[derive(Debug, Default)]
pub(super) struct Interner {
    index: FastMap<Vec<u8>, u64>,
    dict: Vec<Vec<u8>>,
    ids: Vec<u64>,
}

impl Interner {
    /// An interner for `n` values.
    pub(super) fn with_capacity(n: usize) -> Interner {
        Interner {
            ids: Vec::with_capacity(n),
            ..Interner::default()
        }
    }

    /// Adds `v`.
    pub(super) fn push(&mut self, v: &[u8]) {
        let id = match self.index.get(v) {
            Some(&id) => id,
            None => {
                let id = self.dict.len() as u64;
                self.index.insert(v.to_vec(), id);
                self.dict.push(v.to_vec());
                id
            }
        };
        self.ids.push(id);
    }

    /// Adds the value added last again (the caller knows they are equal); false if there
    /// is none.
    pub(super) fn repeat(&mut self) -> bool {
        match self.ids.last() {
            Some(&id) => {
                self.ids.push(id);
                true
            }
            None => false,
        }
    }

    /// Columns `<name>.d` (distinct byte strings) and `<name>.i` (ids).
    pub(super) fn cols(&self, name: &str, opts: &ColumnOptions) -> Result<[(String, Vec<u8>); 2]> {
        Ok([
            (
                format!("{name}.d"),
                pick(opts, |o| column::encode_bytes(&self.dict, o))?,
            ),
            (
                format!("{name}.i"),
                pick(opts, |o| column::encode_u64(&self.ids, o))?,
            ),
        ])
    }
}

/// Encodes with `encode`, without zstd when the plain encoding is small: below
/// [`ZSTD_MIN_BYTES`] zstd saves little and costs a decompression context per read.
pub(crate) fn pick(
    opts: &ColumnOptions,
    encode: impl Fn(&ColumnOptions) -> strata_codec::Result<Vec<u8>>,
) -> strata_codec::Result<Vec<u8>> {
    let plain = encode(&ColumnOptions {
        zstd: column::ZstdMode::Never,
        ..*opts
    })?;
    if plain.len() < ZSTD_MIN_BYTES {
        Ok(plain)
    } else {
        // The same bytes as `encode(opts)`, without encoding twice.
        column::with_zstd(plain, opts.zstd)
    }
}
