//! Content (`content.col`): the prompt/completion attributes of spans, kept apart from the
//! spans in groups of [`CONTENT_GROUP_ROWS`] rows ordered by (trace, span).

use std::path::Path;

use strata_codec::column::{self, ColumnOptions};

use super::colfile::{ColFile, col_file};
use super::{CONTENT_FILE, ContentRow, Partition, PartitionMeta};
use crate::codec;
use crate::error::{Error, Result};
use crate::model::KeyValue;

/// Content rows per content group.
const CONTENT_GROUP_ROWS: usize = 256;

/// Encodes `content` (sorted by trace and span) as the bytes of `content.col`: the first
/// trace id of each group, then per group its trace ids, span ids and content blobs. `None`
/// when there is no content.
pub(super) fn encode(content: &[ContentRow], opts: &ColumnOptions) -> Result<Option<Vec<u8>>> {
    if content.is_empty() {
        return Ok(None);
    }
    let level = ColumnOptions {
        zstd: column::ZstdMode::IfSmaller { level: 9 },
        ..*opts
    };
    let firsts: Vec<&[u8]> = content
        .chunks(CONTENT_GROUP_ROWS)
        .map(|g| &g[0].trace_id[..])
        .collect();
    let mut cols = vec![(
        "group_first".to_owned(),
        column::encode_bytes(&firsts, opts)?,
    )];
    for (g, chunk) in content.chunks(CONTENT_GROUP_ROWS).enumerate() {
        let t: Vec<&[u8]> = chunk.iter().map(|r| &r.trace_id[..]).collect();
        let s: Vec<&[u8]> = chunk.iter().map(|r| &r.span_id[..]).collect();
        cols.push((format!("trace_id@{g}"), column::encode_bytes(&t, opts)?));
        let b: Vec<Vec<u8>> = chunk.iter().map(|r| codec::kvs_blob(&r.content)).collect();
        cols.push((format!("span_id@{g}"), column::encode_bytes(&s, opts)?));
        cols.push((format!("content@{g}"), column::encode_bytes(&b, &level)?));
    }
    Ok(Some(col_file(&cols)?))
}

/// Opens the content file of the partition in `dir` if it has content: the file and the
/// first trace id of each of its groups.
pub(super) fn open(
    fs: &dyn strata_storage::FileSystem,
    dir: &Path,
    meta: &PartitionMeta,
) -> Result<(Option<ColFile>, Vec<[u8; 16]>)> {
    if meta.content_rows == 0 {
        return Ok((None, Vec::new()));
    }
    let path = dir.join(CONTENT_FILE);
    let f = ColFile::open(fs, &path)?;
    let firsts = f
        .bytes("group_first", f.count("group_first")?)?
        .into_iter()
        .map(|b| <[u8; 16]>::try_from(b.as_slice()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| Error::corrupt(&path, "group_first: trace id not 16 bytes"))?;
    Ok((Some(f), firsts))
}

impl Partition {
    /// Content of `(trace, span)` stored in this partition.
    pub(crate) fn content(&self, trace: &[u8; 16]) -> Result<Vec<([u8; 8], Vec<KeyValue>)>> {
        let Some(f) = &self.content else {
            return Ok(Vec::new());
        };
        let path = self.dir.join(CONTENT_FILE);
        // Groups whose first trace id is at most `trace`, back to the first one that starts
        // before it (a trace's content may straddle groups).
        let firsts = &self.content_firsts;
        let end = firsts.partition_point(|f| f <= trace);
        let start = firsts[..end].iter().rposition(|f| f < trace).unwrap_or(0);
        if end == 0 {
            return Ok(Vec::new());
        }
        let groups = start..end;
        let mut out = Vec::new();
        for g in groups {
            let len = f.count(&format!("trace_id@{g}"))?;
            let t = f.bytes(&format!("trace_id@{g}"), len)?;
            let lo = t.partition_point(|x| x.as_slice() < &trace[..]);
            let hi = t.partition_point(|x| x.as_slice() <= &trace[..]);
            if lo == hi {
                continue;
            }
            let s = f.bytes(&format!("span_id@{g}"), len)?;
            let b = f.bytes(&format!("content@{g}"), len)?;
            for k in lo..hi {
                let sid: [u8; 8] = s[k]
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::corrupt(&path, "span id not 8 bytes"))?;
                let kvs = codec::read_kvs_blob(&b[k])
                    .map_err(|e| Error::corrupt(&path, e.to_string()))?;
                out.push((sid, kvs));
            }
        }
        Ok(out)
    }
}
