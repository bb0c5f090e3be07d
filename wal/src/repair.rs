//! Repairs decided by recovery, carried out only after the whole log was scanned. Each one is
//! idempotent and re-derived by the next open if a crash interrupts it: rewriting a header,
//! covering damage with skip records, cutting a tail, removing a file.

use crate::error::{Error, Result};
use crate::format::{
    self, MAX_RECORD_LEN, RECORD_HEADER_LEN, RecordHeader, SEGMENT_HEADER_LEN, SegmentHeader,
};
use crate::reader::SegmentReader;
use crate::record::RecordType;
use crate::storage::{Storage, StorageFile};
use std::sync::Arc;

const RECORD_HEADER: u64 = RECORD_HEADER_LEN as u64;

/// A change decided during the read-only scan.
#[derive(Debug)]
pub(crate) enum Repair {
    RewriteHeader {
        segment: u64,
        log_id: u64,
    },
    /// Cover `[from, to)` with skip records.
    Skip {
        segment: u64,
        from: u64,
        to: u64,
    },
    Truncate {
        segment: u64,
        len: u64,
    },
    RemoveFile(String),
}

/// Carries out the repairs in the order they were decided. `files` are the scanned segments
/// with their lengths; `log_id` is the log's id (known once any segment was scanned).
pub(crate) fn apply_repairs(
    storage: &dyn Storage,
    repairs: &[Repair],
    files: &[(u64, Arc<dyn StorageFile>, u64)],
    log_id: Option<u64>,
) -> Result<()> {
    let file_of = |n: u64| {
        let (_, f, len) = files.iter().find(|(m, _, _)| *m == n).expect("scanned");
        (f.clone(), *len, storage.path(&format::segment_file_name(n)))
    };
    let mut dir_changed = false;
    for repair in repairs {
        match repair {
            Repair::RewriteHeader { segment, log_id } => {
                let (f, _, path) = file_of(*segment);
                let header = SegmentHeader::new(*log_id, *segment).encode();
                f.write_all_at(0, &header)
                    .and_then(|()| f.sync_data())
                    .map_err(|e| Error::io("rewrite header", path, e))?;
            }
            Repair::Skip { segment, from, to } => {
                let (f, len, path) = file_of(*segment);
                let id = log_id.expect("a segment was scanned");
                let seed = format::segment_seed(id, *segment);
                write_skip_records(&f, seed, len, *from, *to)
                    .and_then(|()| f.sync_data())
                    .map_err(|e| Error::io("write skip record", path, e))?;
            }
            Repair::Truncate { segment, len } => {
                let (f, _, path) = file_of(*segment);
                f.set_len(*len)
                    .and_then(|()| f.sync_data())
                    .map_err(|e| Error::io("truncate", path, e))?;
            }
            Repair::RemoveFile(name) => {
                storage
                    .remove(name)
                    .map_err(|e| Error::io("remove", storage.path(name), e))?;
                dir_changed = true;
            }
        }
    }
    if dir_changed {
        storage
            .sync_dir()
            .map_err(|e| Error::io("sync directory", storage.path(""), e))?;
    }
    Ok(())
}

/// Covers `[from, to)` (at least one record header long) with skip records whose CRCs cover the
/// damaged bytes as they are now, so the range reads as valid and any later change shows.
fn write_skip_records(
    file: &Arc<dyn StorageFile>,
    seed: u32,
    file_len: u64,
    from: u64,
    to: u64,
) -> std::io::Result<()> {
    debug_assert!(to - from >= RECORD_HEADER);
    let mut r = SegmentReader::new(file.clone(), seed, file_len);
    let mut p = from;
    while p < to {
        let mut len = (to - p - RECORD_HEADER).min(MAX_RECORD_LEN as u64);
        let rest = to - p - RECORD_HEADER - len;
        if rest > 0 && rest < RECORD_HEADER {
            len -= RECORD_HEADER; // leave room for the next skip record's header
        }
        let payload_crc = crc32fast::hash(r.payload(p, len as u32)?);
        let header = RecordHeader {
            payload_crc,
            record_type: RecordType::SKIP,
            len: len as u32,
            synced_upto: SEGMENT_HEADER_LEN as u32,
        };
        file.write_all_at(p, &header.encode(seed, p as u32))?;
        p += RECORD_HEADER + len;
    }
    Ok(())
}
