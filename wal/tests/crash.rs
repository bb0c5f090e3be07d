//! A real process crash: a child appends with `SyncPolicy::Always` from several threads and
//! prints each acknowledged position; the parent kills it with SIGKILL at a random moment,
//! reopens the log and checks every acknowledged record is there, byte for byte. The child is
//! this test binary re-executed with `crash_child` as the test filter.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use strata_wal::{Options, Position, RecordType, SyncPolicy, Wal};

const CHILD_DIR_ENV: &str = "STRATA_WAL_CRASH_CHILD_DIR";
const CHILD_ROUND_ENV: &str = "STRATA_WAL_CRASH_CHILD_ROUND";
const ROUNDS: u64 = 30;
const CHILD_THREADS: u64 = 4;

fn crash_options() -> Options {
    options(256 << 10, SyncPolicy::Always)
}

/// Payload length for a tag: mostly small, sometimes large enough to be cut by the kill.
fn len_for(tag: u64) -> usize {
    let mut s = tag | 1;
    match xorshift(&mut s) % 10 {
        0 => 20_000 + (xorshift(&mut s) % 50_000) as usize,
        _ => 8 + (xorshift(&mut s) % 2_000) as usize,
    }
}

/// The child: does nothing unless re-executed by the parent with the environment set.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let round: u64 = std::env::var(CHILD_ROUND_ENV).unwrap().parse().unwrap();
    let wal = Arc::new(Wal::open_dir(&dir, crash_options()).unwrap());
    let deadline = Instant::now() + Duration::from_secs(20); // if the parent never kills us
    let threads: Vec<_> = (0..CHILD_THREADS)
        .map(|t| {
            let wal = wal.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    if Instant::now() > deadline {
                        return;
                    }
                    let tag = (round << 40) | (t << 32) | i;
                    let p = wal
                        .append(RecordType::METRICS, &payload(tag, len_for(tag)))
                        .unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {} {} {tag}", p.segment, p.offset).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn sigkill_loses_no_acknowledged_record() {
    let dir = TempDir::new("sigkill");
    let exe = std::env::current_exe().unwrap();
    let mut rng = 0x5151_u64 ^ u64::from(std::process::id());
    let mut acked: Vec<(Position, u64)> = Vec::new();
    let mut torn_tails = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR_ENV, dir.path())
            .env(CHILD_ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (lines_tx, lines_rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut line = Vec::new();
            loop {
                line.clear();
                match stdout.read_until(b'\n', &mut line) {
                    // Only whole lines: a line cut by the kill was never acknowledged in full.
                    Ok(n) if n > 0 && line.ends_with(b"\n") => {
                        let _ = lines_tx.send(String::from_utf8_lossy(&line).into_owned());
                    }
                    _ => return,
                }
            }
        });
        // Kill at a random moment once the child is appending.
        let first = lines_rx.recv_timeout(Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(xorshift(&mut rng) % 150));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        let lines: Vec<String> = first.into_iter().chain(lines_rx.try_iter()).collect();
        assert!(
            !lines.is_empty(),
            "round {round}: the child never acknowledged a record"
        );
        for line in lines.iter().filter(|l| l.starts_with("ack ")) {
            let f: Vec<u64> = line[4..]
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            acked.push((Position::new(f[0], f[1]), f[2]));
        }

        let wal = Wal::open_dir(dir.path(), crash_options())
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        torn_tails += u64::from(wal.recovery_report().truncated_tail.is_some());
        let records = replay_all(&wal).unwrap();
        // Every record in the log is one the child wrote, intact.
        for r in &records {
            let tag = u64::from_le_bytes(r.payload[..8].try_into().unwrap());
            assert_eq!(r.payload, payload(tag, len_for(tag)), "round {round}");
        }
        // Every acknowledged record is there, at its position.
        let by_position: std::collections::HashMap<Position, &[u8]> = records
            .iter()
            .map(|r| (r.position, r.payload.as_slice()))
            .collect();
        for (p, tag) in &acked {
            let got = by_position.get(p).unwrap_or_else(|| {
                panic!("round {round}: acknowledged record {tag:#x} at {p} is gone")
            });
            assert_eq!(*got, payload(*tag, len_for(*tag)).as_slice());
        }
    }
    assert!(
        acked.len() as u64 > ROUNDS,
        "too few acknowledged records to mean much"
    );
    eprintln!(
        "{ROUNDS} kills, {} acknowledged records checked, {torn_tails} torn tails cut",
        acked.len()
    );
}
