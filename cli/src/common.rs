//! Shared pieces of the commands: opening a database, the clock, standard output, compact and
//! stats.

use std::io::{self, BufWriter, StdoutLock, Write};
use std::path::Path;
use strata_engine::{Clock, CompactReport, Db, Error, ExpiredTotals, Fsync, Options, Stats};

/// Any error a command reports.
pub type AnyError = Box<dyn std::error::Error>;
pub type CliResult = Result<(), AnyError>;
/// A label set as pairs.
pub type LabelPairs = Vec<(String, String)>;

/// Standard output, locked once and buffered. Every command writes through this with
/// `writeln!(out, …)?` — never `println!`, which panics when the reader has gone — and flushes it
/// before returning.
///
/// Broken pipes (`strata export | head`): Rust ignores SIGPIPE, so a write to a closed pipe is
/// an `io::ErrorKind::BrokenPipe` error. It travels up through `?` like any other error and
/// `main` turns it into a quiet exit with status 0 ([`is_broken_pipe`]), as ripgrep does. We do
/// not restore the default SIGPIPE disposition instead: that needs `unsafe` libc calls (the
/// workspace denies `unsafe_code`) and would kill the process in the middle of a command that
/// holds a database open, skipping its orderly close.
pub type Out = BufWriter<StdoutLock<'static>>;

pub fn stdout() -> Out {
    BufWriter::with_capacity(64 << 10, io::stdout().lock())
}

/// Whether `e`, or an error it wraps, is a write to a closed pipe.
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::BrokenPipe
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Writes `v` as pretty JSON and a newline. A broken pipe stays an `io::Error` (see [`Out`]).
pub fn write_json(out: &mut Out, v: &serde_json::Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

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

/// Whether a command may make a database where there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The database must exist (every command that reads, and `compact`): a mistyped `--db`
    /// is an error, and nothing is created.
    Existing,
    /// `import`, `import-otlp`, `demo` and the benchmarks: create the directory and an empty
    /// database when there is none.
    Create,
}

/// The clock of this run: `--now MS` pins it, otherwise the system clock. It goes into the
/// options every database is opened with, and is the only "now" the commands read for data
/// time (`db.options().clock`).
pub fn clock(now: Option<i64>) -> Clock {
    now.map_or_else(Clock::system, Clock::fixed)
}

/// The options a command opens a database with.
pub fn options(access: Access, now: Option<i64>) -> Options {
    Options {
        clock: clock(now),
        create_if_missing: access == Access::Create,
        ..Options::default()
    }
}

/// Opens the database in `dir`; errors name the directory.
pub fn open(dir: &Path, options: Options) -> Result<Db, AnyError> {
    Db::open(dir, options).map_err(|e| match e {
        Error::NoDatabase { .. } => {
            format!("{e} (nothing was created: only import, import-otlp and demo make a database)")
                .into()
        }
        e => format!("{}: {e}", dir.display()).into(),
    })
}

/// Closes `db` and returns what retention deleted while it was open: the background thread
/// runs a pass every 30 s, and at once when an append leaves the head spanning more than 1.5
/// block durations (an import of old and new data together) — that deletion must be reported
/// like `compact`'s.
pub fn close(db: Db) -> Result<ExpiredTotals, AnyError> {
    let handle = db.clone();
    db.close()?;
    Ok(handle.expired_totals())
}

/// Whether retention deleted anything.
pub fn any_expired(x: &ExpiredTotals) -> bool {
    x.metric_blocks
        + x.samples
        + x.span_partitions
        + x.spans
        + x.content_bytes
        + x.event_partitions
        + x.events
        > 0
}

/// `N metric blocks (N samples), N span partitions (N spans, N content bytes)`, and the
/// event partitions when there were any.
pub fn expired_text(x: &ExpiredTotals) -> String {
    let events = if x.event_partitions > 0 {
        format!(
            ", {} event partitions ({} events)",
            x.event_partitions, x.events
        )
    } else {
        String::new()
    };
    format!(
        "{} metric blocks ({} samples), {} span partitions ({} spans, {} content bytes){events}",
        x.metric_blocks, x.samples, x.span_partitions, x.spans, x.content_bytes
    )
}

/// Closes a database a command only read, telling standard error (standard output carries the
/// command's data) if a background retention pass deleted anything meanwhile.
pub fn close_read(db: Db) -> CliResult {
    let expired = close(db)?;
    if any_expired(&expired) {
        eprintln!(
            "strata: note: retention (by the clock; see --now) deleted {} while this command ran",
            expired_text(&expired)
        );
    }
    Ok(())
}

/// UTC `YYYY-MM-DD HH:MM` of a Unix ms time.
pub fn utc_minute(t_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The oldest sample time the metrics bucket keeps by the database's clock, as text.
pub fn metrics_cutoff(db: &Db) -> String {
    let o = db.options();
    let cutoff = o.clock.now_ms().saturating_sub(o.metrics_retention_ms);
    format!("{} UTC", utc_minute(cutoff))
}

/// What retention deleted, one line per bucket; a line saying so when it deleted nothing.
pub fn write_expired(out: &mut Out, r: &CompactReport, cutoff: &str) -> io::Result<()> {
    if r.expired.is_empty() {
        return writeln!(
            out,
            "retention expired nothing (metrics kept from {cutoff}; spans per bucket)"
        );
    }
    for e in &r.expired {
        let mut what = Vec::new();
        if e.metric_blocks > 0 {
            what.push(format!(
                "{} metric blocks ({} samples)",
                e.metric_blocks, e.samples
            ));
        }
        if e.span_partitions > 0 {
            what.push(format!(
                "{} span partitions ({} spans, {} with content, {} content bytes)",
                e.span_partitions, e.spans, e.content_rows, e.content_bytes
            ));
        }
        if e.event_partitions > 0 {
            what.push(format!(
                "{} event partitions ({} events)",
                e.event_partitions, e.events
            ));
        }
        writeln!(
            out,
            "retention expired from bucket {}: {}; {} bytes freed",
            e.bucket,
            what.join(", "),
            e.bytes
        )?;
    }
    Ok(())
}

pub fn wal_dump(dir: &Path) -> CliResult {
    let mut out = std::io::BufWriter::new(stdout());
    strata_engine::dump_wal(dir, &mut out)?;
    out.flush()?;
    Ok(())
}

pub fn compact(dir: &Path, now: Option<i64>) -> CliResult {
    let db = open(dir, options(Access::Existing, now))?;
    let mut out = stdout();
    let t0 = std::time::Instant::now();
    let r = db.compact()?;
    let s = db.stats()?;
    writeln!(
        out,
        "blocks written {}, merged {}; span partitions sealed {} in {:.2}s; {} blocks, {:.4} bytes/sample",
        r.blocks_written,
        r.blocks_merged,
        r.span_partitions_written,
        t0.elapsed().as_secs_f64(),
        s.blocks,
        s.block_bytes_per_sample
    )?;
    write_expired(&mut out, &r, &metrics_cutoff(&db))?;
    // A background pass may have run while this command had the database open.
    let total = close(db)?;
    let mut ours = ExpiredTotals::default();
    for e in &r.expired {
        ours.metric_blocks += e.metric_blocks as u64;
        ours.samples += e.samples;
        ours.span_partitions += e.span_partitions as u64;
        ours.spans += e.spans;
        ours.content_bytes += e.content_bytes;
        ours.event_partitions += e.event_partitions as u64;
        ours.events += e.events;
    }
    let background = ExpiredTotals {
        metric_blocks: total.metric_blocks.saturating_sub(ours.metric_blocks),
        samples: total.samples.saturating_sub(ours.samples),
        span_partitions: total.span_partitions.saturating_sub(ours.span_partitions),
        spans: total.spans.saturating_sub(ours.spans),
        content_bytes: total.content_bytes.saturating_sub(ours.content_bytes),
        event_partitions: total.event_partitions.saturating_sub(ours.event_partitions),
        events: total.events.saturating_sub(ours.events),
    };
    if any_expired(&background) {
        writeln!(
            out,
            "retention also expired, in a background pass meanwhile: {}",
            expired_text(&background)
        )?;
    }
    out.flush()?;
    Ok(())
}

pub fn stats(dir: &Path, json: bool, now: Option<i64>) -> CliResult {
    let db = open(dir, options(Access::Existing, now))?;
    let s = db.stats()?;
    let mut out = stdout();
    if json {
        write_json(&mut out, &serde_json::to_value(&s)?)?;
    } else {
        write_stats(&mut out, &s, &metrics_cutoff(&db))?;
    }
    out.flush()?;
    close_read(db)
}

fn write_stats(out: &mut Out, s: &Stats, cutoff: &str) -> io::Result<()> {
    writeln!(out, "series              {}", s.series)?;
    writeln!(
        out,
        "samples             {} ({} in the head)",
        s.samples, s.head_samples
    )?;
    match (s.min_time_ms, s.max_time_ms) {
        (Some(lo), Some(hi)) => writeln!(
            out,
            "time range          {} .. {} UTC ({lo} .. {hi} ms)",
            utc_minute(lo),
            utc_minute(hi)
        )?,
        _ => writeln!(out, "time range          (no samples)")?,
    }
    writeln!(
        out,
        "retention           metrics kept from {cutoff} (older samples go at the next retention pass)"
    )?;
    writeln!(out, "blocks              {}", s.blocks)?;
    writeln!(out, "block chunk bytes   {}", s.block_chunk_bytes)?;
    writeln!(out, "block index bytes   {}", s.block_index_bytes)?;
    writeln!(out, "block meta bytes    {}", s.block_meta_bytes)?;
    writeln!(out, "wal bytes           {}", s.wal_bytes)?;
    writeln!(
        out,
        "bytes/sample        {:.4} (blocks)",
        s.block_bytes_per_sample
    )?;
    writeln!(out, "expired since open  {}", expired_text(&s.expired))?;
    let w = &s.wal_recovery;
    if w.clean {
        writeln!(out, "wal recovery        clean")?;
    } else {
        let mut parts = Vec::new();
        if let Some(at) = &w.truncated_tail {
            parts.push(format!(
                "torn tail cut at {at} ({} bytes)",
                w.truncated_tail_bytes
            ));
        }
        if !w.skipped_ranges.is_empty() {
            parts.push(format!(
                "{} damaged ranges skipped ({} bytes: {})",
                w.skipped_ranges.len(),
                w.skipped_bytes,
                w.skipped_ranges.join(", ")
            ));
        }
        if !w.repaired_headers.is_empty() {
            let segs: Vec<String> = w.repaired_headers.iter().map(u64::to_string).collect();
            parts.push(format!("segment headers repaired: {}", segs.join(", ")));
        }
        writeln!(out, "wal recovery        {}", parts.join("; "))?;
    }
    let r = &s.replay;
    let mut parts = Vec::new();
    if r.unattributable_samples > 0 {
        parts.push(format!(
            "{} samples skipped, no surviving series definition (records {}; series refs {})",
            r.unattributable_samples,
            r.unattributable_records.join(", "),
            r.unattributable_series
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if r.torn_batches > 0 {
        parts.push(format!(
            "{} unacknowledged batches dropped ({} samples; the writer died mid-batch)",
            r.torn_batches, r.torn_batch_samples
        ));
    }
    if r.superseded_samples > 0 {
        parts.push(format!(
            "{} samples superseded by a checkpoint (held there again, nothing lost)",
            r.superseded_samples
        ));
    }
    if parts.is_empty() {
        writeln!(out, "replay              clean")?;
    } else {
        writeln!(out, "replay              {}", parts.join("; "))?;
    }
    Ok(())
}
