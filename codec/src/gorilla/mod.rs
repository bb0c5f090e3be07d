//! Gorilla metric chunks: a bounded run of `(timestamp_ms, f64)` samples of one series.
//!
//! Layout (full description in `docs/format/chunks.md`):
//!
//! ```text
//! byte 0      encoding id: 0x01 = Gorilla float chunk, format version 1
//! bytes 1..3  sample count, u16 little-endian, 1..=65535
//! varint      first timestamp, zigzag LEB128
//! bits        LSB-first stream: value 0 (full XOR code), then per further sample one of
//!               `0`                                  same delta, same value
//!               `1 0`  changed XOR code              same delta, new value
//!               `1 1`  non-zero dod code, full XOR code
//! ```
//!
//! The one-bit code for "nothing changed" is what most samples of real scrapes are (on the
//! node_exporter capture in `../shared/data`, 89%); a bulk decoder reads a run of them from one
//! `trailing_zeros` of its buffer.
//!
//! The stream ends zero-padded to a byte; the decoder insists that the chunk's bytes are exactly
//! consumed, so truncation or trailing garbage is caught.

mod timestamp;
mod xor;

pub use timestamp::{DodDecoder, DodEncoder, read_nonzero_dod, write_nonzero_dod};
pub use xor::XorState;

use crate::bits::{BitReader, BitWriter};
use crate::bytes::{ByteReader, put_varint};
use crate::error::{Error, Result};

/// Encoding id (and version) of a Gorilla float chunk.
pub const ENCODING_GORILLA_V1: u8 = 0x01;
/// Hard bound of the format: the count is a u16.
pub const MAX_SAMPLES_PER_CHUNK: usize = u16::MAX as usize;
/// Worst case bits of one sample after the first: prefix, 68 for the timestamp, 78 for the value.
const MAX_SAMPLE_BITS: u64 = 2 + 68 + 78;
/// Bytes before the bit stream at most: encoding, count, 10-byte varint.
const MAX_HEADER_BYTES: usize = 1 + 2 + 10;

/// When an open chunk is full. Both bounds hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// At most this many samples (1..=65535). Prometheus cuts at 120.
    pub max_samples: usize,
    /// The encoded chunk never exceeds this many bytes (≥ 64).
    pub max_bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            max_samples: 120,
            max_bytes: 4096,
        }
    }
}

impl ChunkLimits {
    fn validate(&self) -> Result<()> {
        validate_chunk_limits("chunk limits", self.max_samples, self.max_bytes)
    }
}

/// The bounds every chunk kind's limits must respect: 1..=65535 samples (the count is a u16)
/// and at least 64 bytes.
pub(crate) fn validate_chunk_limits(
    what: &'static str,
    max_samples: usize,
    max_bytes: usize,
) -> Result<()> {
    if max_samples == 0 || max_samples > MAX_SAMPLES_PER_CHUNK {
        return Err(Error::invalid(
            what,
            format!("max_samples {max_samples} not in 1..=65535"),
        ));
    }
    if max_bytes < 64 {
        return Err(Error::invalid(
            what,
            format!("max_bytes {max_bytes} is below 64"),
        ));
    }
    Ok(())
}

/// An open chunk. Appending is O(1); the encoded bytes can be copied out at any time.
#[derive(Debug, Clone)]
pub struct ChunkAppender {
    limits: ChunkLimits,
    first_ts: i64,
    count: usize,
    max_ts: i64,
    ts: DodEncoder,
    xor: XorState,
    bits: BitWriter,
}

impl ChunkAppender {
    pub fn new(limits: ChunkLimits) -> Result<Self> {
        limits.validate()?;
        Ok(ChunkAppender {
            limits,
            first_ts: 0,
            count: 0,
            max_ts: i64::MIN,
            ts: DodEncoder::default(),
            xor: XorState::new(),
            bits: BitWriter::with_capacity(limits.max_samples.min(256) * 2),
        })
    }

    /// Samples in the chunk.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether the next append would break a limit.
    pub fn is_full(&self) -> bool {
        self.count >= self.limits.max_samples
            || (MAX_HEADER_BYTES as u64 * 8 + self.bits.bit_len() + MAX_SAMPLE_BITS)
                > self.limits.max_bytes as u64 * 8
    }

    /// The first timestamp, if any sample was appended.
    pub fn first_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.first_ts)
    }

    /// The largest timestamp appended, if any.
    pub fn max_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.max_ts)
    }

    /// Appends a sample. Any i64 timestamp sequence is encodable; the engine decides ordering.
    /// Errors with [`Error::LimitExceeded`] if the chunk is full (cut a new one).
    #[inline]
    pub fn append(&mut self, t: i64, v: f64) -> Result<()> {
        if self.is_full() {
            return Err(Error::LimitExceeded {
                what: "gorilla chunk samples",
                value: self.count as u64 + 1,
                max: self.limits.max_samples as u64,
            });
        }
        let bits = v.to_bits();
        if self.count == 0 {
            self.first_ts = t;
            self.ts = DodEncoder::new(t);
            self.xor.encode(&mut self.bits, bits);
        } else {
            let dod = self.ts.advance(t);
            if dod != 0 {
                self.bits.write_bits(0b11, 2);
                write_nonzero_dod(&mut self.bits, dod);
                self.xor.encode(&mut self.bits, bits);
            } else if bits != self.xor.prev() {
                self.bits.write_bits(0b01, 2);
                self.xor.encode_changed(&mut self.bits, bits);
            } else {
                self.bits.write_bits(0, 1);
            }
        }
        self.max_ts = self.max_ts.max(t);
        self.count += 1;
        Ok(())
    }

    /// Encoded size in bytes right now.
    pub fn encoded_len(&self) -> usize {
        let mut head = Vec::with_capacity(MAX_HEADER_BYTES);
        put_varint(&mut head, self.first_ts);
        3 + head.len() + self.bits.byte_len()
    }

    /// Appends the chunk as it stands to `out`. Errors if the chunk is empty (a chunk has ≥ 1 sample).
    pub fn encode_to(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.count == 0 {
            return Err(Error::invalid(
                "gorilla chunk",
                "a chunk needs at least one sample",
            ));
        }
        out.push(ENCODING_GORILLA_V1);
        out.extend_from_slice(&(self.count as u16).to_le_bytes());
        put_varint(out, self.first_ts);
        self.bits.copy_to(out);
        Ok(())
    }

    /// The encoded chunk as a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_to(&mut out)?;
        Ok(out)
    }
}

/// Encodes a whole series slice into one chunk (no limits beyond the format's).
pub fn encode_chunk(timestamps: &[i64], values: &[f64]) -> Result<Vec<u8>> {
    if timestamps.len() != values.len() {
        return Err(Error::invalid(
            "gorilla chunk",
            format!(
                "{} timestamps but {} values",
                timestamps.len(),
                values.len()
            ),
        ));
    }
    let mut app = ChunkAppender::new(ChunkLimits {
        max_samples: timestamps.len().clamp(1, MAX_SAMPLES_PER_CHUNK),
        max_bytes: usize::MAX / 16,
    })?;
    for (&t, &v) in timestamps.iter().zip(values) {
        app.append(t, v)?;
    }
    app.to_bytes()
}

/// What a chunk's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    pub count: usize,
    pub first_timestamp: i64,
    /// Offset of the bit stream in the chunk.
    pub stream_offset: usize,
}

const WHAT: &str = "gorilla chunk";

/// Reads and validates a chunk header. The count is checked against the stream's size: every
/// sample costs at least 1 bit.
pub fn read_header(chunk: &[u8]) -> Result<ChunkHeader> {
    let mut r = ByteReader::new(chunk, WHAT);
    let enc = r.u8()?;
    if enc != ENCODING_GORILLA_V1 {
        return Err(Error::UnsupportedVersion {
            what: WHAT,
            version: enc,
        });
    }
    let count = r.u16()? as usize;
    if count == 0 {
        return Err(Error::corrupt(WHAT, 1, "sample count is 0"));
    }
    let first_timestamp = r.varint()?;
    let stream_bits = r.remaining() as u64 * 8;
    if count as u64 > stream_bits {
        return Err(Error::corrupt(
            WHAT,
            1,
            format!("{count} samples cannot fit in {stream_bits} bits"),
        ));
    }
    Ok(ChunkHeader {
        count,
        first_timestamp,
        stream_offset: r.position(),
    })
}

fn check_end(r: &BitReader<'_>, stream_offset: usize) -> Result<()> {
    r.check_exact_end(WHAT, stream_offset)
}

/// Decodes a chunk, appending its samples to `timestamps` and `values`. Returns the count.
/// On error nothing is appended.
pub fn decode_into(
    chunk: &[u8],
    timestamps: &mut Vec<i64>,
    values: &mut Vec<f64>,
) -> Result<usize> {
    let h = read_header(chunk)?;
    let base = timestamps.len();
    let vbase = values.len();
    timestamps.resize(base + h.count, 0);
    values.resize(vbase + h.count, 0.0);
    let res = decode_slices(
        &chunk[h.stream_offset..],
        &h,
        &mut timestamps[base..],
        &mut values[vbase..],
    );
    if res.is_err() {
        timestamps.truncate(base);
        values.truncate(vbase);
    }
    res.map(|_| h.count)
}

/// The hot loop. `ts` and `vs` have exactly `h.count` slots.
fn decode_slices(stream: &[u8], h: &ChunkHeader, ts: &mut [i64], vs: &mut [f64]) -> Result<()> {
    let n = h.count;
    let mut r = BitReader::new(stream);
    let mut xor = XorState::new();
    let mut dod = DodDecoder::new(h.first_timestamp);
    let mut t = h.first_timestamp;
    let mut v = f64::from_bits(xor.decode(&mut r));
    ts[0] = t;
    vs[0] = v;
    let mut i = 1;
    while i < n {
        r.refill();
        let buf = r.buffer();
        if buf & 1 == 0 {
            // A run of samples each with an unchanged delta and an unchanged value is a run of
            // `0` bits: take as many as the buffer shows at once (fewer than 64: `consume`
            // takes fewer than 64 bits).
            let zeros = buf.trailing_zeros().min(r.available()).min(63);
            let k = (zeros as usize).min(n - i);
            let delta = dod.delta;
            for (tt, vv) in ts[i..i + k].iter_mut().zip(&mut vs[i..i + k]) {
                t = t.wrapping_add(delta);
                *tt = t;
                *vv = v;
            }
            dod.prev = t;
            r.consume(k as u32);
            i += k;
            continue;
        }
        r.consume(2);
        if buf & 2 == 0 {
            t = dod.apply(0);
            v = f64::from_bits(xor.decode_changed_refilled(&mut r));
        } else {
            t = dod.apply(read_nonzero_dod(&mut r));
            v = f64::from_bits(xor.decode_refilled(&mut r));
        }
        ts[i] = t;
        vs[i] = v;
        i += 1;
    }
    check_end(&r, h.stream_offset)
}

/// Iterates a chunk's samples one at a time (for merging). Errors surface as an `Err` item,
/// after which the iterator ends.
#[derive(Debug, Clone)]
pub struct ChunkIter<'a> {
    r: BitReader<'a>,
    stream_offset: usize,
    remaining: usize,
    started: bool,
    dod: DodDecoder,
    xor: XorState,
    failed: bool,
}

impl<'a> ChunkIter<'a> {
    pub fn new(chunk: &'a [u8]) -> Result<Self> {
        let h = read_header(chunk)?;
        Ok(ChunkIter {
            r: BitReader::new(&chunk[h.stream_offset..]),
            stream_offset: h.stream_offset,
            remaining: h.count,
            started: false,
            dod: DodDecoder::new(h.first_timestamp),
            xor: XorState::new(),
            failed: false,
        })
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = Result<(i64, f64)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 || self.failed {
            return None;
        }
        let (t, v) = if self.started {
            self.r.refill();
            let buf = self.r.buffer();
            if buf & 1 == 0 {
                self.r.consume(1);
                (self.dod.apply(0), self.xor.prev())
            } else if buf & 2 == 0 {
                self.r.consume(2);
                (
                    self.dod.apply(0),
                    self.xor.decode_changed_refilled(&mut self.r),
                )
            } else {
                self.r.consume(2);
                let t = self.dod.apply(read_nonzero_dod(&mut self.r));
                (t, self.xor.decode_refilled(&mut self.r))
            }
        } else {
            self.started = true;
            (self.dod.prev, self.xor.decode(&mut self.r))
        };
        let v = f64::from_bits(v);
        self.remaining -= 1;
        let check = if self.remaining == 0 {
            check_end(&self.r, self.stream_offset)
        } else {
            self.r.check_overrun(WHAT)
        };
        match check {
            Ok(()) => Some(Ok((t, v))),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

#[cfg(test)]
mod tests;
