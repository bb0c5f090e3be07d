//! Index files on disk: written, synced, memory-mapped, and answering like the index they came
//! from; errors from the file system are typed.

use strata_index::{Error, IndexFile, LabelIndex, Matcher, MemIndex};

#[test]
fn a_written_file_maps_and_answers_like_memory() {
    let dir = std::env::temp_dir().join(format!("strata-index-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("index");
    let mut mem = MemIndex::new();
    for i in 0..5000u32 {
        let (svc, model) = (format!("svc-{}", i % 7), format!("model-{}", i % 13));
        let le = (i / 91).to_string();
        mem.get_or_insert(&[
            ("__name__", "x"),
            ("service", &svc),
            ("model", &model),
            ("le", &le),
        ])
        .unwrap();
    }
    let size = mem.write_file(&strata_storage::RealFs, &path).unwrap();
    let file = IndexFile::open(&strata_storage::RealFs, &path).unwrap();
    assert_eq!(file.len_bytes(), size);
    file.verify().unwrap();
    let q = [
        Matcher::equal("service", "svc-3"),
        Matcher::regex("model", "model-1.*").unwrap(),
        Matcher::not_regex("le", "1.*").unwrap(),
    ];
    assert_eq!(file.select(&q).unwrap(), mem.select(&q).unwrap());
    assert!(!mem.select(&q).unwrap().is_empty());
    for id in [0, 17, 4999] {
        assert_eq!(file.series_labels(id).unwrap(), mem.labels_owned(id));
    }
    assert_eq!(file.series_labels(5000).unwrap(), None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_and_tiny_files_are_errors() {
    let dir = std::env::temp_dir().join(format!("strata-index-tiny-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(
        IndexFile::open(&strata_storage::RealFs, &dir.join("absent")),
        Err(Error::Io(_))
    ));
    let empty = dir.join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        IndexFile::open(&strata_storage::RealFs, &empty),
        Err(Error::Truncated { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
