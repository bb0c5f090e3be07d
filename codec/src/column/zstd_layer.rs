//! The optional zstd layer over a column body.
//!
//! Compression levels are clamped to 1..=19, whose window is at most 2^23 bytes; the decoder
//! refuses frames asking for more ([`MAX_WINDOW_LOG`]), so a hostile frame cannot make it reserve
//! a huge window. The decoder also grows its output only as zstd produces bytes, never past the
//! length the column header states (itself bounded by the value count), and insists on exactly
//! one frame with nothing after it.
//!
//! Creating a context is far from free (zstd probes the CPU with `cpuid`, which a virtual
//! machine may trap, and allocates its tables), and a sealed block holds many small columns, so
//! each thread keeps one decompression context, reset before every frame, and one compression
//! context (each frame starts a new session; the output is the same as a fresh context's).

use std::cell::RefCell;

use zstd::zstd_safe::{
    CCtx, CParameter, DCtx, DParameter, InBuffer, OutBuffer, ResetDirective, get_error_name,
};

use crate::error::{Error, Result};

/// Largest window a column's zstd frame may use: 8 MiB (levels ≤ 19 stay within it).
pub(crate) const MAX_WINDOW_LOG: u32 = 23;
/// Levels accepted by [`compress`]; others are clamped into this range.
pub(crate) const LEVELS: std::ops::RangeInclusive<i32> = 1..=19;
/// First output reservation and the minimum growth step.
const GROW_STEP_BYTES: usize = 64 << 10;
/// Largest context a thread keeps (a fresh one is ~96 KiB). Frames that fit the first output
/// reservation decode in one pass with no buffers; one that made zstd allocate window buffers
/// (a large body, or a hostile window) leaves a bigger context, which is then dropped.
const MAX_CACHED_CONTEXT_BYTES: usize = 256 << 10;

/// Largest compression context a thread keeps (high levels on large bodies need far more).
const MAX_CACHED_CCTX_BYTES: usize = 8 << 20;

thread_local! {
    /// The thread's decompression context, with [`MAX_WINDOW_LOG`] already set.
    static DCTX: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
    /// The thread's compression context; only its level is ever set.
    static CCTX: RefCell<Option<CCtx<'static>>> = const { RefCell::new(None) };
}

const WHAT: &str = "column zstd layer";

/// Compresses `body` as one zstd frame at `level` (clamped to [`LEVELS`]).
pub(crate) fn compress(body: &[u8], level: i32) -> Result<Vec<u8>> {
    let level = level.clamp(*LEVELS.start(), *LEVELS.end());
    let fresh =
        || zstd::bulk::compress(body, level).map_err(|e| Error::invalid(WHAT, e.to_string()));
    // As in `decompress`: a fresh context serves while the thread exits or on re-entry.
    CCTX.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let cctx = match slot.as_mut() {
                Some(cctx) => cctx,
                None => match CCtx::try_create() {
                    Some(cctx) => slot.insert(cctx),
                    None => return fresh(),
                },
            };
            let res = compress_with(cctx, body, level);
            if res.is_err() || cctx.sizeof() > MAX_CACHED_CCTX_BYTES {
                *slot = None;
            }
            res
        }
        Err(_) => fresh(),
    })
    .unwrap_or_else(|_| fresh())
}

/// One frame of `body` at `level` with a kept context: what `zstd::bulk::compress` does with
/// a new one (set the level, then `ZSTD_compress2`, which starts a new session).
fn compress_with(cctx: &mut CCtx<'static>, body: &[u8], level: i32) -> Result<Vec<u8>> {
    let err = |code| Error::invalid(WHAT, format!("zstd: {}", get_error_name(code)));
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .map_err(err)?;
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(body.len()));
    cctx.compress2(&mut out, body).map_err(err)?;
    Ok(out)
}

fn zstd_error(at: usize, code: usize) -> Error {
    Error::corrupt(WHAT, at, format!("zstd: {}", get_error_name(code)))
}

/// Decompresses exactly one frame that must fill `frame` and yield exactly `expected` bytes.
/// `offset` is the frame's position in the column, for error messages.
pub(crate) fn decompress(frame: &[u8], expected: usize, offset: usize) -> Result<Vec<u8>> {
    // `try_with`/`try_borrow_mut` fail only while the thread exits or on re-entry; a fresh
    // context serves then.
    DCTX.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let dctx = match slot.as_mut() {
                Some(dctx) => {
                    // Drops whatever a previous (possibly failed) frame left behind; the
                    // window limit is a parameter and survives.
                    dctx.reset(ResetDirective::SessionOnly)
                        .map_err(|code| zstd_error(offset, code))?;
                    dctx
                }
                None => slot.insert(new_context(offset)?),
            };
            let res = decompress_with(dctx, frame, expected, offset);
            if dctx.sizeof() > MAX_CACHED_CONTEXT_BYTES {
                *slot = None;
            }
            res
        }
        Err(_) => decompress_with(&mut new_context(offset)?, frame, expected, offset),
    })
    .unwrap_or_else(|_| decompress_with(&mut new_context(offset)?, frame, expected, offset))
}

/// A decompression context refusing windows above [`MAX_WINDOW_LOG`].
fn new_context(offset: usize) -> Result<DCtx<'static>> {
    let mut dctx = DCtx::try_create()
        .ok_or_else(|| Error::invalid(WHAT, "cannot allocate a zstd decompression context"))?;
    dctx.set_parameter(DParameter::WindowLogMax(MAX_WINDOW_LOG))
        .map_err(|code| zstd_error(offset, code))?;
    Ok(dctx)
}

/// [`decompress`] with a given context, fresh or reset.
fn decompress_with(
    dctx: &mut DCtx<'static>,
    frame: &[u8],
    expected: usize,
    offset: usize,
) -> Result<Vec<u8>> {
    let mut input = InBuffer::around(frame);
    // One byte of room past `expected` so an over-long frame is seen, not silently cut.
    let limit = expected + 1;
    let mut out: Vec<u8> = Vec::with_capacity(limit.min(GROW_STEP_BYTES));
    loop {
        if out.len() == out.capacity() {
            let grow = out.len().max(GROW_STEP_BYTES).min(limit - out.len());
            out.reserve_exact(grow);
        }
        let (in_before, out_before) = (input.pos(), out.len());
        let hint = {
            let mut output = OutBuffer::around_pos(&mut out, out_before);
            dctx.decompress_stream(&mut output, &mut input)
                .map_err(|code| zstd_error(offset + input.pos(), code))?
        };
        if out.len() > expected {
            return Err(Error::corrupt(
                WHAT,
                offset + input.pos(),
                format!("frame decodes to more than the {expected} bytes stated"),
            ));
        }
        if hint == 0 {
            break;
        }
        let stalled = input.pos() == in_before && out.len() == out_before;
        if stalled && out.len() < out.capacity() {
            return Err(Error::Truncated {
                what: WHAT,
                needed: frame.len() as u64 + hint as u64,
                available: frame.len() as u64,
            });
        }
    }
    if input.pos() != frame.len() {
        return Err(Error::corrupt(
            WHAT,
            offset + input.pos(),
            format!("{} bytes after the zstd frame", frame.len() - input.pos()),
        ));
    }
    if out.len() != expected {
        return Err(Error::corrupt(
            WHAT,
            offset,
            format!(
                "frame decodes to {} bytes, header states {expected}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_wrong_lengths() {
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let frame = compress(&body, 3).unwrap();
        assert_eq!(decompress(&frame, body.len(), 0).unwrap(), body);
        assert!(decompress(&frame, body.len() - 1, 0).is_err());
        assert!(decompress(&frame, body.len() + 1, 0).is_err());
        assert!(decompress(&frame[..frame.len() - 1], body.len(), 0).is_err());
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        assert!(decompress(&two, body.len(), 0).is_err());
        assert!(decompress(&[], 0, 0).is_err());
    }

    #[test]
    fn the_window_limit_holds_on_fresh_and_reused_contexts() {
        // Magic, no content size, window descriptor, one empty raw last block.
        let frame = |window_byte: u8| [0x28, 0xb5, 0x2f, 0xfd, 0x00, window_byte, 0x01, 0x00, 0x00];
        let (w23, w24) = (frame(13 << 3), frame(14 << 3));
        for _ in 0..3 {
            assert_eq!(decompress(&w23, 0, 0).unwrap(), Vec::<u8>::new());
            assert!(decompress(&w24, 0, 0).is_err());
        }
    }

    #[test]
    fn the_cached_context_stays_small() {
        let cached = || DCTX.with(|c| c.borrow().as_ref().map(|d| d.sizeof()));
        let small: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8).collect();
        assert_eq!(
            decompress(&compress(&small, 3).unwrap(), 5000, 0).unwrap(),
            small
        );
        assert!(cached().is_some_and(|size| size <= MAX_CACHED_CONTEXT_BYTES));
        // A body past the first output reservation streams through window buffers.
        let big: Vec<u8> = (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 29) as u8)
            .collect();
        assert_eq!(
            decompress(&compress(&big, 3).unwrap(), big.len(), 0).unwrap(),
            big
        );
        assert_eq!(cached(), None);
        assert_eq!(
            decompress(&compress(&small, 3).unwrap(), 5000, 0).unwrap(),
            small
        );
        assert!(cached().is_some());
    }

    #[test]
    fn a_failed_frame_does_not_spoil_the_next() {
        let body: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8).collect();
        let frame = compress(&body, 3).unwrap();
        for cut in [1, frame.len() / 2, frame.len() - 1] {
            assert!(decompress(&frame[..cut], body.len(), 0).is_err());
            assert_eq!(decompress(&frame, body.len(), 0).unwrap(), body);
        }
        assert!(decompress(&frame, body.len() - 1, 0).is_err());
        assert_eq!(decompress(&frame, body.len(), 0).unwrap(), body);
    }

    #[test]
    fn a_kept_context_writes_the_bytes_of_a_fresh_one() {
        let bodies: Vec<Vec<u8>> = vec![
            (0..200_000u32).map(|i| (i % 251) as u8).collect(),
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 27) as u8)
                .collect(),
            b"short".to_vec(),
            Vec::new(),
        ];
        for level in [3, 9, 1, 19, 3] {
            for b in &bodies {
                assert_eq!(
                    compress(b, level).unwrap(),
                    zstd::bulk::compress(b, level).unwrap()
                );
            }
        }
    }

    #[test]
    fn empty_body_round_trips() {
        let frame = compress(&[], 19).unwrap();
        assert_eq!(decompress(&frame, 0, 0).unwrap(), Vec::<u8>::new());
    }
}
