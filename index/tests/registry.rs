//! The series registry: one id per distinct canonical label set, typed errors that leave the
//! index untouched, and the memory figure of issue 4 (≤ 300 bytes per series beyond the label
//! strings) held at a scale a debug build can afford.

use strata_index::testing::LlmTelemetry;
use strata_index::{Error, LabelIndex, Limits, Matcher, MemIndex};

#[test]
fn one_id_per_canonical_label_set() {
    let mut idx = MemIndex::new();
    let a = idx
        .get_or_insert(&[("__name__", "up"), ("job", "api"), ("zone", "")])
        .unwrap();
    // Order does not matter; an empty value is an absent label.
    assert_eq!(
        idx.get_or_insert(&[("job", "api"), ("__name__", "up")])
            .unwrap(),
        a
    );
    assert_eq!(
        idx.get(&[("job", "api"), ("__name__", "up")]).unwrap(),
        Some(a)
    );
    let b = idx
        .get_or_insert(&[("__name__", "up"), ("job", "db")])
        .unwrap();
    assert_eq!((a, b, idx.len()), (0, 1, 2));
    assert_eq!(
        idx.get(&[("__name__", "up"), ("job", "web")]).unwrap(),
        None
    );
    assert_eq!(idx.get(&[("__name__", "down")]).unwrap(), None);
    assert_eq!(
        idx.labels_owned(a).unwrap().to_string(),
        r#"{__name__="up", job="api"}"#
    );
    assert!(idx.labels(2).is_none());
    // Bytes in, UTF-8 checked.
    let raw: [(&[u8], &[u8]); 2] = [(b"__name__", b"up"), (b"job", b"db")];
    assert_eq!(idx.get_or_insert(&raw).unwrap(), b);
}

#[test]
fn rejected_label_sets_change_nothing() {
    let mut idx = MemIndex::with_limits(Limits {
        max_labels: 4,
        ..Limits::default()
    });
    idx.get_or_insert(&[("__name__", "up")]).unwrap();
    let before = idx.memory_usage();
    let bad: [&[(&[u8], &[u8])]; 5] = [
        &[(b"job", b"api")],
        &[(b"__name__", b"up"), (b"job", b"a"), (b"job", b"b")],
        &[(b"__name__", b"up"), (b"", b"a")],
        &[(b"__name__", b"up\xff")],
        &[
            (b"__name__", b"x"),
            (b"a", b"1"),
            (b"b", b"1"),
            (b"c", b"1"),
            (b"d", b"1"),
        ],
    ];
    for labels in bad {
        let e = idx.get_or_insert(labels).unwrap_err();
        assert!(
            matches!(
                e,
                Error::EmptyMetricName
                    | Error::DuplicateLabelName { .. }
                    | Error::EmptyLabelName { .. }
                    | Error::InvalidUtf8 { .. }
                    | Error::TooManyLabels { .. }
            ),
            "{e}"
        );
    }
    assert_eq!(idx.len(), 1);
    assert_eq!(idx.memory_usage(), before);
}

#[test]
fn label_sets_past_the_stack_buffer() {
    let mut idx = MemIndex::new();
    let mut labels: Vec<(String, String)> = (0..60)
        .map(|i| (format!("l{i:02}"), format!("v{i}")))
        .collect();
    labels.push(("__name__".into(), "wide".into()));
    let id = idx.get_or_insert(&labels).unwrap();
    labels.reverse();
    assert_eq!(idx.get_or_insert(&labels).unwrap(), id);
    assert_eq!(idx.labels(id).unwrap().count(), 61);
    let sel = idx.select(&[Matcher::equal("l59", "v59")]).unwrap();
    assert_eq!(sel.iter().collect::<Vec<_>>(), [id]);
}

#[test]
fn memory_per_series_beyond_label_strings_stays_under_300_bytes() {
    let data = LlmTelemetry::new(100_000, 7);
    let mut idx = MemIndex::new();
    for i in 0..data.len() {
        idx.get_or_insert(&data.labels(i)).unwrap();
    }
    let usage = idx.memory_usage();
    assert_eq!(usage.ids, 100_000);
    let per_series = usage.bytes_per_id_beyond_strings();
    assert!(per_series <= 300.0, "{per_series:.1} B/series: {usage:?}");
    // Every string is stored once: a few hundred distinct strings, not 800k.
    assert!(usage.label_string_bytes < 2000, "{usage:?}");
}
