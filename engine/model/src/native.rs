//! Native histograms: Prometheus' sparse histograms (exponential buckets of a schema, or
//! custom buckets), which OpenTelemetry exponential histograms map onto exactly.
//!
//! A histogram of schema `s` (−4 ≤ s ≤ 8) has buckets whose boundaries grow by a factor of
//! `2^(2^-s)`: bucket index `i` covers `(base^(i-1), base^i]` for positive values (and the
//! mirror image for negative ones), `base = 2^(2^-s)`. Values within `zero_threshold` of
//! zero go to the zero bucket. Schema [`CUSTOM_BUCKETS_SCHEMA`] (−53) instead has explicit
//! upper bounds in `custom_values` (positive buckets only, no zero bucket): bucket `i` is
//! `(custom_values[i-1], custom_values[i]]`, and one past the last bound is `+Inf`.
//!
//! Buckets are sparse: `spans` say which bucket indexes are present. The first span's
//! `offset` is the index of its first bucket; each later span's offset is the gap of absent
//! buckets since the previous span ended. `buckets` hold one absolute count per present
//! bucket, in index order (the chunk codec stores deltas; this type never does).

/// The schema of a histogram with custom (explicit) bucket bounds.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;
/// The lowest exponential schema (the coarsest buckets: each 2^16 times the last).
pub const MIN_EXPONENTIAL_SCHEMA: i32 = -4;
/// The highest exponential schema (the finest buckets).
pub const MAX_EXPONENTIAL_SCHEMA: i32 = 8;

/// A run of `length` consecutive present buckets, `offset` buckets after the previous run
/// (for the first run: starting at bucket index `offset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketSpan {
    pub offset: i32,
    pub length: u32,
}

/// What the producer says about counter resets (Prometheus' `CounterResetHint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterResetHint {
    /// Nothing said: compare with the previous sample to find out.
    #[default]
    Unknown,
    /// The counter reset since the previous sample.
    CounterReset,
    /// The counter did not reset since the previous sample.
    NotCounterReset,
    /// A gauge histogram: counts go up and down, there are no resets.
    Gauge,
}

impl CounterResetHint {
    /// The hint as stored (Prometheus' numbering).
    pub fn as_u8(self) -> u8 {
        match self {
            CounterResetHint::Unknown => 0,
            CounterResetHint::CounterReset => 1,
            CounterResetHint::NotCounterReset => 2,
            CounterResetHint::Gauge => 3,
        }
    }

    /// The hint stored as `v`, if `v` is one.
    pub fn from_u8(v: u8) -> Option<CounterResetHint> {
        Some(match v {
            0 => CounterResetHint::Unknown,
            1 => CounterResetHint::CounterReset,
            2 => CounterResetHint::NotCounterReset,
            3 => CounterResetHint::Gauge,
            _ => return None,
        })
    }
}

/// One native histogram sample. Counts are floats (Prometheus' `FloatHistogram`); a histogram
/// whose counts are all whole numbers is an integer histogram in Prometheus' terms and is
/// stored as one ([`NativeHistogram::is_integer`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NativeHistogram {
    pub counter_reset_hint: CounterResetHint,
    /// −4…8, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Values in `[-zero_threshold, zero_threshold]` count in the zero bucket. 0 for custom
    /// buckets.
    pub zero_threshold: f64,
    pub zero_count: f64,
    /// Total count of observations (NaN observations count here but in no bucket).
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<BucketSpan>,
    /// Absolute counts of the present positive buckets, in index order.
    pub positive_buckets: Vec<f64>,
    pub negative_spans: Vec<BucketSpan>,
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (schema −53 only), strictly ascending, finite.
    pub custom_values: Vec<f64>,
}

/// At most this many buckets (positive plus negative) in one histogram, and this many custom
/// bounds: far above what any real producer sends (OTel's default is 160 per side).
pub const MAX_NATIVE_BUCKETS: usize = 4096;

impl NativeHistogram {
    /// Whether this histogram uses custom bucket bounds.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// Whether every count is a whole, non-negative number below 2^53 (an integer
    /// histogram, which the chunk codec stores more compactly).
    pub fn is_integer(&self) -> bool {
        let whole = |v: f64| v >= 0.0 && v.fract() == 0.0 && v < 9_007_199_254_740_992.0;
        whole(self.count)
            && whole(self.zero_count)
            && self.positive_buckets.iter().all(|&v| whole(v))
            && self.negative_buckets.iter().all(|&v| whole(v))
    }

    /// Checks the shape: schema in range, spans that cover exactly the buckets given, no
    /// negative or NaN bucket counts, a usable zero threshold, and custom bounds only (and
    /// always) with the custom schema. Returns what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let custom = self.uses_custom_buckets();
        if !custom && !(MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&self.schema) {
            return Err(format!(
                "schema {} is not −4…8 or {CUSTOM_BUCKETS_SCHEMA} (custom buckets)",
                self.schema
            ));
        }
        let total = self.positive_buckets.len() + self.negative_buckets.len();
        if total > MAX_NATIVE_BUCKETS || self.custom_values.len() > MAX_NATIVE_BUCKETS {
            return Err(format!(
                "{total} buckets and {} custom bounds: at most {MAX_NATIVE_BUCKETS} each",
                self.custom_values.len()
            ));
        }
        check_spans(
            "positive",
            &self.positive_spans,
            self.positive_buckets.len(),
        )?;
        check_spans(
            "negative",
            &self.negative_spans,
            self.negative_buckets.len(),
        )?;
        check_counts("positive", &self.positive_buckets)?;
        check_counts("negative", &self.negative_buckets)?;
        if !(self.zero_threshold >= 0.0 && self.zero_threshold.is_finite()) {
            return Err(format!("zero threshold {} is not ≥ 0", self.zero_threshold));
        }
        if self.zero_count.is_nan() || self.zero_count < 0.0 {
            return Err(format!("zero count {} is negative or NaN", self.zero_count));
        }
        if custom {
            check_custom(self)?;
        } else if !self.custom_values.is_empty() {
            return Err(format!(
                "custom bounds given with exponential schema {}",
                self.schema
            ));
        }
        Ok(())
    }
}

/// Spans must cover exactly `buckets` buckets; offsets after the first must not be negative.
fn check_spans(side: &str, spans: &[BucketSpan], buckets: usize) -> Result<(), String> {
    let mut covered: u64 = 0;
    for (i, s) in spans.iter().enumerate() {
        if i > 0 && s.offset < 0 {
            return Err(format!("{side} span {i} has negative offset {}", s.offset));
        }
        covered += u64::from(s.length);
    }
    if covered != buckets as u64 {
        return Err(format!(
            "{side} spans cover {covered} buckets but {buckets} counts are given"
        ));
    }
    Ok(())
}

fn check_counts(side: &str, counts: &[f64]) -> Result<(), String> {
    match counts.iter().position(|c| c.is_nan() || *c < 0.0) {
        Some(i) => Err(format!("{side} bucket {i} has count {}", counts[i])),
        None => Ok(()),
    }
}

/// Custom buckets: bounds finite and strictly ascending, no negative buckets, no zero bucket,
/// and every present bucket index within the bounds (index `len` is the `+Inf` bucket).
fn check_custom(h: &NativeHistogram) -> Result<(), String> {
    let b = &h.custom_values;
    if let Some(i) = b.iter().position(|v| !v.is_finite()) {
        return Err(format!("custom bound {i} is {}", b[i]));
    }
    if let Some(i) = (1..b.len()).find(|&i| b[i - 1] >= b[i]) {
        return Err(format!("custom bounds not ascending at {i}"));
    }
    if !h.negative_buckets.is_empty() || h.zero_count != 0.0 || h.zero_threshold != 0.0 {
        return Err("custom buckets have no negative or zero buckets".into());
    }
    let mut index: i64 = 0;
    for (i, s) in h.positive_spans.iter().enumerate() {
        index += i64::from(s.offset);
        if index < 0 {
            return Err(format!("custom-bucket span {i} starts below bucket 0"));
        }
        index += i64::from(s.length);
    }
    if index > b.len() as i64 + 1 {
        return Err(format!(
            "custom-bucket spans reach bucket {} but there are {} buckets",
            index - 1,
            b.len() + 1
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp() -> NativeHistogram {
        NativeHistogram {
            schema: 0,
            count: 4.0,
            sum: 5.0,
            positive_spans: vec![BucketSpan {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![1.0, 2.0, 1.0],
            ..NativeHistogram::default()
        }
    }

    #[test]
    fn a_well_formed_histogram_validates_and_is_integer() {
        assert_eq!(exp().validate(), Ok(()));
        assert!(exp().is_integer());
        let mut f = exp();
        f.positive_buckets[0] = 0.5;
        assert!(!f.is_integer());
    }

    #[test]
    fn malformed_histograms_say_what_is_wrong() {
        let mut h = exp();
        h.schema = 9;
        assert!(h.validate().unwrap_err().contains("schema 9"));
        let mut h = exp();
        h.positive_buckets.pop();
        assert!(h.validate().unwrap_err().contains("cover 3 buckets"));
        let mut h = exp();
        h.positive_buckets[1] = f64::NAN;
        assert!(h.validate().unwrap_err().contains("bucket 1"));
        let mut h = exp();
        h.schema = CUSTOM_BUCKETS_SCHEMA;
        h.custom_values = vec![1.0, 0.5];
        assert!(h.validate().unwrap_err().contains("ascending"));
        h.custom_values = vec![1.0];
        assert!(h.validate().unwrap_err().contains("reach bucket 2"));
        h.custom_values = vec![1.0, 2.0];
        assert_eq!(h.validate(), Ok(()));
    }

    #[test]
    fn counter_reset_hints_round_trip() {
        for v in 0..4 {
            assert_eq!(CounterResetHint::from_u8(v).map(|h| h.as_u8()), Some(v));
        }
        assert_eq!(CounterResetHint::from_u8(4), None);
    }
}
