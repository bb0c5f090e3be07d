//! WAL layouts written record by record (with `strata-tsdb`'s record encoders) that replay
//! must handle: definitions logged inside a checkpoint by engines before series creation
//! waited for checkpoints, and span checkpoints with and without typed copies.

mod layout {
    use strata_engine::{Db, Fsync, Matcher, Options};
    use strata_tsdb::records::{self, FloatSample, Marker, SeriesRecord};
    use strata_wal::RecordType;

    fn def(id: u64) -> SeriesRecord {
        SeriesRecord {
            series_ref: id,
            labels: vec![
                ("__name__".to_owned(), "m".to_owned()),
                ("i".to_owned(), id.to_string()),
            ],
        }
    }

    /// The layout an engine before the fix could write when a series was created while a
    /// checkpoint was being written: after the checkpoint's marker, the new series'
    /// definitions come before the checkpoint's own (which stop short of them).
    #[test]
    fn definitions_logged_inside_a_checkpoint_are_applied_in_sequence() {
        let dir = std::env::temp_dir().join(format!("strata-recover-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let wal =
                strata_wal::Wal::open_dir(dir.join("wal"), strata_wal::Options::default()).unwrap();
            let mut p = Vec::new();
            let put = |t: RecordType, p: &Vec<u8>| {
                wal.append(t, p).unwrap();
            };
            records::encode_marker(Marker::HeadMinValid(0), &mut p);
            put(RecordType::MARKERS, &p);
            for id in [2, 3] {
                p.clear();
                records::encode_series(&[def(id)], &mut p);
                put(RecordType::SERIES, &p);
            }
            p.clear();
            records::encode_series(&[def(0), def(1)], &mut p);
            put(RecordType::SERIES, &p);
            p.clear();
            let samples: Vec<FloatSample> = (0..4)
                .map(|id| FloatSample {
                    series_ref: id,
                    timestamp_ms: 1000,
                    value: id as f64,
                })
                .collect();
            records::encode_float_samples(&samples, &mut p);
            put(RecordType::METRICS, &p);
            wal.sync().unwrap();
        }
        let opts = Options {
            fsync: Fsync::Never,
            ..Options::default()
        };
        let db = Db::open(&dir, opts).unwrap();
        assert!(db.replay_report().is_clean(), "{:?}", db.replay_report());
        let got = db
            .select(&[Matcher::equal("__name__", "m")], 0, 2000)
            .unwrap();
        assert_eq!(got.len(), 4);
        for s in &got {
            let i: f64 = s
                .labels
                .iter()
                .find(|l| l.0 == "i")
                .unwrap()
                .1
                .parse()
                .unwrap();
            assert_eq!(s.values, vec![i]);
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

mod span_checkpoint {
    use strata_engine::spans::{Span, StatusCode, encode_payload};
    use strata_engine::{Clock, Db, Fsync, Options};
    use strata_tsdb::records::{self, Marker};
    use strata_wal::RecordType;

    const NOW_MS: i64 = 1_795_000_000_000;

    fn span(id: u8) -> Span {
        Span {
            trace_id: [id; 16],
            span_id: [id; 8],
            parent_span_id: None,
            name: format!("op{id}"),
            kind: 1,
            start_ns: (NOW_MS - 60_000) * 1_000_000,
            end_ns: (NOW_MS - 59_000) * 1_000_000,
            status_code: StatusCode::Unset,
            status_message: String::new(),
            resource: Vec::new(),
            scope: String::new(),
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    /// Writes `records` as a WAL and opens a database on it; returns its open span count.
    fn open_spans_after(name: &str, records: &[(RecordType, Vec<u8>)]) -> u64 {
        let dir = std::env::temp_dir().join(format!("strata-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let wal =
                strata_wal::Wal::open_dir(dir.join("wal"), strata_wal::Options::default()).unwrap();
            for (t, p) in records {
                wal.append(*t, p).unwrap();
            }
            wal.sync().unwrap();
        }
        let opts = Options {
            fsync: Fsync::Never,
            clock: Clock::fixed(NOW_MS),
            ..Options::default()
        };
        let db = Db::open(&dir, opts).unwrap();
        let n = db.spans().stats().open_spans;
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
        n
    }

    fn marker(m: Marker) -> (RecordType, Vec<u8>) {
        let mut p = Vec::new();
        records::encode_marker(m, &mut p);
        (RecordType::MARKERS, p)
    }

    fn spans(ids: &[u8]) -> (RecordType, Vec<u8>) {
        let v: Vec<Span> = ids.iter().map(|&i| span(i)).collect();
        (RecordType::SPANS, encode_payload(&v))
    }

    fn copies(ids: &[u8]) -> (RecordType, Vec<u8>) {
        let v: Vec<Span> = ids.iter().map(|&i| span(i)).collect();
        (
            RecordType::SPANS,
            strata_engine::spans::encode_copy_payload(&v),
        )
    }

    /// Spans 1 and 2 logged; a checkpoint copies them while span 3 is appended.
    #[test]
    fn spans_appended_during_a_checkpoint_survive_with_or_without_its_end() {
        let begin = marker(Marker::SpansCheckpointBegin { typed_copies: true });
        let done = [
            spans(&[1, 2]),
            begin.clone(),
            copies(&[1]),
            spans(&[3]),
            copies(&[2]),
            marker(Marker::SpansCheckpointEnd),
        ];
        assert_eq!(open_spans_after("ckpt-done", &done), 3);
        // Died before the end marker: the copies are dropped, span 3 stays.
        let torn = [spans(&[1, 2]), begin, copies(&[1]), spans(&[3])];
        assert_eq!(open_spans_after("ckpt-torn", &torn), 3);
    }

    /// Logs from before typed copies: every span record inside the checkpoint is a copy.
    #[test]
    fn untyped_checkpoints_replay_as_before() {
        let begin = marker(Marker::SpansCheckpointBegin {
            typed_copies: false,
        });
        let done = [
            spans(&[1, 2]),
            begin.clone(),
            spans(&[1, 2]),
            marker(Marker::SpansCheckpointEnd),
        ];
        assert_eq!(open_spans_after("ckpt-old-done", &done), 2);
        let torn = [spans(&[1, 2]), begin, spans(&[1])];
        assert_eq!(open_spans_after("ckpt-old-torn", &torn), 2);
    }
}
