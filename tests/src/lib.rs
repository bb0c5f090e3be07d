//! Cross-crate integration, crash and fault tests live in `tests/`; this library holds what
//! they share.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs test `test` of the current test binary as a child process with `env` set, lets it
/// run for `run_ms`, SIGKILLs it, and returns every number it printed on a line `ack N`
/// (what it acknowledged before it died).
pub fn run_and_kill(test: &str, env: &[(&str, String)], run_ms: u64) -> Vec<i64> {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| line.strip_prefix("ack ")?.parse::<i64>().ok())
            .collect::<Vec<i64>>()
    });
    let deadline = Instant::now() + Duration::from_millis(run_ms);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill"); // SIGKILL on Unix
    child.wait().expect("reap");
    reader.join().expect("reader")
}
