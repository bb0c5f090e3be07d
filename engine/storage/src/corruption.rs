//! Where a check of one of Strata's own files failed: the file, and as far as known the column,
//! the row group and the byte offset. Every crate that reads files reports corruption with it,
//! so a caller (or the C ABI) sees the same shape whichever layer found the damage.

use std::fmt;
use std::path::PathBuf;

/// A file of the engine's own is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    pub file: PathBuf,
    /// The column (span partitions) or section (blocks, index) being read.
    pub column: Option<String>,
    /// The row group of a span partition.
    pub group: Option<u32>,
    /// Byte offset in the file where the bad bytes are.
    pub offset: Option<u64>,
    pub detail: String,
}

impl Corruption {
    pub fn new(file: impl Into<PathBuf>, detail: impl Into<String>) -> Corruption {
        Corruption {
            file: file.into(),
            column: None,
            group: None,
            offset: None,
            detail: detail.into(),
        }
    }

    /// Names the column; a span partition column `name@g` also names row group `g`.
    pub fn in_column(mut self, name: &str) -> Corruption {
        match name.rsplit_once('@') {
            Some((column, group)) if group.parse::<u32>().is_ok() => {
                self.column = Some(column.to_owned());
                self.group = group.parse().ok();
            }
            _ => self.column = Some(name.to_owned()),
        }
        self
    }

    pub fn at_offset(mut self, offset: u64) -> Corruption {
        self.offset = Some(offset);
        self
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: corrupt", self.file.display())?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        if let Some(g) = self.group {
            write!(f, ", row group {g}")?;
        }
        if let Some(o) = self.offset {
            write!(f, ", at byte {o}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_column_group_and_offset() {
        let c = Corruption::new("/p/hot.col", "bad tag")
            .in_column("start@3")
            .at_offset(77);
        assert_eq!(
            (c.column.as_deref(), c.group, c.offset),
            (Some("start"), Some(3), Some(77))
        );
        assert_eq!(
            c.to_string(),
            "/p/hot.col: corrupt, column start, row group 3, at byte 77: bad tag"
        );
        let plain = Corruption::new("/b/meta.json", "version 9");
        assert_eq!(plain.to_string(), "/b/meta.json: corrupt: version 9");
        assert_eq!(
            Corruption::new("f", "x").in_column("a@b").column.as_deref(),
            Some("a@b")
        );
    }
}
