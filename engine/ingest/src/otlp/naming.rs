//! Metric and label names as Prometheus' OTLP translator makes them (see the `metrics`
//! module docs for the rules).

/// Label name as Prometheus' OTLP translator escapes it.
pub fn sanitize_label_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "key_");
    } else if s.starts_with('_') && !s.starts_with("__") {
        s.insert_str(0, "key");
    }
    s
}

fn unit_word(u: &str) -> Option<&'static str> {
    Some(match u {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => return None,
    })
}

fn per_unit_word(u: &str) -> Option<&'static str> {
    Some(match u {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

/// Words of a unit (`{…}` annotations removed, unknown units sanitised).
fn unit_words(unit: &str) -> Vec<String> {
    let mut cleaned = String::new();
    let mut depth = 0u32;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => cleaned.push(c),
            _ => {}
        }
    }
    let cleaned = cleaned.trim();
    let (main, per) = match cleaned.split_once('/') {
        Some((a, b)) => (a.trim(), Some(b.trim())),
        None => (cleaned, None),
    };
    let mut words = Vec::new();
    if !main.is_empty() && main != "1" {
        words.extend(split_words(unit_word(main).unwrap_or(main)));
    }
    if let Some(per) = per.filter(|p| !p.is_empty()) {
        words.push("per".into());
        words.extend(split_words(per_unit_word(per).unwrap_or(per)));
    }
    words
}

fn split_words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
}

/// A metric name as Prometheus' OTLP translator builds it with suffixes (module docs).
pub fn metric_name(name: &str, unit: &str, gauge: bool, monotonic_sum: bool) -> String {
    let mut words: Vec<String> = split_words(name).collect();
    if monotonic_sum {
        words.retain(|w| w != "total");
    }
    let unit_words = unit_words(unit);
    if !unit_words.is_empty() {
        let joined = unit_words.join("_");
        if !words.join("_").ends_with(&joined) {
            words.extend(unit_words);
        }
    } else if gauge && unit.trim() == "1" && words.last().is_none_or(|w| w != "ratio") {
        words.push("ratio".into());
    }
    if monotonic_sum {
        words.push("total".into());
    }
    let mut out = words.join("_");
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prometheus_translator() {
        assert_eq!(
            metric_name("gen_ai.client.operation.duration", "s", false, false),
            "gen_ai_client_operation_duration_seconds"
        );
        assert_eq!(
            metric_name("gen_ai.client.token.usage", "{token}", false, false),
            "gen_ai_client_token_usage"
        );
        assert_eq!(
            metric_name("http.requests", "1", false, true),
            "http_requests_total"
        );
        assert_eq!(
            metric_name("cache.hit", "1", true, false),
            "cache_hit_ratio"
        );
        assert_eq!(
            metric_name("net.io", "By/s", true, false),
            "net_io_bytes_per_second"
        );
        assert_eq!(
            metric_name("requests.total", "", false, true),
            "requests_total"
        );
        assert_eq!(
            sanitize_label_name("gen_ai.token.type"),
            "gen_ai_token_type"
        );
        assert_eq!(sanitize_label_name("9x"), "key_9x");
        assert_eq!(sanitize_label_name("_x"), "key_x");
    }
}
