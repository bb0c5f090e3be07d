//! The `chunks` file of a block (layout in `docs/format/block.md`).
//!
//! ```text
//! header   "STRCHNK" + version u8 (= 1)                                  8 bytes
//! chunks   per chunk: kind u8, payload, crc32 (LE) of kind + payload
//! table    per series id: varint chunk count, then per chunk:
//!          kind u8, zvarint min_t, varint max_t - min_t, varint samples,
//!          varint offset (from the file start), varint payload length
//! footer   table offset u64 LE, table length u32 LE, table crc32 u32 LE, "STRCEND\x01"   24 bytes
//! ```

use strata_codec::bytes::{ByteReader, put_uvarint, put_varint};

pub const HEADER: &[u8; 8] = b"STRCHNK\x01";
pub const FOOTER_MAGIC: &[u8; 8] = b"STRCEND\x01";
pub const FOOTER_LEN: usize = 24;

/// What a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// A Gorilla float chunk (`codec::gorilla`).
    Gorilla = 1,
    /// An explicit-bucket histogram chunk (`codec::histogram`).
    Histogram = 2,
    /// Float samples as two columns: varint length of the timestamp column, the i64 timestamp
    /// column, the f64 value column (`codec::column`).
    FloatColumns = 3,
    /// A native histogram chunk (`codec::native`, integer or float: its own first byte says).
    Native = 4,
}

impl ChunkKind {
    pub fn from_byte(b: u8) -> Option<ChunkKind> {
        match b {
            1 => Some(ChunkKind::Gorilla),
            2 => Some(ChunkKind::Histogram),
            3 => Some(ChunkKind::FloatColumns),
            4 => Some(ChunkKind::Native),
            _ => None,
        }
    }
}

/// Where a chunk is and what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRef {
    pub kind: ChunkKind,
    pub min_t: i64,
    pub max_t: i64,
    pub samples: u64,
    /// Offset of the payload (after the kind byte).
    pub offset: u64,
    pub len: u64,
}

pub fn encode_table(table: &[Vec<ChunkRef>], out: &mut Vec<u8>) {
    for refs in table {
        put_uvarint(out, refs.len() as u64);
        for r in refs {
            out.push(r.kind as u8);
            put_varint(out, r.min_t);
            put_uvarint(out, r.max_t.wrapping_sub(r.min_t) as u64);
            put_uvarint(out, r.samples);
            put_uvarint(out, r.offset);
            put_uvarint(out, r.len);
        }
    }
}

/// Decodes the table for `series` series, checking every chunk lies inside `data_end`.
pub fn decode_table(
    bytes: &[u8],
    series: usize,
    data_end: u64,
) -> Result<Vec<Vec<ChunkRef>>, String> {
    let mut r = ByteReader::new(bytes, "chunk table");
    let mut table = Vec::with_capacity(series.min(bytes.len()));
    let e = |e: strata_codec::Error| e.to_string();
    for _ in 0..series {
        let n = r.len_at_most(r.remaining() / 6, "chunk count").map_err(e)?;
        let mut refs = Vec::with_capacity(n);
        for _ in 0..n {
            let kind_byte = r.u8().map_err(e)?;
            let kind = ChunkKind::from_byte(kind_byte)
                .ok_or_else(|| format!("unknown chunk kind {kind_byte}"))?;
            let min_t = r.varint().map_err(e)?;
            let max_t = min_t.wrapping_add(r.uvarint().map_err(e)? as i64);
            let samples = r.uvarint().map_err(e)?;
            let offset = r.uvarint().map_err(e)?;
            let len = r.uvarint().map_err(e)?;
            let end = offset.checked_add(len).and_then(|x| x.checked_add(4));
            if offset < HEADER.len() as u64 + 1 || end.is_none_or(|end| end > data_end) {
                return Err(format!(
                    "chunk at {offset}+{len} outside the data section (0..{data_end})"
                ));
            }
            refs.push(ChunkRef {
                kind,
                min_t,
                max_t,
                samples,
                offset,
                len,
            });
        }
        table.push(refs);
    }
    if !r.is_empty() {
        return Err("trailing bytes after the chunk table".into());
    }
    Ok(table)
}
