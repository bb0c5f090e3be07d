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

use crate::bytes::{ByteReader, put_uvarint, put_varint, zigzag_decode, zigzag_encode};
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

pub(super) const TRANSFORMS: [Transform; 3] =
    [Transform::Plain, Transform::Delta, Transform::DeltaOfDelta];
pub(super) const PACKINGS: [Packing; 3] = [Packing::BitPack, Packing::Varint, Packing::RunLength];

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
pub(super) fn transform(values: &[i64], t: Transform) -> ([i64; 2], usize, Cow<'_, [i64]>) {
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

pub(super) fn packed_size(res: &[i64], p: Packing) -> usize {
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
/// smallest of all nine (sized in one pass, [`super::plan`]).
pub(crate) fn plan(values: &[i64], force: Option<IntEncoding>) -> (IntEncoding, usize) {
    if let Some(enc) = force {
        let (heads, nh, res) = transform(values, enc.transform);
        return (
            enc,
            heads_size(&heads[..nh]) + packed_size(&res, enc.packing),
        );
    }
    super::plan::choose(values)
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
    read_body_map(r, n, enc, out, |v| v)
}

/// [`read_body`] appending `map(value)` for each value instead, so a caller that converts the
/// integers (the decimal path) needs no intermediate vector.
#[inline]
pub(crate) fn read_body_map<T: Copy>(
    r: &mut ByteReader<'_>,
    n: usize,
    enc: IntEncoding,
    out: &mut Vec<T>,
    map: impl Fn(i64) -> T + Copy,
) -> Result<()> {
    match enc.transform {
        Transform::Plain => decode::<PLAIN, T>(r, n, enc.packing, out, map),
        Transform::Delta => decode::<DELTA, T>(r, n, enc.packing, out, map),
        Transform::DeltaOfDelta => decode::<DOD, T>(r, n, enc.packing, out, map),
    }
}

const PLAIN: u8 = Transform::Plain as u8;
const DELTA: u8 = Transform::Delta as u8;
const DOD: u8 = Transform::DeltaOfDelta as u8;

/// Undoes transform `T` as residuals arrive: `prev` is the last value, `delta` the last
/// difference (delta-of-delta only).
struct Prefix<const T: u8> {
    prev: i64,
    delta: i64,
}

impl<const T: u8> Prefix<T> {
    /// The value of residual `x`.
    #[inline(always)]
    fn step(&mut self, x: i64) -> i64 {
        match T {
            PLAIN => x,
            DELTA => {
                self.prev = self.prev.wrapping_add(x);
                self.prev
            }
            _ => {
                self.delta = self.delta.wrapping_add(x);
                self.prev = self.prev.wrapping_add(self.delta);
                self.prev
            }
        }
    }

    /// Appends the values of a run of `len` residuals all equal to `x`. Within a run the values
    /// form an arithmetic sequence (delta, and delta-of-delta with `x = 0`), an induction the
    /// compiler vectorises without multiplying.
    #[inline(always)]
    fn run<V: Copy>(&mut self, x: i64, len: usize, out: &mut Vec<V>, map: impl Fn(i64) -> V) {
        let step = match T {
            PLAIN => return out.resize(out.len() + len, map(x)),
            DELTA => x,
            _ if x == 0 => self.delta,
            _ => {
                out.extend((0..len).map(|_| map(self.step(x))));
                return;
            }
        };
        let mut v = self.prev;
        out.extend((0..len).map(|_| {
            v = v.wrapping_add(step);
            map(v)
        }));
        self.prev = v;
    }
}

/// A zigzag varint, with the one-byte case inlined.
#[inline(always)]
fn varint(r: &mut ByteReader<'_>) -> Result<i64> {
    match r.rest().first() {
        Some(&b) if b < 0x80 => {
            r.take(1)?;
            Ok(zigzag_decode(b as u64))
        }
        _ => r.varint(),
    }
}

/// An unsigned varint, with the one-byte case inlined.
#[inline(always)]
fn uvarint(r: &mut ByteReader<'_>) -> Result<u64> {
    match r.rest().first() {
        Some(&b) if b < 0x80 => {
            r.take(1)?;
            Ok(b as u64)
        }
        _ => r.uvarint(),
    }
}

/// [`read_body_map`] for transform `T`: heads, then residuals unpacked, un-transformed and
/// mapped in one pass.
fn decode<const T: u8, V: Copy>(
    r: &mut ByteReader<'_>,
    n: usize,
    packing: Packing,
    out: &mut Vec<V>,
    map: impl Fn(i64) -> V + Copy,
) -> Result<()> {
    let heads = match T {
        PLAIN => 0,
        DELTA => 1,
        _ => 2,
    }
    .min(n);
    let mut prefix = Prefix::<T> { prev: 0, delta: 0 };
    if heads >= 1 {
        prefix.prev = r.varint()?;
        out.push(map(prefix.prev));
    }
    if heads >= 2 {
        prefix.delta = r.varint()?;
        prefix.prev = prefix.prev.wrapping_add(prefix.delta);
        out.push(map(prefix.prev));
    }
    let count = n - heads;
    match packing {
        Packing::BitPack => bitpack::unpack(r, count, out, |out, frame| {
            out.extend(frame.iter().map(|&x| map(prefix.step(x))));
        })?,
        Packing::Varint => {
            if count > r.remaining() {
                return Err(r.corrupt(format!(
                    "{count} varints cannot fit in {} bytes",
                    r.remaining()
                )));
            }
            out.reserve(count);
            for _ in 0..count {
                let x = varint(r)?;
                out.push(map(prefix.step(x)));
            }
        }
        Packing::RunLength => {
            // Runs may expand a lot; reserve what the input can pay for and let the rest grow
            // as runs are actually decoded (never past `n`, itself bounded by the caller).
            out.reserve(count.min(r.remaining().saturating_mul(32)));
            let mut left = count;
            while left > 0 {
                let x = varint(r)?;
                let at = r.position();
                let extra = uvarint(r)?;
                if extra >= left as u64 {
                    return Err(Error::corrupt(
                        "column int stream",
                        at,
                        format!("run of {} values but only {left} remain", extra as u128 + 1),
                    ));
                }
                let len = extra as usize + 1;
                if len == 1 {
                    out.push(map(prefix.step(x)));
                } else {
                    prefix.run(x, len, out, map);
                }
                left -= len;
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

    /// The straightforward decoder the fused one replaced: per-value bit reads, residuals
    /// first, transform undone in a second pass.
    fn reference_read_body(
        r: &mut ByteReader<'_>,
        n: usize,
        enc: IntEncoding,
        out: &mut Vec<i64>,
    ) -> Result<()> {
        let nh = (enc.transform as usize).min(n);
        for _ in 0..nh {
            out.push(r.varint()?);
        }
        let count = n - nh;
        match enc.packing {
            Packing::BitPack => {
                let frames = count.div_ceil(bitpack::FRAME_LEN);
                if frames * 2 > r.remaining() {
                    return Err(r.corrupt(format!(
                        "{count} bit-packed values need {frames} frames, more than {} bytes hold",
                        r.remaining()
                    )));
                }
                let mut left = count;
                while left > 0 {
                    let k = left.min(bitpack::FRAME_LEN);
                    left -= k;
                    let min = r.varint()?;
                    let width = r.u8()? as u32;
                    if width > 64 {
                        return Err(r.corrupt(format!("bit width {width} is above 64")));
                    }
                    let data = r.take((k * width as usize).div_ceil(8))?;
                    let mut bits = crate::bits::BitReader::new(data);
                    out.extend((0..k).map(|_| min.wrapping_add(bits.read_bits_wide(width) as i64)));
                }
            }
            Packing::Varint => {
                if count > r.remaining() {
                    return Err(r.corrupt(format!(
                        "{count} varints cannot fit in {} bytes",
                        r.remaining()
                    )));
                }
                for _ in 0..count {
                    out.push(r.varint()?);
                }
            }
            Packing::RunLength => {
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
                    out.resize(out.len() + extra as usize + 1, v);
                    left -= extra as usize + 1;
                }
            }
        }
        match enc.transform {
            Transform::Plain => {}
            Transform::Delta => {
                for i in 1..out.len() {
                    out[i] = out[i - 1].wrapping_add(out[i]);
                }
            }
            Transform::DeltaOfDelta => {
                if out.len() >= 2 {
                    let mut delta = out[1];
                    out[1] = out[0].wrapping_add(delta);
                    for i in 2..out.len() {
                        delta = delta.wrapping_add(out[i]);
                        out[i] = out[i - 1].wrapping_add(delta);
                    }
                }
            }
        }
        Ok(())
    }

    /// Decodes `bytes` with both decoders; they must agree on the values, the error and where
    /// the reader stops.
    fn same_as_reference(bytes: &[u8], n: usize, enc: IntEncoding) {
        let (mut r1, mut r2) = (ByteReader::new(bytes, "t"), ByteReader::new(bytes, "t"));
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        let got = read_body(&mut r1, n, enc, &mut fast);
        let want = reference_read_body(&mut r2, n, enc, &mut slow);
        assert_eq!(got, want, "{enc} n={n} {bytes:02x?}");
        if got.is_ok() {
            assert_eq!(fast, slow, "{enc} n={n}");
            assert_eq!(r1.position(), r2.position(), "{enc} n={n}");
        }
    }

    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *state >> 33
    }

    #[test]
    fn fused_decoder_matches_the_reference_on_valid_and_damaged_bodies() {
        let mut seed = 7u64;
        let columns: Vec<Vec<i64>> = vec![
            // Regular timestamps with jitter and gaps: runs of dod 0 and of other residuals.
            (0..1500)
                .map(|i| 1_700_000_000_000 + i * 1000 + [0, 0, 0, 3, -3][i as usize % 5] * (i % 7))
                .collect(),
            // Quadratic growth that wraps: long runs of a non-zero delta-of-delta.
            (0..700i64)
                .map(|i| i.wrapping_mul(i).wrapping_mul(i64::MAX / 3))
                .collect(),
            // Long runs of one non-zero delta that wraps.
            (0..600i64)
                .map(|i| i.wrapping_mul(i64::MIN / 5 + 1))
                .collect(),
            // Every bit width.
            (0..64 * 130)
                .map(|i| {
                    let w = i / 130;
                    (lcg(&mut seed) << 31 ^ lcg(&mut seed)) as i64 >> (63 - w)
                })
                .collect(),
            vec![i64::MIN, i64::MAX, 0, -1, i64::MIN, i64::MIN],
            vec![5; 1000],
        ];
        for values in &columns {
            for enc in IntEncoding::all() {
                let mut body = Vec::new();
                write_body(&mut body, values, enc);
                for n in [
                    values.len(),
                    values.len().saturating_sub(1),
                    values.len() + 1,
                ] {
                    same_as_reference(&body, n, enc);
                }
                // Damage: flipped bytes, truncations, random tails.
                for _ in 0..40 {
                    let mut bad = body.clone();
                    if bad.is_empty() {
                        break;
                    }
                    let at = lcg(&mut seed) as usize % bad.len();
                    match lcg(&mut seed) % 3 {
                        0 => bad[at] ^= 1 << (lcg(&mut seed) % 8),
                        1 => bad.truncate(at),
                        _ => bad[at] = lcg(&mut seed) as u8,
                    }
                    same_as_reference(&bad, values.len(), enc);
                }
            }
        }
        // Arbitrary short bodies.
        for _ in 0..20_000 {
            let len = (lcg(&mut seed) % 24) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| lcg(&mut seed) as u8).collect();
            let n = (lcg(&mut seed) % 300) as usize;
            let enc =
                IntEncoding::from_id([0, 1, 2, 4, 5, 6, 8, 9, 10][lcg(&mut seed) as usize % 9])
                    .expect("valid id");
            same_as_reference(&bytes, n, enc);
        }
    }

    #[test]
    fn overlong_run_is_corrupt() {
        // plain+rle, value 0, run length 5 when 3 values are expected.
        let bytes = [8u8, 0, 4];
        let mut r = ByteReader::new(&bytes, "test");
        assert!(read_stream(&mut r, 3, &mut Vec::new()).is_err());
    }
}
