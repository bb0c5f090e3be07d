//! A minimal protobuf wire-format reader: just what OTLP decoding needs. Every read is
//! bounds-checked and every error carries the byte offset; lengths are checked against the
//! bytes present before anything is allocated.

use super::OtlpError;

/// A protobuf wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

/// One field's value, borrowed from the message bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    pub(crate) fn wire_type(&self) -> WireType {
        match self {
            Value::Varint(_) => WireType::Varint,
            Value::Fixed64(_) => WireType::Fixed64,
            Value::Len(_) => WireType::Len,
            Value::Fixed32(_) => WireType::Fixed32,
        }
    }
}

/// A cursor over one message's bytes. `base` is the message's offset in the whole payload, so
/// errors name absolute offsets.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], base: usize) -> Self {
        Reader { data, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn err(&self, detail: impl Into<String>) -> OtlpError {
        OtlpError::Malformed {
            offset: self.offset(),
            detail: detail.into(),
        }
    }

    fn varint(&mut self) -> Result<u64, OtlpError> {
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(self.err("varint longer than 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], OtlpError> {
        let Some(bytes) = self.data.get(self.pos..self.pos + N) else {
            return Err(self.err(format!("truncated {N}-byte field")));
        };
        self.pos += N;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// The next field: its number, the absolute offset of its value, and the value. `None` at
    /// the end of the message.
    pub(crate) fn next(&mut self) -> Result<Option<(u32, usize, Value<'a>)>, OtlpError> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = key >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(self.err(format!("invalid field number {field}")));
        }
        let at = self.offset();
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.fixed::<8>()?)),
            2 => {
                let len = self.varint()?;
                let rest = self.data.len() - self.pos;
                if len > rest as u64 {
                    return Err(self.err(format!(
                        "length {len} runs past the end of the message ({rest} bytes left)"
                    )));
                }
                let start = self.pos;
                self.pos += len as usize;
                Value::Len(&self.data[start..self.pos])
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.fixed::<4>()?)),
            w => return Err(self.err(format!("unsupported wire type {w} (groups are not OTLP)"))),
        };
        Ok(Some((field as u32, at, value)))
    }
}

/// Errors unless `v` has wire type `want`.
pub(crate) fn expect(
    v: &Value<'_>,
    want: WireType,
    at: usize,
    field: &'static str,
) -> Result<(), OtlpError> {
    if v.wire_type() == want {
        Ok(())
    } else {
        Err(OtlpError::Malformed {
            offset: at,
            detail: format!(
                "field {field} has wire type {:?}, expected {want:?}",
                v.wire_type()
            ),
        })
    }
}

pub(crate) fn as_len<'a>(
    v: Value<'a>,
    at: usize,
    field: &'static str,
) -> Result<&'a [u8], OtlpError> {
    expect(&v, WireType::Len, at, field)?;
    match v {
        Value::Len(b) => Ok(b),
        _ => unreachable!("checked above"),
    }
}

pub(crate) fn as_str<'a>(
    v: Value<'a>,
    at: usize,
    field: &'static str,
) -> Result<&'a str, OtlpError> {
    let b = as_len(v, at, field)?;
    std::str::from_utf8(b).map_err(|e| OtlpError::Malformed {
        offset: at + e.valid_up_to(),
        detail: format!("field {field} is not valid UTF-8"),
    })
}

pub(crate) fn as_varint(v: Value<'_>, at: usize, field: &'static str) -> Result<u64, OtlpError> {
    expect(&v, WireType::Varint, at, field)?;
    match v {
        Value::Varint(x) => Ok(x),
        _ => unreachable!("checked above"),
    }
}

pub(crate) fn as_fixed64(v: Value<'_>, at: usize, field: &'static str) -> Result<u64, OtlpError> {
    expect(&v, WireType::Fixed64, at, field)?;
    match v {
        Value::Fixed64(x) => Ok(x),
        _ => unreachable!("checked above"),
    }
}

pub(crate) fn as_fixed32(v: Value<'_>, at: usize, field: &'static str) -> Result<u32, OtlpError> {
    expect(&v, WireType::Fixed32, at, field)?;
    match v {
        Value::Fixed32(x) => Ok(x),
        _ => unreachable!("checked above"),
    }
}

/// A repeated fixed64 field, packed (one LEN field) or not (one FIXED64 field per value).
pub(crate) fn push_packed_fixed64(
    v: Value<'_>,
    at: usize,
    field: &'static str,
    max: usize,
    out: &mut Vec<u64>,
) -> Result<(), OtlpError> {
    match v {
        Value::Fixed64(x) => out.push(x),
        Value::Len(b) => {
            if b.len() % 8 != 0 {
                return Err(OtlpError::Malformed {
                    offset: at,
                    detail: format!("packed {field} of {} bytes is not a multiple of 8", b.len()),
                });
            }
            out.extend(b.chunks_exact(8).map(|c| {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                u64::from_le_bytes(w)
            }));
        }
        other => {
            return Err(OtlpError::Malformed {
                offset: at,
                detail: format!("field {field} has wire type {:?}", other.wire_type()),
            });
        }
    }
    if out.len() > max {
        return Err(OtlpError::LimitExceeded {
            what: field,
            value: out.len() as u64,
            max: max as u64,
        });
    }
    Ok(())
}
