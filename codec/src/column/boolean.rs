//! Bool columns: a bitmap (value `i` is bit `i % 8` of byte `i / 8`), or the values as 0/1
//! through the integer codec (its runs win on long stretches of one value).

use crate::bytes::ByteReader;
use crate::error::{Error, Result};

use super::int::{self, IntEncoding};

pub(crate) const BITMAP: u8 = 0;
pub(crate) const INT: u8 = 1;

const WHAT: &str = "column bool body";

fn bitmap(values: &[bool]) -> Vec<u8> {
    values
        .chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |b, (i, &v)| b | (v as u8) << i)
        })
        .collect()
}

/// Encodes `values`; returns the encoding id and the body.
pub(crate) fn encode(values: &[bool], force_ints: Option<IntEncoding>) -> (u8, Vec<u8>) {
    let ints: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    let (enc, size) = int::plan(&ints, force_ints);
    if force_ints.is_none() && values.len().div_ceil(8) <= int::stream_size(size) {
        return (BITMAP, bitmap(values));
    }
    let mut body = Vec::with_capacity(int::stream_size(size));
    int::write_stream(&mut body, &ints, Some(enc));
    (INT, body)
}

/// Decodes a body of `n` values in encoding `id`, appending them to `out`.
pub(crate) fn decode(r: &mut ByteReader<'_>, n: usize, id: u8, out: &mut Vec<bool>) -> Result<()> {
    match id {
        BITMAP => {
            let bytes = r.take(n.div_ceil(8))?;
            out.extend((0..n).map(|i| bytes[i / 8] >> (i % 8) & 1 != 0));
        }
        INT => {
            let at = r.position();
            let mut ints = Vec::new();
            int::read_stream(r, n, &mut ints)?;
            for v in ints {
                match v {
                    0 | 1 => out.push(v == 1),
                    _ => {
                        return Err(Error::corrupt(
                            WHAT,
                            at,
                            format!("bool value {v} is not 0 or 1"),
                        ));
                    }
                }
            }
        }
        _ => {
            return Err(Error::UnsupportedVersion {
                what: WHAT,
                version: id,
            });
        }
    }
    Ok(())
}
