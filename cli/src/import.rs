//! `strata import`: streams Prometheus text exposition into the database, committing in batches
//! as it reads, so an endless stdin is ingested continuously.

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;
use strata_engine::SeriesRef;
use strata_engine::ingest::prom_text::{
    Comment, parse_comment, parse_exemplar, parse_line, parse_series,
};
use strata_engine::{Exemplar, MetricKind, MetricMetadata};

use crate::common::{
    Access, CliResult, any_expired, close, expired_text, fsync_policy, metrics_cutoff, open,
    options, stdout,
};

/// Samples per commit.
const BATCH_SAMPLES: usize = 50_000;

/// Counts bytes read from the underlying file, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

fn input(file: &str, bar: &ProgressBar) -> io::Result<Box<dyn BufRead>> {
    let raw: Box<dyn Read> = if file == "-" {
        Box::new(io::stdin().lock())
    } else {
        let f = File::open(file).map_err(|e| io::Error::new(e.kind(), format!("{file}: {e}")))?;
        if let Ok(m) = f.metadata() {
            bar.set_length(m.len());
        }
        Box::new(f)
    };
    let counted = Counting {
        inner: raw,
        bar: bar.clone(),
    };
    Ok(if file.ends_with(".zst") {
        Box::new(BufReader::with_capacity(
            1 << 20,
            zstd::stream::read::Decoder::new(counted)?,
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, counted))
    })
}

pub fn run(
    dir: &Path,
    fsync: &str,
    file: &str,
    reject_outside_retention: bool,
    now: Option<i64>,
) -> CliResult {
    let db = open(
        dir,
        strata_engine::Options {
            fsync: fsync_policy(fsync)?,
            reject_outside_retention,
            ..options(Access::Create, now)
        },
    )?;
    let clock = db.options().clock.clone();
    let bar = if file == "-" {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} read, {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut reader = input(file, &bar)?;
    let t0 = Instant::now();
    let mut refs_by_key: HashMap<String, SeriesRef> = HashMap::new();
    let (mut refs, mut ts, mut vs) = (
        Vec::with_capacity(BATCH_SAMPLES),
        Vec::with_capacity(BATCH_SAMPLES),
        Vec::with_capacity(BATCH_SAMPLES),
    );
    let (mut accepted, mut rejected, mut outside_retention) = (0usize, 0usize, 0usize);
    let mut first_rejection: Option<String> = None;
    let mut line = String::new();
    let mut line_no = 0u64;
    let mut metadata: BTreeMap<String, MetricMetadata> = BTreeMap::new();
    let mut exemplars: Vec<(SeriesRef, Exemplar)> = Vec::new();
    let mut commit =
        |refs: &mut Vec<SeriesRef>, ts: &mut Vec<i64>, vs: &mut Vec<f64>| -> CliResult {
            let out = db.append_batch(refs, ts, vs)?;
            accepted += out.accepted;
            outside_retention += out.outside_retention;
            rejected += out.rejected.len();
            if first_rejection.is_none() {
                first_rejection = out.rejected.first().map(|(_, e)| e.to_string());
            }
            refs.clear();
            ts.clear();
            vs.clear();
            Ok(())
        };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        line_no += 1;
        if let Some(c) = parse_comment(&line) {
            note_metadata(&mut metadata, c);
            continue;
        }
        let Some(sample) = parse_line(&line, line_no)? else {
            continue;
        };
        let r = match refs_by_key.get(sample.series) {
            Some(&r) => r,
            None => {
                let labels = parse_series(sample.series, line_no)?;
                let r = db
                    .series_ref(&labels)
                    .map_err(|e| format!("line {line_no}: {e}"))?;
                refs_by_key.insert(sample.series.to_owned(), r);
                r
            }
        };
        let t = sample.timestamp_ms.unwrap_or_else(|| clock.now_ms());
        if let Some(text) = sample.exemplar {
            let (labels, value, ex_t) = parse_exemplar(text, line_no)?;
            let t_ms = ex_t.unwrap_or(t);
            exemplars.push((
                r,
                Exemplar {
                    labels,
                    value,
                    t_ms,
                },
            ));
        }
        refs.push(r);
        ts.push(t);
        vs.push(sample.value);
        if refs.len() == BATCH_SAMPLES {
            commit(&mut refs, &mut ts, &mut vs)?;
            bar.set_message(format!("{line_no} lines"));
        }
    }
    commit(&mut refs, &mut ts, &mut vs)?;
    let ex = db.append_exemplars(&exemplars)?;
    let entries: Vec<(&str, MetricMetadata)> = metadata
        .iter()
        .map(|(n, m)| (n.as_str(), m.clone()))
        .collect();
    db.set_metadata(&entries)?;
    db.sync()?;
    let cutoff = metrics_cutoff(&db);
    let series = refs_by_key.len();
    let expired = close(db)?;
    let secs = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let mut out = stdout();
    writeln!(
        out,
        "imported {} samples of {} series in {:.2}s: {:.0} samples/s",
        accepted,
        series,
        secs,
        accepted as f64 / secs
    )?;
    if !exemplars.is_empty() || !metadata.is_empty() {
        writeln!(
            out,
            "exemplars: {} stored, {} repeated, {} refused{}; metadata for {} metrics",
            ex.stored,
            ex.duplicates,
            ex.refused,
            ex.first_refusal
                .map(|w| format!(" (first: {w})"))
                .unwrap_or_default(),
            metadata.len()
        )?;
    }
    if outside_retention > 0 {
        writeln!(
            out,
            "outside retention: {outside_retention} of these samples are older than the metrics bucket keeps (from {cutoff}): the next retention pass (strata compact, or the background thread) deletes them; --now MS imports at the data's own time, --reject-outside-retention refuses them"
        )?;
    }
    if rejected > 0 {
        writeln!(
            out,
            "rejected {rejected} samples; first: {}",
            first_rejection.unwrap_or_default()
        )?;
    }
    if any_expired(&expired) {
        writeln!(
            out,
            "retention expired during the import (a background pass): {}",
            expired_text(&expired)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Adds a `# TYPE` / `# HELP` / `# UNIT` comment to the metadata gathered so far.
fn note_metadata(metadata: &mut BTreeMap<String, MetricMetadata>, c: Comment<'_>) {
    match c {
        Comment::Type { metric, kind } => {
            metadata.entry(metric.to_owned()).or_default().kind =
                MetricKind::parse(kind).unwrap_or(MetricKind::Unknown);
        }
        Comment::Help { metric, text } => {
            metadata.entry(metric.to_owned()).or_default().help = text;
        }
        Comment::Unit { metric, unit } => {
            metadata.entry(metric.to_owned()).or_default().unit = unit.to_owned();
        }
    }
}
