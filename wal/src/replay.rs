//! Replay: every record from a position to the end the log had when replay started, read with
//! large sequential reads and handed out as borrowed slices of the read buffer.

use crate::Position;
use crate::error::{Error, Result};
use crate::format::{self, SEGMENT_HEADER_LEN, SegmentHeader};
use crate::reader::{ReadError, SegmentReader};
use crate::record::{OwnedRecord, Record};
use crate::recovery::SegmentMeta;
use crate::storage::{Storage, read_full_at};
use std::sync::Arc;

const HEADER: u64 = SEGMENT_HEADER_LEN as u64;

/// Iterator over records. [`Replay::next_record`] lends each payload without copying; the
/// [`Iterator`] impl copies it into an [`OwnedRecord`]. After an error the replay ends.
#[derive(Debug)]
pub struct Replay {
    storage: Arc<dyn Storage>,
    log_id: u64,
    /// Segments still to read, with the end of the records to read in each.
    segments: Vec<SegmentMeta>,
    next_segment: usize,
    start_offset: u64,
    current: Option<(u64, SegmentReader)>,
    offset: u64,
    done: bool,
    ignored_records: u64,
}

impl Replay {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        log_id: u64,
        segments: Vec<SegmentMeta>,
        from: Position,
    ) -> Replay {
        let segments: Vec<SegmentMeta> = segments
            .into_iter()
            .filter(|s| s.number >= from.segment)
            .collect();
        let start_offset = match segments.first() {
            Some(s) if s.number == from.segment => from.offset.max(HEADER),
            _ => HEADER,
        };
        Replay {
            storage,
            log_id,
            segments,
            next_segment: 0,
            start_offset,
            current: None,
            offset: 0,
            done: false,
            ignored_records: 0,
        }
    }

    /// Records of unknown types marked safe to ignore that were skipped so far.
    pub fn ignored_records(&self) -> u64 {
        self.ignored_records
    }

    /// The next record, borrowing its payload until the next call.
    pub fn next_record(&mut self) -> Option<Result<Record<'_>>> {
        // Find the next record's place first, then borrow the reader once (a borrow returned
        // from inside the loop would outlive the loop's other uses of `self`).
        let (segment, offset, record_type, len) = loop {
            if self.done {
                return None;
            }
            if self.current.is_none() {
                match self.open_next_segment() {
                    Ok(true) => {}
                    Ok(false) => {
                        self.done = true;
                        return None;
                    }
                    Err(e) => return self.fail(e),
                }
            }
            let (segment, reader) = self.current.as_mut().expect("opened above");
            let segment = *segment;
            let offset = self.offset;
            match reader.record_at(offset) {
                Ok(None) => self.current = None,
                Ok(Some(h)) => {
                    self.offset += (format::RECORD_HEADER_LEN as u64) + u64::from(h.len);
                    if h.record_type.is_known() && !h.record_type.is_skip() {
                        break (segment, offset, h.record_type, h.len);
                    }
                    self.ignored_records += u64::from(!h.record_type.is_known());
                }
                Err(ReadError::Damage(kind)) => {
                    return self.fail(Error::Corruption {
                        segment,
                        offset,
                        kind,
                    });
                }
                Err(ReadError::Io(e)) => {
                    let path = self.storage.path(&format::segment_file_name(segment));
                    return self.fail(Error::io("read", path, e));
                }
            }
        };
        // Disjoint field borrows: the payload borrows `current` while an error still needs
        // `storage` and `done`.
        let (_, reader) = self.current.as_mut().expect("set while looping");
        match reader.payload(offset, len) {
            Ok(payload) => Some(Ok(Record {
                position: Position::new(segment, offset),
                record_type,
                payload,
            })),
            Err(e) => {
                self.done = true;
                let path = self.storage.path(&format::segment_file_name(segment));
                Some(Err(Error::io("read", path, e)))
            }
        }
    }

    fn fail<T>(&mut self, e: Error) -> Option<Result<T>> {
        self.done = true;
        Some(Err(e))
    }

    /// Opens the next segment and checks its header still belongs here. `false` at the end.
    fn open_next_segment(&mut self) -> Result<bool> {
        let Some(meta) = self.segments.get(self.next_segment).copied() else {
            return Ok(false);
        };
        let first = self.next_segment == 0;
        self.next_segment += 1;
        let name = format::segment_file_name(meta.number);
        let path = || self.storage.path(&name);
        let file = self
            .storage
            .open(&name)
            .map_err(|e| Error::io("open", path(), e))?;
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        let got = read_full_at(&*file, 0, &mut b).map_err(|e| Error::io("read", path(), e))?;
        let h = SegmentHeader::decode(&b[..got]).map_err(|kind| Error::Corruption {
            segment: meta.number,
            offset: 0,
            kind,
        })?;
        if h.log_id != self.log_id || h.segment != meta.number {
            return Err(Error::ForeignSegment {
                segment: meta.number,
                log_id: h.log_id,
                expected_log_id: self.log_id,
            });
        }
        let seed = format::segment_seed(self.log_id, meta.number);
        self.current = Some((meta.number, SegmentReader::new(file, seed, meta.len)));
        // A start past the end of the records means "nothing here": jump to the end.
        let start = if first { self.start_offset } else { HEADER };
        self.offset = start.min(meta.len);
        Ok(true)
    }
}

impl Iterator for Replay {
    type Item = Result<OwnedRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().map(|r| r.map(|r| r.to_owned()))
    }
}
