//! Functions of instant vectors and scalars: math and trigonometry, `round`, `clamp*`, date
//! functions, `timestamp`, `scalar`, `vector`, `time`, `absent`, the `sort` family, label
//! functions and classic-histogram functions.

use super::annotations::Pos;
use super::error::QueryError;
use super::eval::Evaluator;
use super::functions::absent_labels;
use super::hist::functions as hist_fns;
use super::histogram;
use super::label_fns;
use super::plan::Node;
use super::value::{StepSeries, Steps, Value, normalize};

/// Declares the instant functions: variant, PromQL name.
macro_rules! instant_fns {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum InstantFn {
            $($variant,)*
        }

        impl InstantFn {
            pub(crate) fn from_name(name: &str) -> Option<InstantFn> {
                match name {
                    $($name => Some(InstantFn::$variant),)*
                    _ => None,
                }
            }

            /// The PromQL name.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(InstantFn::$variant => $name,)*
                }
            }
        }
    };
}

instant_fns! {
    Abs => "abs", Ceil => "ceil", Floor => "floor", Exp => "exp", Ln => "ln", Log2 => "log2",
    Log10 => "log10", Sqrt => "sqrt", Sgn => "sgn", Sin => "sin", Cos => "cos", Tan => "tan",
    Asin => "asin", Acos => "acos", Atan => "atan", Sinh => "sinh", Cosh => "cosh",
    Tanh => "tanh", Asinh => "asinh", Acosh => "acosh", Atanh => "atanh", Deg => "deg",
    Rad => "rad",
    Round => "round", Clamp => "clamp", ClampMin => "clamp_min", ClampMax => "clamp_max",
    Timestamp => "timestamp", Scalar => "scalar", Vector => "vector", Time => "time",
    Pi => "pi",
    DayOfMonth => "day_of_month", DayOfWeek => "day_of_week", DayOfYear => "day_of_year",
    DaysInMonth => "days_in_month", Hour => "hour", Minute => "minute", Month => "month",
    Year => "year",
    Absent => "absent",
    Sort => "sort", SortDesc => "sort_desc", SortByLabel => "sort_by_label",
    SortByLabelDesc => "sort_by_label_desc",
    LabelReplace => "label_replace", LabelJoin => "label_join",
    HistogramQuantile => "histogram_quantile", HistogramFraction => "histogram_fraction",
    HistogramCount => "histogram_count", HistogramSum => "histogram_sum",
    HistogramAvg => "histogram_avg", HistogramStddev => "histogram_stddev",
    HistogramStdvar => "histogram_stdvar", HistogramQuantiles => "histogram_quantiles",
    MinOf => "min_of", MaxOf => "max_of",
    Start => "start", End => "end", Step => "step", Range => "range",
}

/// Evaluates `func(args…)` at every step.
pub(crate) fn eval_call(
    ev: &Evaluator<'_>,
    func: InstantFn,
    args: &[Node],
    pos: &Pos,
    steps: Steps,
) -> Result<Value, QueryError> {
    use InstantFn as F;
    let name = func.name();
    let arg = |i: usize| {
        args.get(i)
            .ok_or_else(|| QueryError::invalid(format!("missing argument {} of `{name}`", i + 1)))
    };
    match func {
        F::Time => Ok(Value::Scalar(
            (0..steps.count)
                .map(|i| steps.at(i) as f64 / 1000.0)
                .collect(),
        )),
        F::Pi => Ok(Value::Scalar(vec![std::f64::consts::PI; steps.count])),
        F::Start | F::End | F::Step | F::Range => {
            let (start, end, step) = ev.query_range();
            let v = match func {
                F::Start => start,
                F::End => end,
                F::Step => step,
                _ => end - start,
            };
            Ok(Value::Scalar(vec![v as f64 / 1000.0; steps.count]))
        }
        F::MinOf | F::MaxOf => {
            let (a, b) = (
                ev.scalar(arg(0)?, steps, name)?,
                ev.scalar(arg(1)?, steps, name)?,
            );
            let f = if func == F::MinOf { go_min } else { go_max };
            Ok(Value::Scalar(
                a.iter().zip(&b).map(|(&a, &b)| f(a, b)).collect(),
            ))
        }
        F::Vector => Ok(Value::Vector(vec![StepSeries {
            hists: Vec::new(),
            labels: Default::default(),
            values: ev
                .scalar(arg(0)?, steps, name)?
                .into_iter()
                .map(Some)
                .collect(),
        }])),
        F::Scalar => Ok(Value::Scalar(scalar(
            &ev.vector(arg(0)?, steps, name)?,
            steps,
        ))),
        F::Timestamp => timestamp(ev, arg(0)?, steps),
        F::Absent => {
            let input = ev.vector(arg(0)?, steps, name)?;
            let values = (0..steps.count)
                .map(|i| {
                    (!input
                        .iter()
                        .any(|s| s.values[i].is_some() || s.hist(i).is_some()))
                    .then_some(1.0)
                })
                .collect();
            Ok(Value::Vector(vec![StepSeries {
                hists: Vec::new(),
                labels: absent_labels(arg(0)?),
                values,
            }]))
        }
        F::Round | F::Clamp | F::ClampMin | F::ClampMax => clamp_round(ev, func, args, steps),
        F::DayOfMonth
        | F::DayOfWeek
        | F::DayOfYear
        | F::DaysInMonth
        | F::Hour
        | F::Minute
        | F::Month
        | F::Year => date(ev, func, args.first(), steps),
        F::Sort | F::SortDesc | F::SortByLabel | F::SortByLabelDesc => {
            label_fns::sort(ev, func, args, pos, steps)
        }
        F::LabelReplace => label_fns::label_replace(ev, args, steps),
        F::LabelJoin => label_fns::label_join(ev, args, steps),
        F::HistogramQuantile | F::HistogramFraction | F::HistogramQuantiles => {
            histogram::eval(ev, func, args, pos, steps)
        }
        // Native-histogram functions: float samples are ignored, as in Prometheus.
        F::HistogramCount
        | F::HistogramSum
        | F::HistogramAvg
        | F::HistogramStddev
        | F::HistogramStdvar => hist_fns::simple(func, ev.vector(arg(0)?, steps, name)?),
        _ => {
            let f = math_fn(func)
                .ok_or_else(|| QueryError::unsupported(format!("function `{name}`")))?;
            map_values(ev.vector(arg(0)?, steps, name)?, |_, v| Some(f(v)))
        }
    }
}

/// The element-wise math functions.
fn math_fn(func: InstantFn) -> Option<fn(f64) -> f64> {
    use InstantFn as F;
    Some(match func {
        F::Abs => f64::abs,
        F::Ceil => f64::ceil,
        F::Floor => f64::floor,
        F::Exp => f64::exp,
        F::Ln => f64::ln,
        F::Log2 => f64::log2,
        F::Log10 => f64::log10,
        F::Sqrt => f64::sqrt,
        F::Sgn => |v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        F::Sin => f64::sin,
        F::Cos => f64::cos,
        F::Tan => f64::tan,
        F::Asin => f64::asin,
        F::Acos => f64::acos,
        F::Atan => f64::atan,
        F::Sinh => f64::sinh,
        F::Cosh => f64::cosh,
        F::Tanh => f64::tanh,
        F::Asinh => f64::asinh,
        F::Acosh => f64::acosh,
        F::Atanh => f64::atanh,
        F::Deg => |v: f64| v * 180.0 / std::f64::consts::PI,
        F::Rad => |v: f64| v * std::f64::consts::PI / 180.0,
        _ => return None,
    })
}

/// Applies `f(step, value)` to every value, dropping `__name__`.
fn map_values(
    input: Vec<StepSeries>,
    f: impl Fn(usize, f64) -> Option<f64>,
) -> Result<Value, QueryError> {
    let out = input
        .into_iter()
        .map(|s| StepSeries {
            hists: Vec::new(),
            labels: s.labels.without_name(),
            values: s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| f(i, (*v)?))
                .collect(),
        })
        .collect();
    Ok(Value::Vector(normalize(out)?))
}

/// `scalar(v)`: the value of the only series with one at a step, else NaN.
fn scalar(input: &[StepSeries], steps: Steps) -> Vec<f64> {
    (0..steps.count)
        .map(|i| {
            let mut it = input.iter().filter_map(|s| s.values[i]);
            match (it.next(), it.next()) {
                (Some(v), None) => v,
                _ => f64::NAN,
            }
        })
        .collect()
}

/// `timestamp(v)`: the time of each sample — for a selector the sample's own timestamp, for
/// anything else the evaluation time — in seconds.
fn timestamp(ev: &Evaluator<'_>, arg: &Node, steps: Steps) -> Result<Value, QueryError> {
    if let Node::Selector(sel) = arg {
        let out = ev
            .selector_samples(sel, steps)?
            .into_iter()
            .map(|(labels, samples)| StepSeries {
                hists: Vec::new(),
                labels: labels.without_name(),
                values: samples
                    .into_iter()
                    .map(|s| s.map(|(t, _)| t as f64 / 1000.0))
                    .collect(),
            })
            .collect();
        return Ok(Value::Vector(normalize(out)?));
    }
    let input = ev.vector(arg, steps, "timestamp")?;
    map_values(input, |i, _| Some(steps.at(i) as f64 / 1000.0))
}

/// Go's `math.Max`: NaN wins, +0 beats -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == b && a == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b { a } else { b }
}

/// Go's `math.Min`: NaN wins, -0 beats +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == b && a == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b { a } else { b }
}

fn clamp_round(
    ev: &Evaluator<'_>,
    func: InstantFn,
    args: &[Node],
    steps: Steps,
) -> Result<Value, QueryError> {
    let name = func.name();
    let [input, params @ ..] = args else {
        return Err(QueryError::invalid(format!("`{name}` needs arguments")));
    };
    let input = ev.vector(input, steps, name)?;
    let params = params
        .iter()
        .map(|p| ev.scalar(p, steps, name))
        .collect::<Result<Vec<_>, _>>()?;
    let p = |k: usize, i: usize| params.get(k).map(|v| v[i]);
    match func {
        InstantFn::Round => map_values(input, |i, v| {
            let inverse = 1.0 / p(0, i).unwrap_or(1.0);
            Some((v * inverse + 0.5).floor() / inverse)
        }),
        InstantFn::Clamp => map_values(input, |i, v| {
            let (lo, hi) = (p(0, i)?, p(1, i)?);
            (hi >= lo || lo.is_nan() || hi.is_nan()).then(|| go_max(lo, go_min(hi, v)))
        }),
        InstantFn::ClampMin => map_values(input, |i, v| Some(go_max(p(0, i)?, v))),
        _ => map_values(input, |i, v| Some(go_min(p(0, i)?, v))),
    }
}

/// The date functions, of `v` (Unix seconds) or of the evaluation time.
fn date(
    ev: &Evaluator<'_>,
    func: InstantFn,
    arg: Option<&Node>,
    steps: Steps,
) -> Result<Value, QueryError> {
    let f = |secs: f64| -> f64 {
        if !secs.is_finite() {
            return f64::NAN;
        }
        let secs = secs as i64; // Go's int64(f): truncation
        let days = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        match func {
            InstantFn::DayOfMonth => d as f64,
            InstantFn::DayOfWeek => (days + 4).rem_euclid(7) as f64,
            InstantFn::DayOfYear => (days - days_from_civil(y, 1, 1) + 1) as f64,
            InstantFn::DaysInMonth => days_in_month(y, m) as f64,
            InstantFn::Hour => (in_day / 3600) as f64,
            InstantFn::Minute => (in_day % 3600 / 60) as f64,
            InstantFn::Month => m as f64,
            _ => y as f64,
        }
    };
    match arg {
        None => Ok(Value::Vector(vec![StepSeries {
            hists: Vec::new(),
            labels: Default::default(),
            values: (0..steps.count)
                .map(|i| Some(f((steps.at(i).div_euclid(1000)) as f64)))
                .collect(),
        }])),
        Some(a) => map_values(ev.vector(a, steps, func.name())?, |_, v| Some(f(v))),
    }
}

/// Year, month (1–12), day (1–31) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's `%g` (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits, exponent form below
/// 1e-4 and from 1e6 on.
pub(crate) fn format_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    format!(
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)` as Prometheus prints values in labels.
pub(crate) fn format_f(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for days in [-1_000_000, -1, 0, 59, 365, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
    }

    #[test]
    fn go_float_formats() {
        assert_eq!(format_g(1.5), "1.5");
        assert_eq!(format_g(-1.0), "-1");
        assert_eq!(format_g(1e-5), "1e-05");
        assert_eq!(format_g(f64::NAN), "NaN");
        assert_eq!(format_f(1e21), "1000000000000000000000");
        assert!(go_max(f64::NAN, 1.0).is_nan());
    }
}
