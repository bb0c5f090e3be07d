//! A database written by the engine before issue 12's fix (`golden/legacy_wal_truncated`,
//! 20 series × 900 scrapes, 64 KiB WAL segments): its checkpoints truncated the segment that
//! defined the series, and the next segment starts with samples for them — the old engine
//! refused to reopen it ("record at 4:32: sample for undefined series 0"), strict and salvage.
//! It opens now, strict and salvage, with every sample.

use std::path::{Path, PathBuf};
use strata_engine::{Clock, Db, Fsync, Matcher, Options};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_log_truncated_by_the_old_checkpoint_opens_with_every_sample() {
    let golden =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/legacy_wal_truncated");
    for salvage in [false, true] {
        let dir = std::env::temp_dir().join(format!(
            "strata-legacy-wal-{}-{salvage}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&golden, &dir);
        let opts = Options {
            fsync: Fsync::Never,
            wal_segment_bytes: 64 << 10,
            block_duration_ms: 3_600_000,
            wal_salvage: salvage,
            clock: Clock::fixed(1_795_000_000_000 + 86_400_000),
            ..Options::default()
        };
        let db = Db::open(&dir, opts.clone()).unwrap_or_else(|e| panic!("salvage {salvage}: {e}"));
        let report = db.replay_report();
        assert!(report.superseded_samples > 0, "{report:?}");
        assert!(report.is_clean(), "{report:?}");
        let got = db
            .select(&[Matcher::equal("__name__", "legacy")], i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(got.len(), 20);
        for s in &got {
            assert_eq!(s.timestamps_ms.len(), 900, "{:?}", s.labels);
            for (k, (&t, &v)) in s.timestamps_ms.iter().zip(&s.values).enumerate() {
                assert_eq!((t, v), (1_795_000_000_000 + k as i64 * 15_000, k as f64));
            }
        }
        // And it keeps working: a compaction and a reopen later, the same.
        db.compact().unwrap();
        db.close().unwrap();
        let db = Db::open(&dir, opts).unwrap();
        assert_eq!(db.stats().unwrap().samples, 18_000);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
