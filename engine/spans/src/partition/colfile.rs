//! Column files: named, CRC-checked columns framed in one file (`col_file` writes one,
//! [`ColFile`] maps and reads one).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use strata_codec::column;

use super::dict::Dict;
use crate::error::{Corruption, Error, Result};

/// First bytes of every column file.
const COLFILE_MAGIC: &[u8; 4] = b"STSC";
/// The column file framing this build writes and reads.
const COLFILE_VERSION: u8 = 2;

/// Named columns, as [`col_file`] frames them.
pub(super) type Columns = Vec<(String, Vec<u8>)>;

/// A decoder of one column type, appending to its output and returning the count.
type Decode<T> = fn(&[u8], &mut Vec<T>) -> strata_codec::Result<usize>;

/// Frames named columns: magic, version, count, a directory (per column: name, length,
/// CRC32 of its bytes), a CRC32 of everything before it, then the columns' bytes back to back.
/// A reader loads the directory and then only the columns it needs.
pub(crate) fn col_file<S: AsRef<str>>(cols: &[(S, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(COLFILE_MAGIC);
    out.push(COLFILE_VERSION);
    let n = u16::try_from(cols.len()).map_err(|_| Error::Limit {
        what: "columns in one column file",
        limit: u64::from(u16::MAX),
        actual: cols.len() as u64,
    })?;
    out.extend_from_slice(&n.to_le_bytes());
    for (name, bytes) in cols {
        let name = name.as_ref();
        if name.len() > 255 {
            return Err(Error::Limit {
                what: "bytes in a column name",
                limit: 255,
                actual: name.len() as u64,
            });
        }
        let len = u32::try_from(bytes.len()).map_err(|_| Error::Limit {
            what: "bytes in one column of a partition",
            limit: u64::from(u32::MAX),
            actual: bytes.len() as u64,
        })?;
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    for (_, bytes) in cols {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// One directory entry as stored: column name, byte length and CRC32.
type Entry = (String, u32, u32);

/// Per column: its byte range in the file and its stored CRC32.
type Ranges = Vec<(Range<usize>, u32)>;

/// A column file, mapped: its directory parsed once, each column's CRC checked on first use.
#[derive(Debug)]
pub(crate) struct ColFile {
    path: PathBuf,
    map: strata_storage::FileBytes,
    /// Column name → index into `cols`.
    names: HashMap<String, usize>,
    /// Per column: byte range in the file and stored CRC32.
    cols: Ranges,
    verified: Vec<AtomicBool>,
}

impl ColFile {
    /// Maps the file and checks its header and directory (not yet the columns' CRCs).
    pub(crate) fn open(fs: &dyn strata_storage::FileSystem, path: &Path) -> Result<ColFile> {
        let bad = |d: String| Error::corrupt(path, d);
        let len = fs.file_len(path).map_err(|e| Error::io(path, e))?;
        if len < 11 {
            return Err(bad("not a span column file (too short)".into()));
        }
        let map = fs.map(path).map_err(|e| Error::io(path, e))?;
        let head: &[u8] = &map;
        if &head[..4] != COLFILE_MAGIC {
            return Err(bad("not a span column file (bad magic)".into()));
        }
        if head[4] != COLFILE_VERSION {
            return Err(bad(format!(
                "column file version {} (this build reads {COLFILE_VERSION})",
                head[4]
            )));
        }
        let (entries, end) = read_directory(head, &bad)?;
        let (names, cols) = locate_columns(entries, end, head.len(), &bad)?;
        let verified = (0..cols.len()).map(|_| AtomicBool::new(false)).collect();
        Ok(ColFile {
            path: path.to_owned(),
            map,
            names,
            cols,
            verified,
        })
    }

    /// Whether the file has a column `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The file's path, for errors.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes of column `name`, its CRC checked (once per process).
    pub(super) fn col(&self, name: &str) -> Result<&[u8]> {
        let Some(&i) = self.names.get(name) else {
            let c = Corruption::new(&self.path, "missing column").in_column(name);
            return Err(Error::Corrupt(c));
        };
        let (range, crc) = &self.cols[i];
        let b = &self.map[range.clone()];
        if !self.verified[i].load(Ordering::Relaxed) {
            let got = crc32fast::hash(b);
            if got != *crc {
                let detail = format!("CRC stored {crc:#010x}, computed {got:#010x}");
                let c = Corruption::new(&self.path, detail)
                    .in_column(name)
                    .at_offset(range.start as u64);
                return Err(Error::Corrupt(c));
            }
            self.verified[i].store(true, Ordering::Relaxed);
        }
        Ok(b)
    }

    /// A decoding error of column `name`, as a corruption of this file.
    fn codec_error(&self, name: &str, e: strata_codec::Error) -> Error {
        let mut c = Corruption::new(&self.path, e.to_string()).in_column(name);
        if let (strata_codec::Error::Corrupt { offset, .. }, Some(&i)) = (&e, self.names.get(name))
        {
            c = c.at_offset((self.cols[i].0.start + offset) as u64);
        }
        Error::Corrupt(c)
    }

    /// Checks that column `name` decoded to the `rows` values it must hold.
    fn check_count(&self, name: &str, got: usize, rows: usize) -> Result<()> {
        if got == rows {
            Ok(())
        } else {
            let detail = format!("{got} values, expected {rows}");
            Err(Error::Corrupt(
                Corruption::new(&self.path, detail).in_column(name),
            ))
        }
    }

    /// Decodes column `name`, which must hold `rows` values, appending to `out`.
    pub(crate) fn decode_into<T>(
        &self,
        name: &str,
        rows: usize,
        out: &mut Vec<T>,
        decode: Decode<T>,
    ) -> Result<()> {
        // No reserve from `rows`: it comes from meta.json or another column, which damage can
        // make huge; the decoder sizes by what the column holds and the count is checked after.
        let got = decode(self.col(name)?, out).map_err(|e| self.codec_error(name, e))?;
        self.check_count(name, got, rows)
    }

    /// Decodes column `name`, which must hold `rows` values, into a new vector.
    fn decode_vec<T>(&self, name: &str, rows: usize, decode: Decode<T>) -> Result<Vec<T>> {
        let mut v = Vec::new();
        self.decode_into(name, rows, &mut v, decode)?;
        Ok(v)
    }

    /// Decodes i64 column `name` of `rows` values.
    pub(crate) fn i64s(&self, name: &str, rows: usize) -> Result<Vec<i64>> {
        self.decode_vec(name, rows, column::decode_i64)
    }

    /// Decodes u64 column `name` of `rows` values.
    pub(crate) fn u64s(&self, name: &str, rows: usize) -> Result<Vec<u64>> {
        self.decode_vec(name, rows, column::decode_u64)
    }

    /// Decodes f64 column `name` of `rows` values.
    pub(crate) fn f64s(&self, name: &str, rows: usize) -> Result<Vec<f64>> {
        self.decode_vec(name, rows, column::decode_f64)
    }

    /// Decodes string column `name` of `rows` values.
    pub(crate) fn strs(&self, name: &str, rows: usize) -> Result<Vec<String>> {
        self.decode_vec(name, rows, column::decode_str)
    }

    /// Decodes bool column `name` of `rows` values.
    pub(crate) fn bools(&self, name: &str, rows: usize) -> Result<Vec<bool>> {
        self.decode_vec(name, rows, column::decode_bool)
    }

    /// Decodes byte-string column `name` of `rows` values.
    pub(crate) fn bytes(&self, name: &str, rows: usize) -> Result<Vec<Vec<u8>>> {
        self.decode_vec(name, rows, column::decode_bytes)
    }

    /// Decodes dictionary columns `<name>.d` and `<name>.i` (`rows` ids), appending to `out`.
    pub(crate) fn dict_into<T>(
        &self,
        name: &str,
        rows: usize,
        out: &mut Dict<T>,
        decode: Decode<T>,
    ) -> Result<()> {
        // `<col>@<group>` names `<col>.d@<group>` and `<col>.i@<group>`.
        let part = |k: &str| match name.rsplit_once('@') {
            Some((c, g)) => format!("{c}.{k}@{g}"),
            None => format!("{name}.{k}"),
        };
        let dn = part("d");
        let base = out.dict.len();
        let nd = decode(self.col(&dn)?, &mut out.dict).map_err(|e| self.codec_error(&dn, e))?;
        let ids = self.u64s(&part("i"), rows)?;
        out.ids.reserve(rows);
        for id in ids {
            if id >= nd as u64 {
                return Err(Error::corrupt(
                    &self.path,
                    format!("column {name}.i: id {id} past the {nd} values"),
                ));
            }
            out.ids.push((base as u64 + id) as u32);
        }
        Ok(())
    }

    /// Decodes dictionary columns `<name>.d` and `<name>.i` (`rows` ids) into a new [`Dict`].
    pub(crate) fn dict<T>(&self, name: &str, rows: usize, decode: Decode<T>) -> Result<Dict<T>> {
        let mut d = Dict {
            dict: Vec::new(),
            ids: Vec::new(),
        };
        self.dict_into(name, rows, &mut d, decode)?;
        Ok(d)
    }

    /// Number of values in column `name`.
    pub(crate) fn count(&self, name: &str) -> Result<usize> {
        Ok(column::describe(self.col(name)?)
            .map_err(|e| self.codec_error(name, e))?
            .count)
    }
}

/// Parses the directory after the 7-byte header and checks its CRC. Returns the entries and
/// the offset where the columns' bytes start.
fn read_directory(head: &[u8], bad: &impl Fn(String) -> Error) -> Result<(Vec<Entry>, usize)> {
    let n = u16::from_le_bytes([head[5], head[6]]) as usize;
    let mut pos = 7;
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let take = |pos: &mut usize, k: usize| -> Result<Range<usize>> {
            if *pos + k > head.len() {
                return Err(bad(format!("directory entry {i} runs past the end")));
            }
            *pos += k;
            Ok(*pos - k..*pos)
        };
        let nl = head[take(&mut pos, 1)?.start] as usize;
        let name = String::from_utf8_lossy(&head[take(&mut pos, nl)?]).into_owned();
        let len = u32::from_le_bytes(head[take(&mut pos, 4)?].try_into().expect("4"));
        let crc = u32::from_le_bytes(head[take(&mut pos, 4)?].try_into().expect("4"));
        entries.push((name, len, crc));
    }
    if pos + 4 > head.len() {
        return Err(bad("directory runs past the end".into()));
    }
    let want_crc = u32::from_le_bytes(head[pos..pos + 4].try_into().expect("4"));
    let got = crc32fast::hash(&head[..pos]);
    if want_crc != got {
        return Err(bad(format!(
            "directory CRC mismatch: stored {want_crc:#010x}, computed {got:#010x}"
        )));
    }
    Ok((entries, pos + 4))
}

/// Lays the directory's columns out back to back from byte `start`: the name index and each
/// column's byte range and CRC. The columns must end exactly at the end of the file.
fn locate_columns(
    entries: Vec<Entry>,
    start: usize,
    file_len: usize,
    bad: &impl Fn(String) -> Error,
) -> Result<(HashMap<String, usize>, Ranges)> {
    let mut off = start;
    let mut names = HashMap::with_capacity(entries.len());
    let mut cols = Vec::with_capacity(entries.len());
    for (name, len, crc) in entries {
        let range = off..off.saturating_add(len as usize);
        off = range.end;
        if names.insert(name, cols.len()).is_some() {
            return Err(bad("a column name appears twice".into()));
        }
        cols.push((range, crc));
    }
    if off != file_len {
        return Err(bad(format!(
            "columns end at byte {off}, file has {file_len} bytes"
        )));
    }
    Ok((names, cols))
}
