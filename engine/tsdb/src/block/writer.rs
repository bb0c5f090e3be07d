//! Writes a block: chunk data, the index and `meta.json` into a temporary directory, fsynced,
//! then renamed into place and the parent directory fsynced. A crash at any point leaves either
//! no block or a whole one (temporary directories are deleted on open).

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use strata_codec::column::{self, ColumnOptions};
use strata_index::MemIndex;
use strata_storage::FileSystem;

use super::format::{ChunkKind, ChunkRef, FOOTER_MAGIC, HEADER, encode_table};
use super::meta::{BlockMeta, BlockStats, META_VERSION};
use crate::{Error, Result};

/// Samples per float-column chunk in a block: large enough to compress well, small enough that
/// a narrow query does not decode a whole series.
pub const FLOAT_CHUNK_SAMPLES: usize = 1 << 14;

/// One series' data for a new block.
#[derive(Debug, Default)]
pub struct SeriesData {
    pub labels: Vec<(String, String)>,
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// Encoded histogram chunks, oldest first.
    pub histogram_chunks: Vec<Vec<u8>>,
    /// Encoded native histogram chunks, oldest first.
    pub native_chunks: Vec<Vec<u8>>,
}

struct EncodedChunk {
    kind: ChunkKind,
    min_t: i64,
    max_t: i64,
    samples: u64,
    payload: Vec<u8>,
}

fn encode_series(s: &SeriesData) -> Result<Vec<EncodedChunk>> {
    let mut out = Vec::new();
    let opts = ColumnOptions::default();
    for (ts, vs) in s
        .timestamps
        .chunks(FLOAT_CHUNK_SAMPLES)
        .zip(s.values.chunks(FLOAT_CHUNK_SAMPLES))
    {
        let tcol = column::encode_i64(ts, &opts)?;
        let vcol = column::encode_f64(vs, &opts)?;
        let mut payload = Vec::with_capacity(tcol.len() + vcol.len() + 5);
        strata_codec::bytes::put_uvarint(&mut payload, tcol.len() as u64);
        payload.extend_from_slice(&tcol);
        payload.extend_from_slice(&vcol);
        out.push(EncodedChunk {
            kind: ChunkKind::FloatColumns,
            min_t: ts[0],
            max_t: *ts.last().expect("non-empty piece"),
            samples: ts.len() as u64,
            payload,
        });
    }
    for c in &s.histogram_chunks {
        let h = strata_codec::histogram::decode(c)?;
        let t = h.timestamps();
        out.push(EncodedChunk {
            kind: ChunkKind::Histogram,
            min_t: t.first().copied().unwrap_or(0),
            max_t: t.last().copied().unwrap_or(0),
            samples: t.len() as u64,
            payload: c.clone(),
        });
    }
    for c in &s.native_chunks {
        let h = strata_codec::native::read_header(c)?;
        out.push(EncodedChunk {
            kind: ChunkKind::Native,
            min_t: h.first_timestamp,
            max_t: h.last_timestamp,
            samples: h.count as u64,
            payload: c.clone(),
        });
    }
    Ok(out)
}

/// A block id that sorts by time: min time, then a unique suffix.
fn new_block_id(min_time_ms: i64) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let unique =
        nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 48) ^ u64::from(std::process::id());
    // Offset so negative times sort before positive ones as text.
    format!("{:016x}-{unique:016x}", (min_time_ms as u64) ^ (1 << 63))
}

/// Writes a block of `series` (any order; sorted here) under `parent`. Returns its directory
/// and meta. Errors if there is nothing to write.
pub fn write_block(
    fs: &dyn FileSystem,
    parent: &Path,
    bucket: &str,
    mut series: Vec<SeriesData>,
    level: u32,
    sources: Vec<String>,
) -> Result<(PathBuf, BlockMeta)> {
    series.retain(|s| {
        !s.timestamps.is_empty() || !s.histogram_chunks.is_empty() || !s.native_chunks.is_empty()
    });
    if series.is_empty() {
        return Err(Error::Internal("a block needs at least one sample".into()));
    }
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    let encoded: Vec<Vec<EncodedChunk>> = series
        .par_iter()
        .map(encode_series)
        .collect::<Result<_>>()?;

    let index_bytes = encode_index(&series)?;
    let chunks = encode_chunks_file(&encoded);
    let id = new_block_id(chunks.min_t);
    let meta = BlockMeta {
        version: META_VERSION,
        id: id.clone(),
        bucket: bucket.to_owned(),
        min_time_ms: chunks.min_t,
        max_time_ms: chunks.max_t,
        level,
        sources,
        stats: BlockStats {
            series: series.len() as u64,
            samples: chunks.samples,
            chunks: chunks.chunks,
            chunk_bytes: chunks.data.len() as u64,
            index_bytes: index_bytes.len() as u64,
        },
    };
    let dir = publish_block(fs, parent, &id, &chunks.data, &index_bytes, &meta)?;
    Ok((dir, meta))
}

/// The block's label index: series ids are their positions in `series` (sorted, distinct).
fn encode_index(series: &[SeriesData]) -> Result<Vec<u8>> {
    let mut index = MemIndex::new();
    for (i, s) in series.iter().enumerate() {
        let id = index.get_or_insert(&s.labels)?;
        if id as usize != i {
            return Err(Error::Internal(format!(
                "duplicate label set in block: {:?}",
                s.labels
            )));
        }
    }
    Ok(index.encode()?)
}

/// The `chunks` file's bytes and what they hold.
struct ChunksFile {
    data: Vec<u8>,
    min_t: i64,
    max_t: i64,
    samples: u64,
    chunks: u64,
}

/// Lays out the `chunks` file (`docs/format/block.md`): header, every chunk with its kind
/// byte and CRC, the chunk table, the footer.
fn encode_chunks_file(encoded: &[Vec<EncodedChunk>]) -> ChunksFile {
    let size = encoded
        .iter()
        .flatten()
        .map(|c| c.payload.len() + 5)
        .sum::<usize>()
        + 64;
    let mut f = ChunksFile {
        data: Vec::with_capacity(size),
        min_t: i64::MAX,
        max_t: i64::MIN,
        samples: 0,
        chunks: 0,
    };
    f.data.extend_from_slice(HEADER);
    let mut table = Vec::with_capacity(encoded.len());
    for chunks_of_series in encoded {
        let mut refs = Vec::with_capacity(chunks_of_series.len());
        for c in chunks_of_series {
            let start = f.data.len();
            f.data.push(c.kind as u8);
            f.data.extend_from_slice(&c.payload);
            let crc = crc32fast::hash(&f.data[start..]);
            f.data.extend_from_slice(&crc.to_le_bytes());
            refs.push(ChunkRef {
                kind: c.kind,
                min_t: c.min_t,
                max_t: c.max_t,
                samples: c.samples,
                offset: start as u64 + 1,
                len: c.payload.len() as u64,
            });
            f.min_t = f.min_t.min(c.min_t);
            f.max_t = f.max_t.max(c.max_t);
            f.samples += c.samples;
            f.chunks += 1;
        }
        table.push(refs);
    }
    let table_offset = f.data.len() as u64;
    encode_table(&table, &mut f.data);
    let table_len = f.data.len() as u64 - table_offset;
    let table_crc = crc32fast::hash(&f.data[table_offset as usize..]);
    f.data.extend_from_slice(&table_offset.to_le_bytes());
    f.data.extend_from_slice(&(table_len as u32).to_le_bytes());
    f.data.extend_from_slice(&table_crc.to_le_bytes());
    f.data.extend_from_slice(FOOTER_MAGIC);
    f
}

/// Writes the block's files into `parent/<id>.tmp`, fsyncs them and the directory, renames it
/// to `parent/<id>` and fsyncs `parent`: a crash leaves a whole block or a `.tmp` that open
/// removes.
fn publish_block(
    fs: &dyn FileSystem,
    parent: &Path,
    id: &str,
    chunks: &[u8],
    index: &[u8],
    meta: &BlockMeta,
) -> Result<PathBuf> {
    let tmp = parent.join(format!("{id}.tmp"));
    let dir = parent.join(id);
    let meta_json = meta.to_json();
    let files: [(&str, &[u8]); 3] = [
        ("chunks", chunks),
        ("index", index),
        ("meta.json", &meta_json),
    ];
    fs.publish_dir(&tmp, &dir, &files)
        .map_err(|(path, e)| Error::io(path, e))?;
    Ok(dir)
}
