//! What a WAL checkpoint re-logs of the metrics head: series definitions, histogram samples
//! and float samples, as the records replay reads (`docs/format/wal.md`). The caller owns the
//! WAL and the ordering around these calls (the append gate, the markers): `append` logs one
//! record.

use std::sync::Arc;

use parking_lot::Mutex;
use strata_wal::RecordType;

use crate::head::{Head, MemSeries};
use crate::records::{self, FloatSample, SeriesRecord};

/// Series definitions per SERIES record.
const DEFINITIONS_PER_RECORD: usize = 4096;
/// Float samples per METRICS record.
const FLOATS_PER_RECORD: usize = 1 << 16;

/// Logs a definition of every series in the head, then every histogram (explicit-bucket and
/// native) sample still in it
/// (histograms replay in order, so they must precede anything appended after the
/// checkpoint's marker). Returns the series covered, in id order.
pub fn log_definitions_and_histograms<E: From<crate::Error>>(
    head: &Head,
    append: &mut impl FnMut(RecordType, &[u8]) -> Result<(), E>,
) -> Result<Vec<Arc<Mutex<MemSeries>>>, E> {
    let series = head.with_series(|all| all.to_vec());
    let mut payload = Vec::new();
    let mut defs = Vec::with_capacity(DEFINITIONS_PER_RECORD);
    for id in 0..series.len() {
        defs.push(SeriesRecord {
            series_ref: id as u64,
            labels: head.labels(id as u32).unwrap_or_default(),
        });
        if defs.len() == DEFINITIONS_PER_RECORD || id + 1 == series.len() {
            payload.clear();
            records::encode_series(&defs, &mut payload);
            append(RecordType::SERIES, &payload)?;
            defs.clear();
        }
    }
    for (id, s) in series.iter().enumerate() {
        let chunks = s.lock().read_histograms(i64::MIN, i64::MAX)?;
        for cols in chunks {
            for (t, h) in cols.iter() {
                payload.clear();
                let sample = [(id as u64, t, &h.to_histogram())];
                records::encode_histogram_samples(&sample, &mut payload);
                append(RecordType::METRICS, &payload)?;
            }
        }
        let natives = s.lock().read_natives(i64::MIN, i64::MAX)?;
        for chunk in natives.chunks(256) {
            let samples: Vec<(u64, i64, &strata_model::NativeHistogram)> =
                chunk.iter().map(|(t, h)| (id as u64, *t, h)).collect();
            payload.clear();
            records::encode_native_samples(&samples, &mut payload).map_err(crate::Error::from)?;
            append(RecordType::METRICS, &payload)?;
        }
    }
    Ok(series)
}

/// Re-logs every float sample of `series` (ids are positions), a record per 65,536 samples.
/// Safe with appends going on: replay applies float samples permissively, and a sample also
/// logged after the checkpoint's marker is a duplicate whose first value stays.
pub fn relog_floats<E: From<crate::Error>>(
    series: &[Arc<Mutex<MemSeries>>],
    append: &mut impl FnMut(RecordType, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut samples = Vec::with_capacity(FLOATS_PER_RECORD);
    let mut payload = Vec::new();
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let mut flush = |samples: &mut Vec<FloatSample>| {
        payload.clear();
        records::encode_float_samples(samples, &mut payload);
        samples.clear();
        append(RecordType::METRICS, &payload)
    };
    for (id, s) in series.iter().enumerate() {
        ts.clear();
        vs.clear();
        s.lock().read_floats(i64::MIN, i64::MAX, &mut ts, &mut vs)?;
        for (&t, &v) in ts.iter().zip(&vs) {
            samples.push(FloatSample {
                series_ref: id as u64,
                timestamp_ms: t,
                value: v,
            });
            if samples.len() == FLOATS_PER_RECORD {
                flush(&mut samples)?;
            }
        }
    }
    if !samples.is_empty() {
        flush(&mut samples)?;
    }
    Ok(())
}
