//! Loads Prometheus text exposition with millisecond timestamps (`name{labels} value ts_ms`, one
//! sample per line, as in `../shared/data/*.prom.zst`) into per-series columns. Bench-side only:
//! the engine's importer is its own, stricter parser.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// One series' samples in file order.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub key: String,
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

/// Parses a Prometheus float: Go's `strconv.ParseFloat` spellings (`NaN`, `+Inf`, `-Inf`, …).
pub fn parse_value(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Reads a `.prom` or `.prom.zst` file into series, in order of first appearance.
pub fn load(path: &Path) -> io::Result<Vec<Series>> {
    let file = File::open(path)?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(zstd::stream::read::Decoder::new(file)?)
    } else {
        Box::new(file)
    };
    parse(BufReader::with_capacity(1 << 20, reader))
}

/// Parses exposition lines; comment and blank lines are skipped, a malformed line is an error
/// naming its line number.
pub fn parse(reader: impl BufRead) -> io::Result<Vec<Series>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<Series> = Vec::new();
    for (no, line) in reader.lines().enumerate() {
        let line = line?;
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("line {}: {why}", no + 1),
            )
        };
        // Values and timestamps never contain spaces; label values may, so split from the right.
        let mut parts = line.rsplitn(3, ' ');
        let ts = parts.next().ok_or_else(|| bad("empty"))?;
        let value = parts.next().ok_or_else(|| bad("no value"))?;
        let key = parts.next().ok_or_else(|| bad("no timestamp"))?;
        let ts: i64 = ts.parse().map_err(|_| bad("timestamp is not an integer"))?;
        let value = parse_value(value).ok_or_else(|| bad("value is not a float"))?;
        let i = match index.get(key) {
            Some(&i) => i,
            None => {
                index.insert(key.to_owned(), series.len());
                series.push(Series {
                    key: key.to_owned(),
                    ..Series::default()
                });
                series.len() - 1
            }
        };
        series[i].timestamps.push(ts);
        series[i].values.push(value);
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_with_spaces_and_special_values() {
        let text = "# HELP x\na{l=\"x y\"} NaN 1\na{l=\"x y\"} +Inf 2\nb -Inf 3\n";
        let s = parse(text.as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].key, "a{l=\"x y\"}");
        assert!(s[0].values[0].is_nan());
        assert_eq!(s[0].values[1], f64::INFINITY);
        assert_eq!(s[1].timestamps, vec![3]);
        assert!(parse("a 1".as_bytes()).is_err());
        assert!(parse("a x 1".as_bytes()).is_err());
    }
}
