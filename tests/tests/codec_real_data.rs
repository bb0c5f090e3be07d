//! Round-trips every series of the real Prometheus capture in `../shared/data` through Gorilla
//! chunks of 120 samples, bit for bit. (A codec test kept here, not in `codec/tests/`: the test
//! kit that finds the data depends on `strata-spans`, which depends on the codec.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use strata_codec::gorilla::{ChunkAppender, ChunkLimits, decode_into};

fn data_path() -> PathBuf {
    strata_testkit::shared_data_dir().join("node-1s.prom.zst")
}

/// `series key -> (timestamps, values)` from `name{labels} value ts_ms` lines.
fn load() -> HashMap<String, (Vec<i64>, Vec<f64>)> {
    let path = data_path();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set STRATA_DATA_DIR to ../shared/data)",
            path.display()
        )
    });
    let reader = BufReader::new(zstd::stream::read::Decoder::new(file).unwrap());
    let mut series: HashMap<String, (Vec<i64>, Vec<f64>)> = HashMap::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (rest, ts) = line.rsplit_once(' ').expect("timestamp");
        let (key, value) = rest.rsplit_once(' ').expect("value");
        let e = series.entry(key.to_owned()).or_default();
        e.0.push(ts.parse().expect("integer timestamp"));
        e.1.push(value.parse().expect("float value"));
    }
    series
}

#[test]
fn every_real_series_round_trips_bit_exact() {
    let series = load();
    assert_eq!(series.len(), 1199, "series in node-1s");
    let mut samples = 0usize;
    let mut bytes = 0usize;
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for (key, (t, v)) in &series {
        ts.clear();
        vs.clear();
        let mut app = ChunkAppender::new(ChunkLimits::default()).unwrap();
        let mut chunks = Vec::new();
        for (&ti, &vi) in t.iter().zip(v) {
            if app.is_full() {
                chunks.push(app.to_bytes().unwrap());
                app = ChunkAppender::new(ChunkLimits::default()).unwrap();
            }
            app.append(ti, vi).unwrap();
        }
        chunks.push(app.to_bytes().unwrap());
        for c in &chunks {
            bytes += c.len();
            decode_into(c, &mut ts, &mut vs).unwrap();
        }
        assert_eq!(&ts, t, "{key}: timestamps");
        let same = vs.iter().zip(v).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same && vs.len() == v.len(), "{key}: values");
        samples += t.len();
    }
    assert_eq!(samples, 2_394_050);
    // tsz needs 0.906 B/sample on this data at the same chunk size (see benches/codec_report).
    let per_sample = bytes as f64 / samples as f64;
    assert!(per_sample < 0.75, "{per_sample:.4} bytes/sample");
}
