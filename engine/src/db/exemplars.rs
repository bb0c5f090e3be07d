//! Exemplars and metric metadata through the shared WAL (the stores are `strata-tsdb`'s):
//! appends log, then apply; checkpoints re-log both; queries read memory.

use strata_index::Matcher;
use strata_model::{Exemplar, MetricMetadata};
pub use strata_tsdb::exemplars::{ExemplarOutcome, ExemplarSeries};
use strata_wal::RecordType;

use super::{Db, SeriesRef};
use crate::error::{Error, Result};

impl Db {
    /// Appends exemplars of existing series: logged to the WAL (per the sync policy), then
    /// kept, the newest `Options::exemplars_per_series` per series. Refusals (unknown series,
    /// labels over 128 characters, too far in the future, older than the series' newest) are counted in the outcome;
    /// a WAL failure is an error. One WAL record per call.
    pub fn append_exemplars(&self, exemplars: &[(SeriesRef, Exemplar)]) -> Result<ExemplarOutcome> {
        self.check_open()?;
        let ids: Vec<(u64, Exemplar)> = exemplars.iter().map(|(s, e)| (s.0, e.clone())).collect();
        let _gate = self.core.append_gate.read();
        let known = |id: u64| u32::try_from(id).is_ok_and(|id| self.core.head.series(id).is_some());
        let max_t_ms = self.time_bounds().0;
        self.core
            .exemplars
            .append_logged(&ids, (known, max_t_ms), |p| {
                self.core
                    .wal
                    .append(RecordType::EXEMPLARS, p)
                    .map(drop)
                    .map_err(Error::from)
            })
    }

    /// The exemplars of every series matching `matchers` within `[start_ms, end_ms]`,
    /// sorted by label set. Reads memory only.
    pub fn exemplars(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<ExemplarSeries>> {
        self.check_open()?;
        let head = &self.core.head;
        Ok(self
            .core
            .exemplars
            .select_series(head, matchers, start_ms, end_ms)?)
    }

    /// Sets metric metadata (from `# TYPE`/`# HELP`/`# UNIT` or OTLP): only changes are logged.
    /// Over a limit: [`Error::Limit`], and nothing of the call is kept.
    pub fn set_metadata(&self, entries: &[(&str, MetricMetadata)]) -> Result<()> {
        self.check_open()?;
        let _gate = self.core.append_gate.read();
        self.core
            .metadata
            .set_logged(entries, |p| self.log_metadata(p))
    }

    /// Metadata of `metric`, or of every metric (at most `limit`), in name order.
    pub fn metadata(&self, metric: Option<&str>, limit: usize) -> Vec<(String, MetricMetadata)> {
        self.core.metadata.list(metric, limit)
    }

    fn log_metadata(&self, payload: &[u8]) -> Result<()> {
        let kind = RecordType::METADATA.ignorable();
        self.core
            .wal
            .append(kind, payload)
            .map(drop)
            .map_err(Error::from)
    }

    /// Re-logs every exemplar and metadata entry (a checkpoint, with appends paused).
    pub(super) fn log_annotations(&self) -> Result<()> {
        self.core.exemplars.relog(|p| {
            self.core
                .wal
                .append(RecordType::EXEMPLARS, p)
                .map(drop)
                .map_err(Error::from)
        })?;
        self.core.metadata.relog(|p| self.log_metadata(p))
    }
}
