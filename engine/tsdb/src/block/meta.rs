//! `meta.json` of a block.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::{Error, Result};

pub const META_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStats {
    pub series: u64,
    pub samples: u64,
    pub chunks: u64,
    /// Bytes of the block's files: chunks, index, meta.
    pub chunk_bytes: u64,
    pub index_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    pub version: u32,
    pub id: String,
    /// The retention bucket the block belongs to.
    pub bucket: String,
    /// Inclusive time range of the samples, in ms.
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    /// 0 for a block cut from the head; a compaction of level-n blocks makes level n+1.
    pub level: u32,
    /// Ids of the blocks a compaction merged into this one.
    pub sources: Vec<String>,
    pub stats: BlockStats,
}

impl BlockMeta {
    pub fn read(fs: &dyn strata_storage::FileSystem, path: &Path) -> Result<BlockMeta> {
        let bytes = fs.read(path).map_err(|e| Error::io(path, e))?;
        let meta: BlockMeta = serde_json::from_slice(&bytes)
            .map_err(|e| Error::corrupt(path, format!("meta.json: {e}")))?;
        if meta.version != META_VERSION {
            return Err(Error::corrupt(
                path,
                format!(
                    "meta.json version {} (this build reads {META_VERSION})",
                    meta.version
                ),
            ));
        }
        if meta.min_time_ms > meta.max_time_ms {
            return Err(Error::corrupt(path, "meta.json: min_time_ms > max_time_ms"));
        }
        Ok(meta)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a plain struct serializes");
        v.push(b'\n');
        v
    }
}
