//! `strata bench write`: the workload of `promtool tsdb bench write`, through the Rust API.
//!
//! As promtool does it: the label sets are split into shards of 1000 series; every shard is a
//! writer thread; scrapes run in rounds of 100, each round starting all shards at once; every
//! scrape of a shard is one commit of 1000 samples, 30 s after the previous scrape; values start
//! at 123456789 and grow by 1000 per scrape. WAL on, automatic block cutting off.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;
use strata_engine::{Clock, Options, SeriesRef};

use crate::common::{Access, AnyError, CliResult, LabelPairs, fsync_policy, open, options, stdout};

const SHARD_SERIES: usize = 1000;
const ROUND_SCRAPES: usize = 100;
const SCRAPE_INTERVAL_MS: i64 = 30_000;

fn read_labels(path: &Path, want: usize) -> Result<Vec<LabelPairs>, AnyError> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::with_capacity(want);
    for (i, line) in BufReader::new(f).lines().enumerate() {
        if out.len() == want {
            break;
        }
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let m: BTreeMap<String, String> = serde_json::from_str(&line)
            .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        out.push(m.into_iter().collect());
    }
    if out.len() < want {
        return Err(format!(
            "{} has {} label sets, {want} wanted",
            path.display(),
            out.len()
        )
        .into());
    }
    Ok(out)
}

pub fn write(
    labels_path: &Path,
    series: usize,
    scrapes: usize,
    fsync: &str,
    dir: Option<&Path>,
    now: Option<i64>,
) -> CliResult {
    let labels = read_labels(labels_path, series)?;
    let temp;
    let dir = match dir {
        Some(d) => d.to_owned(),
        None => {
            temp = std::env::temp_dir().join(format!("strata-bench-write-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&temp);
            temp.clone()
        }
    };
    // promtool's timestamps start at 0 (1970): by default the clock reads the workload's last
    // scrape, so the samples are neither in the future nor outside retention (`--now` overrides).
    let last_scrape_ms = SCRAPE_INTERVAL_MS.saturating_mul(scrapes as i64);
    let options = Options {
        fsync: fsync_policy(fsync)?,
        auto_cut: false,
        clock: now.map_or_else(|| Clock::fixed(last_scrape_ms), Clock::fixed),
        ..options(Access::Create, now)
    };
    let db = open(&dir, options)?;
    let shards: Vec<&[Vec<(String, String)>]> = labels.chunks(SHARD_SERIES).collect();
    let mut refs: Vec<Vec<SeriesRef>> = vec![Vec::new(); shards.len()];
    let mut values: Vec<Vec<f64>> = shards
        .iter()
        .map(|s| vec![123_456_789.0; s.len()])
        .collect();

    let t0 = Instant::now();
    let mut total = 0usize;
    let mut round_start = 0;
    while round_start < scrapes {
        let n = ROUND_SCRAPES.min(scrapes - round_start);
        let base_ts = SCRAPE_INTERVAL_MS * round_start as i64;
        let results: Vec<Result<usize, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = shards
                .iter()
                .zip(refs.iter_mut())
                .zip(values.iter_mut())
                .map(|((shard, refs), values)| {
                    let db = &db;
                    scope.spawn(move || -> Result<usize, String> {
                        if refs.is_empty() {
                            for l in shard.iter() {
                                refs.push(db.series_ref(l).map_err(|e| e.to_string())?);
                            }
                        }
                        let mut ts = vec![0i64; refs.len()];
                        let mut count = 0;
                        for i in 0..n {
                            let t = base_ts + SCRAPE_INTERVAL_MS * (i as i64 + 1);
                            ts.fill(t);
                            for v in values.iter_mut() {
                                *v += 1000.0;
                            }
                            let out = db
                                .append_batch(refs, &ts, values)
                                .map_err(|e| e.to_string())?;
                            if let Some((_, e)) = out.rejected.first() {
                                return Err(format!("sample refused: {e}"));
                            }
                            count += out.accepted;
                        }
                        Ok(count)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("writer thread panicked".into()))
                })
                .collect()
        });
        for r in results {
            total += r?;
        }
        round_start += n;
    }
    db.sync()?;
    let secs = t0.elapsed().as_secs_f64();
    let mut out = stdout();
    writeln!(
        out,
        "series={series} scrapes={scrapes} samples={total} seconds={secs:.3} fsync={fsync}"
    )?;
    db.close()?;
    if temp_used(&dir) {
        let _ = std::fs::remove_dir_all(&dir);
    }
    writeln!(out, "samples_per_sec={:.0}", total as f64 / secs)?;
    out.flush()?;
    Ok(())
}

/// Whether `dir` is the temporary directory this command made (and may delete).
fn temp_used(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == format!("strata-bench-write-{}", std::process::id()))
        && dir.starts_with(std::env::temp_dir())
}

/// `strata bench scan`: `select` of every series over all time (head and blocks), best of
/// `rounds`; run with `RAYON_NUM_THREADS=1` for the per-core figure.
pub fn scan(dir: &Path, rounds: usize, now: Option<i64>) -> CliResult {
    let db = open(dir, options(Access::Existing, now))?;
    let all = [strata_engine::Matcher::regex("__name__", ".+")?];
    let mut best = f64::MAX;
    let mut samples = 0;
    for _ in 0..rounds.max(1) {
        let t0 = Instant::now();
        let got = db.select(&all, i64::MIN, i64::MAX)?;
        let secs = t0.elapsed().as_secs_f64();
        samples = got.iter().map(|s| s.timestamps_ms.len()).sum::<usize>();
        std::hint::black_box(&got);
        best = best.min(secs);
    }
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    let mut out = stdout();
    writeln!(out, "samples={samples} seconds={best:.4} threads={threads}")?;
    writeln!(out, "scan_samples_per_sec={:.0}", samples as f64 / best)?;
    out.flush()?;
    crate::common::close_read(db)
}
