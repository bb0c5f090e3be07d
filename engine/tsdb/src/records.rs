//! The engine's WAL record payloads (layout in `docs/format/block.md`, "WAL records").
//! Every payload starts with a version byte; decoding untrusted payloads never panics.

use strata_codec::bytes::{ByteReader, put_uvarint, put_varint};
use strata_codec::histogram::Histogram;
use strata_model::NativeHistogram;

/// Version byte of every engine record payload.
pub const RECORD_VERSION: u8 = 1;

const SAMPLES_FLOAT: u8 = 0;
const SAMPLES_HISTOGRAM: u8 = 1;
const SAMPLES_FLOAT_PART: u8 = 2;
const SAMPLES_NATIVE: u8 = 3;
const MARKER_HEAD_MIN_VALID: u8 = 1;
const MARKER_SPANS_SEALED_THROUGH: u8 = 2;
const MARKER_SPANS_SEALING: u8 = 3;
const MARKER_SPANS_CHECKPOINT_BEGIN: u8 = 4;
const MARKER_SPANS_CHECKPOINT_END: u8 = 5;
const MARKER_SPANS_CHECKPOINT_ABORT: u8 = 6;

/// A series definition: the reference the head gave a label set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRecord {
    pub series_ref: u64,
    pub labels: Vec<(String, String)>,
}

/// One float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatSample {
    pub series_ref: u64,
    pub timestamp_ms: i64,
    pub value: f64,
}

/// Encodes series definitions.
pub fn encode_series(records: &[SeriesRecord], out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    put_uvarint(out, records.len() as u64);
    for r in records {
        put_uvarint(out, r.series_ref);
        put_uvarint(out, r.labels.len() as u64);
        for (n, v) in &r.labels {
            put_uvarint(out, n.len() as u64);
            out.extend_from_slice(n.as_bytes());
            put_uvarint(out, v.len() as u64);
            out.extend_from_slice(v.as_bytes());
        }
    }
}

pub(crate) fn version(r: &mut ByteReader<'_>) -> strata_codec::Result<()> {
    let v = r.u8()?;
    if v != RECORD_VERSION {
        return Err(r.corrupt(format!("record version {v}, expected {RECORD_VERSION}")));
    }
    Ok(())
}

pub(crate) fn string(r: &mut ByteReader<'_>) -> strata_codec::Result<String> {
    let len = r.len_at_most(r.remaining(), "string length")?;
    let bytes = r.take(len)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| r.corrupt("label is not UTF-8"))
}

pub fn decode_series(payload: &[u8]) -> strata_codec::Result<Vec<SeriesRecord>> {
    let mut r = ByteReader::new(payload, "series record");
    version(&mut r)?;
    // Each definition takes at least 2 bytes, so the count is bounded by the payload.
    let n = r.len_at_most(r.remaining() / 2, "series count")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let series_ref = r.uvarint()?;
        let k = r.len_at_most(r.remaining() / 2, "label count")?;
        let mut labels = Vec::with_capacity(k);
        for _ in 0..k {
            labels.push((string(&mut r)?, string(&mut r)?));
        }
        out.push(SeriesRecord { series_ref, labels });
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(out)
}

/// Samples per WAL record at most: a sample encodes to at most 28 bytes, so a record stays
/// below 15 MiB, under the WAL's 16 MiB limit. Larger batches are written as parts that replay
/// applies only when the last one is there ([`encode_float_part`]).
pub const SAMPLES_PER_RECORD: usize = 1 << 19;

/// Hands `samples` to `log` as WAL payloads: one record, or — for a batch larger than a
/// record — parts that replay applies only once the last is there, so a crash mid-batch
/// leaves the batch absent, never partial. `log` appends one payload and returns where.
pub fn log_float_samples<E>(
    samples: &[FloatSample],
    mut log: impl FnMut(&[u8]) -> Result<strata_wal::Position, E>,
) -> Result<(), E> {
    let mut payload = Vec::with_capacity(samples.len().min(SAMPLES_PER_RECORD) * 14 + 32);
    if samples.len() <= SAMPLES_PER_RECORD {
        encode_float_samples(samples, &mut payload);
        return log(&payload).map(drop);
    }
    let parts: Vec<&[FloatSample]> = samples.chunks(SAMPLES_PER_RECORD).collect();
    let mut first = None;
    for (i, part) in parts.iter().enumerate() {
        payload.clear();
        encode_float_part(first, i + 1 == parts.len(), part, &mut payload);
        let pos = log(&payload)?;
        first.get_or_insert(pos);
    }
    Ok(())
}

/// Encodes float samples: timestamps relative to the first, values as raw bits.
pub fn encode_float_samples(samples: &[FloatSample], out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    out.push(SAMPLES_FLOAT);
    encode_float_body(samples, out);
}

/// Encodes one part of a batch too large for one record. `first` is the WAL position of the
/// batch's first part (`None` in the first part itself); `last` marks the part that commits
/// the batch. Replay applies a batch's parts only when it meets the last one.
pub fn encode_float_part(
    first: Option<strata_wal::Position>,
    last: bool,
    samples: &[FloatSample],
    out: &mut Vec<u8>,
) {
    out.push(RECORD_VERSION);
    out.push(SAMPLES_FLOAT_PART);
    out.push(u8::from(last) | u8::from(first.is_some()) << 1);
    if let Some(p) = first {
        put_uvarint(out, p.segment);
        put_uvarint(out, p.offset);
    }
    encode_float_body(samples, out);
}

fn encode_float_body(samples: &[FloatSample], out: &mut Vec<u8>) {
    put_uvarint(out, samples.len() as u64);
    let base = samples.first().map_or(0, |s| s.timestamp_ms);
    put_varint(out, base);
    for s in samples {
        put_uvarint(out, s.series_ref);
        put_varint(out, s.timestamp_ms.wrapping_sub(base));
        out.extend_from_slice(&s.value.to_bits().to_le_bytes());
    }
}

/// Encodes histogram samples, each with its own bounds.
pub fn encode_histogram_samples(samples: &[(u64, i64, &Histogram)], out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    out.push(SAMPLES_HISTOGRAM);
    put_uvarint(out, samples.len() as u64);
    for (series_ref, t, h) in samples {
        put_uvarint(out, *series_ref);
        put_varint(out, *t);
        put_uvarint(out, h.bounds.len() as u64);
        for b in &h.bounds {
            out.extend_from_slice(&b.to_bits().to_le_bytes());
        }
        for c in &h.counts {
            put_uvarint(out, *c);
        }
        put_uvarint(out, h.count);
        out.extend_from_slice(&h.sum.to_bits().to_le_bytes());
        let flags = h.min.is_some() as u8 | (h.max.is_some() as u8) << 1;
        out.push(flags);
        for v in [h.min, h.max].into_iter().flatten() {
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
}

/// A decoded samples record.
#[derive(Debug, Clone, PartialEq)]
pub enum SamplesRecord {
    Float(Vec<FloatSample>),
    /// A part of a batch written as several records (see [`encode_float_part`]).
    FloatPart {
        first: Option<strata_wal::Position>,
        last: bool,
        samples: Vec<FloatSample>,
    },
    Histogram(Vec<(u64, i64, Histogram)>),
    /// Native histogram samples: series ref, time, histogram.
    Native(Vec<(u64, i64, NativeHistogram)>),
}

fn f64_le(r: &mut ByteReader<'_>) -> strata_codec::Result<f64> {
    Ok(f64::from_bits(r.u64()?))
}

pub fn decode_samples(payload: &[u8]) -> strata_codec::Result<SamplesRecord> {
    let mut r = ByteReader::new(payload, "samples record");
    version(&mut r)?;
    match r.u8()? {
        SAMPLES_FLOAT => Ok(SamplesRecord::Float(decode_float_body(&mut r)?)),
        SAMPLES_FLOAT_PART => {
            let flags = r.u8()?;
            if flags > 3 {
                return Err(r.corrupt(format!("batch part flags {flags:#x}")));
            }
            let first = if flags & 2 != 0 {
                Some(strata_wal::Position::new(r.uvarint()?, r.uvarint()?))
            } else {
                None
            };
            Ok(SamplesRecord::FloatPart {
                first,
                last: flags & 1 != 0,
                samples: decode_float_body(&mut r)?,
            })
        }
        SAMPLES_HISTOGRAM => {
            let n = r.len_at_most(r.remaining() / 12, "histogram count")?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let series_ref = r.uvarint()?;
                let t = r.varint()?;
                let nb = r.len_at_most(
                    (r.remaining() / 9).min(strata_codec::histogram::MAX_BOUNDS),
                    "bound count",
                )?;
                let mut bounds = Vec::with_capacity(nb);
                for _ in 0..nb {
                    bounds.push(f64_le(&mut r)?);
                }
                let mut counts = Vec::with_capacity(nb + 1);
                for _ in 0..=nb {
                    counts.push(r.uvarint()?);
                }
                let count = r.uvarint()?;
                let sum = f64_le(&mut r)?;
                let flags = r.u8()?;
                if flags > 3 {
                    return Err(r.corrupt(format!("histogram flags {flags:#x}")));
                }
                let min = if flags & 1 != 0 {
                    Some(f64_le(&mut r)?)
                } else {
                    None
                };
                let max = if flags & 2 != 0 {
                    Some(f64_le(&mut r)?)
                } else {
                    None
                };
                out.push((
                    series_ref,
                    t,
                    Histogram {
                        bounds,
                        counts,
                        count,
                        sum,
                        min,
                        max,
                    },
                ));
            }
            if !r.is_empty() {
                return Err(r.corrupt("trailing bytes"));
            }
            Ok(SamplesRecord::Histogram(out))
        }
        SAMPLES_NATIVE => decode_native_body(&mut r).map(SamplesRecord::Native),
        kind => Err(r.corrupt(format!("unknown samples kind {kind}"))),
    }
}

/// Encodes native histogram samples: per sample its series ref, time and a one-sample native
/// chunk (`codec::native`, which validates and round-trips every bit).
pub fn encode_native_samples(
    samples: &[(u64, i64, &NativeHistogram)],
    out: &mut Vec<u8>,
) -> strata_codec::Result<()> {
    out.push(RECORD_VERSION);
    out.push(SAMPLES_NATIVE);
    put_uvarint(out, samples.len() as u64);
    for (r, t, h) in samples {
        let chunk = strata_codec::native::encode_chunk(&[*t], std::slice::from_ref(*h))?;
        put_uvarint(out, *r);
        put_varint(out, *t);
        put_uvarint(out, chunk.len() as u64);
        out.extend_from_slice(&chunk);
    }
    Ok(())
}

fn decode_native_body(
    r: &mut ByteReader<'_>,
) -> strata_codec::Result<Vec<(u64, i64, NativeHistogram)>> {
    // A sample takes at least 8 bytes (ref, time, length, a chunk of at least 5).
    let n = r.len_at_most(r.remaining() / 8, "native histogram count")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let series = r.uvarint()?;
        let t = r.varint()?;
        let len = r.len_at_most(r.remaining(), "native chunk length")?;
        let samples = strata_codec::native::decode(r.take(len)?)?;
        match samples.get(0) {
            Some((ct, h)) if ct == t && samples.len() == 1 => out.push((series, t, h)),
            _ => return Err(r.corrupt("native sample chunk does not hold its one sample")),
        }
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(out)
}

fn decode_float_body(r: &mut ByteReader<'_>) -> strata_codec::Result<Vec<FloatSample>> {
    // A sample takes at least 10 bytes.
    let n = r.len_at_most(r.remaining() / 10, "sample count")?;
    let base = r.varint()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let series_ref = r.uvarint()?;
        let timestamp_ms = base.wrapping_add(r.varint()?);
        let value = f64_le(r)?;
        out.push(FloatSample {
            series_ref,
            timestamp_ms,
            value,
        });
    }
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(out)
}

/// A marker record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// From here on the head accepts no sample older than this (older data is in blocks).
    HeadMinValid(i64),
    /// Every span logged before this point in a window ending at or before this time (ms) is
    /// in a sealed partition.
    SpansSealedThrough(i64),
    /// A seal of windows ending at or before `through_ms` starts; its partitions get sequence
    /// numbers from `first_seq` on. Spans logged before this point whose (bucket, window) has
    /// a partition numbered `first_seq` or later on disk are in it.
    SpansSealing { through_ms: i64, first_seq: u64 },
    /// A checkpoint's copies of the unsealed spans follow, up to the matching end marker.
    /// With `typed_copies` (the marker's value 1) the copies are the SPANS payloads flagged
    /// as copies, and spans appended meanwhile are logged between them; without (value 0,
    /// logs written while checkpoints paused appends) every SPANS record up to the end
    /// marker is a copy.
    SpansCheckpointBegin { typed_copies: bool },
    /// The checkpoint's copies are complete: they replace every span replayed before its begin.
    SpansCheckpointEnd,
    /// The checkpoint begun last never ended (a crash); its partial copies are void.
    SpansCheckpointAbort,
}

/// Encodes a marker.
pub fn encode_marker(marker: Marker, out: &mut Vec<u8>) {
    out.push(RECORD_VERSION);
    let (kind, t) = match marker {
        Marker::HeadMinValid(t) => (MARKER_HEAD_MIN_VALID, t),
        Marker::SpansSealedThrough(t) => (MARKER_SPANS_SEALED_THROUGH, t),
        Marker::SpansSealing { through_ms, .. } => (MARKER_SPANS_SEALING, through_ms),
        Marker::SpansCheckpointBegin { typed_copies } => {
            (MARKER_SPANS_CHECKPOINT_BEGIN, i64::from(typed_copies))
        }
        Marker::SpansCheckpointEnd => (MARKER_SPANS_CHECKPOINT_END, 0),
        Marker::SpansCheckpointAbort => (MARKER_SPANS_CHECKPOINT_ABORT, 0),
    };
    out.push(kind);
    put_varint(out, t);
    if let Marker::SpansSealing { first_seq, .. } = marker {
        strata_codec::bytes::put_uvarint(out, first_seq);
    }
}

/// Decodes a marker; `Ok(None)` for a marker kind this build does not know (markers are
/// advisory, so unknown ones are skipped).
pub fn decode_marker(payload: &[u8]) -> strata_codec::Result<Option<Marker>> {
    let mut r = ByteReader::new(payload, "marker record");
    version(&mut r)?;
    let kind = r.u8()?;
    let t = r.varint()?;
    Ok(match kind {
        MARKER_HEAD_MIN_VALID => Some(Marker::HeadMinValid(t)),
        MARKER_SPANS_SEALED_THROUGH => Some(Marker::SpansSealedThrough(t)),
        MARKER_SPANS_SEALING => Some(Marker::SpansSealing {
            through_ms: t,
            first_seq: r.uvarint()?,
        }),
        MARKER_SPANS_CHECKPOINT_BEGIN => Some(Marker::SpansCheckpointBegin {
            typed_copies: t != 0,
        }),
        MARKER_SPANS_CHECKPOINT_END => Some(Marker::SpansCheckpointEnd),
        MARKER_SPANS_CHECKPOINT_ABORT => Some(Marker::SpansCheckpointAbort),
        _ => None,
    })
}

// ---- describing records, for `strata wal-dump` ----

/// One line describing a WAL record of the engine's: its type and a summary (series ids,
/// sample counts and time ranges, markers). For `strata wal-dump`.
pub fn describe(kind: strata_wal::RecordType, payload: &[u8]) -> String {
    use strata_wal::RecordType as T;
    match kind {
        t if t == T::SERIES => match decode_series(payload) {
            Ok(defs) => format!("SERIES {}", id_range(defs.iter().map(|d| d.series_ref))),
            Err(e) => format!("SERIES undecodable: {e}"),
        },
        t if t == T::METRICS => match decode_samples(payload) {
            Ok(SamplesRecord::Float(s)) => format!("FLOATS {}", samples(&s)),
            Ok(SamplesRecord::FloatPart {
                first,
                last,
                samples: s,
            }) => format!(
                "FLOAT-PART first={} last={last} {}",
                first.map_or("self".to_owned(), |p| p.to_string()),
                samples(&s)
            ),
            Ok(SamplesRecord::Histogram(h)) => format!(
                "HISTOGRAMS n={} series {}",
                h.len(),
                id_range(h.iter().map(|x| x.0))
            ),
            Ok(SamplesRecord::Native(h)) => format!(
                "NATIVE-HISTOGRAMS n={} series {}",
                h.len(),
                id_range(h.iter().map(|x| x.0))
            ),
            Err(e) => format!("METRICS undecodable: {e}"),
        },
        t if t == T::MARKERS => match decode_marker(payload) {
            Ok(Some(Marker::HeadMinValid(t))) => format!("MARKER head-min-valid {t}"),
            Ok(Some(m)) => format!("MARKER {m:?}"),
            Ok(None) => "MARKER unknown kind".to_owned(),
            Err(e) => format!("MARKER undecodable: {e}"),
        },
        t if t == T::SPANS => format!("SPANS {} bytes", payload.len()),
        t if t == T::EVENTS => format!("EVENTS {} bytes", payload.len()),
        t if t == T::EXEMPLARS => match crate::exemplars::decode_exemplars(payload) {
            Ok(x) => format!(
                "EXEMPLARS n={} series {}",
                x.len(),
                id_range(x.iter().map(|e| e.0))
            ),
            Err(e) => format!("EXEMPLARS undecodable: {e}"),
        },
        t if t.kind() == T::METADATA.kind() => match crate::metadata::decode_metadata(payload) {
            Ok(m) => format!("METADATA n={}", m.len()),
            Err(e) => format!("METADATA undecodable: {e}"),
        },
        t => format!("type {t:?} {} bytes", payload.len()),
    }
}

fn samples(s: &[FloatSample]) -> String {
    let lo = s.iter().map(|x| x.timestamp_ms).min().unwrap_or(0);
    let hi = s.iter().map(|x| x.timestamp_ms).max().unwrap_or(0);
    format!(
        "n={} series {} t={lo}..{hi}",
        s.len(),
        id_range(s.iter().map(|x| x.series_ref))
    )
}

/// "[a..b] (n distinct)" for a set of series ids.
fn id_range(ids: impl Iterator<Item = u64>) -> String {
    let mut v: Vec<u64> = ids.collect();
    v.sort_unstable();
    v.dedup();
    match (v.first(), v.last()) {
        (Some(a), Some(b)) => format!("[{a}..{b}] ({} distinct)", v.len()),
        _ => "[]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_reject_damage() {
        let series = vec![SeriesRecord {
            series_ref: 7,
            labels: vec![
                ("__name__".into(), "up".into()),
                ("job".into(), "node".into()),
            ],
        }];
        let mut buf = Vec::new();
        encode_series(&series, &mut buf);
        assert_eq!(decode_series(&buf).unwrap(), series);
        for len in 0..buf.len() {
            assert!(decode_series(&buf[..len]).is_err());
        }

        let samples = vec![
            FloatSample {
                series_ref: 7,
                timestamp_ms: 1_000,
                value: f64::NAN,
            },
            FloatSample {
                series_ref: 9,
                timestamp_ms: -5,
                value: -0.0,
            },
        ];
        let mut buf = Vec::new();
        encode_float_samples(&samples, &mut buf);
        match decode_samples(&buf).unwrap() {
            SamplesRecord::Float(got) => {
                assert_eq!(got.len(), 2);
                assert!(got[0].value.is_nan() && got[1].value.to_bits() == (-0.0f64).to_bits());
                assert_eq!(got[1].timestamp_ms, -5);
            }
            other => panic!("{other:?}"),
        }
        for len in 0..buf.len() {
            assert!(decode_samples(&buf[..len]).is_err());
        }
        for (first, last) in [
            (None, false),
            (Some(strata_wal::Position::new(3, 77)), true),
        ] {
            let mut buf = Vec::new();
            encode_float_part(first, last, &samples, &mut buf);
            match decode_samples(&buf).unwrap() {
                SamplesRecord::FloatPart {
                    first: f,
                    last: l,
                    samples: got,
                } => {
                    assert_eq!((f, l, got.len()), (first, last, 2));
                    assert_eq!(got[1].timestamp_ms, -5);
                }
                other => panic!("{other:?}"),
            }
            for len in 0..buf.len() {
                assert!(decode_samples(&buf[..len]).is_err());
            }
        }

        let h = Histogram {
            bounds: vec![1.0, 4.0],
            counts: vec![1, 2, 3],
            count: 6,
            sum: 9.5,
            min: Some(0.5),
            max: None,
        };
        let mut buf = Vec::new();
        encode_histogram_samples(&[(3, 42, &h)], &mut buf);
        assert_eq!(
            decode_samples(&buf).unwrap(),
            SamplesRecord::Histogram(vec![(3, 42, h)])
        );
        for len in 0..buf.len() {
            assert!(decode_samples(&buf[..len]).is_err());
        }

        for m in [
            Marker::HeadMinValid(-77),
            Marker::SpansSealedThrough(i64::MAX),
            Marker::SpansSealing {
                through_ms: 1_700_000_000_000,
                first_seq: 12_345,
            },
            Marker::SpansCheckpointBegin {
                typed_copies: false,
            },
            Marker::SpansCheckpointBegin { typed_copies: true },
            Marker::SpansCheckpointEnd,
            Marker::SpansCheckpointAbort,
        ] {
            let mut buf = Vec::new();
            encode_marker(m, &mut buf);
            assert_eq!(decode_marker(&buf).unwrap(), Some(m));
        }
    }
}
