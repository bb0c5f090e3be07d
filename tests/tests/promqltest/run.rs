//! Runs parsed promqltest commands through the real storage path: every `load` is appended to a
//! `Db` in a temporary directory, every `eval` is answered by the `Db`'s querier.

use super::script::{Command, Eval, Expected, Matcher, Point, SeriesDesc};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use strata_engine::query::{self, EvalOptions, InstantValue, Labels, QueryError};
use strata_engine::{Clock, Db, Fsync, Options};

/// What happened to one eval.
#[derive(Debug)]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(&'static str),
}

/// One eval's line, query and outcome.
#[derive(Debug)]
pub struct EvalResult {
    pub line: usize,
    pub expr: String,
    pub outcome: Outcome,
    /// Whether the eval is about native histograms: it expects one, or selects a series that
    /// has them.
    pub native: bool,
}

/// "Now" for the database: far after every test's samples (retention and the future bound
/// read it), within the default retention of the epoch.
const NOW_MS: i64 = 365 * 86_400_000;

fn options() -> Options {
    Options {
        fsync: Fsync::Never,
        clock: Clock::fixed(NOW_MS),
        out_of_order_window_ms: NOW_MS,
        future_tolerance_ms: NOW_MS,
        // A load is one batch of history, as in Prometheus' test storage: no head cut may
        // start (on the background thread) while it is appended, or later samples of the same
        // load would be older than the head accepts.
        auto_cut: false,
        ..Options::default()
    }
}

/// A database for one stretch of a test file between `clear`s.
/// Native histogram samples the loads stored through the `Db`, and those it refused.
pub static NATIVE_LOADED: AtomicU64 = AtomicU64::new(0);
pub static NATIVE_REFUSED: AtomicU64 = AtomicU64::new(0);

struct Env {
    dir: PathBuf,
    db: Option<Db>,
    /// The label sets of series with both float and native-histogram samples (the engine
    /// keeps one kind per series: their histograms are not stored).
    mixed_series: Vec<Vec<(String, String)>>,
    /// Label sets loaded with histograms, and with floats (in any load).
    hist_series: HashSet<Vec<(String, String)>>,
    float_series: HashSet<Vec<(String, String)>>,

    /// `@st` lines seen (start timestamps are not modelled).
    st_lines: usize,
}

impl Env {
    fn new(base: &std::path::Path, n: usize) -> Result<Env, String> {
        let dir = base.join(format!("env-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::open(&dir, options()).map_err(|e| e.to_string())?;
        Ok(Env {
            dir,
            db: Some(db),
            mixed_series: Vec::new(),
            hist_series: HashSet::new(),
            float_series: HashSet::new(),

            st_lines: 0,
        })
    }

    /// Loads a series of native histograms only (series mixing floats and histograms are
    /// loaded as floats: the engine keeps one kind per series). Refusals are counted, not
    /// fatal: queries over these series are skipped for now.
    fn load_natives(&self, step_ms: i64, s: &SeriesDesc) {
        let db = self.db.as_ref().expect("open until dropped");
        let Ok(r) = db.series_ref(&s.labels) else {
            NATIVE_REFUSED.fetch_add(1, Ordering::Relaxed);
            return;
        };
        for (i, p) in s.points.iter().enumerate() {
            if let Point::Histogram(h, _) = p {
                let counter = match db.append_native_histogram(r, i as i64 * step_ms, h) {
                    Ok(()) => &NATIVE_LOADED,
                    Err(_) => &NATIVE_REFUSED,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The native histograms with custom buckets a `load_with_nhcb` adds.
    fn load_nhcb(&mut self, step_ms: i64, series: &[SeriesDesc]) {
        let db = self.db.as_ref().expect("open until dropped");
        for (labels, samples) in super::nhcb::convert(step_ms, series) {
            self.hist_series.insert(labels.clone());
            if self.float_series.contains(&labels) {
                self.mixed_series.push(labels.clone());
            }
            let Ok(r) = db.series_ref(&labels) else {
                NATIVE_REFUSED.fetch_add(samples.len() as u64, Ordering::Relaxed);
                continue;
            };
            for (t, h) in samples {
                let counter = match db.append_native_histogram(r, t, &h) {
                    Ok(()) => &NATIVE_LOADED,
                    Err(_) => &NATIVE_REFUSED,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn db(&self) -> &Db {
        self.db.as_ref().expect("open until dropped")
    }

    fn load(&mut self, step_ms: i64, with_nhcb: bool, series: &[SeriesDesc]) -> Result<(), String> {
        let db = self.db.as_ref().expect("open until dropped");
        for s in series {
            let has_histograms = s.points.iter().any(|p| matches!(p, Point::Histogram(..)));
            let has_floats = s.points.iter().any(|p| matches!(p, Point::Float(_)));
            if has_histograms {
                self.hist_series.insert(s.labels.clone());
            }
            if has_floats {
                self.float_series.insert(s.labels.clone());
            }
            if self.hist_series.contains(&s.labels) && self.float_series.contains(&s.labels) {
                self.mixed_series.push(s.labels.clone());
            }
            let mut ts = Vec::new();
            let mut vs = Vec::new();
            for (i, p) in s.points.iter().enumerate() {
                if let Point::Float(v) = p {
                    ts.push(i as i64 * step_ms);
                    vs.push(*v);
                }
            }
            if ts.is_empty() {
                self.load_natives(step_ms, s);
                continue;
            }
            let r = db
                .series_ref(&s.labels)
                .map_err(|e| format!("series {:?}: {e}", s.labels))?;
            let refs = vec![r; ts.len()];
            let out = db
                .append_batch(&refs, &ts, &vs)
                .map_err(|e| e.to_string())?;
            // A label set that also has native histograms keeps one kind in the engine: its
            // other samples may be refused (queries over it are skipped).
            if let Some((i, e)) = out.rejected.first()
                && !self.mixed_series.contains(&s.labels)
            {
                return Err(format!("sample {i} of {:?} refused: {e}", s.labels));
            }
        }
        if with_nhcb {
            self.load_nhcb(step_ms, series);
        }
        Ok(())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            let _ = db.close();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs every command of a file; `base` is a scratch directory.
pub fn run_file(cmds: &[Command], base: &std::path::Path) -> Result<Vec<EvalResult>, String> {
    let mut n = 0;
    let mut env = Env::new(base, n)?;
    let mut load_error: Option<String> = None;
    let mut results = Vec::new();
    for cmd in cmds {
        match cmd {
            Command::Clear => {
                n += 1;
                drop(env);
                env = Env::new(base, n)?;
                load_error = None;
            }
            Command::Load {
                step_ms,
                with_nhcb,
                series,
                st_lines,
            } => {
                env.st_lines += st_lines;
                if let Err(e) = env.load(*step_ms, *with_nhcb, series) {
                    load_error = Some(e);
                }
            }
            Command::Eval(ev) => {
                let outcome = match &load_error {
                    Some(e) => Outcome::Failed(format!("load failed: {e}")),
                    None => run_eval(&env, ev),
                };
                let hists: Vec<_> = env.hist_series.iter().cloned().collect();
                results.push(EvalResult {
                    native: ev.has_histograms || selects_any(&hists, &ev.expr),
                    line: ev.line,
                    expr: ev.expr.clone(),
                    outcome,
                });
            }
        }
    }
    Ok(results)
}

/// Why an eval is not run, if it needs what Strata does not model.
fn skip_reason(env: &Env, ev: &Eval) -> Option<&'static str> {
    if selects_mixed(env, &ev.expr) {
        return Some("series mixing floats and histograms");
    }
    if env.st_lines > 0 {
        return Some("start timestamps (@st)");
    }
    None
}

/// Whether a selector of `expr` matches a series with both floats and native histograms.
fn selects_mixed(env: &Env, expr: &str) -> bool {
    selects_any(&env.mixed_series, expr)
}

/// Whether a selector of `expr` matches one of the label sets `of`.
fn selects_any(of: &[Vec<(String, String)>], expr: &str) -> bool {
    if of.is_empty() {
        return false;
    }
    let Ok(plan) = query::parse(expr) else {
        return false;
    };
    let mut series = of
        .iter()
        .map(|l| query::Series {
            labels: Labels::new(l.clone()),
            timestamps: vec![0],
            values: vec![0.0],
        })
        .collect::<Vec<_>>();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    series.dedup_by(|a, b| a.labels == b.labels);
    let Ok(mem) = query::MemQuerier::new(series) else {
        return false;
    };
    use query::Querier;
    plan.selectors().iter().any(|m| {
        mem.select(m, i64::MIN, i64::MAX)
            .is_ok_and(|s| !s.is_empty())
    })
}

fn run_eval(env: &Env, ev: &Eval) -> Outcome {
    if let Some(why) = skip_reason(env, ev) {
        return Outcome::Skipped(why);
    }
    let opts = EvalOptions::default();
    let result = query::parse(&ev.expr).and_then(|plan| {
        if ev.is_range {
            plan.range(env.db(), ev.start_ms, ev.end_ms, ev.step_ms, &opts)
                .map(|r| (InstantValue::Matrix(r.value), r.annotations))
        } else {
            plan.instant(env.db(), ev.start_ms, &opts)
                .map(|r| (r.value, r.annotations))
        }
    });
    match (result, &ev.expect.fail) {
        (Err(e), Some(m)) => {
            if fail_matches(m, &e) {
                Outcome::Passed
            } else {
                Outcome::Failed(format!("failed as expected, but with {e}"))
            }
        }
        (Err(QueryError::Unsupported { what }), None) => {
            Outcome::Failed(format!("unsupported: {what}"))
        }
        (Err(e), None) => Outcome::Failed(format!("error: {e}")),
        (Ok(_), Some(_)) => Outcome::Failed("expected the query to fail".into()),
        (Ok((value, annotations)), None) => {
            let warnings: Vec<String> = annotations.warnings().collect();
            let infos: Vec<String> = annotations.infos().collect();
            match check_annotations(ev, &warnings, &infos).and_then(|()| compare(ev, value)) {
                Ok(()) => Outcome::Passed,
                Err(e) => Outcome::Failed(e),
            }
        }
    }
}

fn fail_matches(m: &Matcher, e: &QueryError) -> bool {
    m.matches(&e.to_string()) || m.matches(&e.message())
}

fn check_annotations(ev: &Eval, warnings: &[String], infos: &[String]) -> Result<(), String> {
    let x = &ev.expect;
    if x.some_warn && warnings.is_empty() {
        return Err("expected warnings, got none".into());
    }
    if x.some_info && infos.is_empty() {
        return Err("expected info annotations, got none".into());
    }
    check_kind("warn", &x.warn, warnings)?;
    check_kind("info", &x.info, infos)?;
    if x.no_warn && !warnings.is_empty() {
        return Err(format!("unexpected warnings {warnings:?}"));
    }
    if x.no_info && !infos.is_empty() {
        return Err(format!("unexpected infos {infos:?}"));
    }
    Ok(())
}

fn check_kind(kind: &str, expected: &[Matcher], actual: &[String]) -> Result<(), String> {
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected {kind} annotations, got none"));
    }
    if let Some(m) = expected
        .iter()
        .find(|m| !actual.iter().any(|a| m.matches(a)))
    {
        return Err(format!(
            "no {kind} annotation matches {m:?}; got {actual:?}"
        ));
    }
    if let Some(a) = actual
        .iter()
        .find(|a| !expected.iter().any(|m| m.matches(a)))
    {
        return Err(format!("unexpected {kind} annotation {a:?}"));
    }
    Ok(())
}

/// Prometheus' `almost.Equal` with its default epsilon 1e-6: NaN equals NaN.
fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if (a.is_nan() && b.is_nan()) || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < EPSILON * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

fn key(labels: &Labels) -> Vec<(String, String)> {
    labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

fn compare(ev: &Eval, value: InstantValue) -> Result<(), String> {
    match (&ev.expected, value) {
        (Expected::String(want), InstantValue::String(got)) => (*want == got)
            .then_some(())
            .ok_or_else(|| format!("expected string {want:?}, got {got:?}")),
        (Expected::Scalar(want), InstantValue::Scalar(got)) => almost_equal(*want, got)
            .then_some(())
            .ok_or_else(|| format!("expected scalar {want}, got {got}")),
        (Expected::Series(want), InstantValue::Vector(got)) if !ev.is_range => {
            compare_vector(ev, want, &got)
        }
        (Expected::Series(want), InstantValue::Matrix(got)) => {
            let (start, end, step) = match ev.range_vector {
                Some(r) => r,
                None if ev.is_range => (ev.start_ms, ev.end_ms, ev.step_ms),
                None => return Err("got a range vector, expected an instant vector".into()),
            };
            compare_matrix(want, &got, start, end, step)
        }
        (want, got) => Err(format!("expected {want:?}, got {got:?}")),
    }
}

/// One expected value: a float, or a histogram and whether its hint is compared.
#[derive(Clone, Copy)]
enum Want<'a> {
    Float(f64),
    Histogram(&'a strata_engine::NativeHistogram, bool),
}

impl<'a> Want<'a> {
    fn of(p: &'a Point) -> Option<Want<'a>> {
        match p {
            Point::Float(v) => Some(Want::Float(*v)),
            Point::Histogram(h, hint) => Some(Want::Histogram(h, *hint)),
            Point::Omitted => None,
        }
    }

    fn matches(self, value: f64, histogram: Option<&strata_engine::NativeHistogram>) -> bool {
        match (self, histogram) {
            (Want::Float(v), None) => almost_equal(v, value),
            (Want::Histogram(w, hint), Some(g)) => super::native::matches(w, hint, g, almost_equal),
            _ => false,
        }
    }
}

fn compare_vector(ev: &Eval, want: &[SeriesDesc], got: &query::Vector) -> Result<(), String> {
    let expected: BTreeMap<Vec<(String, String)>, (usize, Want<'_>)> = want
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((s.labels.clone(), (i, Want::of(s.points.first()?)?))))
        .collect();
    if expected.len() != want.len() {
        return Err("expected series without a value".into());
    }
    for (pos, s) in got.iter().enumerate() {
        let k = key(&s.labels);
        let Some(&(i, w)) = expected.get(&k) else {
            return Err(format!("unexpected series {} = {}", s.labels, shown(s)));
        };
        if ev.expect.ordered && i != pos {
            return Err(format!("{} at position {pos}, expected at {i}", s.labels));
        }
        if !w.matches(s.value, s.histogram.as_ref()) {
            return Err(format!(
                "{}: expected {:?}, got {}",
                s.labels,
                want[i].points.first(),
                shown(s)
            ));
        }
    }
    if got.len() != expected.len() {
        let seen: HashSet<_> = got.iter().map(|s| key(&s.labels)).collect();
        let missing: Vec<_> = expected.keys().filter(|k| !seen.contains(*k)).collect();
        return Err(format!("missing series {missing:?}"));
    }
    Ok(())
}

fn shown(s: &query::VectorSample) -> String {
    match &s.histogram {
        Some(h) => format!("{h:?}"),
        None => s.value.to_string(),
    }
}

fn compare_matrix(
    want: &[SeriesDesc],
    got: &query::Matrix,
    start: i64,
    end: i64,
    step: i64,
) -> Result<(), String> {
    if got.windows(2).any(|w| w[0].labels >= w[1].labels) {
        return Err("range result not sorted by labels".into());
    }
    let expected: BTreeMap<Vec<(String, String)>, &SeriesDesc> =
        want.iter().map(|s| (s.labels.clone(), s)).collect();
    for s in got {
        let Some(w) = expected.get(&key(&s.labels)) else {
            return Err(format!("unexpected series {} = {:?}", s.labels, s.points));
        };
        let (mut floats, mut hists) = (Vec::new(), Vec::new());
        for (i, p) in w.points.iter().enumerate() {
            let t = start + i as i64 * step.max(1);
            if t > end {
                return Err(format!("{}: more expected points than steps", s.labels));
            }
            match Want::of(p) {
                Some(Want::Float(v)) => floats.push((t, v)),
                Some(h @ Want::Histogram(..)) => hists.push((t, h)),
                None => {}
            }
        }
        let same = floats.len() == s.points.len()
            && floats
                .iter()
                .zip(&s.points)
                .all(|(a, b)| a.0 == b.0 && almost_equal(a.1, b.1))
            && hists.len() == s.histograms.len()
            && hists
                .iter()
                .zip(&s.histograms)
                .all(|(a, b)| a.0 == b.0 && a.1.matches(0.0, Some(&b.1)));
        if !same {
            return Err(format!(
                "{}: expected {floats:?} and {} histograms, got {:?} and {:?}",
                s.labels,
                hists.len(),
                s.points,
                s.histograms
            ));
        }
    }
    if got.len() != expected.len() {
        let seen: HashSet<_> = got.iter().map(|s| key(&s.labels)).collect();
        let missing: Vec<_> = expected.keys().filter(|k| !seen.contains(*k)).collect();
        return Err(format!("missing series {missing:?}"));
    }
    Ok(())
}
