//! Column codecs for sealed blocks and span tables: whole columns of `i64`, `u64`, `f64`,
//! strings, byte strings and bools, each encoded by trying the candidate encodings and keeping
//! the smallest, with an optional zstd layer on top.
//!
//! Every column starts with the same header (full description in `docs/format/columns.md`):
//!
//! ```text
//! byte 0    version << 4 | column type   (version 1; types: 0 i64, 1 u64, 2 f64, 3 str, 4 bytes, 5 bool)
//! uvarint   value count n, ≤ MAX_VALUES
//! byte      codec: bit 7 = zstd layer, bit 6 reserved (0), bits 0..=5 = encoding id of the type
//! [uvarint  body length before zstd — only with the zstd bit]
//! body      the encoding's bytes, or one zstd frame holding them; nothing may follow
//! ```
//!
//! Integers (and every nested integer stream: float mantissas, string lengths, dictionary ids)
//! use a transform (plain / delta / delta-of-delta) then a packing (frame-of-reference bit
//! packing in frames of 128 / zigzag varints / runs); see [`IntEncoding`]. Floats use Gorilla
//! XOR, raw words, or a lossless decimal path; strings a plain or dictionary layout; bools a
//! bitmap or the integer codec.
//!
//! Decoders take untrusted bytes: every count is bounded by [`MAX_VALUES`] and, where the
//! encoding allows, by the bytes present; decoders append to the caller's vector and remove what
//! they appended if they fail.

mod bitpack;
mod boolean;
mod float;
mod int;
mod plan;
mod string;
mod zstd_layer;

use std::fmt;

use crate::bytes::{ByteReader, put_uvarint};
use crate::error::{Error, Result};

pub use float::MAX_DECIMAL_SCALE;
pub use int::{IntEncoding, Packing, Transform};

/// Format version, the high nibble of byte 0.
pub const FORMAT_VERSION: u8 = 1;
/// Most values in one column.
pub const MAX_VALUES: usize = 1 << 24;
/// Most bytes in all the values of one string or bytes column together (decoded).
pub const MAX_STRING_BYTES: usize = 1 << 30;

const ZSTD_FLAG: u8 = 0x80;
const RESERVED_FLAG: u8 = 0x40;
const ID_MASK: u8 = 0x3f;
/// Bodies shorter than this are not worth a zstd frame (its header alone is ~6 bytes).
const MIN_ZSTD_BODY_BYTES: usize = 24;
const WHAT: &str = "column";

/// Bytes of `v` as a LEB128 varint.
#[inline]
pub(crate) fn varint_len(v: u64) -> usize {
    // ceil(bits / 7) for bits in 1..=64, without a division.
    ((64 - (v | 1).leading_zeros() as usize) * 9 + 64) >> 6
}

/// What a column holds. Stored in the low nibble of byte 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    I64 = 0,
    U64 = 1,
    F64 = 2,
    /// UTF-8 strings.
    Str = 3,
    /// Arbitrary byte strings.
    Bytes = 4,
    Bool = 5,
}

impl ColumnType {
    fn from_nibble(v: u8) -> Option<Self> {
        Some(match v {
            0 => ColumnType::I64,
            1 => ColumnType::U64,
            2 => ColumnType::F64,
            3 => ColumnType::Str,
            4 => ColumnType::Bytes,
            5 => ColumnType::Bool,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            ColumnType::I64 => "i64",
            ColumnType::U64 => "u64",
            ColumnType::F64 => "f64",
            ColumnType::Str => "str",
            ColumnType::Bytes => "bytes",
            ColumnType::Bool => "bool",
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether to put a zstd layer over the encoded column. Levels are clamped to 1..=19.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZstdMode {
    Never,
    /// Compress, and keep the result only if the column gets smaller.
    IfSmaller {
        level: i32,
    },
    /// Always compress (even when that makes the column larger).
    Always {
        level: i32,
    },
}

impl Default for ZstdMode {
    fn default() -> Self {
        ZstdMode::IfSmaller { level: 3 }
    }
}

/// Float encodings, for [`ColumnOptions::floats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FloatCodec {
    /// Gorilla XOR of consecutive values' bits.
    Gorilla,
    /// `m / 10^k` with the `m` through the integer codec, exceptions stored raw.
    Decimal,
    /// 8 bytes per value, little-endian bits.
    Raw,
}

/// String and bytes encodings, for [`ColumnOptions::strings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringCodec {
    /// Lengths, then the values back to back.
    Plain,
    /// Sorted distinct values, then one id per value.
    Dictionary,
}

/// How to encode a column. The default chooses every encoding by size and adds zstd at level 3
/// when it helps. The `Option` fields force an encoding instead of choosing (for tests and
/// benchmarks); `None` means choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColumnOptions {
    pub zstd: ZstdMode,
    /// Integer encoding for every integer stream: integer columns, float mantissas, string
    /// lengths and ids, bools (which then always use the integer path).
    pub ints: Option<IntEncoding>,
    pub floats: Option<FloatCodec>,
    pub strings: Option<StringCodec>,
}

/// The encoding a column uses, as [`describe`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// An i64 or u64 column.
    Int(IntEncoding),
    FloatGorilla,
    FloatRaw,
    FloatDecimal {
        /// Values are `m / 10^scale`.
        scale: u8,
        /// Values stored raw because they are not such a decimal.
        exceptions: usize,
        /// Encoding of the `m`.
        ints: IntEncoding,
    },
    StrPlain {
        lengths: IntEncoding,
    },
    StrDict {
        entries: usize,
        lengths: IntEncoding,
        ids: IntEncoding,
    },
    BoolBitmap,
    BoolInt(IntEncoding),
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Encoding::Int(e) => write!(f, "{e}"),
            Encoding::FloatGorilla => f.write_str("gorilla"),
            Encoding::FloatRaw => f.write_str("raw"),
            Encoding::FloatDecimal {
                scale,
                exceptions,
                ints,
            } => write!(f, "decimal(scale {scale}, {exceptions} exceptions, {ints})"),
            Encoding::StrPlain { lengths } => write!(f, "plain(lengths {lengths})"),
            Encoding::StrDict { entries, ids, .. } => {
                write!(f, "dict({entries} entries, ids {ids})")
            }
            Encoding::BoolBitmap => f.write_str("bitmap"),
            Encoding::BoolInt(e) => write!(f, "bool-int({e})"),
        }
    }
}

/// What a column's headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnInfo {
    pub column_type: ColumnType,
    pub count: usize,
    pub encoding: Encoding,
    /// Whether a zstd layer wraps the body.
    pub zstd: bool,
    /// Size of the whole encoded column.
    pub encoded_bytes: usize,
    /// Size of the body before the zstd layer (the body itself without one).
    pub body_bytes: usize,
}

impl fmt::Display for ColumnInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x{}: {}", self.column_type, self.count, self.encoding)?;
        if self.zstd {
            f.write_str(" + zstd")?;
        }
        write!(f, " ({} bytes)", self.encoded_bytes)
    }
}

fn check_count(n: usize) -> Result<()> {
    if n > MAX_VALUES {
        return Err(Error::LimitExceeded {
            what: "column values",
            value: n as u64,
            max: MAX_VALUES as u64,
        });
    }
    Ok(())
}

/// Largest body a column of `n` values can have; bounds the zstd layer's stated size. Every
/// encoding (forced ones included) needs under 32 bytes per value plus the string payload.
fn max_body_bytes(ty: ColumnType, n: usize) -> usize {
    let payload = match ty {
        ColumnType::Str | ColumnType::Bytes => MAX_STRING_BYTES,
        _ => 0,
    };
    n.saturating_mul(32)
        .saturating_add(128)
        .saturating_add(payload)
}

/// Puts the header in front of `body`, adding the zstd layer as `opts` says.
fn finish(
    ty: ColumnType,
    n: usize,
    id: u8,
    body: Vec<u8>,
    opts: &ColumnOptions,
) -> Result<Vec<u8>> {
    debug_assert!(id <= ID_MASK);
    let mut out = Vec::with_capacity(body.len() + 16);
    out.push(FORMAT_VERSION << 4 | ty as u8);
    put_uvarint(&mut out, n as u64);
    match zstd_frame(&body, opts.zstd)? {
        Some(frame) => {
            out.push(id | ZSTD_FLAG);
            put_uvarint(&mut out, body.len() as u64);
            out.extend_from_slice(&frame);
        }
        None => {
            out.push(id);
            out.extend_from_slice(&body);
        }
    }
    Ok(out)
}

/// The zstd frame to store instead of `body`, if `mode` asks for one.
fn zstd_frame(body: &[u8], mode: ZstdMode) -> Result<Option<Vec<u8>>> {
    Ok(match mode {
        ZstdMode::Never => None,
        ZstdMode::IfSmaller { level } if body.len() >= MIN_ZSTD_BODY_BYTES => {
            zstd_layer::compress(body, level)
                .ok()
                .filter(|f| varint_len(body.len() as u64) + f.len() < body.len())
        }
        ZstdMode::IfSmaller { .. } => None,
        ZstdMode::Always { level } => Some(zstd_layer::compress(body, level)?),
    })
}

/// Adds the zstd layer `mode` asks for to `column`, a column encoded with
/// [`ZstdMode::Never`]: the same bytes as encoding it with `mode` in the first place, without
/// encoding it again (a caller that first looks at the plain size pays one encoding).
pub fn with_zstd(column: Vec<u8>, mode: ZstdMode) -> Result<Vec<u8>> {
    let mut r = ByteReader::new(&column, WHAT);
    r.u8()?;
    r.uvarint()?;
    let at = r.position();
    let codec = r.u8()?;
    if codec & ZSTD_FLAG != 0 {
        return Err(Error::invalid(WHAT, "the column already has a zstd layer"));
    }
    let body = r.rest();
    let Some(frame) = zstd_frame(body, mode)? else {
        return Ok(column);
    };
    let mut out = Vec::with_capacity(at + 12 + frame.len());
    out.extend_from_slice(&column[..at]);
    out.push(codec | ZSTD_FLAG);
    put_uvarint(&mut out, body.len() as u64);
    out.extend_from_slice(&frame);
    Ok(out)
}

/// A parsed column header.
#[derive(Debug, Clone, Copy)]
struct Header {
    ty: ColumnType,
    count: usize,
    id: u8,
    /// The body's length before zstd, if there is a zstd layer.
    zstd_len: Option<usize>,
}

/// Parses the header and hands `f` a reader over the body (decompressed if need be).
fn with_body<T>(
    bytes: &[u8],
    f: impl FnOnce(&Header, &mut ByteReader<'_>) -> Result<T>,
) -> Result<T> {
    let mut r = ByteReader::new(bytes, WHAT);
    let first = r.u8()?;
    if first >> 4 != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion {
            what: WHAT,
            version: first >> 4,
        });
    }
    let ty = ColumnType::from_nibble(first & 0x0f)
        .ok_or_else(|| Error::corrupt(WHAT, 0, format!("unknown column type {}", first & 0x0f)))?;
    let count = r.uvarint()?;
    if count > MAX_VALUES as u64 {
        return Err(Error::LimitExceeded {
            what: "column values",
            value: count,
            max: MAX_VALUES as u64,
        });
    }
    let count = count as usize;
    let at = r.position();
    let codec = r.u8()?;
    if codec & RESERVED_FLAG != 0 {
        return Err(Error::corrupt(
            WHAT,
            at,
            format!("reserved bit set in codec byte {codec:#04x}"),
        ));
    }
    let zstd_len = if codec & ZSTD_FLAG != 0 {
        Some(r.len_at_most(max_body_bytes(ty, count), "zstd body length")?)
    } else {
        None
    };
    let header = Header {
        ty,
        count,
        id: codec & ID_MASK,
        zstd_len,
    };
    match zstd_len {
        Some(len) => {
            let body = zstd_layer::decompress(r.rest(), len, r.position())?;
            f(
                &header,
                &mut ByteReader::new(&body, "column body (zstd-decoded)"),
            )
        }
        None => f(&header, &mut r),
    }
}

/// Errors unless the body was consumed exactly.
fn end(r: &ByteReader<'_>) -> Result<()> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(r.corrupt(format!("{} trailing bytes after the column", r.remaining())))
    }
}

fn expect_type(h: &Header, allowed: &[ColumnType]) -> Result<()> {
    if allowed.contains(&h.ty) {
        Ok(())
    } else {
        Err(Error::invalid(
            WHAT,
            format!("the column holds {} values, not {}", h.ty, allowed[0]),
        ))
    }
}

fn int_encoding(h: &Header) -> Result<IntEncoding> {
    IntEncoding::from_id(h.id).ok_or(Error::UnsupportedVersion {
        what: "column integer encoding",
        version: h.id,
    })
}

/// Runs `decode` and, if it fails, removes anything it appended to `out`.
fn appending<T>(
    out: &mut Vec<T>,
    decode: impl FnOnce(&mut Vec<T>) -> Result<usize>,
) -> Result<usize> {
    let base = out.len();
    let res = decode(out);
    if res.is_err() {
        out.truncate(base);
    }
    res
}

fn encode_ints(ty: ColumnType, values: &[i64], opts: &ColumnOptions) -> Result<Vec<u8>> {
    check_count(values.len())?;
    let (enc, size) = int::plan(values, opts.ints);
    let mut body = Vec::with_capacity(size);
    int::write_body(&mut body, values, enc);
    finish(ty, values.len(), enc.id(), body, opts)
}

fn decode_ints<T: Copy>(
    bytes: &[u8],
    ty: ColumnType,
    out: &mut Vec<T>,
    map: impl Fn(i64) -> T + Copy,
) -> Result<usize> {
    appending(out, |out| {
        with_body(bytes, |h, r| {
            expect_type(h, &[ty])?;
            int::read_body_map(r, h.count, int_encoding(h)?, out, map)?;
            end(r)?;
            Ok(h.count)
        })
    })
}

/// Encodes an i64 column.
pub fn encode_i64(values: &[i64], opts: &ColumnOptions) -> Result<Vec<u8>> {
    encode_ints(ColumnType::I64, values, opts)
}

/// Decodes an i64 column, appending its values to `out`. Returns the count.
pub fn decode_i64(bytes: &[u8], out: &mut Vec<i64>) -> Result<usize> {
    decode_ints(bytes, ColumnType::I64, out, |v| v)
}

/// Encodes a u64 column (the integer codec on the same bits, read as i64).
pub fn encode_u64(values: &[u64], opts: &ColumnOptions) -> Result<Vec<u8>> {
    check_count(values.len())?;
    let signed: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    encode_ints(ColumnType::U64, &signed, opts)
}

/// Decodes a u64 column, appending its values to `out`. Returns the count.
pub fn decode_u64(bytes: &[u8], out: &mut Vec<u64>) -> Result<usize> {
    decode_ints(bytes, ColumnType::U64, out, |v| v as u64)
}

/// Encodes an f64 column. Every value, NaN payloads and -0.0 included, decodes to the same bits.
pub fn encode_f64(values: &[f64], opts: &ColumnOptions) -> Result<Vec<u8>> {
    check_count(values.len())?;
    let (id, body) = float::encode(values, opts.floats, opts.ints);
    finish(ColumnType::F64, values.len(), id, body, opts)
}

/// Decodes an f64 column, appending its values to `out`. Returns the count.
pub fn decode_f64(bytes: &[u8], out: &mut Vec<f64>) -> Result<usize> {
    appending(out, |out| {
        with_body(bytes, |h, r| {
            expect_type(h, &[ColumnType::F64])?;
            float::decode(r, h.count, h.id, out)?;
            end(r)?;
            Ok(h.count)
        })
    })
}

fn encode_binary(ty: ColumnType, values: &[&[u8]], opts: &ColumnOptions) -> Result<Vec<u8>> {
    check_count(values.len())?;
    let total = values
        .iter()
        .try_fold(0usize, |t, v| t.checked_add(v.len()));
    if total.is_none_or(|t| t > MAX_STRING_BYTES) {
        return Err(Error::LimitExceeded {
            what: "column string bytes",
            value: total.map_or(u64::MAX, |t| t as u64),
            max: MAX_STRING_BYTES as u64,
        });
    }
    let (id, body) = string::encode(values, opts.strings, opts.ints);
    finish(ty, values.len(), id, body, opts)
}

/// Decodes a string or bytes column, handing each value to `push`.
fn decode_binary(
    bytes: &[u8],
    allowed: &[ColumnType],
    mut push: impl FnMut(&[u8]) -> Result<()>,
) -> Result<usize> {
    with_body(bytes, |h, r| {
        expect_type(h, allowed)?;
        match string::decode(r, h.count, h.id)? {
            string::Decoded::Plain(values) => values.into_iter().try_for_each(&mut push)?,
            string::Decoded::Dict { entries, ids } => {
                ids.into_iter().try_for_each(|i| push(entries[i]))?
            }
        }
        end(r)?;
        Ok(h.count)
    })
}

/// Encodes a column of UTF-8 strings.
pub fn encode_str<S: AsRef<str>>(values: &[S], opts: &ColumnOptions) -> Result<Vec<u8>> {
    let slices: Vec<&[u8]> = values.iter().map(|s| s.as_ref().as_bytes()).collect();
    encode_binary(ColumnType::Str, &slices, opts)
}

/// Decodes a string column, appending its values to `out`. Returns the count. Invalid UTF-8 is
/// an error.
pub fn decode_str(bytes: &[u8], out: &mut Vec<String>) -> Result<usize> {
    appending(out, |out| {
        let base = out.len();
        decode_binary(bytes, &[ColumnType::Str], |v| {
            match std::str::from_utf8(v) {
                Ok(s) => {
                    out.push(s.to_owned());
                    Ok(())
                }
                Err(e) => Err(Error::corrupt(
                    WHAT,
                    0,
                    format!("value {} is not UTF-8: {e}", out.len() - base),
                )),
            }
        })
    })
}

/// Encodes a column of byte strings.
pub fn encode_bytes<B: AsRef<[u8]>>(values: &[B], opts: &ColumnOptions) -> Result<Vec<u8>> {
    let slices: Vec<&[u8]> = values.iter().map(|b| b.as_ref()).collect();
    encode_binary(ColumnType::Bytes, &slices, opts)
}

/// Decodes a bytes column (or a string column, as bytes), appending its values to `out`.
/// Returns the count.
pub fn decode_bytes(bytes: &[u8], out: &mut Vec<Vec<u8>>) -> Result<usize> {
    appending(out, |out| {
        decode_binary(bytes, &[ColumnType::Bytes, ColumnType::Str], |v| {
            out.push(v.to_vec());
            Ok(())
        })
    })
}

/// Encodes a bool column.
pub fn encode_bool(values: &[bool], opts: &ColumnOptions) -> Result<Vec<u8>> {
    check_count(values.len())?;
    let (id, body) = boolean::encode(values, opts.ints);
    finish(ColumnType::Bool, values.len(), id, body, opts)
}

/// Decodes a bool column, appending its values to `out`. Returns the count.
pub fn decode_bool(bytes: &[u8], out: &mut Vec<bool>) -> Result<usize> {
    appending(out, |out| {
        with_body(bytes, |h, r| {
            expect_type(h, &[ColumnType::Bool])?;
            boolean::decode(r, h.count, h.id, out)?;
            end(r)?;
            Ok(h.count)
        })
    })
}

/// Reports a column's type, count and encodings from its headers. It undoes the zstd layer but
/// does not decode the values, so `Ok` does not mean every value would decode.
pub fn describe(bytes: &[u8]) -> Result<ColumnInfo> {
    with_body(bytes, |h, r| {
        let body_bytes = h.zstd_len.unwrap_or(r.remaining());
        let unknown = Error::UnsupportedVersion {
            what: "column encoding",
            version: h.id,
        };
        let encoding = match h.ty {
            ColumnType::I64 | ColumnType::U64 => Encoding::Int(int_encoding(h)?),
            ColumnType::F64 => match h.id {
                float::GORILLA => Encoding::FloatGorilla,
                float::RAW => Encoding::FloatRaw,
                float::DECIMAL => {
                    let d = float::decimal_info(r, h.count)?;
                    Encoding::FloatDecimal {
                        scale: d.scale,
                        exceptions: d.exceptions,
                        ints: d.ints,
                    }
                }
                _ => return Err(unknown),
            },
            ColumnType::Str | ColumnType::Bytes => string::info(r, h.count, h.id)?,
            ColumnType::Bool => match h.id {
                boolean::BITMAP => Encoding::BoolBitmap,
                boolean::INT => Encoding::BoolInt(int::read_id(r)?),
                _ => return Err(unknown),
            },
        };
        Ok(ColumnInfo {
            column_type: h.ty,
            count: h.count,
            encoding,
            zstd: h.zstd_len.is_some(),
            encoded_bytes: bytes.len(),
            body_bytes,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ZSTD: ColumnOptions = ColumnOptions {
        zstd: ZstdMode::Never,
        ints: None,
        floats: None,
        strings: None,
    };

    #[test]
    fn varint_len_matches_put_uvarint() {
        let mut edges = vec![0u64, 1, 127, 128, 16_383, 16_384, u64::MAX >> 1, u64::MAX];
        for bits in 1..64 {
            edges.extend([(1u64 << bits) - 1, 1u64 << bits]);
        }
        for v in edges {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, v);
            assert_eq!(varint_len(v), buf.len(), "{v}");
        }
    }

    #[test]
    fn header_layout() {
        let bytes = encode_i64(&[7, 7, 7], &NO_ZSTD).unwrap();
        assert_eq!(bytes[0], 0x10);
        assert_eq!(bytes[1], 3);
        // Plain+bit-pack (ties with plain+RLE, and bit-packing wins ties): one frame with
        // minimum 7 (zigzag 14) and width 0.
        assert_eq!(&bytes[2..], &[0, 14, 0]);
        let info = describe(&bytes).unwrap();
        assert_eq!(
            info.encoding,
            Encoding::Int(IntEncoding::new(Transform::Plain, Packing::BitPack))
        );
        assert_eq!(info.to_string(), "i64 x3: plain+bitpack (5 bytes)");
    }

    #[test]
    fn wrong_type_version_and_reserved_bits_are_errors() {
        let bytes = encode_u64(&[1, 2, 3], &NO_ZSTD).unwrap();
        assert!(matches!(
            decode_i64(&bytes, &mut Vec::new()),
            Err(Error::InvalidInput { .. })
        ));
        let mut v = bytes.clone();
        v[0] = 0x21;
        assert!(matches!(
            decode_u64(&v, &mut Vec::new()),
            Err(Error::UnsupportedVersion { .. })
        ));
        let mut v = bytes.clone();
        v[2] |= RESERVED_FLAG;
        assert!(matches!(
            decode_u64(&v, &mut Vec::new()),
            Err(Error::Corrupt { .. })
        ));
        let mut v = bytes;
        v.push(0);
        assert!(matches!(
            decode_u64(&v, &mut Vec::new()),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn counts_above_the_limit_are_refused() {
        let mut bytes = vec![0x10];
        put_uvarint(&mut bytes, MAX_VALUES as u64 + 1);
        bytes.extend_from_slice(&[8, 0, 0]);
        assert!(matches!(
            decode_i64(&bytes, &mut Vec::new()),
            Err(Error::LimitExceeded { .. })
        ));
    }

    #[test]
    fn zstd_layer_is_kept_only_when_smaller() {
        let text: Vec<String> = (0..400)
            .map(|i| format!("the quick brown fox {i} jumps"))
            .collect();
        let small = encode_str(&text, &ColumnOptions::default()).unwrap();
        let plain = encode_str(&text, &NO_ZSTD).unwrap();
        assert!(describe(&small).unwrap().zstd);
        assert!(small.len() < plain.len());
        let tiny = encode_i64(&[1, 2, 3], &ColumnOptions::default()).unwrap();
        assert!(!describe(&tiny).unwrap().zstd);
        let forced = encode_i64(
            &[1, 2, 3],
            &ColumnOptions {
                zstd: ZstdMode::Always { level: 3 },
                ..NO_ZSTD
            },
        )
        .unwrap();
        assert!(describe(&forced).unwrap().zstd);
        let mut back = Vec::new();
        decode_i64(&forced, &mut back).unwrap();
        assert_eq!(back, [1, 2, 3]);
    }

    #[test]
    fn failed_decode_leaves_the_output_alone() {
        let bytes = encode_i64(&[1, 5, 9, 1000], &NO_ZSTD).unwrap();
        let mut out = vec![42];
        assert!(decode_i64(&bytes[..bytes.len() - 1], &mut out).is_err());
        assert_eq!(out, [42]);
        assert_eq!(decode_i64(&bytes, &mut out).unwrap(), 4);
        assert_eq!(out, [42, 1, 5, 9, 1000]);
    }
}
