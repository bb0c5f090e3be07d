//! The figures issue 3 asks for, side by side in one run on one disk:
//!
//! 1. `dd if=/dev/zero bs=1M conv=fdatasync` MB/s, the disk's sequential write rate;
//! 2. `Interval` append MB/s (including the final sync, as dd's fdatasync) and its share of dd,
//!    next to a plain file written with the same pattern (the WAL's own cost);
//! 3. replay GB/s from the page cache (the log just written);
//! 4. `Always` throughput with 1, 2 and 8 threads, and records per fsync (fsync sharing).
//!
//! `cargo run --release -p strata-wal --example wal_figures`
//! Environment: `STRATA_WAL_FIGURES_DIR` (default `target/wal-figures`, on the disk under test),
//! `STRATA_WAL_FIGURES_MIB` (default 1024), `STRATA_WAL_FIGURES_ROUNDS` (default 3),
//! `STRATA_WAL_FIGURES_SEGMENT_MIB` (segment size for the Interval runs, default 64),
//! `STRATA_WAL_FIGURES_ALWAYS_SECS` (default 2).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_wal::{Options, Position, RecordType, SyncPolicy, Wal};

const MIB: f64 = 1024.0 * 1024.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let root: PathBuf = std::env::var_os("STRATA_WAL_FIGURES_DIR")
        .map_or_else(|| PathBuf::from("target/wal-figures"), PathBuf::from);
    let total_mib: u64 = env_or("STRATA_WAL_FIGURES_MIB", 1024);
    let always_secs: u64 = env_or("STRATA_WAL_FIGURES_ALWAYS_SECS", 2);
    let rounds: usize = env_or("STRATA_WAL_FIGURES_ROUNDS", 3);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("create the figures directory");
    println!(
        "strata-wal figures in {} ({total_mib} MiB per write test)\n",
        root.display()
    );

    // The disk's rate swings between runs (a virtual disk with a host cache), so dd and the WAL
    // take turns, round after round, and each keeps its best round.
    let configs = [(64 << 10, 1), (1 << 10, 1), (1 << 10, 8)];
    let mut dd_mb_s = 0f64;
    let mut raw_mb_s = 0f64;
    let mut wal_mb_s = [0f64; 3];
    let mut replays = Vec::new();
    for round in 0..rounds {
        dd_mb_s = dd_mb_s.max(dd(&root, total_mib));
        raw_mb_s = raw_mb_s.max(raw_interval_write(&root, total_mib));
        for (i, &(record_bytes, threads)) in configs.iter().enumerate() {
            let dir = root.join(format!("interval-{record_bytes}-{threads}"));
            let mb_s = interval_append(&dir, total_mib, record_bytes, threads);
            wal_mb_s[i] = wal_mb_s[i].max(mb_s);
            if round + 1 == rounds && threads == 1 {
                replays.push((record_bytes, replay_gb_s(&dir)));
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    println!("| sequential write, best of {rounds} alternating rounds | MB/s | vs dd |");
    println!("|---|---:|---:|");
    println!("| dd bs=1M conv=fdatasync | {dd_mb_s:.0} | 100% |");
    println!(
        "| plain file, 64 KiB writes, fdatasync every 100 ms (the WAL's pattern, no WAL) | {raw_mb_s:.0} | {:.0}% |",
        100.0 * raw_mb_s / dd_mb_s
    );
    for (&(record_bytes, threads), mb_s) in configs.iter().zip(wal_mb_s) {
        println!(
            "| WAL Interval(100 ms), {} records, {threads} thread(s) | {mb_s:.0} | {:.0}% |",
            human(record_bytes),
            100.0 * mb_s / dd_mb_s
        );
    }

    println!("\n| replay from page cache | GB/s |");
    println!("|---|---:|");
    for (record_bytes, gb_s) in replays {
        println!("| {} records | {gb_s:.2} |", human(record_bytes));
    }

    println!("\n| Always, 1 KiB records | records/s | MB/s | fsyncs/s | records per fsync |");
    println!("|---|---:|---:|---:|---:|");
    for threads in [1, 2, 8] {
        let dir = root.join(format!("always-{threads}"));
        let (records_s, mb_s, syncs_s) =
            always_append(&dir, threads, Duration::from_secs(always_secs));
        println!(
            "| {threads} thread(s) | {records_s:.0} | {mb_s:.1} | {syncs_s:.0} | {:.2} |",
            records_s / syncs_s
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn human(bytes: usize) -> String {
    if bytes >= 1 << 10 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

/// dd's own figure when it prints one in a form we read, else wall time.
fn dd(root: &Path, total_mib: u64) -> f64 {
    let file = root.join("dd.bin");
    let start = Instant::now();
    let out = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", file.display()))
        .args(["bs=1M", &format!("count={total_mib}"), "conv=fdatasync"])
        .output()
        .expect("run dd");
    let wall_s = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success(), "dd failed: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 2.7 s, 398 MB/s"
    let secs = stderr
        .split("copied, ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.replace(',', ".").parse::<f64>().ok())
        .unwrap_or(wall_s);
    total_mib as f64 * MIB / 1e6 / secs
}

/// The WAL's write pattern without the WAL: 64 KiB writes to a plain file, fdatasync every
/// 100 ms and at the end. Tells the WAL's own cost apart from what the sync pattern does.
fn raw_interval_write(root: &Path, total_mib: u64) -> f64 {
    use std::io::Write;
    let path = root.join("raw.bin");
    let mut file = std::fs::File::create(&path).expect("create");
    let chunk = pattern(64 << 10);
    let start = Instant::now();
    let mut last_sync = start;
    for _ in 0..total_mib * 16 {
        file.write_all(&chunk).expect("write");
        if last_sync.elapsed() >= Duration::from_millis(100) {
            file.sync_data().expect("sync");
            last_sync = Instant::now();
        }
    }
    file.sync_data().expect("sync");
    let secs = start.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    total_mib as f64 * MIB / 1e6 / secs
}

/// MB/s (10^6 bytes of payload per second) of `total_mib` MiB appended, including the sync at
/// close that makes all of it durable.
fn interval_append(dir: &Path, total_mib: u64, record_bytes: usize, threads: usize) -> f64 {
    let options = Options {
        sync: SyncPolicy::Interval(Duration::from_millis(100)),
        segment_size_bytes: env_or("STRATA_WAL_FIGURES_SEGMENT_MIB", 64u64) << 20,
        ..Options::default()
    };
    let wal = Arc::new(Wal::open_dir(dir, options).expect("open"));
    let per_thread = (total_mib as usize * (1 << 20)) / record_bytes / threads;
    let payload = pattern(record_bytes);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    wal.append(RecordType::METRICS, &payload).expect("append");
                }
            });
        }
    });
    let wal = Arc::into_inner(wal).expect("threads are done");
    wal.close().expect("close");
    let secs = start.elapsed().as_secs_f64();
    (per_thread * threads * record_bytes) as f64 / 1e6 / secs
}

/// Best of three full replays of the log in `dir`, in GB/s of segment bytes.
fn replay_gb_s(dir: &Path) -> f64 {
    let wal = Wal::open_dir(dir, Options::default()).expect("reopen");
    let end = wal.end();
    let segment_bytes: u64 = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").metadata().expect("stat").len())
        .sum();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut replay = wal.replay(Position::ZERO);
        let mut payload_bytes = 0usize;
        let mut last = Position::ZERO;
        while let Some(r) = replay.next_record() {
            let r = r.expect("replay");
            payload_bytes += black_box(r.payload).len();
            last = r.position;
        }
        best = best.min(start.elapsed().as_secs_f64());
        assert!(last < end && payload_bytes > 0);
    }
    segment_bytes as f64 / 1e9 / best
}

/// Records/s, MB/s and fsyncs/s of `threads` appenders under `Always` for `duration`.
fn always_append(dir: &Path, threads: usize, duration: Duration) -> (f64, f64, f64) {
    let wal = Wal::open_dir(dir, Options::default()).expect("open");
    let payload = pattern(1 << 10);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while start.elapsed() < duration {
                    wal.append(RecordType::METRICS, &payload).expect("append");
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let stats = wal.stats();
    (
        stats.records as f64 / secs,
        stats.bytes as f64 / 1e6 / secs,
        stats.syncs as f64 / secs,
    )
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}
