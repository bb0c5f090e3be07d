//! Seals in phases: take the windows (appends paused by the owner), encode and write the
//! partitions with no lock held, swap them in.

use super::*;

/// A seal between its phases: the windows it took out of `open` (see [`SpanStore::begin_seal`]).
#[derive(Debug, Default)]
pub struct SealJob {
    keys: Vec<(String, i64)>,
    /// The event windows it took.
    pub(crate) event_keys: Vec<WindowKey>,
    /// Sequence number of the job's first partition; the job owns `first_seq..first_seq + n`
    /// (span partitions first, then event partitions from `event_first_seq`).
    pub first_seq: u64,
    pub(crate) event_first_seq: u64,
    reserved: u64,
    pub(crate) content: ContentPolicy,
    prices: PriceTable,
}

impl SealJob {
    /// True when there was nothing to seal.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.event_keys.is_empty()
    }
}

impl SpanStore {
    /// Seals every in-memory window ending at or before `upto_ms` into partitions. On an error
    /// the spans stay in memory (and in the WAL) and the seal can be retried.
    pub fn seal(&self, upto_ms: i64) -> Result<SealReport> {
        let job = self.begin_seal(upto_ms);
        self.finish_seal(job)
    }

    /// A seal's first phase, under a brief write lock: the windows ending at or before
    /// `upto_ms` move from `open` to `sealing` (queries still see them; new spans of those
    /// windows go to `open` again), and the job reserves its partitions' sequence numbers, so
    /// a failed seal's retry never collides with a directory it left.
    pub fn begin_seal(&self, upto_ms: i64) -> SealJob {
        let mut st = self.state.write();
        let st = &mut *st;
        // A window another seal is still encoding stays open until that seal ends.
        let keys = st.spans.sealable(self.options.partition_ms, upto_ms);
        let mut groups = std::collections::BTreeSet::new();
        for key in &keys {
            let rows = st.spans.open.remove(key).unwrap_or_default();
            groups.insert(key.clone());
            if let ContentPolicy::Bucket(b) = &st.config.content
                && rows.iter().any(|r| !r.content.is_empty())
            {
                groups.insert((b.clone(), key.1));
            }
            st.spans.sealing.insert(key.clone(), Arc::new(rows));
        }
        let event_keys = st.events.sealable(self.options.partition_ms, upto_ms);
        let event_groups = Self::take_event_windows(st, &event_keys);
        let job = SealJob {
            keys,
            event_keys,
            first_seq: st.next_seq,
            event_first_seq: st.next_seq + groups.len() as u64,
            reserved: (groups.len() + event_groups) as u64,
            content: st.config.content.clone(),
            prices: st.config.prices.clone(),
        };
        st.next_seq += job.reserved;
        job
    }

    /// A seal's second and third phases: encode and fsync the partitions with no lock held,
    /// then swap them in for the windows' rows under a brief write lock. On an error the rows
    /// go back to `open` (still in the WAL) and a retry starts over.
    pub fn finish_seal(&self, job: SealJob) -> Result<SealReport> {
        if job.is_empty() {
            return Ok(SealReport::default());
        }
        let (taken, taken_events) = {
            let st = self.state.read();
            let spans: Vec<(WindowKey, Arc<Vec<Row>>)> = job
                .keys
                .iter()
                .filter_map(|k| {
                    st.spans
                        .sealing
                        .get(k)
                        .map(|rows| (k.clone(), Arc::clone(rows)))
                })
                .collect();
            let events: Vec<(WindowKey, Arc<Vec<EventRow>>)> = job
                .event_keys
                .iter()
                .filter_map(|k| st.events.sealing.get(k).map(|r| (k.clone(), Arc::clone(r))))
                .collect();
            (spans, events)
        };
        let written = self
            .write_partitions(&job, &taken)
            .and_then(
                |(report, parts)| match self.write_event_partitions(&job, &taken_events) {
                    Ok((events, event_parts)) => Ok((report, parts, events, event_parts)),
                    Err(e) => {
                        for p in &parts {
                            let _ = self.options.fs.remove_dir_all(&p.dir);
                        }
                        Err(e)
                    }
                },
            );
        match written {
            Ok((mut report, parts, events, event_parts)) => {
                let mut st = self.state.write();
                for key in &job.keys {
                    st.spans.sealing.remove(key);
                }
                for key in &job.event_keys {
                    st.events.sealing.remove(key);
                }
                st.sealed.extend(parts);
                report.partitions += event_parts.len();
                report.events = events;
                report.bytes += event_parts.iter().map(|p| p.bytes_on_disk).sum::<u64>();
                st.event_parts.extend(event_parts);
                Ok(report)
            }
            Err(e) => {
                drop((taken, taken_events));
                self.finish_seal_aborted(job);
                Err(e)
            }
        }
    }

    /// Ends a seal that will not write its partitions: its rows go back to `open`, before
    /// any spans of the same windows appended since.
    pub fn finish_seal_aborted(&self, job: SealJob) {
        let mut st = self.state.write();
        st.spans.unseal(&job.keys);
        st.events.unseal(&job.event_keys);
    }

    /// Encodes and writes one partition per (bucket, window) of `taken` (content may go to a
    /// bucket of its own), numbered from the job's reserved sequence numbers.
    fn write_partitions(
        &self,
        job: &SealJob,
        taken: &[(WindowKey, Arc<Vec<Row>>)],
    ) -> Result<(SealReport, Vec<Arc<Partition>>)> {
        // Group per (bucket, window): hot rows and content rows (content may go elsewhere).
        type Group<'r> = (Vec<&'r Row>, Vec<ContentRow>);
        let mut groups: BTreeMap<(String, i64), Group<'_>> = BTreeMap::new();
        for (key, rows) in taken {
            if !rows.is_empty() {
                let hot = &mut groups.entry(key.clone()).or_default().0;
                hot.extend(rows.iter());
            }
            for r in rows.iter() {
                if r.content.is_empty() {
                    continue;
                }
                let target = match &job.content {
                    ContentPolicy::Drop => continue,
                    ContentPolicy::Keep => key.0.clone(),
                    ContentPolicy::Bucket(b) => b.clone(),
                };
                groups
                    .entry((target, key.1))
                    .or_default()
                    .1
                    .push(ContentRow {
                        trace_id: r.span.trace_id,
                        span_id: r.span.span_id,
                        content: r.content.clone(),
                    });
            }
        }
        debug_assert!(groups.len() as u64 <= job.reserved);
        let mut report = SealReport::default();
        let mut new_parts: Vec<Arc<Partition>> = Vec::new();
        // A failure after some partitions were renamed into place removes them again: their
        // rows go back to memory, and a retry must not write them twice.
        let fs = &*self.options.fs;
        let undo = |parts: &[Arc<Partition>]| {
            for p in parts {
                let _ = fs.remove_dir_all(&p.dir);
            }
        };
        for (seq, ((bucket, window), (mut rows, mut content))) in (job.first_seq..).zip(groups) {
            let bucket_dir = self.root.join(&bucket);
            if let Err(e) = fs.create_dirs_synced(&bucket_dir) {
                undo(&new_parts);
                return Err(Error::io(&bucket_dir, e));
            }
            let Ok(row_count) = u32::try_from(rows.len()) else {
                undo(&new_parts);
                return Err(Error::Limit {
                    what: "spans in one partition window",
                    limit: u64::from(u32::MAX),
                    actual: rows.len() as u64,
                });
            };
            let meta = PartitionMeta {
                version: partition::PARTITION_VERSION,
                bucket: bucket.clone(),
                window_start_ms: window,
                window_ms: self.options.partition_ms,
                rows: row_count,
                content_rows: content.len() as u32,
                min_start_ns: rows.iter().map(|r| r.span.start_ns).min().unwrap_or(0),
                max_start_ns: rows.iter().map(|r| r.span.start_ns).max().unwrap_or(0),
                max_end_ns: rows.iter().map(|r| r.span.end_ns).max().unwrap_or(0),
                group_rows: partition::GROUP_ROWS,
            };
            let name = format!("{window}_{seq:08}");
            let written = partition::write(
                fs,
                &bucket_dir,
                &name,
                &meta,
                &mut rows,
                &mut content,
                &job.prices,
            )
            .and_then(|dir| {
                Partition::open(fs, &dir).inspect_err(|_| {
                    let _ = fs.remove_dir_all(&dir);
                })
            });
            let p = match written {
                Ok(p) => p,
                Err(e) => {
                    undo(&new_parts);
                    return Err(e);
                }
            };
            report.partitions += 1;
            report.spans += rows.len();
            report.bytes += p.bytes_on_disk;
            new_parts.push(Arc::new(p));
        }
        Ok((report, new_parts))
    }
}
