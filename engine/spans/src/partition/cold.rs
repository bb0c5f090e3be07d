//! Cold columns (`attrs.col`): resource, scope, attributes, events and links, one set of
//! columns per row group, read only for the rows a query returns.
//!
//! Per group: resource (one blob per row, dictionary coded), scope, the attribute keys each
//! row has in order (`shape`), a dictionary of keys with their value type (`keys`, `types`),
//! one typed value column per key over the rows that have it (`v<key>`), and events plus
//! links.

use std::path::PathBuf;

use strata_codec::column::{self, ColumnOptions};

use super::colfile::{ColFile, Columns};
use super::dict::{Dict, FastMap, Interner, dict_bytes_cols, dict_str_cols, pick};
use super::hot_field::HotField;
use super::{Partition, Row};
use crate::codec;
use crate::error::{Error, Result};
use crate::genai::GenAi;
use crate::model::{AttrValue, Event, KeyValue, Span};

/// Value type (`types` column) of a key whose values are all strings: dictionary coded.
const TYPE_STR: u64 = 0;
/// Value type of a key whose values are all integers.
const TYPE_INT: u64 = 1;
/// Value type of a key whose values are all doubles.
const TYPE_F64: u64 = 2;
/// Value type of a key whose values are all booleans.
const TYPE_BOOL: u64 = 3;
/// Value type of a key with values of mixed or other types: one value blob each.
const TYPE_ANY: u64 = 4;

/// The cold columns of one row group, named without their group suffix.
pub(super) fn cold_columns(rows: &[&Row], opts: &ColumnOptions) -> Result<Columns> {
    let attrs = Attributes::of(rows);
    let resource = resources(rows);
    let scope: Vec<&str> = rows.iter().map(|r| r.span.scope.as_str()).collect();
    let links: Vec<Vec<u8>> = rows.iter().map(|r| codec::links_blob(&r.span)).collect();
    let events = Events::of(rows);
    let (types, value_cols) = value_columns(rows, &attrs, opts)?;
    let mut out = vec![
        (
            "ev_count".to_owned(),
            pick(opts, |o| column::encode_u64(&events.count, o))?,
        ),
        (
            "ev_time0".to_owned(),
            pick(opts, |o| column::encode_i64(&events.time0, o))?,
        ),
        (
            "ev_time".to_owned(),
            pick(opts, |o| column::encode_i64(&events.time, o))?,
        ),
        (
            "keys".to_owned(),
            pick(opts, |o| column::encode_str(&attrs.keys, o))?,
        ),
        (
            "types".to_owned(),
            pick(opts, |o| column::encode_u64(&types, o))?,
        ),
    ];
    out.extend(resource.cols("resource", opts)?);
    out.extend(dict_str_cols("scope", &scope, opts)?);
    out.extend(attrs.shapes.cols("shape", opts)?);
    out.extend(dict_bytes_cols("links", &links, opts)?);
    out.extend(dict_str_cols("ev_name", &events.names, opts)?);
    out.extend(dict_bytes_cols("ev_attrs", &events.attrs, opts)?);
    out.extend(value_cols);
    Ok(out)
}

/// The attributes of a row group by key: the keys in first-appearance order, per key its
/// values and the rows holding them, and per row the ids of its keys in order (its shape).
struct Attributes<'a> {
    keys: Vec<&'a str>,
    values: Vec<Vec<&'a AttrValue>>,
    rows: Vec<Vec<usize>>,
    /// Per row, its key ids as varints.
    shapes: Interner,
}

impl<'a> Attributes<'a> {
    /// Gathers the attributes of `rows`.
    fn of(rows: &[&'a Row]) -> Attributes<'a> {
        let mut key_ids: FastMap<&str, u32> = FastMap::default();
        let mut a = Attributes {
            keys: Vec::new(),
            values: Vec::new(),
            rows: Vec::new(),
            shapes: Interner::with_capacity(rows.len()),
        };
        let mut ids: Vec<u32> = Vec::new();
        let mut prev_ids: Vec<u32> = Vec::new();
        let mut shape: Vec<u8> = Vec::new();
        for (row, &r) in rows.iter().enumerate() {
            std::mem::swap(&mut ids, &mut prev_ids);
            ids.clear();
            for (n, kv) in r.span.attributes.iter().enumerate() {
                // Rows are clustered: most have the previous row's keys in the same order.
                let id = match prev_ids.get(n) {
                    Some(&k) if a.keys[k as usize] == kv.key => k,
                    _ => *key_ids.entry(kv.key.as_str()).or_insert_with(|| {
                        a.keys.push(kv.key.as_str());
                        a.values.push(Vec::new());
                        a.rows.push(Vec::new());
                        (a.keys.len() - 1) as u32
                    }),
                };
                a.values[id as usize].push(&kv.value);
                a.rows[id as usize].push(row);
                ids.push(id);
            }
            // Equal key ids make equal shapes.
            if row == 0 || ids != prev_ids || !a.shapes.repeat() {
                shape.clear();
                put_shape(&mut shape, &ids);
                a.shapes.push(&shape);
            }
        }
        a
    }
}

/// Appends the key ids of a shape to `out`, as varints.
fn put_shape(out: &mut Vec<u8>, ids: &[u32]) {
    for &k in ids {
        strata_codec::bytes::put_uvarint(out, u64::from(k));
    }
}

/// The key ids of a shape written by [`put_shape`] (`None` if it is malformed).
fn decode_shape(b: &[u8]) -> Option<Vec<u32>> {
    let mut r = strata_codec::bytes::ByteReader::new(b, "attribute shape");
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(u32::try_from(r.uvarint().ok()?).ok()?);
    }
    Some(out)
}

/// Each row's resource as a blob, dictionary coded. Rows of a process share one resource: it
/// is encoded once per run of equal resources (a run takes its first row's blob).
fn resources(rows: &[&Row]) -> Interner {
    let mut resource = Interner::with_capacity(rows.len());
    let mut blob = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let same = i
            .checked_sub(1)
            .is_some_and(|p| rows[p].span.resource == r.span.resource);
        if !(same && resource.repeat()) {
            blob.clear();
            codec::put_kvs(&mut blob, &r.span.resource);
            resource.push(&blob);
        }
    }
    resource
}

/// The events of a row group: a count per row, then per event (rows in order) its time as a
/// distance from the previous event of the span (the first: from the span start, in its own
/// column), name and attributes.
struct Events<'a> {
    count: Vec<u64>,
    time0: Vec<i64>,
    time: Vec<i64>,
    names: Vec<&'a str>,
    attrs: Vec<Vec<u8>>,
}

impl<'a> Events<'a> {
    /// Gathers the events of `rows`.
    fn of(rows: &[&'a Row]) -> Events<'a> {
        let mut ev = Events {
            count: rows.iter().map(|r| r.span.events.len() as u64).collect(),
            time0: Vec::new(),
            time: Vec::new(),
            names: Vec::new(),
            attrs: Vec::new(),
        };
        for &r in rows {
            let mut prev = r.span.start_ns;
            for (k, e) in r.span.events.iter().enumerate() {
                let d = e.time_ns.wrapping_sub(prev);
                if k == 0 {
                    ev.time0.push(d);
                } else {
                    ev.time.push(d);
                }
                prev = e.time_ns;
                ev.names.push(&e.name);
                ev.attrs.push(if e.attributes.is_empty() {
                    Vec::new()
                } else {
                    codec::kvs_blob(&e.attributes)
                });
            }
        }
        ev
    }
}

/// The value type of each attribute key (the `types` column) and the value columns.
fn value_columns(
    rows: &[&Row],
    attrs: &Attributes<'_>,
    opts: &ColumnOptions,
) -> Result<(Vec<u64>, Columns)> {
    let mut types: Vec<u64> = Vec::with_capacity(attrs.keys.len());
    let mut cols: Columns = Vec::with_capacity(attrs.keys.len());
    for (j, vs) in attrs.values.iter().enumerate() {
        // A key whose every value repeats a GenAI column is stored as a reference to it.
        if let Some(h) = HotField::ALL.iter().find(|h| {
            vs.iter()
                .zip(&attrs.rows[j])
                .all(|(v, &row)| h.gives(&rows[row].genai, v))
        }) {
            types.push(*h as u64);
            continue;
        }
        types.push(typed_column(&format!("v{j}"), vs, opts, &mut cols)?);
    }
    Ok((types, cols))
}

/// Encodes the values `vs` of one key as column `name` (two dictionary columns for strings)
/// of the narrowest type holding them all, appending to `cols`. Returns the value type.
fn typed_column(
    name: &str,
    vs: &[&AttrValue],
    opts: &ColumnOptions,
    cols: &mut Columns,
) -> Result<u64> {
    let all = |f: fn(&AttrValue) -> bool| vs.iter().all(|v| f(v));
    if all(|v| matches!(v, AttrValue::Str(_))) {
        let v: Vec<&str> = vs
            .iter()
            .map(|v| match v {
                AttrValue::Str(s) => s.as_str(),
                _ => unreachable!(),
            })
            .collect();
        cols.extend(dict_str_cols(name, &v, opts)?);
        return Ok(TYPE_STR);
    }
    let (t, bytes) = if all(|v| matches!(v, AttrValue::Int(_))) {
        let v: Vec<i64> = vs
            .iter()
            .map(|v| if let AttrValue::Int(i) = v { *i } else { 0 })
            .collect();
        (TYPE_INT, pick(opts, |o| column::encode_i64(&v, o))?)
    } else if all(|v| matches!(v, AttrValue::Double(_))) {
        let v: Vec<f64> = vs
            .iter()
            .map(|v| {
                if let AttrValue::Double(d) = v {
                    *d
                } else {
                    0.0
                }
            })
            .collect();
        (TYPE_F64, pick(opts, |o| column::encode_f64(&v, o))?)
    } else if all(|v| matches!(v, AttrValue::Bool(_))) {
        let v: Vec<bool> = vs
            .iter()
            .map(|v| matches!(v, AttrValue::Bool(true)))
            .collect();
        (TYPE_BOOL, pick(opts, |o| column::encode_bool(&v, o))?)
    } else {
        let v: Vec<Vec<u8>> = vs.iter().map(|v| codec::value_blob(v)).collect();
        (TYPE_ANY, pick(opts, |o| column::encode_bytes(&v, o))?)
    };
    cols.push((name.to_owned(), bytes));
    Ok(t)
}

/// The decoded value column of one attribute key.
#[derive(Debug)]
enum KeyValues {
    /// Not decoded: no row the reader asked for has this key.
    Skipped,
    /// Taken from the row's GenAI column.
    Hot(HotField),
    Str(Dict<String>),
    Int(Vec<i64>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    /// Value blobs.
    Any(Vec<Vec<u8>>),
}

/// The event columns of a row group, decoded.
#[derive(Debug, Default)]
struct EventColumns {
    /// First event of each row, and one past the last at the end.
    first: Vec<usize>,
    /// Per event, its time as a distance from the previous event of its span (the first:
    /// from the span start). This and the next two are empty when no row asked for has events.
    time: Vec<i64>,
    name: Dict<String>,
    attrs: Dict<Vec<u8>>,
}

/// The cold columns of a partition, decoded.
#[derive(Debug)]
pub(crate) struct Cold {
    path: PathBuf,
    resource: Dict<Vec<u8>>,
    scope: Dict<String>,
    shapes: Dict<Vec<u32>>,
    links: Dict<Vec<u8>>,
    events: EventColumns,
    keys: Vec<String>,
    vals: Vec<KeyValues>,
}

impl Partition {
    /// The cold columns (resource, scope, attributes, events, links) of row group `g`.
    /// `rows` (group-relative), when given, are the only rows the caller will fill: value
    /// columns of attribute keys none of them has are not decoded.
    pub(crate) fn read_cold(&self, g: usize, rows: Option<&[usize]>) -> Result<Cold> {
        let f = &self.cold;
        let n = self.group_len(g);
        let name = |c: &str| format!("{c}@{g}");
        let resource = f.dict(&name("resource"), n, column::decode_bytes)?;
        let scope = f.dict(&name("scope"), n, column::decode_str)?;
        let shape = f.dict(&name("shape"), n, column::decode_bytes)?;
        let links = f.dict(&name("links"), n, column::decode_bytes)?;
        let events = read_events(f, g, n, rows)?;
        let nkeys = f.count(&name("keys"))?;
        let keys = f.strs(&name("keys"), nkeys)?;
        let types = f.u64s(&name("types"), nkeys)?;
        let (shapes, counts) = read_shapes(f, shape, nkeys)?;
        let needed = needed_keys(&shapes, rows, nkeys);
        let vals = read_values(f, g, &types, &counts, &needed)?;
        Ok(Cold {
            path: f.path().to_owned(),
            resource,
            scope,
            shapes,
            links,
            events,
            keys,
            vals,
        })
    }
}

/// The event columns of group `g` (`n` rows) of cold file `f`: times, names and attributes
/// only when a row of `rows` (all rows if `None`) has events.
fn read_events(f: &ColFile, g: usize, n: usize, rows: Option<&[usize]>) -> Result<EventColumns> {
    let name = |c: &str| format!("{c}@{g}");
    let ev_count = f.u64s(&name("ev_count"), n)?;
    let mut first = Vec::with_capacity(n + 1);
    let mut total = 0usize;
    for c in &ev_count {
        first.push(total);
        total = usize::try_from(*c)
            .ok()
            .and_then(|c| total.checked_add(c))
            .filter(|t| *t <= u32::MAX as usize)
            .ok_or_else(|| Error::corrupt(f.path(), "event counts overflow"))?;
    }
    first.push(total);
    let mut ev = EventColumns {
        first,
        ..EventColumns::default()
    };
    // Event columns are decoded only when a row asked for has events.
    let need_events =
        rows.is_none_or(|rs| rs.iter().any(|&r| ev_count.get(r).is_some_and(|c| *c > 0)));
    if need_events {
        let with = ev_count.iter().filter(|c| **c > 0).count();
        let firsts = f.i64s(&name("ev_time0"), with)?;
        let rest = f.i64s(&name("ev_time"), total - with)?;
        let (mut firsts, mut rest) = (firsts.into_iter(), rest.into_iter());
        let mut times = Vec::with_capacity(total);
        for c in &ev_count {
            for k in 0..*c {
                times.push(if k == 0 { firsts.next() } else { rest.next() }.expect("counted"));
            }
        }
        ev.time = times;
        ev.name = f.dict(&name("ev_name"), total, column::decode_str)?;
        ev.attrs = f.dict(&name("ev_attrs"), total, column::decode_bytes)?;
    }
    Ok(ev)
}

/// Decodes the distinct shapes of `shape` (key ids, each below `nkeys`). Returns the rows'
/// shapes and the number of rows having each key.
fn read_shapes(
    f: &ColFile,
    shape: Dict<Vec<u8>>,
    nkeys: usize,
) -> Result<(Dict<Vec<u32>>, Vec<usize>)> {
    let bad = |d: String| Error::corrupt(f.path(), d);
    let mut counts = vec![0usize; nkeys];
    let mut distinct = Vec::with_capacity(shape.dict.len());
    for (i, sh) in shape.dict.iter().enumerate() {
        let ids = decode_shape(sh).ok_or_else(|| bad(format!("shape {i} is bad")))?;
        if let Some(k) = ids.iter().find(|k| **k as usize >= nkeys) {
            return Err(bad(format!("shape {i}: attribute key {k} out of range")));
        }
        distinct.push(ids);
    }
    for &id in &shape.ids {
        for &k in &distinct[id as usize] {
            counts[k as usize] += 1;
        }
    }
    let shapes = Dict {
        dict: distinct,
        ids: shape.ids,
    };
    Ok((shapes, counts))
}

/// Which of the `nkeys` keys some row of `rows` (all rows if `None`) has.
fn needed_keys(shapes: &Dict<Vec<u32>>, rows: Option<&[usize]>, nkeys: usize) -> Vec<bool> {
    let mut needed = vec![rows.is_none(); nkeys];
    for &r in rows.unwrap_or_default() {
        if let Some(&id) = shapes.ids.get(r) {
            for &k in &shapes.dict[id as usize] {
                needed[k as usize] = true;
            }
        }
    }
    needed
}

/// The value columns of group `g` of cold file `f`: key `j` has type `types[j]` and
/// `counts[j]` values, decoded if `needed[j]`.
fn read_values(
    f: &ColFile,
    g: usize,
    types: &[u64],
    counts: &[usize],
    needed: &[bool],
) -> Result<Vec<KeyValues>> {
    let mut vals = Vec::with_capacity(types.len());
    for (j, t) in types.iter().enumerate() {
        let name = format!("v{j}@{g}");
        let m = counts[j];
        if !needed[j] {
            vals.push(KeyValues::Skipped);
            continue;
        }
        vals.push(match *t {
            TYPE_STR => KeyValues::Str(f.dict(&name, m, column::decode_str)?),
            TYPE_INT => KeyValues::Int(f.i64s(&name, m)?),
            TYPE_F64 => KeyValues::F64(f.f64s(&name, m)?),
            TYPE_BOOL => KeyValues::Bool(f.bools(&name, m)?),
            TYPE_ANY => KeyValues::Any(f.bytes(&name, m)?),
            t => match HotField::from_type(t) {
                Some(h) => KeyValues::Hot(h),
                None => {
                    return Err(Error::corrupt(
                        f.path(),
                        format!("key {j}: unknown value type {t}"),
                    ));
                }
            },
        });
    }
    Ok(vals)
}

impl Cold {
    /// Fills resource, scope, attributes, events and links of `spans`, the spans of rows
    /// `rows` (group-relative, ascending) whose GenAI columns are `genai`.
    pub(crate) fn fill(
        &self,
        rows: &[usize],
        spans: &mut [&mut Span],
        genai: &[&GenAi],
    ) -> Result<()> {
        if rows.len() != spans.len()
            || rows.windows(2).any(|w| w[0] >= w[1])
            || rows.last().is_some_and(|r| *r >= self.shapes.ids.len())
        {
            debug_assert!(false, "cold columns asked for rows out of order or range");
            return Err(Error::Internal(format!(
                "{}: cold columns asked for rows out of order or range",
                self.path.display()
            )));
        }
        // Per key, the position in its value column of the next row's value.
        let mut cursor = vec![0usize; self.keys.len()];
        let mut next_row = 0usize;
        for (o, span) in spans.iter_mut().enumerate() {
            let i = rows[o];
            // Skip the value cursors over the rows before this one.
            for &id in &self.shapes.ids[next_row..i] {
                for &k in &self.shapes.dict[id as usize] {
                    cursor[k as usize] += 1;
                }
            }
            next_row = i + 1;
            span.resource = codec::read_kvs_blob(&self.resource[i]).map_err(|e| self.bad(e))?;
            span.scope = self.scope[i].clone();
            span.attributes = self.attributes(i, genai[o], &mut cursor)?;
            codec::read_links_blob(&self.links[i], span).map_err(|e| self.bad(e))?;
            self.fill_events(i, span)?;
        }
        Ok(())
    }

    /// A decoding error of a blob, as a corruption of the cold file.
    fn bad(&self, e: strata_codec::Error) -> Error {
        Error::corrupt(&self.path, e.to_string())
    }

    /// The attributes of row `i` (GenAI columns `genai`), advancing the value cursors.
    fn attributes(&self, i: usize, genai: &GenAi, cursor: &mut [usize]) -> Result<Vec<KeyValue>> {
        let mut attrs = Vec::with_capacity(self.shapes[i].len());
        for &k in &self.shapes[i] {
            let k = k as usize;
            let at = cursor[k];
            cursor[k] += 1;
            let value = match &self.vals[k] {
                KeyValues::Skipped => {
                    debug_assert!(false, "row read with attribute values not loaded");
                    return Err(Error::Internal(format!(
                        "{}: row {i} read with attribute values not loaded",
                        self.path.display()
                    )));
                }
                KeyValues::Hot(h) => h.value(genai).ok_or_else(|| {
                    Error::corrupt(
                        &self.path,
                        format!("row {i}: attribute {} refers to an absent column", k),
                    )
                })?,
                KeyValues::Str(v) => AttrValue::Str(v[at].clone()),
                KeyValues::Int(v) => AttrValue::Int(v[at]),
                KeyValues::F64(v) => AttrValue::Double(v[at]),
                KeyValues::Bool(v) => AttrValue::Bool(v[at]),
                KeyValues::Any(v) => codec::read_value_blob(&v[at]).map_err(|e| self.bad(e))?,
            };
            attrs.push(KeyValue {
                key: self.keys[k].clone(),
                value,
            });
        }
        Ok(attrs)
    }

    /// Fills the events of `span`, row `i`.
    fn fill_events(&self, i: usize, span: &mut Span) -> Result<()> {
        let ev = &self.events;
        let evs = ev.first[i]..ev.first[i + 1];
        let mut prev = span.start_ns;
        span.events = Vec::with_capacity(evs.len());
        for e in evs {
            let time_ns = prev.wrapping_add(ev.time[e]);
            prev = time_ns;
            span.events.push(Event {
                time_ns,
                name: ev.name[e].clone(),
                attributes: if ev.attrs[e].is_empty() {
                    Vec::new()
                } else {
                    codec::read_kvs_blob(&ev.attrs[e]).map_err(|e| self.bad(e))?
                },
            });
        }
        Ok(())
    }
}
