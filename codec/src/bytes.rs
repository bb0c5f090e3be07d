//! Byte-level helpers shared by the codecs: zigzag, LEB128 varints, and a bounds-checked cursor.
//! Every multi-byte integer is little-endian.

use crate::error::{Error, Result};

/// Maps signed to unsigned so small magnitudes stay small: 0, -1, 1, -2 … → 0, 1, 2, 3 …
#[inline(always)]
pub const fn zigzag_encode(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline(always)]
pub const fn zigzag_decode(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint (1–10 bytes).
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded as a varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag_encode(v));
}

/// A cursor over untrusted bytes. Every read checks bounds and reports the offset on failure.
#[derive(Debug, Clone)]
pub struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> ByteReader<'a> {
    /// `what` names the structure being decoded, for error messages.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        ByteReader { data, pos: 0, what }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    /// The unread rest of the input.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    fn truncated(&self, needed: usize) -> Error {
        Error::Truncated {
            what: self.what,
            needed: (self.pos + needed) as u64,
            available: self.data.len() as u64,
        }
    }

    /// An error pointing at the current position.
    pub fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::corrupt(self.what, self.pos, detail)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.truncated(n));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub fn uvarint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            if i == 9 && b > 1 {
                return Err(Error::corrupt(
                    self.what,
                    self.pos - 1,
                    "varint overflows 64 bits",
                ));
            }
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::corrupt(
            self.what,
            self.pos,
            "varint longer than 10 bytes",
        ))
    }

    pub fn varint(&mut self) -> Result<i64> {
        Ok(zigzag_decode(self.uvarint()?))
    }

    /// A varint used as a length or count: must be ≤ `max`, so callers never size an allocation
    /// from a number the input has not earned.
    pub fn len_at_most(&mut self, max: usize, field: &'static str) -> Result<usize> {
        let at = self.pos;
        let v = self.uvarint()?;
        if v > max as u64 {
            return Err(Error::corrupt(
                self.what,
                at,
                format!("{field} {v} exceeds the bound {max}"),
            ));
        }
        Ok(v as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_and_varint_round_trip() {
        let vals = [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            i64::MAX,
            i64::MIN,
            1_795_322_189_462,
        ];
        let mut buf = Vec::new();
        for &v in &vals {
            assert_eq!(zigzag_decode(zigzag_encode(v)), v);
            put_varint(&mut buf, v);
        }
        let mut r = ByteReader::new(&buf, "test");
        for &v in &vals {
            assert_eq!(r.varint().unwrap(), v);
        }
        assert!(r.is_empty());
        assert!(matches!(r.u8(), Err(Error::Truncated { .. })));
    }

    #[test]
    fn overlong_varint_is_an_error() {
        let buf = [0xffu8; 11];
        assert!(ByteReader::new(&buf, "t").uvarint().is_err());
        let buf = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(ByteReader::new(&buf, "t").uvarint().is_err());
    }
}
