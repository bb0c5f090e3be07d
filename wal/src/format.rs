//! Byte layout of segment headers and record headers (documented in `docs/format/wal.md`).
//! Pure functions: no I/O, little-endian always.

use crate::error::CorruptionKind;
use crate::record::RecordType;

/// First bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 4] = *b"SWAL";
/// The segment format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes of the segment header; the first record starts here.
pub const SEGMENT_HEADER_LEN: usize = 32;
/// Bytes of a record header; the payload follows.
pub const RECORD_HEADER_LEN: usize = 16;
/// Largest payload of one record: the length field has 24 bits. A larger append is an error.
pub const MAX_RECORD_LEN: usize = (1 << 24) - 1;

/// What a segment header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    pub version: u8,
    pub log_id: u64,
    pub segment: u64,
}

impl SegmentHeader {
    pub fn new(log_id: u64, segment: u64) -> SegmentHeader {
        SegmentHeader {
            version: FORMAT_VERSION,
            log_id,
            segment,
        }
    }

    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        b[0..4].copy_from_slice(&SEGMENT_MAGIC);
        b[4] = self.version;
        // 5..8 reserved, zero.
        b[8..16].copy_from_slice(&self.log_id.to_le_bytes());
        b[16..24].copy_from_slice(&self.segment.to_le_bytes());
        // 24..28 reserved, zero.
        let crc = crc32fast::hash(&b[0..28]);
        b[28..32].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Checks length, magic, CRC and reserved bytes. The version is returned, not checked: the
    /// caller turns a foreign version into its own error. Every version keeps magic, version byte
    /// and the CRC of bytes 0..28 at 28..32 where they are, so a v1 reader can tell "damaged"
    /// from "newer".
    pub fn decode(b: &[u8]) -> Result<SegmentHeader, CorruptionKind> {
        let Some(b) = b.get(..SEGMENT_HEADER_LEN) else {
            return Err(CorruptionKind::BadSegmentHeader {
                detail: "shorter than 32 bytes",
            });
        };
        if b[0..4] != SEGMENT_MAGIC {
            return Err(CorruptionKind::BadSegmentHeader {
                detail: "bad magic",
            });
        }
        let expected = u32_at(b, 28);
        let actual = crc32fast::hash(&b[0..28]);
        if expected != actual {
            return Err(CorruptionKind::SegmentHeaderChecksum { expected, actual });
        }
        let header = SegmentHeader {
            version: b[4],
            log_id: u64_at(b, 8),
            segment: u64_at(b, 16),
        };
        if header.version == FORMAT_VERSION && (b[5..8] != [0; 3] || b[24..28] != [0; 4]) {
            return Err(CorruptionKind::BadField {
                field: "segment header reserved bytes",
                value: u64::from(u32_at(b, 24)) | u64::from(b[5]),
            });
        }
        Ok(header)
    }
}

/// CRC32 of the log id and segment number: the initial value of every record header CRC in
/// that segment, so a record copied from another segment or log does not validate here.
pub fn segment_seed(log_id: u64, segment: u64) -> u32 {
    let mut b = [0u8; 16];
    b[0..8].copy_from_slice(&log_id.to_le_bytes());
    b[8..16].copy_from_slice(&segment.to_le_bytes());
    crc32fast::hash(&b)
}

/// The fields of a record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub payload_crc: u32,
    pub record_type: RecordType,
    /// Payload bytes, at most [`MAX_RECORD_LEN`].
    pub len: u32,
    /// Segment offset up to which the writer knew the segment was durable when it wrote this
    /// record. Recovery uses it to tell a torn unsynced tail from damage to synced data.
    pub synced_upto: u32,
}

impl RecordHeader {
    /// `offset` is where the record starts in its segment; it is covered by the CRC, not stored.
    pub fn encode(&self, seed: u32, offset: u32) -> [u8; RECORD_HEADER_LEN] {
        debug_assert!(self.len as usize <= MAX_RECORD_LEN);
        let mut b = [0u8; RECORD_HEADER_LEN];
        b[4..8].copy_from_slice(&self.payload_crc.to_le_bytes());
        let type_len = u32::from(self.record_type.byte()) | (self.len << 8);
        b[8..12].copy_from_slice(&type_len.to_le_bytes());
        b[12..16].copy_from_slice(&self.synced_upto.to_le_bytes());
        let crc = header_crc(seed, offset, &b);
        b[0..4].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Checks the header CRC only; the caller checks the fields against the segment.
    pub fn decode(
        seed: u32,
        offset: u32,
        b: &[u8; RECORD_HEADER_LEN],
    ) -> Result<RecordHeader, CorruptionKind> {
        let expected = u32_at(b, 0);
        let actual = header_crc(seed, offset, b);
        if expected != actual {
            return Err(CorruptionKind::HeaderChecksum { expected, actual });
        }
        Ok(Self::fields(b))
    }

    /// The fields without any check: used to pre-filter resync candidates before the CRC.
    pub fn fields(b: &[u8; RECORD_HEADER_LEN]) -> RecordHeader {
        let type_len = u32_at(b, 8);
        RecordHeader {
            payload_crc: u32_at(b, 4),
            record_type: RecordType::from_byte(type_len as u8),
            len: type_len >> 8,
            synced_upto: u32_at(b, 12),
        }
    }

    /// The header of a *sync record* at `offset`: a skip record with an empty payload whose
    /// sync mark is its own offset. It says "everything before me in this segment was durable
    /// when I was written"; the writer puts one at the end of the log whenever it has made the
    /// log durable and nothing newer was appended, so that damage to the last records is
    /// recognised as damage (see `docs/format/wal.md`, "Sync records").
    pub fn sync_record(offset: u32) -> RecordHeader {
        RecordHeader {
            payload_crc: crc32fast::hash(&[]),
            record_type: RecordType::SKIP,
            len: 0,
            synced_upto: offset,
        }
    }

    /// Whether this header, found at `offset`, is a sync record: it proves every byte before
    /// `offset` in its segment durable.
    pub fn is_sync_record(&self, offset: u64) -> bool {
        self.record_type.is_skip() && self.len == 0 && u64::from(self.synced_upto) == offset
    }
}

fn header_crc(seed: u32, offset: u32, b: &[u8; RECORD_HEADER_LEN]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(seed);
    h.update(&offset.to_le_bytes());
    h.update(&b[4..]);
    h.finalize()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Segment file name: the number zero-padded to 20 digits so names sort like numbers.
pub fn segment_file_name(segment: u64) -> String {
    format!("{segment:020}.wal")
}

/// Where a new segment is prepared before it is renamed into place.
pub fn temp_file_name(segment: u64) -> String {
    format!("{segment:020}.wal.tmp")
}

/// The segment number of a segment file name, or `None` for any other file.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    if digits.len() != 20 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_header_round_trip_and_checks() {
        let h = SegmentHeader::new(0x0123_4567_89ab_cdef, 42);
        let b = h.encode();
        assert_eq!(SegmentHeader::decode(&b), Ok(h));
        assert!(matches!(
            SegmentHeader::decode(&b[..31]),
            Err(CorruptionKind::BadSegmentHeader { .. })
        ));
        let mut bad = b;
        bad[9] ^= 1;
        assert!(matches!(
            SegmentHeader::decode(&bad),
            Err(CorruptionKind::SegmentHeaderChecksum { .. })
        ));
    }

    #[test]
    fn record_header_binds_segment_and_offset() {
        let seed = segment_seed(7, 3);
        let h = RecordHeader {
            payload_crc: 0xdead_beef,
            record_type: RecordType::SPANS,
            len: MAX_RECORD_LEN as u32,
            synced_upto: 32,
        };
        let b = h.encode(seed, 100);
        assert_eq!(RecordHeader::decode(seed, 100, &b), Ok(h));
        assert!(RecordHeader::decode(seed, 101, &b).is_err());
        assert!(RecordHeader::decode(segment_seed(7, 4), 100, &b).is_err());
        assert!(RecordHeader::decode(seed, 100, &[0; 16]).is_err());
    }

    #[test]
    fn sync_record_is_an_empty_skip_record_marking_its_own_offset() {
        let seed = segment_seed(7, 3);
        let h = RecordHeader::sync_record(500);
        assert!(h.is_sync_record(500));
        assert!(!h.is_sync_record(501));
        assert!(h.record_type.is_known() && !h.record_type.is_appendable());
        let b = h.encode(seed, 500);
        assert_eq!(RecordHeader::decode(seed, 500, &b), Ok(h));
        // A skip record written by salvage over damaged bytes is not one (it proves nothing).
        let salvage = RecordHeader {
            len: 20,
            synced_upto: 32,
            ..h
        };
        assert!(!salvage.is_sync_record(500));
    }

    #[test]
    fn file_names() {
        assert_eq!(segment_file_name(7), "00000000000000000007.wal");
        assert_eq!(
            parse_segment_file_name(&segment_file_name(u64::MAX)),
            Some(u64::MAX)
        );
        assert_eq!(
            parse_segment_file_name("00000000000000000007.wal.tmp"),
            None
        );
        assert_eq!(parse_segment_file_name("7.wal"), None);
    }
}
