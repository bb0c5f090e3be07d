//! Dictionary-coded columns (distinct values plus one id per row) and the choice of zstd for
//! small columns.

use std::collections::HashMap;

use strata_codec::column::{self, ColumnOptions};

use crate::error::Result;

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
    let mut seen: HashMap<&[u8], u64> = HashMap::new();
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
        encode(opts)
    }
}
