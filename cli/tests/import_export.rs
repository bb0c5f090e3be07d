//! `strata import` then `strata export` on all of `../shared/data/node-1s.prom.zst` reproduces
//! every sample (same series, same timestamps, same value bits), before and after `compact`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Command;
use strata_engine::ingest::prom_text::{parse_line, parse_series};

fn data() -> PathBuf {
    strata_testkit::shared_data("node-1s.prom.zst")
}

type Samples = HashMap<Vec<(String, String)>, Vec<(i64, u64)>>;

/// Series (as sorted label pairs) → samples (ts, value bits), from exposition text.
fn parse_all(reader: impl BufRead) -> Samples {
    let mut keys: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut out: Samples = HashMap::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.unwrap();
        let Some(l) = parse_line(&line, i as u64 + 1).unwrap() else {
            continue;
        };
        let labels = keys
            .entry(l.series.to_owned())
            .or_insert_with(|| {
                let mut v = parse_series(l.series, i as u64 + 1).unwrap();
                v.sort();
                v
            })
            .clone();
        out.entry(labels)
            .or_default()
            .push((l.timestamp_ms.unwrap(), l.value.to_bits()));
    }
    out
}

fn strata(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn import_export_round_trip_on_real_data() {
    let db = std::env::temp_dir().join(format!("strata-cli-roundtrip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&db);
    let db_s = db.to_str().unwrap();
    let input = parse_all(BufReader::new(
        zstd::stream::read::Decoder::new(std::fs::File::open(data()).unwrap()).unwrap(),
    ));
    assert_eq!(input.values().map(Vec::len).sum::<usize>(), 2_394_050);

    // The clock pinned an hour after the newest sample: the test means the same in 2030.
    let newest = input.values().flatten().map(|s| s.0).max().unwrap();
    let now = (newest + 3_600_000).to_string();
    let report = String::from_utf8(strata(&[
        "import",
        "--db",
        db_s,
        "--now",
        &now,
        data().to_str().unwrap(),
    ]))
    .unwrap();
    assert!(
        report.contains("imported 2394050 samples of 1199 series"),
        "{report}"
    );
    assert!(!report.contains("outside retention"), "{report}");
    assert!(!report.contains("rejected"), "{report}");

    let exported = strata(&["export", "--db", db_s]);
    assert_eq!(parse_all(&exported[..]), input, "export from the head");
    // Series come out sorted by label set, samples by time.
    let text = String::from_utf8(exported).unwrap();
    let mut last: Option<(&str, i64)> = None;
    for line in text.lines() {
        let (series, rest) = line
            .rsplit_once(' ')
            .map(|(a, ts)| (a.rsplit_once(' ').unwrap().0, ts))
            .unwrap();
        let ts: i64 = rest.parse().unwrap();
        if let Some((ls, lt)) = last
            && ls == series
        {
            assert!(ts > lt, "time order in {series}");
        }
        last = Some((series, ts));
    }

    let compacted = String::from_utf8(strata(&["compact", "--db", db_s, "--now", &now])).unwrap();
    assert!(
        compacted.contains("retention expired nothing"),
        "{compacted}"
    );
    let exported = strata(&["export", "--db", db_s, "--now", &now]);
    assert_eq!(parse_all(&exported[..]), input, "export from blocks");

    let stats: serde_json::Value =
        serde_json::from_slice(&strata(&["stats", "--db", db_s, "--json", "--now", &now])).unwrap();
    assert_eq!(stats["samples"], 2_394_050);
    assert_eq!(stats["series"], 1199);
    // Prometheus needs 1.05 bytes/sample for this file (../shared/anchors/prometheus-block-bytes.sh).
    assert!(
        stats["block_bytes_per_sample"].as_f64().unwrap() < 0.35,
        "{stats}"
    );

    // A selector narrows the export.
    let some =
        String::from_utf8(strata(&["export", "--db", db_s, "--match", "node_load1"])).unwrap();
    assert!(!some.is_empty() && some.lines().all(|l| l.starts_with("node_load1{")));
    let _ = std::fs::remove_dir_all(&db);
}

#[test]
fn malformed_input_is_a_clear_error() {
    let db = std::env::temp_dir().join(format!("strata-cli-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&db);
    let file = db.with_extension("prom");
    std::fs::write(&file, "up{job=\"a\"} 1 1000\nup{job=\"a\" 2 2000\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "import",
            "--db",
            db.to_str().unwrap(),
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    let _ = std::fs::remove_dir_all(&db);
    let _ = std::fs::remove_file(&file);
}
