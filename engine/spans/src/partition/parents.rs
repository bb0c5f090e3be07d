//! Parent span ids in the hot columns: stored as a reference to the parent's row where the
//! partition has it, else raw.
//!
//! `parent_ref` per row: 0 no parent, 1 raw (next `parent_raw`), 2 a row of the partition
//! (next `parent_row`), else the distance `d` (nonzero) back to the parent's row in the
//! group, stored as `d + 2` when positive and `d` when negative. Version 2: no 2, and
//! positive distances stored as `d + 1`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::colfile::ColFile;
use super::hot::Placement;
use super::{HOT_FILE, Partition, Row};
use crate::error::{Error, Result};

/// `parent_ref`: the span has no parent.
const PARENT_NONE: i64 = 0;
/// `parent_ref`: the parent id is the next `parent_raw` value.
const PARENT_RAW: i64 = 1;
/// `parent_ref`: the parent is the row given by the next `parent_row` value (version 3 on).
const PARENT_ROW: i64 = 2;

/// The `parent_ref` code of a parent `d` rows back in the same group (`d` nonzero).
fn encode_ref(d: i64) -> i64 {
    if d > 0 { d + 2 } else { d }
}

/// The distance back to the parent's row that `parent_ref` code `r` (a distance code) stands
/// for in a partition of format `version`.
fn decode_ref(r: i64, version: u32) -> i64 {
    match (version, r) {
        (2, r) if r > 1 => r - 1,
        (_, r) if r > 2 => r - 2,
        (_, r) => r,
    }
}

/// The parent columns of one row group, before encoding.
#[derive(Debug, Default)]
pub(super) struct ParentColumns {
    /// One `parent_ref` code per row.
    pub refs: Vec<i64>,
    /// Partition rows of the parents coded [`PARENT_ROW`], in order.
    pub rows: Vec<u64>,
    /// Parent span ids (big-endian u64s) of the parents coded [`PARENT_RAW`], in order.
    pub raws: Vec<u64>,
}

/// The parent columns of row group `rows` placed at `place`: a distance within the group,
/// else a row of the partition, else raw.
pub(super) fn encode(rows: &[&Row], place: &Placement<'_>) -> ParentColumns {
    let mut out = ParentColumns {
        refs: Vec::with_capacity(rows.len()),
        ..ParentColumns::default()
    };
    let group = place.first_row..place.first_row + rows.len();
    for (i, r) in rows.iter().enumerate() {
        let Some(p) = &r.span.parent_span_id else {
            out.refs.push(PARENT_NONE);
            continue;
        };
        let me = place.first_row + i;
        match place.row_of.get(&(r.span.trace_id, *p)) {
            Some(&j) if j != me && group.contains(&j) => {
                out.refs.push(encode_ref(me as i64 - j as i64))
            }
            Some(&j) if j != me => {
                out.refs.push(PARENT_ROW);
                out.rows.push(j as u64);
            }
            _ => {
                out.refs.push(PARENT_RAW);
                out.raws.push(u64::from_be_bytes(*p));
            }
        }
    }
    out
}

impl Partition {
    /// Decodes the parents of the `n` rows of group `g` of hot file `f` (whose span ids are
    /// `span_id`), appending to `out`.
    pub(super) fn read_parents(
        &self,
        f: &ColFile,
        g: usize,
        span_id: &[u64],
        n: usize,
        out: &mut Vec<Option<[u8; 8]>>,
    ) -> Result<()> {
        let refs = f.i64s(&format!("parent_ref@{g}"), n)?;
        let count = |code: i64| refs.iter().filter(|r| **r == code).count();
        let raws = f.u64s(&format!("parent_raw@{g}"), count(PARENT_RAW))?;
        let v3 = self.meta.version >= 3;
        let rows = if v3 {
            f.u64s(&format!("parent_row@{g}"), count(PARENT_ROW))?
        } else {
            Vec::new()
        };
        let bad =
            |i: usize, d: &str| Error::corrupt(self.dir.join(HOT_FILE), format!("row {i}: {d}"));
        let (mut raw, mut row) = (raws.iter(), rows.iter());
        // Span ids of other groups that parents point into, decoded once each.
        let mut other: HashMap<usize, Vec<u64>> = HashMap::new();
        let gr = self.group_rows();
        for (i, r) in refs.iter().enumerate() {
            out.push(match *r {
                PARENT_NONE => None,
                PARENT_RAW => Some(raw.next().expect("counted").to_be_bytes()),
                PARENT_ROW if v3 => {
                    let j = *row.next().expect("counted") as usize;
                    if j >= self.meta.rows as usize {
                        return Err(bad(i, "parent row past the partition"));
                    }
                    let (pg, at) = (j / gr, j % gr);
                    if pg == g {
                        Some(span_id[at].to_be_bytes())
                    } else {
                        let ids = match other.entry(pg) {
                            Entry::Occupied(e) => e.into_mut(),
                            Entry::Vacant(e) => {
                                e.insert(f.u64s(&format!("span_id@{pg}"), self.group_len(pg))?)
                            }
                        };
                        Some(ids[at].to_be_bytes())
                    }
                }
                r => {
                    let d = decode_ref(r, self.meta.version);
                    let j = (i as i64)
                        .checked_sub(d)
                        .filter(|j| (0..n as i64).contains(j))
                        .ok_or_else(|| bad(i, "parent row reference out of range"))?;
                    Some(span_id[j as usize].to_be_bytes())
                }
            });
        }
        Ok(())
    }
}
