//! f64 columns: Gorilla XOR, a lossless decimal path, or raw little-endian words.
//!
//! The decimal path stores `m` for each value `v` such that `decimal_value(m, k)` (`m` itself for
//! `k = 0`, `m / 10^k` correctly rounded otherwise) has exactly `v`'s bits; `m` goes through the
//! integer codec. Values with no such `m` at the column's scale (NaN, ±Inf, -0.0, long
//! fractions, 0.1 + 0.2) are stored as exceptions: their position and raw bits. The encoder
//! checks every value by decoding it, so the round trip is bit-exact by construction.

use crate::bits::{BitReader, BitWriter};
use crate::bytes::{ByteReader, put_uvarint};
use crate::error::{Error, Result};
use crate::gorilla::XorState;

use super::int::{self, IntEncoding};
use super::{FloatCodec, varint_len};

pub(crate) const GORILLA: u8 = 0;
pub(crate) const DECIMAL: u8 = 1;
pub(crate) const RAW: u8 = 2;

/// Largest decimal scale: values are `m / 10^k` for `k` in `0..=MAX_DECIMAL_SCALE`.
pub const MAX_DECIMAL_SCALE: u8 = 9;
const POW10: [f64; MAX_DECIMAL_SCALE as usize + 1] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/// `|v * 10^k|` must stay below this for `m` to be an i64 (2^63, exactly representable).
const M_LIMIT: f64 = 9_223_372_036_854_775_808.0;
/// Values sampled before trying the decimal path at all.
const SAMPLE: usize = 64;

const WHAT: &str = "column f64 body";

/// The value the decimal path stores as `m` at scale `k`.
#[inline]
fn decimal_value(m: i64, k: u8) -> f64 {
    if k == 0 {
        m as f64
    } else {
        m as f64 / POW10[k as usize]
    }
}

/// `m` such that `decimal_value(m, k)` has `v`'s exact bits, if there is one.
#[inline]
fn to_decimal(v: f64, k: u8) -> Option<i64> {
    let x = v * POW10[k as usize];
    if x.is_nan() || x.abs() >= M_LIMIT {
        return None;
    }
    let m = x.round() as i64;
    (decimal_value(m, k).to_bits() == v.to_bits()).then_some(m)
}

/// The smallest scale at which `v` is a short decimal.
fn min_scale(v: f64) -> Option<u8> {
    (0..=MAX_DECIMAL_SCALE).find(|&k| to_decimal(v, k).is_some())
}

/// One decimal candidate, sized but not yet written.
struct DecimalPlan {
    scale: u8,
    ms: Vec<i64>,
    exceptions: Vec<(usize, u64)>,
    ints: IntEncoding,
    size: usize,
}

fn plan_decimal(values: &[f64], scale: u8, force_ints: Option<IntEncoding>) -> DecimalPlan {
    let mut ms = Vec::with_capacity(values.len());
    let mut exceptions = Vec::new();
    let mut prev = 0i64;
    for (i, &v) in values.iter().enumerate() {
        match to_decimal(v, scale) {
            Some(m) => prev = m,
            // The slot repeats its neighbour so deltas stay small.
            None => exceptions.push((i, v.to_bits())),
        }
        ms.push(prev);
    }
    let (ints, body) = int::plan(&ms, force_ints);
    let mut size = 1 + varint_len(exceptions.len() as u64) + int::stream_size(body);
    let mut next = 0;
    for &(pos, _) in &exceptions {
        size += varint_len((pos - next) as u64) + 8;
        next = pos + 1;
    }
    DecimalPlan {
        scale,
        ms,
        exceptions,
        ints,
        size,
    }
}

/// The best decimal plan, or `None` if the column does not look decimal (unless `forced`).
fn best_decimal(
    values: &[f64],
    forced: bool,
    force_ints: Option<IntEncoding>,
) -> Option<DecimalPlan> {
    let n = values.len();
    if !forced {
        let step = (n / SAMPLE).max(1);
        let sampled = values.iter().step_by(step).take(SAMPLE);
        let (total, hits) = sampled.fold((0, 0), |(t, h), &v| {
            (t + 1, h + min_scale(v).is_some() as usize)
        });
        if total == 0 || hits * 4 < total * 3 {
            return None;
        }
    }
    let mut hist = [0usize; MAX_DECIMAL_SCALE as usize + 1];
    for &v in values {
        if let Some(k) = min_scale(v) {
            hist[k as usize] += 1;
        }
    }
    // Candidates: the smallest scale covering every value that has one, and the smallest
    // covering all but an eighth (the rest become exceptions).
    let mut covered = 0;
    let mut candidates = Vec::with_capacity(2);
    let fitting: usize = hist.iter().sum();
    for (k, &count) in hist.iter().enumerate() {
        covered += count;
        let k = k as u8;
        if (covered >= n - n / 8 && candidates.is_empty()) || (covered == fitting && count > 0) {
            candidates.push(k);
        }
        if covered == fitting {
            break;
        }
    }
    if candidates.is_empty() {
        if !forced {
            return None;
        }
        candidates.push(0);
    }
    candidates.dedup();
    candidates
        .into_iter()
        .map(|k| plan_decimal(values, k, force_ints))
        .min_by_key(|p| p.size)
}

fn write_decimal(out: &mut Vec<u8>, plan: &DecimalPlan) {
    out.reserve(plan.size);
    out.push(plan.scale);
    put_uvarint(out, plan.exceptions.len() as u64);
    let mut next = 0;
    for &(pos, bits) in &plan.exceptions {
        put_uvarint(out, (pos - next) as u64);
        out.extend_from_slice(&bits.to_le_bytes());
        next = pos + 1;
    }
    out.push(plan.ints.id());
    int::write_body(out, &plan.ms, plan.ints);
}

fn gorilla_body(values: &[f64]) -> Vec<u8> {
    let mut w = BitWriter::with_capacity(values.len() * 2);
    let mut xor = XorState::new();
    for &v in values {
        xor.encode(&mut w, v.to_bits());
    }
    w.finish()
}

fn raw_body(values: &[f64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .collect()
}

/// Encodes `values`; returns the encoding id and the body.
pub(crate) fn encode(
    values: &[f64],
    force: Option<FloatCodec>,
    force_ints: Option<IntEncoding>,
) -> (u8, Vec<u8>) {
    match force {
        Some(FloatCodec::Gorilla) => return (GORILLA, gorilla_body(values)),
        Some(FloatCodec::Raw) => return (RAW, raw_body(values)),
        Some(FloatCodec::Decimal) => {
            let plan = best_decimal(values, true, force_ints)
                .expect("a forced decimal plan always exists");
            let mut body = Vec::new();
            write_decimal(&mut body, &plan);
            return (DECIMAL, body);
        }
        None => {}
    }
    let mut best = (GORILLA, gorilla_body(values));
    if let Some(plan) = best_decimal(values, false, force_ints).filter(|p| p.size < best.1.len()) {
        let mut body = Vec::new();
        write_decimal(&mut body, &plan);
        best = (DECIMAL, body);
    }
    if values.len() * 8 < best.1.len() {
        best = (RAW, raw_body(values));
    }
    best
}

/// What a decimal body's header says (for `describe`).
pub(crate) struct DecimalInfo {
    pub scale: u8,
    pub exceptions: usize,
    pub ints: IntEncoding,
}

/// Reads the decimal header; leaves `r` at the integer body and returns the exceptions.
fn read_decimal_head(r: &mut ByteReader<'_>, n: usize) -> Result<(DecimalInfo, Vec<(usize, u64)>)> {
    let at = r.position();
    let scale = r.u8()?;
    if scale > MAX_DECIMAL_SCALE {
        return Err(Error::corrupt(
            WHAT,
            at,
            format!("decimal scale {scale} is above {MAX_DECIMAL_SCALE}"),
        ));
    }
    // Each exception costs at least 9 bytes.
    let count = r.len_at_most(n.min(r.remaining() / 9), "exception count")?;
    let mut exceptions = Vec::with_capacity(count);
    let mut next = 0usize;
    for _ in 0..count {
        let at = r.position();
        let gap = r.uvarint()?;
        if gap >= (n - next) as u64 {
            return Err(Error::corrupt(
                WHAT,
                at,
                format!("exception position past the {n} values"),
            ));
        }
        let pos = next + gap as usize;
        exceptions.push((pos, r.u64()?));
        next = pos + 1;
    }
    let ints = int::read_id(r)?;
    Ok((
        DecimalInfo {
            scale,
            exceptions: count,
            ints,
        },
        exceptions,
    ))
}

pub(crate) fn decimal_info(r: &mut ByteReader<'_>, n: usize) -> Result<DecimalInfo> {
    read_decimal_head(r, n).map(|(info, _)| info)
}

/// Decodes a body of `n` values in encoding `id`, appending them to `out`.
pub(crate) fn decode(r: &mut ByteReader<'_>, n: usize, id: u8, out: &mut Vec<f64>) -> Result<()> {
    match id {
        GORILLA => {
            let at = r.position();
            let stream = r.take(r.remaining())?;
            // Every value costs at least one bit.
            if n as u64 > stream.len() as u64 * 8 {
                return Err(Error::corrupt(
                    WHAT,
                    at,
                    format!("{n} values cannot fit in {} bytes", stream.len()),
                ));
            }
            out.reserve(n);
            let mut bits = BitReader::new(stream);
            let mut xor = XorState::new();
            out.extend((0..n).map(|_| f64::from_bits(xor.decode(&mut bits))));
            bits.check_overrun(WHAT)?;
            let used = bits.bits_consumed().div_ceil(8) as usize;
            if used != stream.len() {
                return Err(Error::corrupt(
                    WHAT,
                    at + used,
                    format!("{} bytes after the last value", stream.len() - used),
                ));
            }
        }
        RAW => {
            let want = n
                .checked_mul(8)
                .filter(|&b| b <= r.remaining())
                .ok_or_else(|| {
                    r.corrupt(format!(
                        "{n} raw values need more than the {} bytes left",
                        r.remaining()
                    ))
                })?;
            let words = r.take(want)?;
            out.extend(
                words
                    .chunks_exact(8)
                    .map(|w| f64::from_bits(u64::from_le_bytes(w.try_into().expect("8 bytes")))),
            );
        }
        DECIMAL => {
            let (info, exceptions) = read_decimal_head(r, n)?;
            let base = out.len();
            // The same arithmetic as `decimal_value`, with the scale's branch hoisted out.
            if info.scale == 0 {
                int::read_body_map(r, n, info.ints, out, |m| m as f64)?;
            } else {
                let pow = POW10[info.scale as usize];
                int::read_body_map(r, n, info.ints, out, |m| m as f64 / pow)?;
            }
            for (pos, bits) in exceptions {
                out[base + pos] = f64::from_bits(bits);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_decimals_are_found() {
        assert_eq!(min_scale(3.0), Some(0));
        assert_eq!(min_scale(0.1), Some(1));
        assert_eq!(min_scale(0.25), Some(2));
        assert_eq!(min_scale(1.005), Some(3));
        assert_eq!(min_scale(-123.456789), Some(6));
        assert_eq!(min_scale(1e18), Some(0));
        assert_eq!(min_scale(0.1 + 0.2), None);
        assert_eq!(min_scale(-0.0), None);
        assert_eq!(min_scale(f64::NAN), None);
        assert_eq!(min_scale(f64::INFINITY), None);
        assert_eq!(min_scale(1e300), None);
        assert_eq!(min_scale(f64::from_bits(1)), None);
    }

    #[test]
    fn exceptions_keep_their_bits() {
        let values = [
            0.5,
            -0.0,
            1.25,
            f64::NAN,
            0.1 + 0.2,
            2.0,
            f64::from_bits(0x7ff0_0000_0000_0002),
        ];
        let (id, body) = encode(&values, Some(FloatCodec::Decimal), None);
        assert_eq!(id, DECIMAL);
        let mut r = ByteReader::new(&body, "test");
        let mut back = Vec::new();
        decode(&mut r, values.len(), id, &mut back).unwrap();
        assert!(r.is_empty());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&values));
        let mut r = ByteReader::new(&body, "test");
        let info = decimal_info(&mut r, values.len()).unwrap();
        assert_eq!((info.scale, info.exceptions), (2, 4));
    }
}
