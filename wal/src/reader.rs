//! Reading one segment: a forward-moving window over the file filled by large sequential reads,
//! record validation, and the resync scan that looks for the next intact record after damage.

use crate::error::CorruptionKind;
use crate::format::{MAX_RECORD_LEN, RECORD_HEADER_LEN, RecordHeader, SEGMENT_HEADER_LEN};
use crate::storage::{StorageFile, read_full_at};
use std::io;
use std::sync::Arc;

/// Bytes asked of the file per read. Big enough that syscalls do not matter, small enough that
/// a chunk is still in cache when the CRC pass reads it.
const READ_CHUNK_BYTES: usize = 1 << 20;

/// Why a record could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    Damage(CorruptionKind),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads records of one segment, forward only (a backward jump re-reads from the file).
#[derive(Debug)]
pub(crate) struct SegmentReader {
    file: Arc<dyn StorageFile>,
    seed: u32,
    /// Bytes of the segment that exist for this reader: the file length, or less for a replay
    /// that must not see records written after it started.
    end: u64,
    buf: Vec<u8>,
    buf_start: u64,
    filled: usize,
}

impl SegmentReader {
    /// `end` is capped at 4 GiB: offsets are 32-bit in the format, so nothing past that can be
    /// a record.
    pub fn new(file: Arc<dyn StorageFile>, seed: u32, end: u64) -> SegmentReader {
        SegmentReader {
            file,
            seed,
            end: end.min(u64::from(u32::MAX)),
            buf: Vec::new(),
            buf_start: 0,
            filled: 0,
        }
    }

    /// Up to `n` bytes at `offset` (fewer only where the segment ends). `n` is at most a record
    /// header plus [`MAX_RECORD_LEN`], so the buffer never grows past that.
    pub fn window(&mut self, offset: u64, n: usize) -> io::Result<&[u8]> {
        debug_assert!(n <= RECORD_HEADER_LEN + MAX_RECORD_LEN);
        let buffered_end = self.buf_start + self.filled as u64;
        if offset < self.buf_start || offset > buffered_end {
            self.buf_start = offset;
            self.filled = 0;
        }
        let mut rel = (offset - self.buf_start) as usize;
        let want_end = (offset + n as u64).min(self.end);
        if want_end > self.buf_start + self.filled as u64 {
            // Keep the unread tail, drop what is behind `offset`, then read a large chunk.
            self.buf.copy_within(rel..self.filled, 0);
            self.filled -= rel;
            self.buf_start = offset;
            rel = 0;
            let target = n.max(READ_CHUNK_BYTES).min((self.end - offset) as usize);
            if self.buf.len() < target {
                self.buf.resize(target, 0);
            }
            let at = self.buf_start + self.filled as u64;
            let got = read_full_at(&*self.file, at, &mut self.buf[self.filled..target])?;
            self.filled += got;
        }
        let avail = self.filled - rel;
        Ok(&self.buf[rel..rel + avail.min(n)])
    }

    /// Validates the record starting at `offset`. `Ok(None)` at the exact end of the segment.
    /// Checks, in order: a whole header, the header CRC, the fields, the payload fits in the
    /// segment, the payload CRC, and finally that the type is known or safe to ignore (a CRC-valid
    /// record of an unknown kind is a newer writer's data, not a torn write).
    pub fn record_at(&mut self, offset: u64) -> Result<Option<RecordHeader>, ReadError> {
        if offset == self.end {
            return Ok(None);
        }
        let available = self.end.saturating_sub(offset);
        let seed = self.seed;
        let w = self.window(offset, RECORD_HEADER_LEN)?;
        let Ok(bytes) = <&[u8; RECORD_HEADER_LEN]>::try_from(w) else {
            return Err(ReadError::Damage(CorruptionKind::Truncated {
                needed: RECORD_HEADER_LEN as u64,
                available,
            }));
        };
        let h = RecordHeader::decode(seed, offset as u32, bytes).map_err(ReadError::Damage)?;
        check_fields(&h, offset, available)?;
        let payload = self.window(offset + RECORD_HEADER_LEN as u64, h.len as usize)?;
        let actual = crc32fast::hash(payload);
        if actual != h.payload_crc {
            return Err(ReadError::Damage(CorruptionKind::PayloadChecksum {
                expected: h.payload_crc,
                actual,
            }));
        }
        if !h.record_type.is_known() && !h.record_type.is_ignorable() {
            return Err(ReadError::Damage(CorruptionKind::UnknownType {
                byte: h.record_type.byte(),
            }));
        }
        Ok(Some(h))
    }

    /// The payload of a record `record_at` accepted (already buffered: no I/O in practice).
    pub fn payload(&mut self, offset: u64, len: u32) -> io::Result<&[u8]> {
        self.window(offset + RECORD_HEADER_LEN as u64, len as usize)
    }

    /// The first offset at or after `from` where a whole, CRC-valid record starts (of any kind,
    /// known or not). Cheap field checks run before the CRCs, so scanning zeros or garbage costs
    /// a few nanoseconds per byte.
    pub fn find_record(&mut self, from: u64) -> io::Result<Option<(u64, RecordHeader)>> {
        let mut p = from.max(SEGMENT_HEADER_LEN as u64);
        while p + RECORD_HEADER_LEN as u64 <= self.end {
            let seed = self.seed;
            let end = self.end;
            let w = self.window(p, RECORD_HEADER_LEN)?;
            let Ok(bytes) = <&[u8; RECORD_HEADER_LEN]>::try_from(w) else {
                break; // the file is shorter than `end`
            };
            let h = RecordHeader::fields(bytes);
            // `&&` short-circuits: the CRC runs only for plausible fields.
            if check_fields(&h, p, end - p).is_ok()
                && RecordHeader::decode(seed, p as u32, bytes).is_ok()
            {
                let payload = self.window(p + RECORD_HEADER_LEN as u64, h.len as usize)?;
                if crc32fast::hash(payload) == h.payload_crc {
                    return Ok(Some((p, h)));
                }
            }
            p += 1;
        }
        Ok(None)
    }
}

/// Field checks that need no CRC: type byte not zero, the sync mark between the segment header
/// and the record itself, the payload inside the segment.
fn check_fields(h: &RecordHeader, offset: u64, available: u64) -> Result<(), ReadError> {
    if h.record_type.kind() == 0 {
        return Err(ReadError::Damage(CorruptionKind::BadField {
            field: "record type",
            value: u64::from(h.record_type.byte()),
        }));
    }
    let synced = u64::from(h.synced_upto);
    if synced < SEGMENT_HEADER_LEN as u64 || synced > offset {
        return Err(ReadError::Damage(CorruptionKind::BadField {
            field: "sync mark",
            value: synced,
        }));
    }
    let needed = RECORD_HEADER_LEN as u64 + u64::from(h.len);
    if needed > available {
        return Err(ReadError::Damage(CorruptionKind::Truncated {
            needed,
            available,
        }));
    }
    Ok(())
}
