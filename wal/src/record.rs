//! Record types and the records replay hands out.

use crate::Position;

/// The type byte of a record: bits 0–6 are the kind, bit 7 is "safe to ignore if unknown".
///
/// A reader that meets a kind it does not know skips the record when bit 7 is set and reports
/// corruption when it is not, so a newer writer can add optional record kinds without breaking
/// older readers (RocksDB's log format reserves such a bit too).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordType(u8);

impl RecordType {
    /// Bit 7 of the type byte.
    pub const IGNORABLE_BIT: u8 = 0x80;
    /// Metric samples.
    pub const METRICS: RecordType = RecordType(0x01);
    /// Series definitions (label sets and their ids).
    pub const SERIES: RecordType = RecordType(0x02);
    /// Spans.
    pub const SPANS: RecordType = RecordType(0x03);
    /// Exemplars linking samples to traces.
    pub const EXEMPLARS: RecordType = RecordType(0x04);
    /// Markers: checkpoints, flush points, anything the engine wants to find again.
    pub const MARKERS: RecordType = RecordType(0x05);
    /// Metric metadata (type, unit, help per metric name). Written with the ignorable bit
    /// set, so readers from before it existed skip it.
    pub const METADATA: RecordType = RecordType(0x07);
    /// Events (OTLP log records). Not ignorable: a reader that skipped them would lose
    /// acknowledged events at its next checkpoint.
    pub const EVENTS: RecordType = RecordType(0x08);
    /// Written by the WAL only, never replayed: over bytes that `Salvage` recovery gave up on
    /// (the payload is those bytes), and with an empty payload as a *sync record* whose sync
    /// mark proves the records before it durable ([`crate::format::RecordHeader::sync_record`]).
    pub(crate) const SKIP: RecordType = RecordType(0xFF);

    /// The type with this byte. Any byte converts; whether the log accepts it is checked on
    /// append ([`RecordType::is_appendable`]) and on read.
    pub const fn from_byte(byte: u8) -> RecordType {
        RecordType(byte)
    }

    /// The same kind with the safe-to-ignore bit set.
    pub const fn ignorable(self) -> RecordType {
        RecordType(self.0 | Self::IGNORABLE_BIT)
    }

    pub const fn byte(self) -> u8 {
        self.0
    }

    /// Bits 0–6.
    pub const fn kind(self) -> u8 {
        self.0 & !Self::IGNORABLE_BIT
    }

    pub const fn is_ignorable(self) -> bool {
        self.0 & Self::IGNORABLE_BIT != 0
    }

    /// Whether this build knows the kind (0x01–0x05, 0x07, 0x08 and the internal skip kind; 0x06 is
    /// left unknown: tests and golden logs use it as a kind from a newer writer).
    pub const fn is_known(self) -> bool {
        matches!(self.kind(), 0x01..=0x05 | 0x07 | 0x08) || self.0 == Self::SKIP.0
    }

    pub(crate) const fn is_skip(self) -> bool {
        self.0 == Self::SKIP.0
    }

    /// Whether `append` takes it: a known kind other than skip, or any non-zero kind marked
    /// safe to ignore (a record only a newer reader understands).
    pub const fn is_appendable(self) -> bool {
        !self.is_skip() && self.kind() != 0 && (self.is_known() || self.is_ignorable())
    }
}

impl std::fmt::Debug for RecordType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.kind() {
            0x01 => "METRICS",
            0x02 => "SERIES",
            0x03 => "SPANS",
            0x04 => "EXEMPLARS",
            0x05 => "MARKERS",
            0x07 => "METADATA",
            0x08 => "EVENTS",
            0x7F if self.is_ignorable() => "SKIP",
            _ => "UNKNOWN",
        };
        let ignorable = if self.is_ignorable() {
            "|IGNORABLE"
        } else {
            ""
        };
        write!(f, "{name}{ignorable}({:#04x})", self.0)
    }
}

/// A record read back, borrowing its payload from the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Where the record starts (what `append` returned for it).
    pub position: Position,
    pub record_type: RecordType,
    pub payload: &'a [u8],
}

impl Record<'_> {
    pub fn to_owned(&self) -> OwnedRecord {
        OwnedRecord {
            position: self.position,
            record_type: self.record_type,
            payload: self.payload.to_vec(),
        }
    }
}

/// A record with its own copy of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    pub position: Position,
    pub record_type: RecordType,
    pub payload: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appendable_types() {
        for t in [
            RecordType::METRICS,
            RecordType::SERIES,
            RecordType::SPANS,
            RecordType::EXEMPLARS,
            RecordType::MARKERS,
            RecordType::METADATA,
            RecordType::EVENTS,
        ] {
            assert!(t.is_known() && t.is_appendable() && !t.is_ignorable());
            assert!(t.ignorable().is_appendable());
        }
        assert!(!RecordType::SKIP.is_appendable());
        assert!(!RecordType::from_byte(0).is_appendable());
        assert!(!RecordType::from_byte(0x80).is_appendable());
        assert!(!RecordType::from_byte(0x06).is_appendable());
        assert!(RecordType::from_byte(0x86).is_appendable());
        assert!(!RecordType::from_byte(0x7F).is_known());
    }
}
