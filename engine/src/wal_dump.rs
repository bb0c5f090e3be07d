//! A readable listing of a database's WAL, one line per record: for debugging recovery
//! (`strata wal-dump`), like `promtool tsdb dump` for Prometheus' WAL.

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
    let _lock = crate::db::lock_dir(&strata_storage::RealFs, db_dir)?;
    let wal = strata_wal::Wal::open_dir(&wal_dir, strata_wal::Options::default())?;
    let mut replay = wal.replay(strata_wal::Position::ZERO);
    let io = |e: std::io::Error| Error::io(&wal_dir, e);
    while let Some(record) = replay.next_record() {
        let record = record?;
        let line = strata_tsdb::records::describe(record.record_type, record.payload);
        writeln!(out, "{} {}", record.position, line).map_err(io)?;
    }
    Ok(())
}
