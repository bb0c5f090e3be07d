//! The event part of a seal: the windows taken with the span windows (same job, same
//! markers, sequence numbers after the span partitions'), written as event partitions.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::EventRow;
use super::partition::{self, EventContent, EventPartition, EventPartitionMeta};
use crate::config::ContentPolicy;
use crate::error::{Error, Result};
use crate::seal::SealJob;
use crate::{SpanStore, State, WindowKey};

/// Hot rows and content rows of one event partition.
type Group<'r> = (Vec<&'r EventRow>, Vec<EventContent>);

impl SpanStore {
    /// In a seal's first phase: moves the event windows `keys` from `open` to `sealing` and
    /// returns how many partitions they will make (content may go to a bucket of its own).
    pub(crate) fn take_event_windows(st: &mut State, keys: &[WindowKey]) -> usize {
        let mut groups = std::collections::BTreeSet::new();
        for key in keys {
            let rows = st.events.open.remove(key).unwrap_or_default();
            groups.insert(key.clone());
            if let ContentPolicy::Bucket(b) = &st.config.content
                && rows.iter().any(|r| !r.content.is_empty())
            {
                groups.insert((b.clone(), key.1));
            }
            st.events.sealing.insert(key.clone(), Arc::new(rows));
        }
        groups.len()
    }

    /// Groups the taken rows per (bucket, window): their own partition, and their content
    /// there or in the content bucket (or nowhere, with [`ContentPolicy::Drop`]).
    fn event_groups<'r>(
        job: &SealJob,
        taken: &'r [(WindowKey, Arc<Vec<EventRow>>)],
    ) -> BTreeMap<WindowKey, Group<'r>> {
        let mut groups: BTreeMap<WindowKey, Group<'r>> = BTreeMap::new();
        for (key, rows) in taken {
            if !rows.is_empty() {
                groups.entry(key.clone()).or_default().0.extend(rows.iter());
            }
            for r in rows.iter().filter(|r| !r.content.is_empty()) {
                let target = match &job.content {
                    ContentPolicy::Drop => continue,
                    ContentPolicy::Keep => key.0.clone(),
                    ContentPolicy::Bucket(b) => b.clone(),
                };
                groups
                    .entry((target, key.1))
                    .or_default()
                    .1
                    .push(EventContent {
                        id: r.event.id,
                        content: r.content.clone(),
                    });
            }
        }
        groups
    }

    /// Writes one event partition per group, numbered from the job's `event_first_seq`.
    /// On an error the partitions written so far are removed again.
    pub(crate) fn write_event_partitions(
        &self,
        job: &SealJob,
        taken: &[(WindowKey, Arc<Vec<EventRow>>)],
    ) -> Result<(usize, Vec<Arc<EventPartition>>)> {
        let fs = &*self.options.fs;
        let mut parts: Vec<Arc<EventPartition>> = Vec::new();
        let mut events = 0;
        let groups = Self::event_groups(job, taken);
        for (seq, ((bucket, window), (mut rows, mut content))) in
            (job.event_first_seq..).zip(groups)
        {
            match self.write_event_partition(&bucket, window, seq, &mut rows, &mut content) {
                Ok(p) => {
                    events += rows.len();
                    parts.push(Arc::new(p));
                }
                Err(e) => {
                    for p in &parts {
                        let _ = fs.remove_dir_all(&p.dir);
                    }
                    return Err(e);
                }
            }
        }
        Ok((events, parts))
    }

    fn write_event_partition(
        &self,
        bucket: &str,
        window: i64,
        seq: u64,
        rows: &mut [&EventRow],
        content: &mut [EventContent],
    ) -> Result<EventPartition> {
        let fs = &*self.options.fs;
        let bucket_dir = self.root.join(bucket);
        fs.create_dirs_synced(&bucket_dir)
            .map_err(|e| Error::io(&bucket_dir, e))?;
        let count = |n: usize| {
            u32::try_from(n).map_err(|_| Error::Limit {
                what: "events in one partition window",
                limit: u64::from(u32::MAX),
                actual: n as u64,
            })
        };
        let times = rows.iter().map(|r| r.event.timestamp_ns());
        let ids = rows
            .iter()
            .map(|r| r.event.id)
            .chain(content.iter().map(|c| c.id));
        let meta = EventPartitionMeta {
            version: partition::EVENT_PARTITION_VERSION,
            bucket: bucket.to_owned(),
            window_start_ms: window,
            window_ms: self.options.partition_ms,
            rows: count(rows.len())?,
            content_rows: count(content.len())?,
            min_time_ns: times.clone().min().unwrap_or(0),
            max_time_ns: times.max().unwrap_or(0),
            max_id: ids.max().unwrap_or(0),
            group_rows: partition::EVENT_GROUP_ROWS,
        };
        let name = format!("{}{window}_{seq:08}", partition::EVENT_DIR_PREFIX);
        let dir = partition::write(fs, &bucket_dir, &name, &meta, rows, content)?;
        EventPartition::open(fs, &dir).inspect_err(|_| {
            let _ = fs.remove_dir_all(&dir);
        })
    }
}

impl SpanStore {
    /// The event part of a retention pass: deletes the event partitions whose window ended
    /// more than their bucket's retention before `now_ms`, counted into `dropped`.
    pub(crate) fn expire_events(
        &self,
        st: &mut State,
        retention: &BTreeMap<String, i64>,
        now_ms: i64,
        dropped: &mut BTreeMap<String, crate::SpanExpiry>,
    ) -> Result<()> {
        let mut keep = Vec::with_capacity(st.event_parts.len());
        let mut parts = std::mem::take(&mut st.event_parts).into_iter();
        while let Some(p) = parts.next() {
            let expired = retention
                .get(&p.meta.bucket)
                .is_some_and(|r| p.meta.window_end_ms() <= now_ms.saturating_sub(*r));
            if !expired {
                keep.push(p);
                continue;
            }
            if let Err(e) = self.options.fs.remove_dir_all(&p.dir) {
                keep.push(p.clone());
                keep.extend(parts);
                st.event_parts = keep;
                return Err(Error::io(&p.dir, e));
            }
            let d = dropped
                .entry(p.meta.bucket.clone())
                .or_insert_with(|| crate::SpanExpiry {
                    bucket: p.meta.bucket.clone(),
                    ..crate::SpanExpiry::default()
                });
            d.event_partitions += 1;
            d.events += u64::from(p.meta.rows);
            d.content_rows += u64::from(p.meta.content_rows);
            d.content_bytes += p.content_bytes;
            d.bytes += p.bytes_on_disk;
        }
        st.event_parts = keep;
        Ok(())
    }
}
