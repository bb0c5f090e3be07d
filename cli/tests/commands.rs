//! The `strata` binary's promises beyond its data: read-only commands never create a database,
//! output into a closed pipe ends quietly, and data accepted outside retention — and what
//! retention then deletes — is reported, never silent. Small inputs written here; seconds.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// 2026-09-21T14:13:20Z, the pinned "now" of these tests.
const NOW_MS: i64 = 1_790_000_000_000;
/// 2020-01-01T00:00:00Z: far outside the metrics bucket's 15 months at `NOW_MS`.
const Y2020_MS: i64 = 1_577_836_800_000;

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("strata-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn join(&self, s: &str) -> PathBuf {
        self.0.join(s)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run strata")
}

/// Runs `strata`, asserts success, returns standard output.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A database of `series` × `points` samples one second apart, ending at `NOW_MS`, and some
/// spans (the demo's), all at the pinned clock.
fn small_db(dir: &Path, series: usize, points: usize) {
    let file = dir.with_extension("prom");
    let mut text = String::new();
    for i in 0..series {
        for t in 0..points {
            let ts = NOW_MS - 1000 * (points - t) as i64;
            text.push_str(&format!("load{{host=\"h{i}\"}} {t}.5 {ts}\n"));
        }
    }
    std::fs::write(&file, text).unwrap();
    let now = NOW_MS.to_string();
    let out = ok(&["import", "--db", s(dir), "--now", &now, s(&file)]);
    assert!(
        out.contains(&format!("imported {} samples", series * points)),
        "{out}"
    );
    assert!(!out.contains("outside retention"), "{out}");
    let _ = std::fs::remove_file(file);
}

#[test]
fn read_only_commands_on_a_missing_database_fail_and_create_nothing() {
    let tmp = TempDir::new("missing");
    let missing = tmp.join("typo");
    let empty = tmp.join("empty");
    std::fs::create_dir(&empty).unwrap();
    for dir in [&missing, &empty] {
        let d = s(dir);
        let commands: [&[&str]; 9] = [
            &["stats", "--db", d],
            &["stats", "--db", d, "--json"],
            &["export", "--db", d],
            &[
                "query", "--db", d, "--start", "0", "--end", "1", "--step", "1", "up",
            ],
            &["spans", "--db", d],
            &["trace", "--db", d, "0123456789abcdef0123456789abcdef"],
            &["genai", "--db", d],
            &["compact", "--db", d],
            &["bench", "scan", "--db", d],
        ];
        for args in commands {
            let out = run(args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "strata {args:?} succeeded");
            assert!(
                err.contains("no Strata database at"),
                "strata {args:?}: {err}"
            );
            assert!(out.stdout.is_empty(), "strata {args:?} printed data");
        }
    }
    assert!(!missing.exists(), "a read-only command created {missing:?}");
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "a read-only command wrote into an empty directory"
    );
}

#[test]
fn export_into_head_ends_quietly() {
    let tmp = TempDir::new("head");
    let db = tmp.join("db");
    // ~1 MB of export: far more than a pipe buffers, so the writer meets the closed pipe.
    small_db(&db, 100, 300);
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["export", "--db", s(&db)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    {
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
        // `head -n 1` exits here: the read end closes.
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(first.starts_with("load{host=\"h0\"} 0.5 "), "{first}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "a message on stderr: {err}");
    assert!(out.status.success(), "{:?}", out.status);
}

/// Every command that prints, into a pipe whose reader closed before it started.
#[test]
fn every_printing_command_ends_quietly_on_a_closed_pipe() {
    let tmp = TempDir::new("closed-pipe");
    let db = tmp.join("db");
    let now = NOW_MS.to_string();
    ok(&["demo", "--db", s(&db), "--now", &now]);
    let d = s(&db);
    let (start, end) = ((NOW_MS - 3_600_000).to_string(), NOW_MS.to_string());
    let trace_id = {
        let spans: serde_json::Value =
            serde_json::from_str(&ok(&["spans", "--db", d, "--json", "--limit", "1"])).unwrap();
        spans[0]["trace_id"].as_str().unwrap().to_owned()
    };
    let commands: [&[&str]; 10] = [
        &["export", "--db", d],
        &["stats", "--db", d],
        &["stats", "--db", d, "--json"],
        &[
            "query",
            "--db",
            d,
            "--start",
            &start,
            "--end",
            &end,
            "--step",
            "1000",
            "llm_requests_total",
        ],
        &["spans", "--db", d, "--limit", "100000"],
        &["spans", "--db", d, "--json", "--limit", "100000"],
        &["trace", "--db", d, &trace_id],
        &["trace", "--db", d, &trace_id, "--json"],
        &[
            "genai",
            "--db",
            d,
            "--by",
            "model,service",
            "--step",
            "60000",
        ],
        &["genai", "--db", d, "--by", "model", "--json"],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.is_empty(), "strata {args:?}: {err}");
        assert!(out.status.success(), "strata {args:?}: {:?}", out.status);
    }
}

#[test]
fn old_samples_are_reported_at_import_and_when_retention_deletes_them() {
    let tmp = TempDir::new("retention");
    let file = tmp.join("old.prom");
    let mut f = std::fs::File::create(&file).unwrap();
    for (series, i) in [("a", 0), ("a", 1), ("b", 0)] {
        writeln!(f, "up{{job=\"{series}\"}} {i} {}", Y2020_MS + 15_000 * i).unwrap();
    }
    drop(f);
    let now = NOW_MS.to_string();

    // Accepted, but reported as outside retention.
    let db = tmp.join("db");
    let out = ok(&["import", "--db", s(&db), "--now", &now, s(&file)]);
    assert!(out.contains("imported 3 samples of 2 series"), "{out}");
    assert!(
        out.contains("outside retention: 3 of these samples"),
        "{out}"
    );
    let stats: serde_json::Value =
        serde_json::from_str(&ok(&["stats", "--db", s(&db), "--json", "--now", &now])).unwrap();
    assert_eq!(stats["samples"], 3, "{stats}");
    assert_eq!(stats["wal_recovery"]["clean"], true, "{stats}");
    assert_eq!(stats["expired"]["samples"], 0, "{stats}");
    let text = ok(&["stats", "--db", s(&db), "--now", &now]);
    for line in [
        "expired since open",
        "wal recovery        clean",
        "replay              clean",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }

    // The next retention pass deletes them, and says so.
    let out = ok(&["compact", "--db", s(&db), "--now", &now]);
    assert!(
        out.contains("retention expired from bucket metrics: 1 metric blocks (3 samples)"),
        "{out}"
    );
    assert!(ok(&["export", "--db", s(&db)]).is_empty());
    let out = ok(&["compact", "--db", s(&db), "--now", &now]);
    assert!(out.contains("retention expired nothing"), "{out}");

    // At the data's own time they are ordinary samples.
    let db = tmp.join("db-2020");
    let then = (Y2020_MS + 60_000).to_string();
    let out = ok(&["import", "--db", s(&db), "--now", &then, s(&file)]);
    assert!(!out.contains("outside retention"), "{out}");
    let out = ok(&["compact", "--db", s(&db), "--now", &then]);
    assert!(out.contains("retention expired nothing"), "{out}");
    assert_eq!(ok(&["export", "--db", s(&db)]).lines().count(), 3);

    // Refused instead, with the reason.
    let db = tmp.join("db-strict");
    let out = ok(&[
        "import",
        "--db",
        s(&db),
        "--now",
        &now,
        "--reject-outside-retention",
        s(&file),
    ]);
    assert!(out.contains("imported 0 samples"), "{out}");
    assert!(!out.contains("outside retention:"), "{out}");
    assert!(
        out.contains("rejected 3 samples; first: ") && out.contains("retention"),
        "{out}"
    );
}
