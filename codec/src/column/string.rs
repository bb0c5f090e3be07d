//! Byte-string columns (UTF-8 strings and raw bytes): plain, or a dictionary of the distinct
//! values plus one id per value. Lengths and ids go through the integer codec.
//!
//! ```text
//! plain  lengths (int stream, n values) | payload (the values back to back)
//! dict   entry count d (uvarint) | entry lengths (int stream, d) | entry payload
//!        | ids (int stream, n values, each in 0..d)
//! ```
//!
//! Dictionary entries are sorted bytewise, so id order is value order.

use std::collections::HashMap;

use crate::bytes::{ByteReader, put_uvarint};
use crate::error::{Error, Result};

use super::int::{self, IntEncoding};
use super::{Encoding, MAX_STRING_BYTES, StringCodec, varint_len};

pub(crate) const PLAIN: u8 = 0;
pub(crate) const DICT: u8 = 1;

const WHAT: &str = "column string body";

fn lengths(values: &[&[u8]]) -> Vec<i64> {
    values.iter().map(|v| v.len() as i64).collect()
}

/// Values looked at by [`dict_may_pay`].
const DICT_SAMPLE: usize = 2048;

/// Whether a dictionary could win, judged from the first [`DICT_SAMPLE`] values: hashing a
/// large column of distinct values (span ids) costs far more than encoding it, so skip it
/// when the sample's repeats save less than half of what the ids would cost.
fn dict_may_pay(values: &[&[u8]]) -> bool {
    if values.len() <= DICT_SAMPLE {
        return true;
    }
    let sample = &values[..DICT_SAMPLE];
    let mut seen: HashMap<&[u8], ()> = HashMap::with_capacity(DICT_SAMPLE);
    let mut distinct_bytes = 0usize;
    for &v in sample {
        if seen.insert(v, ()).is_none() {
            distinct_bytes += v.len();
        }
    }
    let repeated_bytes = sample.iter().map(|v| v.len()).sum::<usize>() - distinct_bytes;
    let est_entries = (seen.len() as u64 * values.len() as u64 / DICT_SAMPLE as u64).max(2);
    let id_bits = 64 - (est_entries - 1).leading_zeros() as usize;
    // Saving per value > half the id cost per value, in bits, over the sample.
    repeated_bytes * 8 * 2 > id_bits * DICT_SAMPLE
}

struct DictPlan<'a> {
    entries: Vec<&'a [u8]>,
    ids: Vec<i64>,
    lens: IntEncoding,
    id_enc: IntEncoding,
    size: usize,
}

/// The dictionary plan, or `None` if every value is distinct (and the dictionary not forced).
fn plan_dict<'a>(
    values: &[&'a [u8]],
    forced: bool,
    force_ints: Option<IntEncoding>,
) -> Option<DictPlan<'a>> {
    if !forced && !dict_may_pay(values) {
        return None;
    }
    // Ids in order of first occurrence, one hash lookup per value (none for a repeat of the
    // previous value), then renumbered in sorted order.
    let mut index: HashMap<&[u8], u32> = HashMap::new();
    let mut entries: Vec<&[u8]> = Vec::new();
    let mut ids: Vec<i64> = Vec::with_capacity(values.len());
    let mut prev: Option<(&[u8], i64)> = None;
    for &v in values {
        let id = match prev {
            Some((p, id)) if p == v => id,
            _ => *index.entry(v).or_insert_with(|| {
                entries.push(v);
                entries.len() as u32 - 1
            }) as i64,
        };
        prev = Some((v, id));
        ids.push(id);
    }
    if entries.len() == values.len() && !forced {
        return None;
    }
    let mut order: Vec<u32> = (0..entries.len() as u32).collect();
    order.sort_unstable_by_key(|&i| entries[i as usize]);
    let mut rank = vec![0i64; entries.len()];
    for (sorted, &first) in order.iter().enumerate() {
        rank[first as usize] = sorted as i64;
    }
    ids.iter_mut().for_each(|id| *id = rank[*id as usize]);
    let entries: Vec<&[u8]> = order.iter().map(|&i| entries[i as usize]).collect();
    let (lens, lens_size) = int::plan(&lengths(&entries), force_ints);
    let (id_enc, ids_size) = int::plan(&ids, force_ints);
    let payload: usize = entries.iter().map(|e| e.len()).sum();
    let size = varint_len(entries.len() as u64)
        + int::stream_size(lens_size)
        + payload
        + int::stream_size(ids_size);
    Some(DictPlan {
        entries,
        ids,
        lens,
        id_enc,
        size,
    })
}

fn write_plain(out: &mut Vec<u8>, values: &[&[u8]], force_ints: Option<IntEncoding>) {
    int::write_stream(out, &lengths(values), force_ints);
    for v in values {
        out.extend_from_slice(v);
    }
}

/// Encodes `values`; returns the encoding id and the body. The caller has checked the limits.
pub(crate) fn encode(
    values: &[&[u8]],
    force: Option<StringCodec>,
    force_ints: Option<IntEncoding>,
) -> (u8, Vec<u8>) {
    let payload: usize = values.iter().map(|v| v.len()).sum();
    let plain_size = match force {
        Some(StringCodec::Dictionary) => usize::MAX,
        _ => int::stream_size(int::plan(&lengths(values), force_ints).1) + payload,
    };
    let dict = match force {
        Some(StringCodec::Plain) => None,
        _ => plan_dict(values, force == Some(StringCodec::Dictionary), force_ints),
    };
    let mut body = Vec::new();
    match dict {
        Some(d) if d.size < plain_size => {
            body.reserve(d.size);
            put_uvarint(&mut body, d.entries.len() as u64);
            body.push(d.lens.id());
            int::write_body(&mut body, &lengths(&d.entries), d.lens);
            for e in &d.entries {
                body.extend_from_slice(e);
            }
            body.push(d.id_enc.id());
            int::write_body(&mut body, &d.ids, d.id_enc);
            (DICT, body)
        }
        _ => {
            body.reserve(plain_size);
            write_plain(&mut body, values, force_ints);
            (PLAIN, body)
        }
    }
}

/// A decoded body, borrowing the payload.
#[derive(Debug)]
pub(crate) enum Decoded<'a> {
    Plain(Vec<&'a [u8]>),
    /// `ids` are checked to be in range of `entries`.
    Dict {
        entries: Vec<&'a [u8]>,
        ids: Vec<usize>,
    },
}

/// Reads `count` lengths and the payload they describe.
fn read_slices<'a>(r: &mut ByteReader<'a>, count: usize) -> Result<(IntEncoding, Vec<&'a [u8]>)> {
    let mut lens = Vec::new();
    let enc = int::read_stream(r, count, &mut lens)?;
    let at = r.position();
    let mut total = 0usize;
    for &len in &lens {
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= r.remaining() - total)
            .ok_or_else(|| {
                Error::corrupt(
                    WHAT,
                    at,
                    format!(
                        "value length {len} does not fit in the {} bytes left",
                        r.remaining() - total
                    ),
                )
            })?;
        total += len;
    }
    let mut payload = r.take(total)?;
    let slices = lens
        .iter()
        .map(|&len| {
            let (head, rest) = payload.split_at(len as usize);
            payload = rest;
            head
        })
        .collect();
    Ok((enc, slices))
}

/// Decodes a body of `n` values in encoding `id`.
pub(crate) fn decode<'a>(r: &mut ByteReader<'a>, n: usize, id: u8) -> Result<Decoded<'a>> {
    match id {
        PLAIN => Ok(Decoded::Plain(read_slices(r, n)?.1)),
        DICT => {
            let count = r.len_at_most(n, "dictionary entry count")?;
            let (_, entries) = read_slices(r, count)?;
            let mut raw = Vec::new();
            let at = r.position();
            int::read_stream(r, n, &mut raw)?;
            let mut total = 0usize;
            let mut ids = Vec::with_capacity(raw.len());
            for id in raw {
                let entry = usize::try_from(id)
                    .ok()
                    .and_then(|i| entries.get(i).map(|e| (i, e.len())));
                let Some((i, len)) = entry else {
                    return Err(Error::corrupt(
                        WHAT,
                        at,
                        format!("id {id} is not below the {count} entries"),
                    ));
                };
                // Ids can repeat a long entry many times: bound the decoded size, not just the input.
                total += len;
                if total > MAX_STRING_BYTES {
                    return Err(Error::LimitExceeded {
                        what: "column string bytes",
                        value: total as u64,
                        max: MAX_STRING_BYTES as u64,
                    });
                }
                ids.push(i);
            }
            Ok(Decoded::Dict { entries, ids })
        }
        _ => Err(Error::UnsupportedVersion {
            what: WHAT,
            version: id,
        }),
    }
}

/// The encoding of a body, read from its headers (decodes only the dictionary's lengths).
pub(crate) fn info(r: &mut ByteReader<'_>, n: usize, id: u8) -> Result<Encoding> {
    match id {
        PLAIN => Ok(Encoding::StrPlain {
            lengths: int::read_id(r)?,
        }),
        DICT => {
            let entries = r.len_at_most(n, "dictionary entry count")?;
            let (lengths, _) = read_slices(r, entries)?;
            Ok(Encoding::StrDict {
                entries,
                lengths,
                ids: int::read_id(r)?,
            })
        }
        _ => Err(Error::UnsupportedVersion {
            what: WHAT,
            version: id,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(values: &[&[u8]], force: Option<StringCodec>) -> u8 {
        let (id, body) = encode(values, force, None);
        let mut r = ByteReader::new(&body, "test");
        let back: Vec<&[u8]> = match decode(&mut r, values.len(), id).unwrap() {
            Decoded::Plain(v) => v,
            Decoded::Dict { entries, ids } => ids.iter().map(|&i| entries[i]).collect(),
        };
        assert!(r.is_empty());
        assert_eq!(back, values);
        id
    }

    #[test]
    fn repeated_values_use_the_dictionary() {
        let models: [&[u8]; 3] = [b"gpt-4o", b"claude-sonnet-4", b"llama-3.1-70b"];
        let values: Vec<&[u8]> = (0..500).map(|i| models[i * 7 % 3]).collect();
        assert_eq!(round_trip(&values, None), DICT);
        assert_eq!(round_trip(&values, Some(StringCodec::Plain)), PLAIN);
    }

    #[test]
    fn distinct_values_stay_plain() {
        let owned: Vec<String> = (0..100).map(|i| format!("span-{i:04}")).collect();
        let values: Vec<&[u8]> = owned.iter().map(|s| s.as_bytes()).collect();
        assert_eq!(round_trip(&values, None), PLAIN);
        assert_eq!(round_trip(&values, Some(StringCodec::Dictionary)), DICT);
        assert_eq!(round_trip(&[], Some(StringCodec::Dictionary)), DICT);
        assert_eq!(round_trip(&[], None), PLAIN);
    }

    #[test]
    fn large_distinct_columns_skip_the_dictionary_early() {
        let owned: Vec<String> = (0..5000u64)
            .map(|i| format!("{:016x}", i * 0x9E37_79B9))
            .collect();
        let values: Vec<&[u8]> = owned.iter().map(|s| s.as_bytes()).collect();
        assert!(!dict_may_pay(&values));
        // Long values repeated a little still earn a dictionary.
        let long: Vec<String> = (0..5000).map(|i| format!("{:0>200}", i / 2)).collect();
        let values: Vec<&[u8]> = long.iter().map(|s| s.as_bytes()).collect();
        assert!(dict_may_pay(&values));
        assert_eq!(round_trip(&values, None), DICT);
    }

    #[test]
    fn id_out_of_range_is_corrupt() {
        // dict, 1 entry of length 1 ("a"), ids: plain+varint [1].
        let body = [1u8, 4, 2, b'a', 4, 2];
        let mut r = ByteReader::new(&body, "test");
        assert!(decode(&mut r, 1, DICT).is_err());
    }
}
