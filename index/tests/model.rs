//! Model test: for random label sets and random matcher combinations, every index (in memory,
//! file, rows) returns exactly what a naive scan over the label sets returns. The naive side
//! evaluates regexes with the `regex` crate directly, so the index's regex analysis (literal
//! sets, prefixes) is checked against the real thing.

use proptest::prelude::*;
use regex::Regex;
use strata_index::{IndexFile, LabelIndex, Labels, Limits, MatchOp, Matcher, MemIndex, RowIndex};

const NAMES: [&str; 5] = ["__name__", "a", "model", "svc", "b"];
const VALUES: [&str; 16] = [
    "gpt-4o-",
    "gpt-",
    "",
    "x",
    "y",
    "gpt-4",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-5",
    "claude",
    "ü",
    "日本",
    "日本語",
    "a\nb",
    "GPT-4o",
];
const PATTERNS: [&str; 24] = [
    ".*",
    ".+",
    "",
    "gpt-4.*",
    "gpt-4o-.+",
    "gpt-4o?",
    "gpt-4.1",
    r"gpt-4\.1|claude",
    "x|y",
    "(?:x|)",
    "(x|y)",
    "gpt-(4|5).*",
    "[a-z]+",
    "(?i)gpt.*",
    "日本.*",
    "a.b",
    ".*o.*",
    "x|",
    "ü",
    ".",
    "claude|.*mini",
    "^x$",
    "gpt-4o-mini|gpt-4o",
    r"\w+",
];

fn label_set() -> impl Strategy<Value = Vec<(String, String)>> {
    // __name__ always present (and non-empty) so every set is a valid series.
    (
        1..3usize,
        prop::collection::vec((1..NAMES.len(), 0..VALUES.len()), 0..5),
    )
        .prop_map(|(m, rest)| {
            let mut seen = vec!["__name__"];
            let mut out = vec![("__name__".to_owned(), format!("m{m}"))];
            for (n, v) in rest {
                if !seen.contains(&NAMES[n]) {
                    seen.push(NAMES[n]);
                    out.push((NAMES[n].to_owned(), VALUES[v].to_owned()));
                }
            }
            out
        })
}

#[derive(Debug, Clone)]
struct Spec {
    op: MatchOp,
    name: &'static str,
    value: &'static str,
}

fn matcher() -> impl Strategy<Value = Spec> {
    let names = prop::sample::select(vec!["__name__", "a", "model", "svc", "b", "absent"]);
    prop_oneof![
        (
            names.clone(),
            prop::sample::select(VALUES.to_vec()),
            any::<bool>()
        )
            .prop_map(|(name, value, neg)| Spec {
                op: if neg {
                    MatchOp::NotEqual
                } else {
                    MatchOp::Equal
                },
                name,
                value,
            }),
        (
            names,
            prop::sample::select(PATTERNS.to_vec()),
            any::<bool>()
        )
            .prop_map(|(name, value, neg)| Spec {
                op: if neg {
                    MatchOp::RegexNoMatch
                } else {
                    MatchOp::RegexMatch
                },
                name,
                value,
            }),
    ]
}

/// The oracle: Prometheus semantics spelled out directly.
fn naive_matches(s: &Spec, labels: &Labels) -> bool {
    let v = labels.get(s.name).unwrap_or("");
    match s.op {
        MatchOp::Equal => v == s.value,
        MatchOp::NotEqual => v != s.value,
        MatchOp::RegexMatch | MatchOp::RegexNoMatch => {
            let re = Regex::new(&format!("^(?s:{})$", s.value)).unwrap();
            re.is_match(v) == (s.op == MatchOp::RegexMatch)
        }
    }
}

/// A named way of answering a query.
type Select<'a> = (&'a str, &'a dyn Fn(&[Matcher]) -> Vec<u32>);

fn check_all(
    series: &[Labels],
    specs: &[Spec],
    indexes: &[Select<'_>],
) -> Result<(), TestCaseError> {
    let matchers: Vec<Matcher> = specs
        .iter()
        .map(|s| Matcher::new(s.op, s.name, s.value).unwrap())
        .collect();
    let want: Vec<u32> = (0..series.len() as u32)
        .filter(|&id| specs.iter().all(|s| naive_matches(s, &series[id as usize])))
        .collect();
    for (what, select) in indexes {
        prop_assert_eq!(&select(&matchers), &want, "{} for {:?}", what, specs);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_index_agrees_with_a_naive_scan(
        raw in prop::collection::vec(label_set(), 1..40),
        queries in prop::collection::vec(prop::collection::vec(matcher(), 1..4), 1..8),
    ) {
        let mut mem = MemIndex::new();
        let mut rows = RowIndex::new();
        // The model: distinct canonical sets in order of first appearance.
        let mut series: Vec<Labels> = Vec::new();
        for l in &raw {
            let id = mem.get_or_insert(l).unwrap();
            let canon = Labels::new(l, &Limits::default()).unwrap();
            if id as usize == series.len() {
                series.push(canon.clone());
                rows.add_row(id, l).unwrap();
            }
            prop_assert_eq!(&series[id as usize], &canon);
            prop_assert_eq!(mem.get(l).unwrap(), Some(id));
        }
        let file = IndexFile::from_bytes(mem.encode().unwrap()).unwrap();
        file.verify().unwrap();
        let row_file = IndexFile::from_bytes(rows.encode().unwrap()).unwrap();
        for (id, l) in series.iter().enumerate() {
            prop_assert_eq!(mem.labels_owned(id as u32), Some(l.clone()));
            prop_assert_eq!(file.series_labels(id as u32).unwrap(), Some(l.clone()));
        }
        let ids = |b: roaring::RoaringBitmap| b.iter().collect::<Vec<u32>>();
        for specs in &queries {
            check_all(&series, specs, &[
                ("mem", &|m| ids(mem.select(m).unwrap())),
                ("file", &|m| ids(file.select(m).unwrap())),
                ("rows", &|m| ids(rows.select(m).unwrap())),
                ("row file", &|m| ids(row_file.select(m).unwrap())),
            ])?;
            // Autocompletion under the same matchers.
            let matchers: Vec<Matcher> =
                specs.iter().map(|s| Matcher::new(s.op, s.name, s.value).unwrap()).collect();
            let selected = mem.select(&matchers).unwrap();
            for name in ["a", "model", "absent"] {
                let mut want: Vec<String> = selected
                    .iter()
                    .filter_map(|id| series[id as usize].get(name).map(str::to_owned))
                    .collect();
                want.sort();
                want.dedup();
                prop_assert_eq!(&mem.label_values(name, &matchers).unwrap(), &want);
                prop_assert_eq!(&file.label_values(name, &matchers).unwrap(), &want);
            }
            let mut names: Vec<String> = selected
                .iter()
                .flat_map(|id| series[id as usize].iter().map(|(n, _)| n.to_owned()).collect::<Vec<_>>())
                .collect();
            names.sort();
            names.dedup();
            prop_assert_eq!(&mem.label_names(&matchers).unwrap(), &names);
            prop_assert_eq!(&file.label_names(&matchers).unwrap(), &names);
        }
    }
}
