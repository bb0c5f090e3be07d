//! Spans and OTLP through the `Db`: the span store shares the database's WAL, append gate,
//! checkpoints and maintenance.

use super::Db;
use crate::error::{Error, Result};
use crate::otlp;
use crate::records::Marker;
use crate::spans::{AppendOutcome, CheckpointMarks, Span, SpanStore, TimeRules};
use strata_codec::histogram::Histogram;

/// What an OTLP metrics import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OtlpMetricsOutcome {
    pub samples: usize,
    pub histograms: usize,
    /// Samples or histogram points refused (out of order, duplicates, …), with the first reason.
    pub rejected: usize,
    pub first_rejection: Option<String>,
    /// Stored samples and histogram points already older than the metrics bucket's retention
    /// (the next retention pass drops them; see `Options::reject_outside_retention`).
    pub outside_retention: usize,
    /// Exemplars stored (repeats and refusals are not counted).
    pub exemplars: usize,
}

impl Db {
    /// The span tables: queries (`find`, `trace`, `aggregate`), buckets, routing rules, prices.
    pub fn spans(&self) -> &SpanStore {
        &self.core.spans
    }

    /// Appends spans: logged to the WAL (acknowledged per the sync policy), then queryable.
    /// Spans too far ahead of the clock are refused (and, with
    /// `Options::reject_outside_retention`, those older than their bucket keeps): they are
    /// counted in the outcome and the rest is stored. Malformed spans fail the whole batch.
    pub fn append_spans(&self, spans: &[Span]) -> Result<AppendOutcome> {
        self.append_spans_owned(spans.to_vec())
    }

    /// [`Self::append_spans`] taking the batch by value (no copy of the spans).
    pub fn append_spans_owned(&self, spans: Vec<Span>) -> Result<AppendOutcome> {
        self.check_open()?;
        let rules = TimeRules {
            now_ms: self.core.options.clock.now_ms(),
            future_tolerance_ms: self.core.options.future_tolerance_ms,
            reject_outside_retention: self.core.options.reject_outside_retention,
        };
        let (spans, screened) = self.core.spans.screen(spans, rules);
        let _gate = self.core.append_gate.read();
        let stored = if spans.is_empty() {
            AppendOutcome::default()
        } else {
            self.core.spans.append_owned(&self.core.wal, spans)?
        };
        Ok(AppendOutcome {
            spans: stored.spans,
            position: stored.position,
            ..screened
        })
    }

    /// Decodes an OTLP `ExportTraceServiceRequest` and appends its spans.
    pub fn import_otlp_traces(&self, payload: &[u8]) -> Result<AppendOutcome> {
        let spans = otlp::decode_traces(payload).map_err(|source| Error::Otlp {
            signal: "traces",
            source,
        })?;
        self.append_spans_owned(spans)
    }

    /// Decodes an OTLP `ExportMetricsServiceRequest` and appends its points as metric series
    /// (names and labels mapped as Prometheus' OTLP receiver maps them; delta sums accumulated).
    pub fn import_otlp_metrics(&self, payload: &[u8]) -> Result<OtlpMetricsOutcome> {
        self.check_open()?;
        let batch = {
            let mut delta = self.core.otlp_delta.lock();
            otlp::decode_metrics(payload, &mut delta).map_err(|source| Error::Otlp {
                signal: "metrics",
                source,
            })?
        };
        let mut out = OtlpMetricsOutcome::default();
        let mut refs = Vec::with_capacity(batch.samples.len());
        let (mut ts, mut vs) = (
            Vec::with_capacity(batch.samples.len()),
            Vec::with_capacity(batch.samples.len()),
        );
        for (labels, t, v) in &batch.samples {
            refs.push(self.series_ref(labels)?);
            ts.push(*t);
            vs.push(*v);
        }
        let r = self.append_batch(&refs, &ts, &vs)?;
        out.samples = r.accepted;
        out.outside_retention = r.outside_retention;
        out.rejected += r.rejected.len();
        out.first_rejection = r.rejected.first().map(|(_, e)| e.to_string());
        for p in &batch.histograms {
            let h: &Histogram = &p.histogram;
            let r = self.series_ref(&p.labels)?;
            match self.append_histogram(r, p.t_ms, h) {
                Ok(()) => {
                    out.histograms += 1;
                    out.outside_retention += usize::from(p.t_ms < self.time_bounds().1);
                }
                Err(e) if e.is_sample_error() => {
                    out.rejected += 1;
                    out.first_rejection.get_or_insert_with(|| e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(p) = batch.native_histograms.first() {
            // Decoded exactly, but not storable yet (issue 15): refused and counted, not lost
            // silently.
            out.rejected += batch.native_histograms.len();
            out.first_rejection.get_or_insert_with(|| {
                format!(
                    "{}: native histograms are not stored yet",
                    p.labels.last().map_or("", |l| l.1.as_str())
                )
            });
        }
        let mut exemplars = Vec::with_capacity(batch.exemplars.len());
        for (labels, e) in batch.exemplars {
            exemplars.push((self.series_ref(&labels)?, e));
        }
        // A point's exemplars come in bucket order; the store keeps each series in time order.
        exemplars.sort_by_key(|(r, e)| (*r, e.t_ms));
        out.exemplars = self.append_exemplars(&exemplars)?.stored;
        let meta: Vec<_> = batch
            .metadata
            .iter()
            .map(|(n, m)| (n.as_str(), m.clone()))
            .collect();
        if let Err(e) = self.set_metadata(&meta) {
            let Error::Limit { .. } = e else {
                return Err(e);
            };
            out.first_rejection.get_or_insert(e.to_string());
        }
        Ok(out)
    }

    /// Seals span windows ending at or before `upto_ms` and logs that they are sealed. Appends
    /// pause only while the windows are taken and the "sealing" marker is logged; encoding and
    /// fsyncing the partitions run with appends and queries going on (queries see the rows
    /// being sealed until the partitions replace them). Callers hold the maintenance lock.
    pub(super) fn seal_spans(&self, upto_ms: i64) -> Result<usize> {
        let job = {
            let _gate = self.core.append_gate.write();
            let job = self.core.spans.begin_seal(upto_ms);
            if job.is_empty() {
                return Ok(0);
            }
            // Everything logged before this marker in those windows is in the job; spans
            // appended from now on are not (replay keeps them at the "sealed" marker).
            let sealing = Marker::SpansSealing {
                through_ms: upto_ms,
                first_seq: job.first_seq,
            };
            if let Err(e) = self.core.log_marker(sealing) {
                // Nothing was written: hand the rows back.
                self.core.spans.finish_seal_aborted(job);
                return Err(e);
            }
            job
        };
        // Durable before any partition appears: if the process dies before the "sealed" marker
        // below, replay still knows which windows the partitions on disk hold.
        if let Err(e) = self.core.wal.sync() {
            self.core.spans.finish_seal_aborted(job);
            return Err(e.into());
        }
        let report = self.core.spans.finish_seal(job)?;
        self.core.log_marker(Marker::SpansSealedThrough(upto_ms))?;
        Ok(report.partitions)
    }

    /// The start of the span part of a WAL checkpoint, with appends paused by the caller:
    /// the begin marker, and how many spans each in-memory window holds at it.
    pub(super) fn begin_span_checkpoint(&self) -> Result<CheckpointMarks> {
        self.core
            .log_marker(Marker::SpansCheckpointBegin { typed_copies: true })?;
        Ok(self.core.spans.checkpoint_marks())
    }

    /// The rest of it, with appends going on: the copies of those spans (flagged, so replay
    /// tells them from spans appended meanwhile), then the end marker. A replay that meets a
    /// begin without its end (the process died mid-checkpoint, before the older records were
    /// dropped) keeps the older records and drops the partial copies.
    pub(super) fn finish_span_checkpoint(&self, marks: &CheckpointMarks) -> Result<()> {
        self.core.spans.copy_payloads(marks, |p| {
            self.core
                .wal
                .append(strata_wal::RecordType::SPANS, &p)
                .map(|_| ())
        })?;
        self.core.log_marker(Marker::SpansCheckpointEnd).map(drop)
    }
}
