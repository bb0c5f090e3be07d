//! Immutable blocks: a directory per time partition of a bucket, with `chunks`, `index` and
//! `meta.json` (layout in `docs/format/block.md`). Read through memory maps; every chunk's CRC
//! is checked when it is read.

pub mod format;
pub mod meta;
pub mod writer;

use std::path::{Path, PathBuf};
use strata_codec::bytes::ByteReader;
use strata_codec::column;
use strata_codec::histogram::{self, HistogramColumns};
use strata_codec::native;
use strata_index::{IndexFile, LabelIndex, Matcher, RoaringBitmap};
use strata_model::NativeHistogram;
use strata_storage::{FileBytes, FileSystem};

use crate::{Error, Result};
use format::{ChunkKind, ChunkRef, FOOTER_LEN, FOOTER_MAGIC, HEADER};
pub use meta::{BlockMeta, BlockStats};

#[derive(Debug)]
pub struct Block {
    pub dir: PathBuf,
    pub meta: BlockMeta,
    index: IndexFile,
    chunks: FileBytes,
    table: Vec<Vec<ChunkRef>>,
}

impl Block {
    pub fn open(fs: &dyn FileSystem, dir: &Path) -> Result<Block> {
        let meta = BlockMeta::read(fs, &dir.join("meta.json"))?;
        let index_path = dir.join("index");
        let index = IndexFile::open(fs, &index_path)?;
        let chunks_path = dir.join("chunks");
        let chunks = fs
            .map(&chunks_path)
            .map_err(|e| Error::io(&chunks_path, e))?;
        let bad = |d: String| Error::corrupt(&chunks_path, d);
        let len = chunks.len();
        if len < HEADER.len() + FOOTER_LEN || &chunks[..HEADER.len()] != HEADER {
            return Err(bad("missing chunks header".into()));
        }
        let footer = &chunks[len - FOOTER_LEN..];
        if &footer[16..] != FOOTER_MAGIC {
            return Err(bad("missing chunks footer".into()));
        }
        let mut r = ByteReader::new(footer, "chunks footer");
        let table_offset = r.u64().map_err(|e| bad(e.to_string()))?;
        let table_len = r.u32().map_err(|e| bad(e.to_string()))? as u64;
        let table_crc = r.u32().map_err(|e| bad(e.to_string()))?;
        let data_end = (len - FOOTER_LEN) as u64;
        if table_offset.checked_add(table_len) != Some(data_end) {
            return Err(bad(format!(
                "chunk table at {table_offset}+{table_len} does not end at {data_end}"
            )));
        }
        let table_bytes = &chunks[table_offset as usize..data_end as usize];
        let actual = crc32fast::hash(table_bytes);
        if actual != table_crc {
            return Err(bad(format!(
                "chunk table crc {actual:#010x}, expected {table_crc:#010x}"
            )));
        }
        let series = index.series_count() as usize;
        let table = format::decode_table(table_bytes, series, table_offset).map_err(bad)?;
        if meta.stats.series != series as u64 {
            return Err(Error::corrupt(
                dir,
                format!("meta says {} series, index has {series}", meta.stats.series),
            ));
        }
        Ok(Block {
            dir: dir.to_owned(),
            meta,
            index,
            chunks,
            table,
        })
    }

    pub fn select(&self, matchers: &[Matcher]) -> Result<RoaringBitmap> {
        Ok(self.index.select(matchers)?)
    }

    pub fn series_count(&self) -> u32 {
        self.table.len() as u32
    }

    pub fn labels(&self, id: u32) -> Result<Vec<(String, String)>> {
        let labels = self.index.series_labels(id)?.ok_or_else(|| {
            Error::corrupt(&self.dir, format!("series {id} missing from the index"))
        })?;
        Ok(labels
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect())
    }

    /// The chunk's payload after checking its CRC.
    fn payload(&self, r: &ChunkRef) -> Result<&[u8]> {
        let start = r.offset as usize - 1;
        let end = (r.offset + r.len) as usize;
        let stored = u32::from_le_bytes(self.chunks[end..end + 4].try_into().expect("4 bytes"));
        let actual = crc32fast::hash(&self.chunks[start..end]);
        if stored != actual {
            return Err(Error::corrupt(
                self.dir.join("chunks"),
                format!(
                    "chunk at offset {}: crc {actual:#010x}, expected {stored:#010x}",
                    r.offset
                ),
            ));
        }
        Ok(&self.chunks[r.offset as usize..end])
    }

    /// Appends float samples of series `id` in `[start, end]` to the outputs, in time order.
    pub fn read_floats(
        &self,
        id: u32,
        start: i64,
        end: i64,
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<()> {
        let Some(refs) = self.table.get(id as usize) else {
            return Ok(());
        };
        let wanted = refs.iter().filter(|r| {
            r.max_t >= start
                && r.min_t <= end
                && !matches!(r.kind, ChunkKind::Histogram | ChunkKind::Native)
        });
        // Sized by the table, which the CRC vouches for; capped so a lying table cannot
        // reserve more than the chunk bytes could describe.
        let reserve = wanted
            .clone()
            .map(|r| r.samples.min(r.len.saturating_mul(64)))
            .sum::<u64>() as usize;
        ts.reserve(reserve);
        vs.reserve(reserve);
        for r in wanted {
            let payload = self.payload(r)?;
            let base = ts.len();
            match r.kind {
                ChunkKind::FloatColumns => {
                    let mut br = ByteReader::new(payload, "float column chunk");
                    let tlen = br.len_at_most(br.remaining(), "timestamp column length")?;
                    let tcol = br.take(tlen)?;
                    column::decode_i64(tcol, ts)?;
                    column::decode_f64(br.rest(), vs)?;
                }
                ChunkKind::Gorilla => {
                    strata_codec::gorilla::decode_into(payload, ts, vs)?;
                }
                ChunkKind::Histogram | ChunkKind::Native => continue,
            }
            if ts.len() - base != vs.len() - base || (ts.len() - base) as u64 != r.samples {
                return Err(Error::corrupt(
                    self.dir.join("chunks"),
                    format!(
                        "chunk at {} holds other than {} samples",
                        r.offset, r.samples
                    ),
                ));
            }
            if r.min_t < start || r.max_t > end {
                // Trim to the range.
                let lo = base + ts[base..].partition_point(|&t| t < start);
                let hi = base + ts[base..].partition_point(|&t| t <= end);
                ts.truncate(hi);
                vs.truncate(hi);
                ts.drain(base..lo);
                vs.drain(base..lo);
            }
        }
        Ok(())
    }

    pub fn read_histograms(&self, id: u32, start: i64, end: i64) -> Result<Vec<HistogramColumns>> {
        let mut out = Vec::new();
        let Some(refs) = self.table.get(id as usize) else {
            return Ok(out);
        };
        for r in refs
            .iter()
            .filter(|r| r.kind == ChunkKind::Histogram && r.max_t >= start && r.min_t <= end)
        {
            out.push(histogram::decode(self.payload(r)?)?);
        }
        Ok(out)
    }

    /// Native histogram samples of series `id` in `[start, end]`, in time order.
    pub fn read_natives(
        &self,
        id: u32,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i64, NativeHistogram)>> {
        let mut out = Vec::new();
        let Some(refs) = self.table.get(id as usize) else {
            return Ok(out);
        };
        for r in refs
            .iter()
            .filter(|r| r.kind == ChunkKind::Native && r.max_t >= start && r.min_t <= end)
        {
            let samples = native::decode(self.payload(r)?)?;
            out.extend(samples.iter().filter(|(t, _)| (start..=end).contains(t)));
        }
        Ok(out)
    }

    /// Every series with all its data, for compaction.
    pub fn series_data(&self, id: u32) -> Result<writer::SeriesData> {
        let mut s = writer::SeriesData {
            labels: self.labels(id)?,
            ..Default::default()
        };
        self.read_floats(id, i64::MIN, i64::MAX, &mut s.timestamps, &mut s.values)?;
        if let Some(refs) = self.table.get(id as usize) {
            for r in refs.iter().filter(|r| r.kind == ChunkKind::Histogram) {
                s.histogram_chunks.push(self.payload(r)?.to_vec());
            }
            for r in refs.iter().filter(|r| r.kind == ChunkKind::Native) {
                s.native_chunks.push(self.payload(r)?.to_vec());
            }
        }
        Ok(s)
    }
}

/// Counts and sizes over a set of blocks (`Db::stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockTotals {
    pub blocks: u64,
    pub samples: u64,
    pub chunk_bytes: u64,
    pub index_bytes: u64,
    /// Bytes of the `meta.json` files (0 for one that cannot be read).
    pub meta_bytes: u64,
    pub min_time_ms: Option<i64>,
    pub max_time_ms: Option<i64>,
}

/// The totals of `blocks`; reads only the sizes of their meta files.
pub fn totals(blocks: &[std::sync::Arc<Block>], fs: &dyn FileSystem) -> BlockTotals {
    let mut t = BlockTotals::default();
    for b in blocks {
        t.blocks += 1;
        t.samples += b.meta.stats.samples;
        t.chunk_bytes += b.meta.stats.chunk_bytes;
        t.index_bytes += b.meta.stats.index_bytes;
        t.meta_bytes += fs.file_len(&b.dir.join("meta.json")).unwrap_or(0);
        let (lo, hi) = (b.meta.min_time_ms, b.meta.max_time_ms);
        t.min_time_ms = Some(t.min_time_ms.map_or(lo, |x| x.min(lo)));
        t.max_time_ms = Some(t.max_time_ms.map_or(hi, |x| x.max(hi)));
    }
    t
}
