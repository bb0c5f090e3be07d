//! Opening a log: check the segment sequence and headers, validate every record, classify
//! damage (torn tail or corruption), then — only if the whole scan succeeded — carry out the
//! repairs. A strict open that fails has changed nothing on disk.

use crate::error::{CorruptionKind, Error, Result};
use crate::format::{self, RECORD_HEADER_LEN, RecordHeader, SEGMENT_HEADER_LEN, SegmentHeader};
use crate::options::{Options, RecoveryMode};
use crate::reader::{ReadError, SegmentReader};
use crate::repair::{Repair, apply_repairs};
use crate::report::{RecoveryReport, SkippedRange, TailTruncation};
use crate::storage::{Storage, StorageFile, read_full_at};
use std::sync::Arc;

const HEADER: u64 = SEGMENT_HEADER_LEN as u64;
const RECORD_HEADER: u64 = RECORD_HEADER_LEN as u64;

/// A segment and the end of its valid records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentMeta {
    pub number: u64,
    pub len: u64,
}

/// What `recover` hands the writer.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub log_id: u64,
    /// Oldest first; never empty; the last one is where appends go.
    pub segments: Vec<SegmentMeta>,
    pub active: Arc<dyn StorageFile>,
    pub report: RecoveryReport,
    /// The last segment holds no record, or its last record is a sync record: nothing at the
    /// end of the log needs one.
    pub tail_proven: bool,
}

struct Ctx<'a> {
    storage: &'a dyn Storage,
    mode: RecoveryMode,
    repairs: Vec<Repair>,
    report: RecoveryReport,
}

pub(crate) fn recover(storage: &dyn Storage, options: &Options) -> Result<Recovered> {
    let mut ctx = Ctx {
        storage,
        mode: options.recovery,
        repairs: Vec::new(),
        report: RecoveryReport::default(),
    };
    let names = storage
        .list()
        .map_err(|e| Error::io("list", storage.path(""), e))?;
    let mut numbers = Vec::new();
    for name in names {
        if let Some(n) = format::parse_segment_file_name(&name) {
            numbers.push(n);
        } else if name
            .strip_suffix(".tmp")
            .and_then(format::parse_segment_file_name)
            .is_some()
        {
            // A segment whose creation was interrupted: it was never renamed into place, so it
            // never held a record.
            ctx.report.removed_files.push(name.clone());
            ctx.repairs.push(Repair::RemoveFile(name));
        }
    }
    numbers.sort_unstable();
    if let Some(w) = numbers.windows(2).find(|w| w[1] != w[0] + 1) {
        return Err(Error::MissingSegment {
            expected: w[0] + 1,
            found: w[1],
        });
    }

    let mut files = Vec::with_capacity(numbers.len());
    for &n in &numbers {
        let name = format::segment_file_name(n);
        let file = storage
            .open(&name)
            .map_err(|e| Error::io("open", storage.path(&name), e))?;
        let len = file
            .len_bytes()
            .map_err(|e| Error::io("stat", storage.path(&name), e))?;
        files.push((n, file, len));
    }
    // A last segment shorter than its header never got a record: our creation protocol makes
    // this impossible, but a filesystem that loses a file's tail can still leave one.
    let mut fresh_number = numbers.last().map_or(1, |n| n + 1);
    if let Some(&(n, _, _)) = files.last().filter(|(_, _, len)| *len < HEADER) {
        let name = format::segment_file_name(n);
        ctx.report.removed_files.push(name.clone());
        ctx.repairs.push(Repair::RemoveFile(name));
        files.pop();
        fresh_number = n;
    }

    let mut log_id = options.log_id;
    let mut segments = Vec::with_capacity(files.len());
    // An empty log proves nothing, and needs no proof.
    let mut tail_proven = true;
    for (i, (n, file, len)) in files.iter().enumerate() {
        let is_last = i + 1 == files.len();
        let id = check_header(&mut ctx, file, *n, *len, log_id)?;
        log_id = Some(id);
        let seed = format::segment_seed(id, *n);
        let scanned = scan_segment(&mut ctx, file, seed, *n, *len, is_last)?;
        tail_proven = scanned.ends_with_sync_record;
        segments.push(SegmentMeta {
            number: *n,
            len: scanned.end,
        });
    }

    apply_repairs(storage, &ctx.repairs, &files, log_id)?;
    let log_id = log_id.unwrap_or_else(random_log_id);
    let active = match files.last() {
        Some((_, file, _)) => {
            // Records appended from now on claim everything before them is durable.
            file.sync_data()
                .map_err(|e| Error::io("sync", storage.path(""), e))?;
            file.clone()
        }
        None => {
            let file = crate::writer::create_segment(storage, log_id, fresh_number)?;
            segments.push(SegmentMeta {
                number: fresh_number,
                len: HEADER,
            });
            tail_proven = true;
            file
        }
    };
    let report = &mut ctx.report;
    report.first_segment = segments[0].number;
    report.last_segment = segments[segments.len() - 1].number;
    report.tail_proven_durable = tail_proven;
    Ok(Recovered {
        log_id,
        segments,
        active,
        report: ctx.report,
        tail_proven,
    })
}

/// Checks a segment header and returns the segment's log id. In `Salvage` mode a damaged header
/// is rewritten, with a log id under which the segment's records validate.
fn check_header(
    ctx: &mut Ctx<'_>,
    file: &Arc<dyn StorageFile>,
    n: u64,
    len: u64,
    expected: Option<u64>,
) -> Result<u64> {
    let path = || ctx.storage.path(&format::segment_file_name(n));
    let mut b = [0u8; SEGMENT_HEADER_LEN];
    let got = read_full_at(&**file, 0, &mut b).map_err(|e| Error::io("read", path(), e))?;
    let kind = match SegmentHeader::decode(&b[..got]) {
        Ok(h) => {
            if h.version != format::FORMAT_VERSION {
                return Err(Error::UnsupportedVersion {
                    segment: n,
                    version: h.version,
                    supported: format::FORMAT_VERSION,
                });
            }
            if let Some(e) = expected.filter(|e| *e != h.log_id) {
                return Err(Error::ForeignSegment {
                    segment: n,
                    log_id: h.log_id,
                    expected_log_id: e,
                });
            }
            if h.segment != n {
                return Err(Error::MisnamedSegment {
                    file_segment: n,
                    header_segment: h.segment,
                });
            }
            return Ok(h.log_id);
        }
        Err(kind) => kind,
    };
    let corruption = Error::Corruption {
        segment: n,
        offset: 0,
        kind,
    };
    if ctx.mode == RecoveryMode::Strict {
        return Err(corruption);
    }
    let stored = u64::from_le_bytes(b[8..16].try_into().expect("8 bytes"));
    for id in expected.into_iter().chain([stored]) {
        let mut r = SegmentReader::new(file.clone(), format::segment_seed(id, n), len);
        let proven = r
            .find_record(HEADER)
            .map_err(|e| Error::io("read", path(), e))?
            .is_some();
        // An empty segment proves nothing; the log's id is the best guess for it.
        if proven || (len == HEADER && expected == Some(id)) {
            ctx.repairs.push(Repair::RewriteHeader {
                segment: n,
                log_id: id,
            });
            ctx.report.repaired_headers.push(n);
            return Ok(id);
        }
    }
    Err(corruption)
}

/// What scanning a segment found.
struct Scanned {
    /// End of the valid records (what is kept).
    end: u64,
    /// The segment holds no record, or the last one kept is a sync record.
    ends_with_sync_record: bool,
}

/// Validates every record of one segment and returns the end of its valid records.
fn scan_segment(
    ctx: &mut Ctx<'_>,
    file: &Arc<dyn StorageFile>,
    seed: u32,
    n: u64,
    len: u64,
    is_last: bool,
) -> Result<Scanned> {
    let path = ctx.storage.path(&format::segment_file_name(n));
    let io = |e| Error::io("read", path.clone(), e);
    let mut r = SegmentReader::new(file.clone(), seed, len);
    let mut off = HEADER;
    let mut sync_record_last = true;
    let scanned = |end: u64, sync_record_last: bool| Scanned {
        end,
        ends_with_sync_record: sync_record_last,
    };
    loop {
        let kind = match r.record_at(off) {
            Ok(None) => break,
            Ok(Some(h)) => {
                if h.record_type.is_known() {
                    ctx.report.records += u64::from(!h.record_type.is_skip());
                } else {
                    ctx.report.ignored_records += 1;
                }
                sync_record_last = h.is_sync_record(off);
                off += RECORD_HEADER + u64::from(h.len);
                continue;
            }
            Err(ReadError::Io(e)) => return Err(io(e)),
            Err(ReadError::Damage(kind)) => kind,
        };
        // In the last segment, damage is a torn tail unless a later record proves that this
        // offset had been synced before that record was written (its sync mark is past it).
        // Unknown types are whole records from a newer writer, never a torn tail.
        let unknown_type = matches!(kind, CorruptionKind::UnknownType { .. });
        let maybe_tail = is_last && !unknown_type;
        if ctx.mode == RecoveryMode::Strict && !maybe_tail {
            return Err(Error::Corruption {
                segment: n,
                offset: off,
                kind,
            });
        }
        // Where an intact record could start next: right after an unknown-type record (it is
        // whole), at least one header past any other damage (a damaged record took that much).
        let mut resume = off + RECORD_HEADER;
        if unknown_type {
            let w = r.window(off, RECORD_HEADER_LEN).map_err(io)?;
            if let Ok(b) = <&[u8; RECORD_HEADER_LEN]>::try_from(w) {
                resume += u64::from(RecordHeader::fields(b).len);
            }
        }
        let next = r.find_record(resume).map_err(io)?;
        if maybe_tail {
            // A sync record counts like any record: its sync mark past `off` proves `off`
            // durable. That is what makes damage to the last records of a closed log (or of an
            // idle one under `Always`) corruption instead of a torn tail.
            let (max_synced, after) = survey(&mut r, next).map_err(io)?;
            if max_synced <= off {
                ctx.repairs.push(Repair::Truncate {
                    segment: n,
                    len: off,
                });
                ctx.report.truncated_tail = Some(TailTruncation {
                    segment: n,
                    offset: off,
                    dropped_bytes: len - off,
                    discarded_records: after,
                    kind,
                });
                return Ok(scanned(off, sync_record_last));
            }
        }
        if ctx.mode == RecoveryMode::Strict {
            return Err(Error::Corruption {
                segment: n,
                offset: off,
                kind,
            });
        }
        let to = next.map_or(len, |(q, _)| q);
        ctx.report.skipped.push(SkippedRange {
            segment: n,
            offset: off,
            len_bytes: to - off,
            cut: next.is_none(),
            kind,
        });
        if next.is_none() {
            // Damage runs to the end of the segment: nothing there to keep.
            ctx.repairs.push(Repair::Truncate {
                segment: n,
                len: off,
            });
            return Ok(scanned(off, sync_record_last));
        }
        ctx.repairs.push(Repair::Skip {
            segment: n,
            from: off,
            to,
        });
        off = to;
    }
    if off < len {
        // Only past the 4 GiB a segment can address: not records, whatever it is.
        let kind = CorruptionKind::BadField {
            field: "segment length",
            value: len,
        };
        if !is_last && ctx.mode == RecoveryMode::Strict {
            return Err(Error::Corruption {
                segment: n,
                offset: off,
                kind,
            });
        }
        ctx.repairs.push(Repair::Truncate {
            segment: n,
            len: off,
        });
    }
    Ok(scanned(off, sync_record_last))
}

/// The intact records from `first` to the end of the segment: the largest sync mark among them
/// (sync records included) and how many of them hold data (skip and sync records do not).
fn survey(
    r: &mut SegmentReader,
    mut next: Option<(u64, RecordHeader)>,
) -> std::io::Result<(u64, u64)> {
    let (mut max_synced, mut count) = (0, 0);
    while let Some((q, h)) = next {
        max_synced = max_synced.max(u64::from(h.synced_upto));
        count += u64::from(!h.record_type.is_skip());
        next = r.find_record(q + RECORD_HEADER + u64::from(h.len))?;
    }
    Ok((max_synced, count))
}

/// A log id for a new log: random enough that two databases do not share one.
fn random_log_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(now);
    h.write_u32(std::process::id());
    h.finish()
}
