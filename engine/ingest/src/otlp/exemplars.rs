//! OTLP `Exemplar` messages (on number and histogram data points) → [`Exemplar`]s: the
//! filtered attributes as labels (named as point attributes are), then `trace_id` and
//! `span_id` in lowercase hex when present, as Prometheus' OTLP receiver sets them.

use strata_model::Exemplar;
use strata_spans::hex;

use super::naming::sanitize_label_name;
use super::traces::push_attr;
use super::wire::{Reader, as_fixed64, as_len};
use super::{Limits, OtlpError};

/// Decodes the `Exemplar` at `b` (which starts at byte `base`); `None` when it has no value.
pub(super) fn exemplar(
    b: &[u8],
    base: usize,
    limits: &Limits,
) -> Result<Option<Exemplar>, OtlpError> {
    let mut attrs = Vec::new();
    let (mut t_ms, mut value) = (0i64, None);
    let (mut trace_id, mut span_id): (&[u8], &[u8]) = (&[], &[]);
    let mut r = Reader::new(b, base);
    while let Some((field, at, v)) = r.next()? {
        match field {
            2 => {
                let ns = as_fixed64(v, at, "exemplar.time_unix_nano")?;
                t_ms = (ns / 1_000_000).min(i64::MAX as u64) as i64;
            }
            3 => value = Some(f64::from_bits(as_fixed64(v, at, "exemplar.as_double")?)),
            4 => span_id = as_len(v, at, "exemplar.span_id")?,
            5 => trace_id = as_len(v, at, "exemplar.trace_id")?,
            6 => value = Some(as_fixed64(v, at, "exemplar.as_int")? as i64 as f64),
            7 => push_attr(
                &mut attrs,
                as_len(v, at, "exemplar.filtered_attributes")?,
                at,
                limits,
            )?,
            _ => {}
        }
    }
    let Some(value) = value else {
        return Ok(None);
    };
    let mut labels: Vec<(String, String)> = attrs
        .iter()
        .map(|kv| (sanitize_label_name(&kv.key), kv.value.to_text()))
        .filter(|(n, _)| !n.is_empty())
        .collect();
    if !trace_id.is_empty() {
        labels.push(("trace_id".into(), hex(trace_id)));
    }
    if !span_id.is_empty() {
        labels.push(("span_id".into(), hex(span_id)));
    }
    Ok(Some(Exemplar {
        labels,
        value,
        t_ms,
    }))
}
