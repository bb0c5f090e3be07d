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
use std::path::PathBuf;
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

/// A segment file found on open: its number, the file, and its length.
type SegmentFile = (u64, Arc<dyn StorageFile>, u64);

pub(crate) fn recover(storage: &dyn Storage, options: &Options) -> Result<Recovered> {
    let mut ctx = Ctx {
        storage,
        mode: options.recovery,
        repairs: Vec::new(),
        report: RecoveryReport::default(),
    };
    let numbers = segment_numbers(&mut ctx)?;
    let mut files = open_segments(storage, &numbers)?;
    let fresh_number = drop_headerless_last(&mut ctx, &mut files, &numbers);
    let (log_id, mut segments, mut tail_proven) = scan_segments(&mut ctx, &files, options.log_id)?;

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

/// Lists the directory: the segment numbers, sorted and checked for gaps. Leftover temporary
/// segment files are noted for removal.
fn segment_numbers(ctx: &mut Ctx<'_>) -> Result<Vec<u64>> {
    let storage = ctx.storage;
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
    Ok(numbers)
}

/// Opens the segments `numbers` and reads their lengths.
fn open_segments(storage: &dyn Storage, numbers: &[u64]) -> Result<Vec<SegmentFile>> {
    let mut files = Vec::with_capacity(numbers.len());
    for &n in numbers {
        let name = format::segment_file_name(n);
        let file = storage
            .open(&name)
            .map_err(|e| Error::io("open", storage.path(&name), e))?;
        let len = file
            .len_bytes()
            .map_err(|e| Error::io("stat", storage.path(&name), e))?;
        files.push((n, file, len));
    }
    Ok(files)
}

/// Drops (and notes for removal) a last segment too short to hold its header. Returns the
/// number a new segment would get if no segment is left.
fn drop_headerless_last(ctx: &mut Ctx<'_>, files: &mut Vec<SegmentFile>, numbers: &[u64]) -> u64 {
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
    fresh_number
}

/// Checks every segment's header and validates its records. Returns the log id (if any
/// segment had one, or the caller expected one), the segments with the end of their valid
/// records, and whether the log's tail is proven durable.
fn scan_segments(
    ctx: &mut Ctx<'_>,
    files: &[SegmentFile],
    mut log_id: Option<u64>,
) -> Result<(Option<u64>, Vec<SegmentMeta>, bool)> {
    let mut segments = Vec::with_capacity(files.len());
    // An empty log proves nothing, and needs no proof.
    let mut tail_proven = true;
    for (i, (n, file, len)) in files.iter().enumerate() {
        let is_last = i + 1 == files.len();
        let id = check_header(ctx, file, *n, *len, log_id)?;
        log_id = Some(id);
        let seed = format::segment_seed(id, *n);
        let scanned = scan_segment(ctx, file, seed, *n, *len, is_last)?;
        tail_proven = scanned.ends_with_sync_record;
        segments.push(SegmentMeta {
            number: *n,
            len: scanned.end,
        });
    }
    Ok((log_id, segments, tail_proven))
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
    let mut scan = SegmentScan {
        path: ctx.storage.path(&format::segment_file_name(n)),
        ctx,
        r: SegmentReader::new(file.clone(), seed, len),
        n,
        len,
        is_last,
    };
    scan.run()
}

/// One segment's scan: the reader, and what stays fixed while it walks the records.
struct SegmentScan<'a, 's> {
    ctx: &'a mut Ctx<'s>,
    r: SegmentReader,
    path: PathBuf,
    n: u64,
    len: u64,
    is_last: bool,
}

/// How a scan goes on after a damaged range.
enum AfterDamage {
    /// At this offset, where an intact record starts.
    ResumeAt(u64),
    /// Not at all: the segment is kept up to the damage, and nothing past it is checked.
    Stop,
}

impl SegmentScan<'_, '_> {
    /// A read error on this segment.
    fn io(&self, e: std::io::Error) -> Error {
        Error::io("read", self.path.clone(), e)
    }

    /// Damage at `offset` of this segment, as a strict open reports it.
    fn corruption(&self, offset: u64, kind: CorruptionKind) -> Error {
        Error::Corruption {
            segment: self.n,
            offset,
            kind,
        }
    }

    /// Walks the records from the segment header on, counting them and dealing with damage.
    fn run(&mut self) -> Result<Scanned> {
        let mut off = HEADER;
        let mut sync_record_last = true;
        let scanned = |end: u64, sync_record_last: bool| Scanned {
            end,
            ends_with_sync_record: sync_record_last,
        };
        loop {
            let kind = match self.r.record_at(off) {
                Ok(None) => break,
                Ok(Some(h)) => {
                    if h.record_type.is_known() {
                        self.ctx.report.records += u64::from(!h.record_type.is_skip());
                    } else {
                        self.ctx.report.ignored_records += 1;
                    }
                    sync_record_last = h.is_sync_record(off);
                    off += RECORD_HEADER + u64::from(h.len);
                    continue;
                }
                Err(ReadError::Io(e)) => return Err(self.io(e)),
                Err(ReadError::Damage(kind)) => kind,
            };
            match self.damage(off, kind)? {
                AfterDamage::ResumeAt(to) => off = to,
                AfterDamage::Stop => return Ok(scanned(off, sync_record_last)),
            }
        }
        self.check_unaddressable_tail(off)?;
        Ok(scanned(off, sync_record_last))
    }

    /// Classifies the damage at `off` and notes its repair: a torn tail to truncate, a damaged
    /// range to skip or to truncate, or (in `Strict` mode, unless a torn tail) an error.
    fn damage(&mut self, off: u64, kind: CorruptionKind) -> Result<AfterDamage> {
        // In the last segment, damage is a torn tail unless a later record proves that this
        // offset had been synced before that record was written (its sync mark is past it).
        // Unknown types are whole records from a newer writer, never a torn tail.
        let unknown_type = matches!(kind, CorruptionKind::UnknownType { .. });
        let maybe_tail = self.is_last && !unknown_type;
        if self.ctx.mode == RecoveryMode::Strict && !maybe_tail {
            return Err(self.corruption(off, kind));
        }
        let resume = self.resume_offset(off, unknown_type)?;
        let next = self.r.find_record(resume).map_err(|e| self.io(e))?;
        if maybe_tail {
            // A sync record counts like any record: its sync mark past `off` proves `off`
            // durable. That is what makes damage to the last records of a closed log (or of an
            // idle one under `Always`) corruption instead of a torn tail.
            let (max_synced, after) = survey(&mut self.r, next).map_err(|e| self.io(e))?;
            if max_synced <= off {
                self.truncate_torn_tail(off, after, kind);
                return Ok(AfterDamage::Stop);
            }
        }
        if self.ctx.mode == RecoveryMode::Strict {
            return Err(self.corruption(off, kind));
        }
        Ok(self.skip_damage(off, next, kind))
    }

    /// Where an intact record could start next: right after an unknown-type record (it is
    /// whole), at least one header past any other damage (a damaged record took that much).
    fn resume_offset(&mut self, off: u64, unknown_type: bool) -> Result<u64> {
        let mut resume = off + RECORD_HEADER;
        if unknown_type {
            // A `match`, not `map_err(|e| self.io(e))`: the window borrows the reader.
            let w = match self.r.window(off, RECORD_HEADER_LEN) {
                Ok(w) => w,
                Err(e) => return Err(self.io(e)),
            };
            if let Ok(b) = <&[u8; RECORD_HEADER_LEN]>::try_from(w) {
                resume += u64::from(RecordHeader::fields(b).len);
            }
        }
        Ok(resume)
    }

    /// Notes the torn tail at `off` (with `after` data records past it) for truncation.
    fn truncate_torn_tail(&mut self, off: u64, after: u64, kind: CorruptionKind) {
        let n = self.n;
        self.ctx.repairs.push(Repair::Truncate {
            segment: n,
            len: off,
        });
        self.ctx.report.truncated_tail = Some(TailTruncation {
            segment: n,
            offset: off,
            dropped_bytes: self.len - off,
            discarded_records: after,
            kind,
        });
    }

    /// Notes the damaged range from `off` to the next intact record `next` (or to the end of
    /// the segment) as skipped, and its repair.
    fn skip_damage(
        &mut self,
        off: u64,
        next: Option<(u64, RecordHeader)>,
        kind: CorruptionKind,
    ) -> AfterDamage {
        let n = self.n;
        let to = next.map_or(self.len, |(q, _)| q);
        self.ctx.report.skipped.push(SkippedRange {
            segment: n,
            offset: off,
            len_bytes: to - off,
            cut: next.is_none(),
            kind,
        });
        if next.is_none() {
            // Damage runs to the end of the segment: nothing there to keep.
            self.ctx.repairs.push(Repair::Truncate {
                segment: n,
                len: off,
            });
            return AfterDamage::Stop;
        }
        self.ctx.repairs.push(Repair::Skip {
            segment: n,
            from: off,
            to,
        });
        AfterDamage::ResumeAt(to)
    }

    /// Bytes from `off` to the segment's end that the scan stopped short of.
    fn check_unaddressable_tail(&mut self, off: u64) -> Result<()> {
        if off < self.len {
            // Only past the 4 GiB a segment can address: not records, whatever it is.
            let kind = CorruptionKind::BadField {
                field: "segment length",
                value: self.len,
            };
            if !self.is_last && self.ctx.mode == RecoveryMode::Strict {
                return Err(self.corruption(off, kind));
            }
            self.ctx.repairs.push(Repair::Truncate {
                segment: self.n,
                len: off,
            });
        }
        Ok(())
    }
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
