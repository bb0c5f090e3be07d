//! The chunk header: encoding id, sample count, flags (the counter-reset hint), layout, first
//! and last timestamp.

use super::layout::uvarint_len;
use super::{NativeKind, NativeLayout, WHAT};
use crate::bytes::{ByteReader, put_varint, zigzag_encode};
use crate::error::{Error, Result};
use strata_model::CounterResetHint;

/// Fewest bits sample 0 can take: count, zero count and sum codes, changed bit.
pub(super) const FIRST_SAMPLE_MIN_BITS: u64 = 4;

/// Fewest bits a later sample can take: a 1-bit timestamp code, the hint bit (not in gauge
/// chunks), then as sample 0.
pub(super) fn later_sample_min_bits(hint: CounterResetHint) -> u64 {
    1 + u64::from(hint != CounterResetHint::Gauge) + FIRST_SAMPLE_MIN_BITS
}

/// What a chunk's header says.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHeader {
    pub kind: NativeKind,
    /// Samples in the chunk, 1..=65535.
    pub count: usize,
    /// The counter-reset hint of sample 0, and so of the chunk (as in Prometheus' chunk header):
    /// [`CounterResetHint::Gauge`] for a gauge histogram chunk.
    pub counter_reset_hint: CounterResetHint,
    /// The layout every sample has (validated as on encode).
    pub layout: NativeLayout,
    pub first_timestamp: i64,
    /// The last sample's timestamp (the chunk does not require ascending timestamps, so this is
    /// the maximum only if the writer appended in order).
    pub last_timestamp: i64,
    /// Offset of the bit stream in the chunk.
    pub stream_offset: usize,
}

/// Bytes of the header with this layout and these timestamps.
pub(super) fn header_len(layout_len: usize, first: i64, last: i64) -> usize {
    4 + layout_len
        + uvarint_len(zigzag_encode(first))
        + uvarint_len(zigzag_encode(last.wrapping_sub(first)))
}

/// Appends a header.
pub(super) fn write_header(
    out: &mut Vec<u8>,
    kind: NativeKind,
    count: usize,
    hint: CounterResetHint,
    layout: &NativeLayout,
    first: i64,
    last: i64,
) {
    out.push(kind.encoding_id());
    out.extend_from_slice(&(count as u16).to_le_bytes());
    out.push(hint.as_u8());
    layout.write(out);
    put_varint(out, first);
    put_varint(out, last.wrapping_sub(first));
}

/// Reads and validates a chunk header: a known encoding id, a count of 1..=65535, no reserved
/// flag bits, a valid layout, and a count the stream's size can hold (sample 0 takes at least
/// 4 bits, every later one at least 6, or 5 in a gauge chunk). Cheap: it reads no sample.
pub fn read_header(chunk: &[u8]) -> Result<NativeHeader> {
    let mut r = ByteReader::new(chunk, WHAT);
    let id = r.u8()?;
    let Some(kind) = NativeKind::from_encoding_id(id) else {
        return Err(Error::UnsupportedVersion {
            what: WHAT,
            version: id,
        });
    };
    let count = r.u16()? as usize;
    if count == 0 {
        return Err(Error::corrupt(WHAT, 1, "sample count is 0"));
    }
    let flags = r.u8()?;
    if flags & !0b11 != 0 {
        return Err(Error::corrupt(
            WHAT,
            3,
            format!("reserved flag bits set in {flags:#04x}"),
        ));
    }
    let counter_reset_hint = match CounterResetHint::from_u8(flags & 0b11) {
        Some(h) => h,
        None => return Err(Error::corrupt(WHAT, 3, "bad counter-reset hint")),
    };
    let layout = NativeLayout::read(&mut r)?;
    let first_timestamp = r.varint()?;
    let last_timestamp = first_timestamp.wrapping_add(r.varint()?);
    let stream_bits = r.remaining() as u64 * 8;
    let min_bits =
        FIRST_SAMPLE_MIN_BITS + later_sample_min_bits(counter_reset_hint) * (count as u64 - 1);
    if min_bits > stream_bits {
        return Err(Error::corrupt(
            WHAT,
            1,
            format!("{count} samples cannot fit in {stream_bits} bits"),
        ));
    }
    Ok(NativeHeader {
        kind,
        count,
        counter_reset_hint,
        layout,
        first_timestamp,
        last_timestamp,
        stream_offset: r.position(),
    })
}
