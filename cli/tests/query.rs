//! `strata query`: instant (`--time`, or the pinned clock) and range queries, text and `--json`
//! output in the Prometheus HTTP API's shape, and annotations — on stderr as text, in
//! `warnings`/`infos` with `--json`. A small database imported here at a pinned `--now`; seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 2026-09-21T14:13:20Z, the pinned "now" of these tests.
const NOW_MS: i64 = 1_790_000_000_000;

/// A database in a fresh directory, removed when dropped.
struct Db(PathBuf);

impl Db {
    /// `tokens{model}` (a gauge-named counter: 10 and 2.5 per minute) and `req_total{code}`,
    /// one sample a minute over the ten minutes up to `NOW_MS`.
    fn new(name: &str) -> Db {
        let dir = std::env::temp_dir().join(format!("strata-query-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for i in 0..=10 {
            let ts = NOW_MS - 600_000 + i * 60_000;
            text.push_str(&format!("tokens{{model=\"gpt-4o\"}} {} {ts}\n", i * 10));
            text.push_str(&format!(
                "tokens{{model=\"llama\"}} {} {ts}\n",
                i as f64 * 2.5
            ));
            text.push_str(&format!("req_total{{code=\"200\"}} {} {ts}\n", i * 6));
        }
        let file = dir.join("data.prom");
        std::fs::write(&file, text).unwrap();
        let db = Db(dir);
        let out = db.ok(&["import", "--db", &db.path(), &file.to_string_lossy()]);
        assert!(out.contains("imported 33 samples of 3 series"), "{out}");
        db
    }

    fn path(&self) -> String {
        self.0.join("db").to_string_lossy().into_owned()
    }

    /// `strata ARGS --now NOW_MS`.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .args(["--now", &NOW_MS.to_string()])
            .output()
            .expect("run strata")
    }

    /// Runs `strata ARGS`, asserts success, returns (stdout, stderr).
    fn ok2(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "strata {args:?}: {err}");
        (String::from_utf8(out.stdout).unwrap(), err)
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok2(args).0
    }

    /// `strata query --db DB ARGS…` and its stdout, which must be all it wrote.
    fn query(&self, args: &[&str]) -> String {
        let db = self.path();
        let mut all = vec!["query", "--db", &db];
        all.extend_from_slice(args);
        let (out, err) = self.ok2(&all);
        assert_eq!(err, "", "strata {all:?} wrote to stderr");
        out
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn instant_json_is_the_prometheus_api_response() {
    let db = Db::new("instant-json");
    let want = concat!(
        r#"{"status":"success","data":{"resultType":"vector","result":["#,
        r#"{"metric":{"__name__":"tokens","model":"gpt-4o"},"value":[1789999970.500,"90"]},"#,
        r#"{"metric":{"__name__":"tokens","model":"llama"},"value":[1789999970.500,"22.5"]}]}}"#,
        "\n"
    );
    // Unix seconds with a fraction and RFC 3339 name the same instant.
    assert_eq!(
        db.query(&["--json", "--time", "1789999970.5", "tokens"]),
        want
    );
    assert_eq!(
        db.query(&["--json", "--time", "2026-09-21T16:12:50.5+02:00", "tokens"]),
        want
    );
    // Without `--time` an instant query runs at the clock's now: the pinned `--now`.
    assert_eq!(
        db.query(&["--json", "sum(tokens)"]),
        concat!(
            r#"{"status":"success","data":{"resultType":"vector","result":["#,
            r#"{"metric":{},"value":[1790000000,"125"]}]}}"#,
            "\n"
        )
    );
    // Nothing matches: an empty vector, not an error.
    assert_eq!(
        db.query(&["--json", "--time", "1000", "tokens"]),
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}\n"
    );
}

#[test]
fn instant_json_of_every_result_type() {
    let db = Db::new("types-json");
    let q = |expr: &str| db.query(&["--json", "--time", "1790000000", expr]);
    assert_eq!(
        q("1/0"),
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1790000000,\"+Inf\"]}}\n"
    );
    assert_eq!(
        q("-(0/0)"),
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1790000000,\"NaN\"]}}\n"
    );
    assert_eq!(
        q(r#""a<b""#),
        "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1790000000,\"a\\u003cb\"]}}\n"
    );
    // A range vector is a matrix: each series' samples in `(t - 2m, t]`.
    assert_eq!(
        q(r#"tokens{model="llama"}[2m]"#),
        concat!(
            r#"{"status":"success","data":{"resultType":"matrix","result":["#,
            r#"{"metric":{"__name__":"tokens","model":"llama"},"values":[[1789999940,"22.5"],[1790000000,"25"]]}]}}"#,
            "\n"
        )
    );
    // Sample values as Prometheus writes them: exponent form below 1e-6 and from 1e21.
    let v = db.query(&[
        "--json",
        "--time",
        "1790000000",
        "vector(1e-7) or vector(2e21)",
    ]);
    assert!(v.contains(r#""value":[1790000000,"1e-07"]"#), "{v}");
}

#[test]
fn range_json_and_text() {
    let db = Db::new("range");
    let want = concat!(
        r#"{"status":"success","data":{"resultType":"matrix","result":["#,
        r#"{"metric":{"model":"gpt-4o"},"values":[[1789999700,"0.16666666666666666"],[1789999820,"0.16666666666666666"]]},"#,
        r#"{"metric":{"model":"llama"},"values":[[1789999700,"0.041666666666666664"],[1789999820,"0.041666666666666664"]]}]},"#,
        r#""infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"tokens\" (1:6)"]}"#,
        "\n"
    );
    // The range form: Unix ms or RFC 3339 bounds, a step in ms or as a duration.
    let range = [
        "--start",
        "1789999700000",
        "--end",
        "1789999900000",
        "--step",
        "120000",
    ];
    let mut args = vec!["--json"];
    args.extend_from_slice(&range);
    args.push("rate(tokens[5m])");
    assert_eq!(db.query(&args), want);
    let rfc = [
        "--json",
        "--start",
        "2026-09-21T14:08:20Z",
        "--end",
        "2026-09-21T14:11:40Z",
        "--step",
        "2m",
        "rate(tokens[5m])",
    ];
    assert_eq!(db.query(&rfc), want);

    let mut text = range.to_vec();
    text.push("sum(req_total)");
    assert_eq!(
        lines(&db.query(&text)),
        ["{}", "  1789999700000 30", "  1789999820000 42"]
    );
    assert_eq!(
        db.query(&[
            "--json", "--start", "0", "--end", "1500", "--step", "1s", "time()"
        ]),
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[[0,\"0\"],[1,\"1\"]]}]}}\n"
    );
}

#[test]
fn annotations_go_to_stderr_as_text_and_into_the_json() {
    let db = Db::new("annotations");
    let d = db.path();
    let expr = "quantile(2, rate(tokens[5m]))";
    let (out, err) = db.ok2(&["query", "--db", &d, "--time", "1790000000", expr]);
    assert_eq!(lines(&out), ["{} +Inf"]);
    assert_eq!(
        lines(&err),
        [
            "PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)",
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"tokens\" (1:18)",
        ]
    );
    let json = db.query(&["--json", "--time", "1790000000", expr]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(
        v["warnings"],
        serde_json::json!([
            "PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)"
        ])
    );
    assert_eq!(v["infos"].as_array().map(Vec::len), Some(1));
    // A counter by its name: no annotation at all.
    let (out, err) = db.ok2(&[
        "query",
        "--db",
        &d,
        "--time",
        "1790000000",
        "rate(req_total[5m])",
    ]);
    assert_eq!(lines(&out), ["{code=\"200\"} 0.1"]);
    assert_eq!(err, "");
}

#[test]
fn instant_text_output() {
    let db = Db::new("instant-text");
    assert_eq!(
        lines(&db.query(&["--time", "1790000000", "tokens"])),
        [
            "{__name__=\"tokens\", model=\"gpt-4o\"} 100",
            "{__name__=\"tokens\", model=\"llama\"} 25"
        ]
    );
    // `sort_desc` orders the vector; the text keeps that order.
    assert_eq!(
        lines(&db.query(&["--time", "1790000000", "sort_desc(-tokens)"])),
        ["{model=\"llama\"} -25", "{model=\"gpt-4o\"} -100"]
    );
    assert_eq!(
        lines(&db.query(&["--time", "1790000000", "2^0.5"])),
        ["1.4142135623730951"]
    );
    assert_eq!(
        lines(&db.query(&["--time", "1790000000", "\"hi\""])),
        ["hi"]
    );
    assert_eq!(
        lines(&db.query(&["--time", "0", "tokens"])),
        ["(no series)"]
    );
}

#[test]
fn bad_queries_and_times_fail_and_print_nothing() {
    let db = Db::new("bad");
    let d = db.path();
    let cases: [(&[&str], &str); 7] = [
        (&["sum(rate("], "cannot parse query"),
        (&["--time", "yesterday", "up"], "expected Unix seconds"),
        (&["--time", "2026-02-30T00:00:00Z", "up"], "RFC 3339"),
        (
            &["--start", "0", "--end", "10", "--step", "0", "up"],
            "must be positive",
        ),
        (&["--start", "0", "--end", "10", "up"], "--step"),
        (
            &[
                "--time", "1", "--start", "0", "--end", "1", "--step", "1", "up",
            ],
            "cannot be used with",
        ),
        // A range query must be of a scalar or an instant vector.
        (
            &["--start", "0", "--end", "10", "--step", "1", "up[5m]"],
            "range query",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["query", "--db", &d, "--json"];
        all.extend_from_slice(args);
        let out = db.run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "strata {all:?} succeeded");
        assert!(err.contains(want), "strata {all:?}: {err}");
        assert!(out.stdout.is_empty(), "strata {all:?} printed data");
    }
}

#[test]
fn a_missing_database_is_not_created() {
    let dir = std::env::temp_dir().join(format!("strata-query-missing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["query", "--db", &dir.to_string_lossy(), "--time", "0", "up"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Strata database at"));
    assert!(!Path::new(&dir).exists());
}
