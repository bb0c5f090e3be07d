//! `strata export`: the import format back out — labels sorted by name, series sorted by label
//! set, samples by time, floats that parse back to the same value.

use std::io::Write;
use std::path::Path;
use strata_engine::ingest::prom_text::{format_series, format_value};
use strata_engine::{MatchOp, Matcher};

use crate::common::{Access, CliResult, close_read, open, options, stdout};

/// Turns a PromQL series selector into matchers (no selector: every series).
pub fn selector_matchers(
    selector: Option<&str>,
) -> Result<Vec<Matcher>, Box<dyn std::error::Error>> {
    use promql_parser::label::MatchOp as P;
    use promql_parser::parser::{self, Expr};
    let Some(sel) = selector else {
        return Ok(vec![Matcher::regex("__name__", ".+")?]);
    };
    let expr = parser::parse(sel).map_err(|e| format!("--match {sel:?}: {e}"))?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!("--match {sel:?}: not a series selector").into());
    };
    let mut out = Vec::new();
    if let Some(name) = &vs.name {
        out.push(Matcher::equal("__name__", name.as_str()));
    }
    for m in &vs.matchers.matchers {
        let op = match &m.op {
            P::Equal => MatchOp::Equal,
            P::NotEqual => MatchOp::NotEqual,
            P::Re(_) => MatchOp::RegexMatch,
            P::NotRe(_) => MatchOp::RegexNoMatch,
        };
        out.push(Matcher::new(op, m.name.as_str(), m.value.as_str())?);
    }
    Ok(out)
}

pub fn run(
    dir: &Path,
    selector: Option<&str>,
    start: Option<i64>,
    end: Option<i64>,
    now: Option<i64>,
) -> CliResult {
    let matchers = selector_matchers(selector)?;
    let db = open(dir, options(Access::Existing, now))?;
    let series = db.select(
        &matchers,
        start.unwrap_or(i64::MIN),
        end.unwrap_or(i64::MAX),
    )?;
    // A broken pipe (`| head`) returns from here as an io::Error; main exits quietly.
    let mut out = stdout();
    let mut line = String::with_capacity(256);
    let mut key = String::with_capacity(256);
    for s in &series {
        key.clear();
        format_series(&s.labels, &mut key);
        for (&t, &v) in s.timestamps_ms.iter().zip(&s.values) {
            line.clear();
            line.push_str(&key);
            line.push(' ');
            format_value(v, &mut line);
            line.push(' ');
            line.push_str(itoa_i64(t, &mut [0u8; 20]));
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()?;
    drop(out);
    close_read(db)
}

/// Formats an i64 without allocating.
fn itoa_i64(v: i64, buf: &mut [u8; 20]) -> &str {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).expect("ascii digits")
}
