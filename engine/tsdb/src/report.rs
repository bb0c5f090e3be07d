//! What a compaction pass did: blocks written, merged and expired, span partitions written
//! and expired, and what retention deleted per bucket (the engine's `compact` and `maintain`
//! return it; `Stats` keeps running totals).

/// What `compact` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactReport {
    pub blocks_written: usize,
    pub blocks_merged: usize,
    pub blocks_expired: usize,
    pub span_partitions_written: usize,
    pub span_partitions_expired: usize,
    /// What retention deleted, per bucket (only buckets that lost something).
    pub expired: Vec<Expired>,
}

/// What retention deleted from one bucket: metric blocks and their samples, span partitions
/// and their spans (content included).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Expired {
    pub bucket: String,
    pub metric_blocks: usize,
    pub samples: u64,
    pub span_partitions: usize,
    pub spans: u64,
    pub event_partitions: usize,
    pub events: u64,
    /// Spans and events with content, and the content's bytes.
    pub content_rows: u64,
    pub content_bytes: u64,
    /// Bytes on disk freed.
    pub bytes: u64,
}

/// Running totals of what retention deleted since the database was opened (`Stats`).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExpiredTotals {
    pub metric_blocks: u64,
    pub samples: u64,
    pub span_partitions: u64,
    pub spans: u64,
    pub event_partitions: u64,
    pub events: u64,
    pub content_bytes: u64,
}

impl CompactReport {
    pub fn note_blocks(&mut self, bucket: &str, blocks: usize, samples: u64, bytes: u64) {
        if blocks == 0 {
            return;
        }
        self.blocks_expired += blocks;
        let e = self.bucket(bucket);
        e.metric_blocks += blocks;
        e.samples += samples;
        e.bytes += bytes;
    }

    pub fn bucket(&mut self, name: &str) -> &mut Expired {
        match self.expired.iter().position(|e| e.bucket == name) {
            Some(i) => &mut self.expired[i],
            None => {
                self.expired.push(Expired {
                    bucket: name.to_owned(),
                    ..Expired::default()
                });
                self.expired.last_mut().expect("just pushed")
            }
        }
    }
}
