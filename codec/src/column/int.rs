//! Integer streams: a transform (plain, delta, delta-of-delta) turns the values into residuals,
//! then a packing (bit-packed frames, zigzag varints, runs) stores them. The encoder sizes all
//! nine combinations exactly and writes the smallest.
//!
//! Body of a stream of `n` values (the encoding id lives outside the body):
//!
//! ```text
//! heads      0, 1 or 2 zigzag varints: nothing (plain), v0 (delta), v0 and v1-v0 (delta-of-delta),
//!            never more than n
//! residuals  the other values, transformed, in the packing the id names
//! ```
//!
//! All arithmetic wraps, so every i64 sequence round-trips, however large its jumps.

use std::borrow::Cow;
use std::fmt;

use crate::bytes::{ByteReader, put_uvarint, put_varint, zigzag_encode};
use crate::error::{Error, Result};

use super::{bitpack, varint_len};

/// How values become residuals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    /// The values themselves.
    Plain = 0,
    /// Differences of consecutive values (counters, sorted ids).
    Delta = 1,
    /// Differences of consecutive differences (regular timestamps).
    DeltaOfDelta = 2,
}

/// How residuals are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Packing {
    /// Frames of 128 values: minimum, bit width, values minus the minimum bit-packed.
    BitPack = 0,
    /// One zigzag LEB128 varint per value (wins when a few outliers would widen whole frames).
    Varint = 1,
    /// Runs: zigzag varint value, then varint run length minus one.
    RunLength = 2,
}

/// The encoding of an integer stream: a transform and a packing. Its id is
/// `transform | packing << 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntEncoding {
    pub transform: Transform,
    pub packing: Packing,
}

const TRANSFORMS: [Transform; 3] = [Transform::Plain, Transform::Delta, Transform::DeltaOfDelta];
const PACKINGS: [Packing; 3] = [Packing::BitPack, Packing::Varint, Packing::RunLength];

impl IntEncoding {
    pub const fn new(transform: Transform, packing: Packing) -> Self {
        IntEncoding { transform, packing }
    }

    /// Every integer encoding, in the order the chooser prefers them on a tie.
    pub fn all() -> impl Iterator<Item = IntEncoding> {
        TRANSFORMS
            .into_iter()
            .flat_map(|t| PACKINGS.into_iter().map(move |p| IntEncoding::new(t, p)))
    }

    /// The id stored in the format.
    pub const fn id(self) -> u8 {
        self.transform as u8 | (self.packing as u8) << 2
    }

    /// The encoding an id names, if any.
    pub const fn from_id(id: u8) -> Option<Self> {
        let transform = match id & 3 {
            0 => Transform::Plain,
            1 => Transform::Delta,
            2 => Transform::DeltaOfDelta,
            _ => return None,
        };
        let packing = match id >> 2 {
            0 => Packing::BitPack,
            1 => Packing::Varint,
            2 => Packing::RunLength,
            _ => return None,
        };
        Some(IntEncoding { transform, packing })
    }
}

impl fmt::Display for IntEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = match self.transform {
            Transform::Plain => "plain",
            Transform::Delta => "delta",
            Transform::DeltaOfDelta => "dod",
        };
        let p = match self.packing {
            Packing::BitPack => "bitpack",
            Packing::Varint => "varint",
            Packing::RunLength => "rle",
        };
        write!(f, "{t}+{p}")
    }
}

/// Splits `values` into heads (stored as varints) and residuals.
fn transform(values: &[i64], t: Transform) -> ([i64; 2], usize, Cow<'_, [i64]>) {
    let mut heads = [0i64; 2];
    match t {
        Transform::Plain => (heads, 0, Cow::Borrowed(values)),
        Transform::Delta => {
            let Some(&first) = values.first() else {
                return (heads, 0, Cow::Borrowed(&[]));
            };
            heads[0] = first;
            let res = values.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
            (heads, 1, Cow::Owned(res))
        }
        Transform::DeltaOfDelta => match values {
            [] => (heads, 0, Cow::Borrowed(&[])),
            [v0] => {
                heads[0] = *v0;
                (heads, 1, Cow::Borrowed(&[]))
            }
            [v0, v1, ..] => {
                heads = [*v0, v1.wrapping_sub(*v0)];
                let res = values
                    .windows(3)
                    .map(|w| {
                        w[2].wrapping_sub(w[1])
                            .wrapping_sub(w[1].wrapping_sub(w[0]))
                    })
                    .collect();
                (heads, 2, Cow::Owned(res))
            }
        },
    }
}

/// Calls `f(value, run_length)` for each run of equal values.
fn for_each_run(values: &[i64], mut f: impl FnMut(i64, usize)) {
    let mut i = 0;
    while i < values.len() {
        let v = values[i];
        let run = values[i..].iter().take_while(|&&x| x == v).count();
        f(v, run);
        i += run;
    }
}

fn packed_size(res: &[i64], p: Packing) -> usize {
    match p {
        Packing::BitPack => bitpack::size(res),
        Packing::Varint => res.iter().map(|&v| varint_len(zigzag_encode(v))).sum(),
        Packing::RunLength => {
            let mut size = 0;
            for_each_run(res, |v, run| {
                size += varint_len(zigzag_encode(v)) + varint_len(run as u64 - 1);
            });
            size
        }
    }
}

fn heads_size(heads: &[i64]) -> usize {
    heads.iter().map(|&h| varint_len(zigzag_encode(h))).sum()
}

/// The encoding to use for `values` and its body size in bytes: `force` if given, otherwise the
/// smallest of all nine.
pub(crate) fn plan(values: &[i64], force: Option<IntEncoding>) -> (IntEncoding, usize) {
    if let Some(enc) = force {
        let (heads, nh, res) = transform(values, enc.transform);
        return (
            enc,
            heads_size(&heads[..nh]) + packed_size(&res, enc.packing),
        );
    }
    let mut best: Option<(IntEncoding, usize)> = None;
    for t in TRANSFORMS {
        let (heads, nh, res) = transform(values, t);
        let head_bytes = heads_size(&heads[..nh]);
        for p in PACKINGS {
            let size = head_bytes + packed_size(&res, p);
            if best.is_none_or(|(_, s)| size < s) {
                best = Some((IntEncoding::new(t, p), size));
            }
        }
    }
    best.expect("nine candidates")
}

/// Appends the body of `values` in encoding `enc`.
pub(crate) fn write_body(out: &mut Vec<u8>, values: &[i64], enc: IntEncoding) {
    let (heads, nh, res) = transform(values, enc.transform);
    for &h in &heads[..nh] {
        put_varint(out, h);
    }
    match enc.packing {
        Packing::BitPack => bitpack::pack(out, &res),
        Packing::Varint => res.iter().for_each(|&v| put_varint(out, v)),
        Packing::RunLength => for_each_run(&res, |v, run| {
            put_varint(out, v);
            put_uvarint(out, run as u64 - 1);
        }),
    }
}

/// Appends a whole stream (id byte, then body), choosing the encoding unless `force` is set.
/// Returns the encoding used.
pub(crate) fn write_stream(
    out: &mut Vec<u8>,
    values: &[i64],
    force: Option<IntEncoding>,
) -> IntEncoding {
    let (enc, size) = plan(values, force);
    out.reserve(1 + size);
    out.push(enc.id());
    write_body(out, values, enc);
    enc
}

/// Size of [`write_stream`]'s output for a planned encoding.
pub(crate) fn stream_size(planned_body: usize) -> usize {
    1 + planned_body
}

/// Reads the id byte of a stream.
pub(crate) fn read_id(r: &mut ByteReader<'_>) -> Result<IntEncoding> {
    let at = r.position();
    let id = r.u8()?;
    IntEncoding::from_id(id).ok_or_else(|| {
        Error::corrupt(
            "column int stream",
            at,
            format!("unknown integer encoding id {id:#04x}"),
        )
    })
}

/// Reads a whole stream of `n` values (id byte, then body), appending them to `out`.
pub(crate) fn read_stream(
    r: &mut ByteReader<'_>,
    n: usize,
    out: &mut Vec<i64>,
) -> Result<IntEncoding> {
    let enc = read_id(r)?;
    read_body(r, n, enc, out)?;
    Ok(enc)
}

/// Reads the body of `n` values in encoding `enc`, appending them to `out`. On error `out` may
/// hold a partial result; callers truncate.
pub(crate) fn read_body(
    r: &mut ByteReader<'_>,
    n: usize,
    enc: IntEncoding,
    out: &mut Vec<i64>,
) -> Result<()> {
    let base = out.len();
    let nh = match enc.transform {
        Transform::Plain => 0,
        Transform::Delta => 1,
        Transform::DeltaOfDelta => 2,
    }
    .min(n);
    for _ in 0..nh {
        out.push(r.varint()?);
    }
    let count = n - nh;
    match enc.packing {
        Packing::BitPack => bitpack::unpack(r, count, out)?,
        Packing::Varint => {
            if count > r.remaining() {
                return Err(r.corrupt(format!(
                    "{count} varints cannot fit in {} bytes",
                    r.remaining()
                )));
            }
            out.reserve(count);
            for _ in 0..count {
                out.push(r.varint()?);
            }
        }
        Packing::RunLength => {
            // Runs may expand a lot; reserve what the input can pay for and let the rest grow
            // as runs are actually decoded (never past `n`, itself bounded by the caller).
            out.reserve(count.min(r.remaining().saturating_mul(32)));
            let mut left = count;
            while left > 0 {
                let v = r.varint()?;
                let at = r.position();
                let extra = r.uvarint()?;
                if extra >= left as u64 {
                    return Err(Error::corrupt(
                        "column int stream",
                        at,
                        format!("run of {} values but only {left} remain", extra as u128 + 1),
                    ));
                }
                let run = extra as usize + 1;
                out.resize(out.len() + run, v);
                left -= run;
            }
        }
    }
    let s = &mut out[base..];
    match enc.transform {
        Transform::Plain => {}
        Transform::Delta => {
            for i in 1..s.len() {
                s[i] = s[i - 1].wrapping_add(s[i]);
            }
        }
        Transform::DeltaOfDelta => {
            if s.len() >= 2 {
                let mut delta = s[1];
                s[1] = s[0].wrapping_add(delta);
                for i in 2..s.len() {
                    delta = delta.wrapping_add(s[i]);
                    s[i] = s[i - 1].wrapping_add(delta);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip_all(values: &[i64]) {
        for enc in IntEncoding::all() {
            let mut out = Vec::new();
            write_stream(&mut out, values, Some(enc));
            let (_, body) = plan(values, Some(enc));
            assert_eq!(out.len(), stream_size(body), "{enc}");
            let mut r = ByteReader::new(&out, "test");
            let mut back = Vec::new();
            assert_eq!(read_stream(&mut r, values.len(), &mut back).unwrap(), enc);
            assert!(r.is_empty(), "{enc}");
            assert_eq!(back, values, "{enc}");
        }
    }

    #[test]
    fn ids_round_trip() {
        let ids: Vec<u8> = IntEncoding::all().map(IntEncoding::id).collect();
        assert_eq!(ids, [0, 4, 8, 1, 5, 9, 2, 6, 10]);
        for id in 0..=255u8 {
            if let Some(enc) = IntEncoding::from_id(id) {
                assert_eq!(enc.id(), id);
            }
        }
        assert_eq!(IntEncoding::from_id(3), None);
        assert_eq!(IntEncoding::from_id(12), None);
    }

    #[test]
    fn every_encoding_round_trips_edge_cases() {
        round_trip_all(&[]);
        round_trip_all(&[42]);
        round_trip_all(&[i64::MIN, i64::MAX]);
        round_trip_all(&[i64::MAX, i64::MIN, i64::MAX, 0, -1, i64::MIN]);
        round_trip_all(
            &(0..1000)
                .map(|i| 1_700_000_000_000 + i * 15_000)
                .collect::<Vec<_>>(),
        );
        round_trip_all(
            &(0..300)
                .map(|i| (i * i * 7919) % 1013 - 500)
                .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn chooser_finds_one_run_for_regular_timestamps() {
        let ts: Vec<i64> = (0..1000).map(|i| 1_700_000_000_000 + i * 15_000).collect();
        let (enc, size) = plan(&ts, None);
        // First value, then one run of the delta 15000.
        assert_eq!(enc, IntEncoding::new(Transform::Delta, Packing::RunLength));
        assert_eq!(size, 6 + 3 + 2);
    }

    #[test]
    fn chooser_bit_packs_deltas_of_jittered_timestamps() {
        let ts: Vec<i64> = (0..1000)
            .map(|i| 1_700_000_000_000 + i * 15_000 + (i * 7919) % 5)
            .collect();
        let (enc, size) = plan(&ts, None);
        // Deltas span 15000-4..=15000+4: 4 bits above the frame minimum, where the
        // delta-of-delta would span -8..=8 and need 5.
        assert_eq!(enc, IntEncoding::new(Transform::Delta, Packing::BitPack));
        assert!(size < 1000 / 2 + 40, "{size}");
    }

    #[test]
    fn overlong_run_is_corrupt() {
        // plain+rle, value 0, run length 5 when 3 values are expected.
        let bytes = [8u8, 0, 4];
        let mut r = ByteReader::new(&bytes, "test");
        assert!(read_stream(&mut r, 3, &mut Vec::new()).is_err());
    }
}
