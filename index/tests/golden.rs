//! Golden file: a small index encoded in format v1, committed under `tests/golden/`. A change
//! to the writer that alters any byte fails here, and so does a reader that can no longer
//! answer from the committed bytes. Regenerate deliberately (a format change needs a new
//! version) with `STRATA_BLESS=1`.

use common::small_index;
use std::path::PathBuf;
use strata_index::{IndexFile, LabelIndex, Matcher, RowIndex};

mod common;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check_golden(name: &str, bytes: &[u8]) -> Vec<u8> {
    let path = golden(name);
    if std::env::var_os("STRATA_BLESS").is_some() {
        std::fs::write(&path, bytes).unwrap();
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        bytes,
        want.as_slice(),
        "{name} differs from the committed golden file"
    );
    want
}

#[test]
fn series_index_v1_golden() {
    let bytes = check_golden("index_v1_series.bin", &small_index().encode().unwrap());
    let file = IndexFile::from_bytes(bytes).unwrap();
    file.verify().unwrap();
    assert_eq!((file.id_count(), file.series_count()), (11, 11));
    let sel = file
        .select(&[
            Matcher::equal("service", "checkout"),
            Matcher::regex("model", "gpt-4.*").unwrap(),
            Matcher::not_equal("provider", "azure"),
        ])
        .unwrap();
    assert_eq!(sel.iter().collect::<Vec<_>>(), [0, 1]);
    assert_eq!(
        file.series_labels(10).unwrap().unwrap().to_string(),
        r#"{__name__="up", job="node"}"#
    );
    assert_eq!(
        file.label_values("service", &[]).unwrap(),
        ["checkout", "search", "日本"]
    );
}

#[test]
fn row_index_v1_golden() {
    let mut rows = RowIndex::new();
    rows.add_row(
        0,
        &[
            ("service.name", "checkout"),
            ("gen_ai.request.model", "gpt-4o"),
        ],
    )
    .unwrap();
    rows.add_row(1, &[("service.name", "search")]).unwrap();
    rows.add_row(
        3,
        &[("service.name", "checkout"), ("gen_ai.system", "openai")],
    )
    .unwrap();
    let bytes = check_golden("index_v1_rows.bin", &rows.encode().unwrap());
    let file = IndexFile::from_bytes(bytes).unwrap();
    file.verify().unwrap();
    assert_eq!((file.id_count(), file.series_count()), (4, 0));
    let sel = file
        .select(&[Matcher::not_equal("service.name", "search")])
        .unwrap();
    // Row 2 was never added: it is not a row of this index.
    assert_eq!(sel.iter().collect::<Vec<_>>(), [0, 3]);
}
