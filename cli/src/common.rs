//! Shared pieces of the commands: opening a database, options, compact and stats.

use std::path::Path;
use strata_engine::{Db, Fsync, Options};

/// Any error a command reports.
pub type AnyError = Box<dyn std::error::Error>;
pub type CliResult = Result<(), AnyError>;
/// A label set as pairs.
pub type LabelPairs = Vec<(String, String)>;

pub fn fsync_policy(s: &str) -> Result<Fsync, String> {
    match s {
        "always" => Ok(Fsync::Always),
        "interval" => Ok(Options::default().fsync),
        "never" => Ok(Fsync::Never),
        other => Err(format!(
            "--fsync {other:?}: expected always, interval or never"
        )),
    }
}

pub fn open(dir: &Path, fsync: Fsync) -> Result<Db, Box<dyn std::error::Error>> {
    Db::open(
        dir,
        Options {
            fsync,
            ..Options::default()
        },
    )
    .map_err(|e| format!("{}: {e}", dir.display()).into())
}

pub fn compact(dir: &Path) -> CliResult {
    let db = open(dir, Options::default().fsync)?;
    let t0 = std::time::Instant::now();
    let r = db.compact()?;
    let s = db.stats()?;
    println!(
        "blocks written {}, merged {}, expired {} in {:.2}s; {} blocks, {:.4} bytes/sample",
        r.blocks_written,
        r.blocks_merged,
        r.blocks_expired,
        t0.elapsed().as_secs_f64(),
        s.blocks,
        s.block_bytes_per_sample
    );
    db.close()?;
    Ok(())
}

pub fn stats(dir: &Path, json: bool) -> CliResult {
    let db = open(dir, Options::default().fsync)?;
    let s = db.stats()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!("series              {}", s.series);
        println!(
            "samples             {} ({} in the head)",
            s.samples, s.head_samples
        );
        println!("blocks              {}", s.blocks);
        println!("block chunk bytes   {}", s.block_chunk_bytes);
        println!("block index bytes   {}", s.block_index_bytes);
        println!("block meta bytes    {}", s.block_meta_bytes);
        println!("wal bytes           {}", s.wal_bytes);
        println!(
            "bytes/sample        {:.4} (blocks)",
            s.block_bytes_per_sample
        );
    }
    db.close()?;
    Ok(())
}
