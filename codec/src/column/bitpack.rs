//! Frame-of-reference bit packing: values in frames of [`FRAME_LEN`], each frame stored as its
//! minimum (zigzag varint), a width byte `w` (0..=64), then every value minus the minimum in `w`
//! bits, LSB-first, the frame zero-padded to a byte.
//!
//! Frames are byte-aligned, so a frame's size is known from its header alone and the decoder
//! slices it out before reading a bit.

use crate::bytes::{ByteReader, put_varint, zigzag_encode};
use crate::error::Result;

use super::varint_len;

/// Values per frame (the last frame may be shorter).
pub(crate) const FRAME_LEN: usize = 128;
/// Smallest encoded frame: a one-byte minimum and the width byte.
const MIN_FRAME_BYTES: usize = 2;

/// The frame's minimum (signed order) and the bits needed for `value - min`.
#[inline]
fn frame_params(frame: &[i64]) -> (i64, u32) {
    let mut min = i64::MAX;
    let mut max = i64::MIN;
    for &v in frame {
        min = min.min(v);
        max = max.max(v);
    }
    // `max - min` is the true range as an unsigned number even when it overflows i64.
    let range = max.wrapping_sub(min) as u64;
    (min, 64 - range.leading_zeros())
}

/// Encoded size of `values` in bytes.
pub(crate) fn size(values: &[i64]) -> usize {
    values
        .chunks(FRAME_LEN)
        .map(|frame| {
            let (min, width) = frame_params(frame);
            varint_len(zigzag_encode(min)) + 1 + (frame.len() * width as usize).div_ceil(8)
        })
        .sum()
}

/// Appends the frames of `values` to `out`.
pub(crate) fn pack(out: &mut Vec<u8>, values: &[i64]) {
    for frame in values.chunks(FRAME_LEN) {
        let (min, width) = frame_params(frame);
        put_varint(out, min);
        out.push(width as u8);
        if width == 0 {
            continue;
        }
        // LSB-first accumulator; fewer than 64 bits are pending before each add, so 128 suffice.
        let mut acc = 0u128;
        let mut pending = 0u32;
        for &v in frame {
            acc |= (v.wrapping_sub(min) as u64 as u128) << pending;
            pending += width;
            if pending >= 64 {
                out.extend_from_slice(&(acc as u64).to_le_bytes());
                acc >>= 64;
                pending -= 64;
            }
        }
        let tail = (acc as u64).to_le_bytes();
        out.extend_from_slice(&tail[..pending.div_ceil(8) as usize]);
    }
}

/// Bytes of the scratch a frame is copied into before unpacking: a full frame of 64-bit values
/// plus room for the 16-byte load of the last value.
const SCRATCH_BYTES: usize = FRAME_LEN * 8 + 16;

/// Reads the frames of `count` values, handing each frame's values (at most [`FRAME_LEN`]) to
/// `emit` together with `out`, which has room reserved for all `count`.
pub(crate) fn unpack<T>(
    r: &mut ByteReader<'_>,
    count: usize,
    out: &mut Vec<T>,
    mut emit: impl FnMut(&mut Vec<T>, &[i64]),
) -> Result<()> {
    let frames = count.div_ceil(FRAME_LEN);
    if frames * MIN_FRAME_BYTES > r.remaining() {
        return Err(r.corrupt(format!(
            "{count} bit-packed values need {frames} frames, more than {} bytes hold",
            r.remaining()
        )));
    }
    // Earned: every 128 values cost at least 2 input bytes.
    out.reserve(count);
    let mut values = [0i64; FRAME_LEN];
    let mut scratch = [0u8; SCRATCH_BYTES];
    let mut left = count;
    while left > 0 {
        let n = left.min(FRAME_LEN);
        left -= n;
        let min = r.varint()?;
        let width = r.u8()? as u32;
        if width > 64 {
            return Err(r.corrupt(format!("bit width {width} is above 64")));
        }
        let data = r.take((n * width as usize).div_ceil(8))?;
        let frame = &mut values[..n];
        if width == 0 {
            frame.fill(min);
        } else {
            unpack_frame(data, width, min, frame, &mut scratch);
        }
        emit(out, frame);
    }
    Ok(())
}

/// Unpacks `out.len()` values of `width` (1..=64) bits from `data` (exactly the frame's
/// `ceil(len * width / 8)` bytes), adding `min` to each.
///
/// `data` is copied into `scratch` so every value is one unaligned little-endian load, a shift
/// and a mask. Scratch bytes past `data` may hold an earlier frame's bytes; they only ever land
/// in the bits the mask drops.
#[inline]
fn unpack_frame(
    data: &[u8],
    width: u32,
    min: i64,
    out: &mut [i64],
    scratch: &mut [u8; SCRATCH_BYTES],
) {
    debug_assert!((1..=64).contains(&width) && out.len() <= FRAME_LEN);
    scratch[..data.len()].copy_from_slice(data);
    let w = width as usize;
    if width <= 56 {
        // A field starts at bit 0..=7 of its first byte, so 8 bytes hold it whole.
        let mask = (1u64 << width) - 1;
        for (i, v) in out.iter_mut().enumerate() {
            let bit = i * w;
            let at = bit / 8;
            let word = u64::from_le_bytes(scratch[at..at + 8].try_into().expect("8 bytes"));
            *v = min.wrapping_add(((word >> (bit % 8)) & mask) as i64);
        }
    } else {
        let mask = u64::MAX >> (64 - width);
        for (i, v) in out.iter_mut().enumerate() {
            let bit = i * w;
            let at = bit / 8;
            let word = u128::from_le_bytes(scratch[at..at + 16].try_into().expect("16 bytes"));
            *v = min.wrapping_add(((word >> (bit % 8)) as u64 & mask) as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(values: &[i64]) -> Vec<u8> {
        let mut out = Vec::new();
        pack(&mut out, values);
        assert_eq!(out.len(), size(values));
        let mut r = ByteReader::new(&out, "test");
        let mut back = Vec::new();
        unpack(&mut r, values.len(), &mut back, |out, frame| {
            out.extend_from_slice(frame)
        })
        .unwrap();
        assert!(r.is_empty());
        assert_eq!(back, values);
        out
    }

    #[test]
    fn frames_round_trip_at_every_width() {
        for width in 0..=64u32 {
            let span = if width == 64 {
                u64::MAX
            } else {
                (1u64 << width).wrapping_sub(1)
            };
            let values: Vec<i64> = (0..300u64)
                .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & span) as i64 - 7)
                .collect();
            round_trip(&values);
        }
    }

    #[test]
    fn extreme_range_uses_64_bits() {
        let bytes = round_trip(&[i64::MIN, i64::MAX, 0]);
        // min (10-byte varint) + width + 3 * 64 bits.
        assert_eq!(bytes.len(), 10 + 1 + 24);
        assert_eq!(bytes[10], 64);
    }

    #[test]
    fn constant_frames_are_two_bytes() {
        let bytes = round_trip(&[5; 256]);
        assert_eq!(bytes, [10, 0, 10, 0]);
    }

    #[test]
    fn width_above_64_is_corrupt() {
        let bytes = [0u8, 65, 0, 0];
        let mut r = ByteReader::new(&bytes, "test");
        assert!(unpack(&mut r, 1, &mut Vec::<i64>::new(), |_, _| {}).is_err());
    }
}
