//! Prometheus' own PromQL test files (`../shared/promqltest/*.test`, read in place) run through
//! the real storage path: each `load` is appended to a `Db`, each `eval` answered by it.
//!
//! Prints a table per file (evals, passed, failed, skipped and why) and fails when the pass rate
//! of the stable files — over the evals that do not need native histograms — is below
//! `PROMQLTEST_MIN_PASS` percent (default [`DEFAULT_MIN_PASS`]). `PROMQLTEST_VERBOSE=1` prints
//! every failure, `PROMQLTEST_FILE=name` runs one file.
//!
//! ```text
//! cargo test -p strata-tests --test promqltest -- --nocapture
//! ```

mod promqltest {
    pub mod native;
    pub mod nhcb;
    pub mod run;
    pub mod script;
}

use promqltest::run::{self, EvalResult, Outcome, run_file};
use promqltest::script::parse_file;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The files that need only stable PromQL; the threshold applies to them.
const STABLE: &[&str] = &[
    "aggregators",
    "functions",
    "histograms",
    "literals",
    "operators",
    "range_queries",
    "selectors",
    "staleness",
    "trig_functions",
];

/// Minimum pass rate (percent) over the stable files' runnable evals.
const DEFAULT_MIN_PASS: f64 = 98.0;

fn promqltest_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRATA_PROMQLTEST_DIR") {
        return PathBuf::from(dir);
    }
    strata_testkit::shared_data_dir().join("../promqltest")
}

#[derive(Default)]
struct Tally {
    evals: usize,
    passed: usize,
    failed: usize,
    skipped: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn add(&mut self, results: &[EvalResult]) {
        self.add_refs(&results.iter().collect::<Vec<_>>());
    }

    fn add_refs(&mut self, results: &[&EvalResult]) {
        for r in results {
            self.evals += 1;
            match r.outcome {
                Outcome::Passed => self.passed += 1,
                Outcome::Failed(_) => self.failed += 1,
                Outcome::Skipped(why) => *self.skipped.entry(why).or_default() += 1,
            }
        }
    }

    fn skipped(&self) -> usize {
        self.skipped.values().sum()
    }

    fn row(&self, name: &str) -> String {
        let run = self.passed + self.failed;
        let rate = if run == 0 {
            100.0
        } else {
            100.0 * self.passed as f64 / run as f64
        };
        let why: Vec<String> = self
            .skipped
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        format!(
            "{name:<22} {:>6} {:>7} {:>7} {:>8} {rate:>7.1}%  {}",
            self.evals,
            self.passed,
            self.failed,
            self.skipped(),
            why.join(", ")
        )
    }
}

#[test]
fn prometheus_promql_test_files() {
    let dir = promqltest_dir();
    let only = std::env::var("PROMQLTEST_FILE").ok();
    let verbose = std::env::var("PROMQLTEST_VERBOSE").is_ok_and(|v| v == "1");
    let min_pass: f64 = std::env::var("PROMQLTEST_MIN_PASS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MIN_PASS);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (put ../shared beside the checkout)", dir.display()))
        .filter_map(|e| {
            let p = e.ok()?.path();
            if p.extension()? != "test" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .filter(|n| only.as_ref().is_none_or(|o| o == n))
        .collect();
    names.sort();
    let scratch = std::env::temp_dir().join(format!("strata-promqltest-{}", std::process::id()));
    let mut table = vec![format!(
        "{:<22} {:>6} {:>7} {:>7} {:>8} {:>8}  skipped because",
        "file", "evals", "passed", "failed", "skipped", "pass"
    )];
    let (mut stable, mut other) = (Tally::default(), Tally::default());
    let (mut native_file, mut native_elsewhere) = (Tally::default(), Tally::default());
    for name in &names {
        let text = std::fs::read_to_string(dir.join(format!("{name}.test"))).expect("readable");
        let cmds = parse_file(&text).unwrap_or_else(|e| panic!("{name}.test: {e}"));
        let results =
            run_file(&cmds, &scratch.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut t = Tally::default();
        t.add(&results);
        table.push(t.row(name));
        if verbose {
            for r in &results {
                if let Outcome::Failed(why) = &r.outcome {
                    println!("{name}.test:{}: {}\n    {why}", r.line, r.expr);
                }
            }
        }
        let native: Vec<&EvalResult> = results.iter().filter(|r| r.native).collect();
        if name == "native_histograms" {
            native_file.add_refs(&native);
        } else {
            native_elsewhere.add_refs(&native);
        }
        if STABLE.contains(&name.as_str()) {
            stable.add(&results);
        } else {
            other.add(&results);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    table.push(stable.row("stable files"));
    table.push(other.row("other files"));
    table.push(native_file.row("native: that file"));
    table.push(native_elsewhere.row("native: other files"));
    println!("{}", table.join("\n"));
    let (loaded, refused) = (
        run::NATIVE_LOADED.load(std::sync::atomic::Ordering::Relaxed),
        run::NATIVE_REFUSED.load(std::sync::atomic::Ordering::Relaxed),
    );
    println!("native histogram samples loaded through the Db: {loaded}, refused: {refused}");
    let run = stable.passed + stable.failed;
    let rate = if run == 0 {
        100.0
    } else {
        100.0 * stable.passed as f64 / run as f64
    };
    assert!(
        rate >= min_pass,
        "stable files: {rate:.1}% of {run} evals pass, below {min_pass}% (PROMQLTEST_MIN_PASS)"
    );
}

/// The staleness marker's exact NaN bits survive the WAL (reopen) and blocks (compact), so a
/// stale series stays hidden whichever path the query reads.
#[test]
fn stale_markers_survive_wal_and_blocks() {
    use strata_engine::query::{Querier, STALE_NAN_BITS, eval_instant};
    use strata_engine::{Clock, Db, Fsync, Options};
    let dir = std::env::temp_dir().join(format!("strata-promqltest-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = || Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(86_400_000),
        ..Options::default()
    };
    let labels = [("__name__", "m"), ("job", "a")];
    let stale_bits = |db: &Db| {
        let m = strata_engine::query::LabelMatcher::new(
            "__name__",
            strata_engine::query::MatchOp::Equal,
            "m",
        );
        let s = Querier::select(db, &[m], 0, 10_000_000).expect("select");
        s[0].values
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<u64>>()
    };
    let db = Db::open(&dir, opts()).expect("open");
    db.append(&labels, 60_000, 1.0).expect("append");
    db.append(&labels, 120_000, f64::from_bits(STALE_NAN_BITS))
        .expect("append stale");
    assert_eq!(stale_bits(&db)[1], STALE_NAN_BITS, "head");
    db.close().expect("close");
    let db = Db::open(&dir, opts()).expect("reopen");
    assert_eq!(stale_bits(&db)[1], STALE_NAN_BITS, "after WAL replay");
    db.compact().expect("compact");
    assert_eq!(stale_bits(&db)[1], STALE_NAN_BITS, "in a block");
    assert!(eval_instant(&db, "m", 150_000).expect("query").is_empty());
    db.close().expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}
