//! Untrusted bytes into the index file reader: opening, querying, reading series and verifying
//! give an error or an answer, never a panic, and never ids outside the file's id space. Each
//! input is tried as is and with its checksums recomputed (`testing::reseal`), so the fuzzer
//! also reaches the structural checks behind the CRCs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use strata_index::testing::reseal;
use strata_index::{IndexFile, LabelIndex, Matcher};

/// Compiled once: regex compilation would otherwise dominate every run.
fn queries() -> &'static [Vec<Matcher>] {
    static QUERIES: OnceLock<Vec<Vec<Matcher>>> = OnceLock::new();
    QUERIES.get_or_init(|| {
        vec![
            vec![
                Matcher::equal("service", "checkout"),
                Matcher::regex("model", "gpt-4.*").unwrap(),
                Matcher::not_equal("provider", "azure"),
            ],
            vec![Matcher::equal("job", "")],
            vec![Matcher::not_regex("model", "c.*|g.*").unwrap()],
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let queries = queries();
    for resealed in [false, true] {
        let mut bytes = data.to_vec();
        if resealed {
            reseal(&mut bytes);
        }
        let Ok(file) = IndexFile::from_bytes(bytes) else {
            continue;
        };
        for q in queries {
            if let Ok(ids) = file.select(q) {
                assert!(ids.max().is_none_or(|m| m < file.id_count()));
            }
        }
        let _ = file.label_names(&queries[0]);
        let _ = file.label_values("model", &[]);
        for id in 0..file.series_count().min(256) {
            let _ = file.series_labels(id);
        }
        let _ = file.verify();
    }
});
