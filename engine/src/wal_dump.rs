//! A readable listing of a database's WAL, one line per record: for debugging recovery
//! (`strata wal-dump`), like `promtool tsdb dump` for Prometheus' WAL.

use crate::records::{self, Marker, SamplesRecord};
use crate::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes one line per record of the WAL in `db_dir/wal` to `out`: position, type and a
/// summary (series ids, sample counts and time ranges, markers). Takes the database's lock
/// ([`crate::Error::Locked`] while a `Db` has it open) and opens the log as `Db::open` would
/// in strict mode (damage is an error; a torn tail is cut); never appends records.
pub fn dump_wal(db_dir: &Path, out: &mut dyn Write) -> Result<()> {
    let wal_dir = db_dir.join("wal");
    if !wal_dir.is_dir() {
        return Err(Error::NoDatabase {
            path: db_dir.to_owned(),
        });
    }
    let _lock = crate::db::lock_dir(db_dir)?;
    let wal = strata_wal::Wal::open_dir(&wal_dir, strata_wal::Options::default())?;
    let mut replay = wal.replay(strata_wal::Position::ZERO);
    let io = |e: std::io::Error| Error::io(&wal_dir, e);
    while let Some(record) = replay.next_record() {
        let record = record?;
        let line = describe(record.record_type, record.payload);
        writeln!(out, "{} {}", record.position, line).map_err(io)?;
    }
    Ok(())
}

fn describe(kind: strata_wal::RecordType, payload: &[u8]) -> String {
    use strata_wal::RecordType as T;
    match kind {
        t if t == T::SERIES => match records::decode_series(payload) {
            Ok(defs) => format!("SERIES {}", id_range(defs.iter().map(|d| d.series_ref))),
            Err(e) => format!("SERIES undecodable: {e}"),
        },
        t if t == T::METRICS => match records::decode_samples(payload) {
            Ok(SamplesRecord::Float(s)) => format!("FLOATS {}", samples(&s)),
            Ok(SamplesRecord::FloatPart {
                first,
                last,
                samples: s,
            }) => format!(
                "FLOAT-PART first={} last={last} {}",
                first.map_or("self".to_owned(), |p| p.to_string()),
                samples(&s)
            ),
            Ok(SamplesRecord::Histogram(h)) => format!(
                "HISTOGRAMS n={} series {}",
                h.len(),
                id_range(h.iter().map(|x| x.0))
            ),
            Err(e) => format!("METRICS undecodable: {e}"),
        },
        t if t == T::MARKERS => match records::decode_marker(payload) {
            Ok(Some(Marker::HeadMinValid(t))) => format!("MARKER head-min-valid {t}"),
            Ok(Some(m)) => format!("MARKER {m:?}"),
            Ok(None) => "MARKER unknown kind".to_owned(),
            Err(e) => format!("MARKER undecodable: {e}"),
        },
        t if t == T::SPANS => format!("SPANS {} bytes", payload.len()),
        t => format!("type {t:?} {} bytes", payload.len()),
    }
}

fn samples(s: &[records::FloatSample]) -> String {
    let lo = s.iter().map(|x| x.timestamp_ms).min().unwrap_or(0);
    let hi = s.iter().map(|x| x.timestamp_ms).max().unwrap_or(0);
    format!(
        "n={} series {} t={lo}..{hi}",
        s.len(),
        id_range(s.iter().map(|x| x.series_ref))
    )
}

/// "[a..b] (n distinct)" for a set of series ids.
fn id_range(ids: impl Iterator<Item = u64>) -> String {
    let mut v: Vec<u64> = ids.collect();
    v.sort_unstable();
    v.dedup();
    match (v.first(), v.last()) {
        (Some(a), Some(b)) => format!("[{a}..{b}] ({} distinct)", v.len()),
        _ => "[]".to_owned(),
    }
}
