//! The label index (`index.col`): postings of row groups per dimension value, which let a
//! filter on a dimension skip row groups.

use std::path::Path;

use strata_index::{IndexFile, LabelIndex, RoaringBitmap, RowIndex};

use super::colfile::ColFile;
use super::dict::FastMap;
use super::{Partition, Row};
use crate::error::{Error, Result};
use crate::genai::GenAi;
use crate::model::{Span, StatusCode};

/// The labels a row is indexed under. Empty values and status `unset` are not indexed (see
/// [`indexed`]): a filter on them scans the columns.
pub(crate) fn dimension_labels<'a>(span: &Span, g: &'a GenAi) -> Vec<(&'static str, &'a str)> {
    let status = match span.status_code {
        StatusCode::Error => "error",
        StatusCode::Ok => "ok",
        StatusCode::Unset => "unset",
    };
    vec![
        ("service", g.service.as_str()),
        ("model", g.model()),
        ("provider", g.provider.as_str()),
        ("operation", g.operation.as_str()),
        ("status", status),
        ("error_type", g.error_type.as_str()),
        ("agent", g.agent_name.as_str()),
        ("tool", g.tool_name.as_str()),
    ]
    .into_iter()
    .filter(|(k, v)| indexed(k, v))
    .collect()
}

/// Whether the label index has postings for dimension `name` = `value`.
pub(crate) fn indexed(name: &str, value: &str) -> bool {
    !(value.is_empty() || (name == "status" && value == "unset"))
}

/// Encodes the label index of `rows` (in partition order), the one column of `index.col`.
/// Postings are over row groups (a query decodes whole groups, so row-level postings would
/// prune no more and cost 4 bytes a span more).
pub(super) fn encode(rows: &[&Row], group_rows: usize) -> Result<Vec<u8>> {
    let mut index = RowIndex::new();
    index.set_row_count(rows.len().div_ceil(group_rows) as u32);
    // A group's rows repeat a few label sets: index each once per group (adding a group
    // under labels it already has changes nothing). Keyed by the fields the labels come from.
    type Fields<'r> = (
        &'r str,
        &'r str,
        &'r str,
        &'r str,
        u8,
        &'r str,
        &'r str,
        &'r str,
    );
    let mut seen: FastMap<Fields<'_>, ()> = FastMap::default();
    for (g, group) in rows.chunks(group_rows.max(1)).enumerate() {
        seen.clear();
        for r in group {
            let ga = &r.genai;
            let fields = (
                ga.service.as_str(),
                ga.model(),
                ga.provider.as_str(),
                ga.operation.as_str(),
                r.span.status_code.as_u8(),
                ga.error_type.as_str(),
                ga.agent_name.as_str(),
                ga.tool_name.as_str(),
            );
            if seen.insert(fields, ()).is_none() {
                index.add_row(g as u32, &dimension_labels(&r.span, ga))?;
            }
        }
    }
    Ok(index.encode()?)
}

/// Reads the label index at `path`.
pub(super) fn read(fs: &dyn strata_storage::FileSystem, path: &Path) -> Result<IndexFile> {
    let file = ColFile::open(fs, path)?;
    IndexFile::from_bytes(file.col("index")?.to_vec())
        .map_err(|e| Error::corrupt(path, e.to_string()))
}

impl Partition {
    /// Row groups holding a row whose dimension `name` equals `value` (the label index; in
    /// version 2 partitions its postings are rows).
    pub(crate) fn group_postings(&self, name: &str, value: &str) -> Result<RoaringBitmap> {
        let b = self.index.postings(name, value)?;
        if self.meta.version >= 3 {
            return Ok(b);
        }
        let gr = self.group_rows() as u32;
        let mut groups: Vec<u32> = b.iter().map(|r| r / gr).collect();
        groups.dedup();
        Ok(groups.into_iter().collect())
    }
}
