//! Spans and OTLP through the `Db`: the span store shares the database's WAL, append gate,
//! checkpoints and maintenance.

use super::{Db, SeriesRef};
use crate::error::{Error, Result};
use crate::otlp;
use crate::records::Marker;
use crate::spans::{AppendOutcome, CheckpointMarks, Span, SpanStore, TimeRules};
use strata_codec::histogram::Histogram;
use strata_model::{Exemplar, MetricMetadata, NativeHistogram};

/// What an OTLP metrics import did.
pub type OtlpMetricsOutcome = strata_ingest::sink::MetricsOutcome;

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
        strata_ingest::sink::apply_metrics(self, batch)
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
        self.core.spans.copy_event_payloads(marks, |p| {
            self.core
                .wal
                .append(strata_wal::RecordType::EVENTS, &p)
                .map(|_| ())
        })?;
        self.core.log_marker(Marker::SpansCheckpointEnd).map(drop)
    }
}

impl strata_ingest::sink::MetricsSink for Db {
    type Ref = SeriesRef;
    type Error = Error;

    fn series_ref(&self, labels: &Vec<(String, String)>) -> Result<SeriesRef> {
        Db::series_ref(self, labels)
    }

    fn append_samples(
        &self,
        refs: &[SeriesRef],
        ts: &[i64],
        vs: &[f64],
    ) -> Result<(usize, usize, Vec<String>)> {
        let r = self.append_batch(refs, ts, vs)?;
        let refused = r.rejected.iter().map(|(_, e)| e.to_string()).collect();
        Ok((r.accepted, r.outside_retention, refused))
    }

    fn append_histogram(&self, r: SeriesRef, t_ms: i64, h: &Histogram) -> Result<()> {
        Db::append_histogram(self, r, t_ms, h)
    }

    fn append_native(&self, r: SeriesRef, t_ms: i64, h: &NativeHistogram) -> Result<()> {
        self.append_native_histogram(r, t_ms, h)
    }

    fn is_sample_error(e: &Error) -> bool {
        e.is_sample_error()
    }

    fn outside_retention(&self, t_ms: i64) -> bool {
        t_ms < self.time_bounds().1
    }

    fn append_exemplars(&self, exemplars: &[(SeriesRef, Exemplar)]) -> Result<usize> {
        Ok(Db::append_exemplars(self, exemplars)?.stored)
    }

    fn set_metadata(&self, entries: &[(&str, MetricMetadata)]) -> Result<Option<String>> {
        match Db::set_metadata(self, entries) {
            Ok(()) => Ok(None),
            Err(e @ Error::Limit { .. }) => Ok(Some(e.to_string())),
            Err(e) => Err(e),
        }
    }
}
