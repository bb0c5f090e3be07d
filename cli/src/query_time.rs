//! The times and durations `strata query` accepts, turned into Unix milliseconds.
//!
//! - `--time T`, as Prometheus' HTTP API takes `time=`: Unix seconds with an optional fraction
//!   (`1790000000.5`, rounded to the millisecond) or RFC 3339 (`2026-09-21T14:13:20.5Z`,
//!   truncated to the millisecond, as Prometheus' `timestamp.FromTime` does).
//! - `--start`/`--end`: Unix milliseconds, as every other `strata` command takes times, or
//!   RFC 3339.
//! - `--step`: milliseconds, or a Prometheus duration (`15s`, `1m30s`, `1h`).

/// Milliseconds per Prometheus duration unit, longest first (the order units must be written in).
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// `--time`: Unix seconds (with fraction) or RFC 3339, to Unix ms.
pub fn parse_instant(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<f64>() {
        return seconds_to_ms(secs).ok_or_else(|| format!("{s:?}: time out of range"));
    }
    rfc3339_ms(s).ok_or_else(|| {
        format!("{s:?}: expected Unix seconds (e.g. 1790000000.5) or RFC 3339 (e.g. 2026-09-21T14:13:20Z)")
    })
}

/// `--start`/`--end`: Unix ms (an integer) or RFC 3339, to Unix ms.
pub fn parse_ms_or_rfc3339(s: &str) -> Result<i64, String> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    rfc3339_ms(s).ok_or_else(|| {
        format!("{s:?}: expected Unix milliseconds (e.g. 1790000000000) or RFC 3339 (e.g. 2026-09-21T14:13:20Z)")
    })
}

/// `--step`: ms (an integer) or a Prometheus duration, to ms; positive.
pub fn parse_step(s: &str) -> Result<i64, String> {
    let ms = match s.parse::<i64>() {
        Ok(ms) => Some(ms),
        Err(_) => prometheus_duration_ms(s),
    };
    match ms {
        Some(ms) if ms > 0 => Ok(ms),
        Some(_) => Err(format!("{s:?}: the step must be positive")),
        None => Err(format!(
            "{s:?}: expected milliseconds (e.g. 15000) or a duration (e.g. 15s, 1m30s)"
        )),
    }
}

/// Prometheus' `parseTime` for a number: whole seconds, plus the fraction rounded to ms.
fn seconds_to_ms(secs: f64) -> Option<i64> {
    // Beyond ±2^53 ms whole seconds no longer convert exactly; far beyond any real time.
    if !secs.is_finite() || secs.abs() > 9e12 {
        return None;
    }
    let whole = secs.trunc();
    let frac_ms = ((secs - whole) * 1000.0).round();
    // In range by the bound above: |whole| ≤ 9e12, so |whole·1000| < 2^63.
    Some(whole as i64 * 1000 + frac_ms as i64)
}

/// A Prometheus duration (`model.ParseDuration`): number–unit pairs, units longest first and
/// each at most once, e.g. `1h30m`, `500ms`; `None` if malformed or overflowing.
fn prometheus_duration_ms(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (mut rest, mut total, mut next_unit) = (s, 0i64, 0usize);
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: i64 = rest.get(..digits)?.parse().ok()?;
        rest = &rest[digits..];
        // "ms" before "m": a unit is the longest one the text starts with.
        let (index, unit, ms) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .map(|(i, (u, ms))| (i, *u, *ms))?;
        if index < next_unit {
            return None;
        }
        next_unit = index + 1;
        rest = &rest[unit.len()..];
        total = total.checked_add(n.checked_mul(ms)?)?;
    }
    Some(total)
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as Go's `time.RFC3339Nano` parses it)
/// to Unix ms, the fraction truncated to the millisecond.
fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = s.get(from..to)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac_ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let first3 = format!("{:0<3}", &frac[..digits.min(3)]);
        frac_ms = first3.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_s = zone_offset_s(rest)?;
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(secs * 1000 + frac_ms)
}

/// `Z` or `±HH:MM` to seconds east of UTC.
fn zone_offset_s(z: &str) -> Option<i64> {
    if z == "Z" {
        return Some(0);
    }
    let b = z.as_bytes();
    if b.len() != 6 || b[3] != b':' || !b[1..3].iter().chain(&b[4..]).all(u8::is_ascii_digit) {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m): (i64, i64) = (z[1..3].parse().ok()?, z[4..6].parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_as_prometheus_reads_them() {
        assert_eq!(parse_instant("1790000000"), Ok(1_790_000_000_000));
        assert_eq!(parse_instant("1790000000.5"), Ok(1_790_000_000_500));
        assert_eq!(parse_instant("1790000000.0004"), Ok(1_790_000_000_000));
        assert_eq!(parse_instant("-1.5"), Ok(-1500));
        assert_eq!(parse_instant("2026-09-21T14:13:20Z"), Ok(1_790_000_000_000));
        assert_eq!(
            parse_instant("2026-09-21T16:13:20.1239+02:00"),
            Ok(1_790_000_000_123)
        );
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_instant("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000));
        for bad in [
            "",
            "NaN",
            "inf",
            "1e300",
            "2026-02-30T00:00:00Z",
            "2026-09-21 14:13:20Z",
            "2026-09-21T14:13:20",
            "2026-09-21T14:13:20.Z",
            "2026-09-21T24:00:00Z",
            "yesterday",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn range_bounds_and_steps() {
        assert_eq!(parse_ms_or_rfc3339("1790000000000"), Ok(1_790_000_000_000));
        assert_eq!(
            parse_ms_or_rfc3339("2026-09-21T14:13:20Z"),
            Ok(1_790_000_000_000)
        );
        assert!(parse_ms_or_rfc3339("1790000000.5").is_err());
        assert_eq!(parse_step("15000"), Ok(15_000));
        assert_eq!(parse_step("15s"), Ok(15_000));
        assert_eq!(parse_step("1m30s"), Ok(90_000));
        assert_eq!(parse_step("1h500ms"), Ok(3_600_500));
        assert_eq!(parse_step("2d"), Ok(172_800_000));
        for bad in ["0", "-5", "0s", "30s1m", "1m1m", "1.5s", "s", "5x", ""] {
            assert!(parse_step(bad).is_err(), "{bad:?}");
        }
    }
}
