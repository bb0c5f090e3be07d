//! One series in the head: sealed chunks, an open chunk, and a small out-of-order buffer.
//!
//! A series is a float series or a histogram series, fixed by its first sample. In-order float
//! samples go to Gorilla chunks (O(1) append); samples older than the newest but inside the
//! out-of-order window go to a sorted buffer merged in on read. Replay and racing writers use
//! the permissive path ([`MemSeries::apply_float`]): anything already acknowledged is kept.

use strata_codec::gorilla::{self, ChunkAppender, ChunkLimits};
use strata_codec::histogram::{
    self, Histogram, HistogramAppender, HistogramColumns, HistogramLimits,
};

use crate::{Error, Result};

mod native;
mod relayout;

/// An immutable chunk of the head.
#[derive(Debug, Clone)]
pub struct SealedChunk {
    pub min_t: i64,
    pub max_t: i64,
    pub bytes: Box<[u8]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Empty,
    Float,
    Histogram,
    /// Native (sparse, Prometheus-style) histograms.
    Native,
}

/// Where a validated float sample goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    InOrder,
    /// Same timestamp and same value as an existing sample: accepted, nothing to store.
    Duplicate,
    OutOfOrder,
}

#[derive(Debug)]
pub struct MemSeries {
    pub kind: Kind,
    pub sealed: Vec<SealedChunk>,
    open: Option<ChunkAppender>,
    open_hist: Option<HistogramAppender>,
    /// Boxed: the appender is large, and most series are float series.
    open_native: Option<Box<strata_codec::native::NativeAppender>>,
    /// The newest native histogram, to resolve the next one's unknown counter-reset hint.
    last_native: Option<Box<strata_model::NativeHistogram>>,
    /// Newest in-order timestamp and its value's bits (i64::MIN when empty).
    pub newest_t: i64,
    newest_bits: u64,
    /// Out-of-order float samples, sorted by timestamp, unique timestamps.
    ooo: Vec<(i64, f64)>,
    /// Oldest timestamp held (i64::MAX when empty).
    pub oldest_t: i64,
}

impl Default for MemSeries {
    fn default() -> Self {
        MemSeries::new()
    }
}

impl MemSeries {
    pub fn new() -> Self {
        MemSeries {
            kind: Kind::Empty,
            sealed: Vec::new(),
            open: None,
            open_hist: None,
            open_native: None,
            last_native: None,
            newest_t: i64::MIN,
            newest_bits: 0,
            ooo: Vec::new(),
            oldest_t: i64::MAX,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.oldest_t == i64::MAX
    }

    /// Checks a float sample against the ordering rules without storing it.
    pub fn check_float(
        &self,
        t: i64,
        v: f64,
        ooo_window_ms: i64,
    ) -> std::result::Result<Placement, &'static str> {
        if matches!(self.kind, Kind::Histogram | Kind::Native) {
            return Err("kind");
        }
        if self.newest_t == i64::MIN || t > self.newest_t {
            return Ok(Placement::InOrder);
        }
        if t == self.newest_t {
            return if v.to_bits() == self.newest_bits {
                Ok(Placement::Duplicate)
            } else {
                Err("duplicate")
            };
        }
        if let Ok(i) = self.ooo.binary_search_by_key(&t, |s| s.0) {
            return if self.ooo[i].1.to_bits() == v.to_bits() {
                Ok(Placement::Duplicate)
            } else {
                Err("duplicate")
            };
        }
        if t >= self.newest_t.saturating_sub(ooo_window_ms) && ooo_window_ms > 0 {
            Ok(Placement::OutOfOrder)
        } else {
            Err("order")
        }
    }

    /// Stores a float sample that was acknowledged (or is being replayed). Never rejects on
    /// ordering: an older sample goes to the out-of-order buffer.
    pub fn apply_float(&mut self, t: i64, v: f64, limits: ChunkLimits) -> Result<()> {
        if matches!(self.kind, Kind::Histogram | Kind::Native) {
            return Err(Error::KindMismatch {
                series: String::new(),
                detail: "float sample for a histogram series",
            });
        }
        self.kind = Kind::Float;
        self.oldest_t = self.oldest_t.min(t);
        if self.newest_t == i64::MIN || t > self.newest_t {
            if self.open.as_ref().is_none_or(ChunkAppender::is_full) {
                if let Some(full) = self.open.take() {
                    self.sealed.push(seal(&full)?);
                }
                self.open = Some(ChunkAppender::new(limits)?);
            }
            self.open.as_mut().expect("just ensured").append(t, v)?;
            self.newest_t = t;
            self.newest_bits = v.to_bits();
            return Ok(());
        }
        if t == self.newest_t {
            // Replaying a duplicate, or a racing writer lost: the first value stays.
            return Ok(());
        }
        match self.ooo.binary_search_by_key(&t, |s| s.0) {
            Ok(_) => {}
            Err(i) => self.ooo.insert(i, (t, v)),
        }
        Ok(())
    }

    /// Stores a histogram sample. Histogram series accept in-order samples only.
    pub fn apply_histogram(
        &mut self,
        t: i64,
        h: &Histogram,
        limits: HistogramLimits,
    ) -> Result<()> {
        if matches!(self.kind, Kind::Float | Kind::Native) {
            return Err(Error::KindMismatch {
                series: String::new(),
                detail: "histogram sample for a float or native histogram series",
            });
        }
        if self.newest_t != i64::MIN && t <= self.newest_t {
            return Ok(()); // replay of something already stored, or checked by the caller
        }
        self.kind = Kind::Histogram;
        self.oldest_t = self.oldest_t.min(t);
        let sample = h.as_sample();
        let needs_new = match &self.open_hist {
            Some(a) => a.is_full() || !a.accepts_bounds(&h.bounds),
            None => true,
        };
        if needs_new {
            if let Some(full) = self.open_hist.take() {
                self.sealed.push(seal_hist(&full)?);
            }
            self.open_hist = Some(HistogramAppender::new(limits)?);
        }
        let app = self.open_hist.as_mut().expect("just ensured");
        match app.append(t, &sample) {
            Ok(()) => {}
            Err(strata_codec::Error::LimitExceeded { .. }) => {
                // The byte bound refused it: cut and retry in a fresh chunk (which accepts any first sample).
                let full = self.open_hist.take().expect("present");
                self.sealed.push(seal_hist(&full)?);
                let mut fresh = HistogramAppender::new(limits)?;
                fresh.append(t, &sample)?;
                self.open_hist = Some(fresh);
            }
            Err(e) => return Err(e.into()),
        }
        self.newest_t = t;
        Ok(())
    }

    /// Float samples in `[start, end]`, in time order, appended to the outputs.
    pub fn read_floats(
        &self,
        start: i64,
        end: i64,
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<()> {
        if self.kind != Kind::Float || end < self.oldest_t {
            return Ok(());
        }
        let base = ts.len();
        let mut chunk_ts = Vec::new();
        let mut chunk_vs = Vec::new();
        let mut take = |bytes: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>| -> Result<()> {
            let h = gorilla::read_header(bytes)?;
            if h.first_timestamp >= start && self.newest_t <= end {
                // The whole chunk is in range (chunks hold increasing timestamps).
                gorilla::decode_into(bytes, ts, vs)?;
                return Ok(());
            }
            chunk_ts.clear();
            chunk_vs.clear();
            gorilla::decode_into(bytes, &mut chunk_ts, &mut chunk_vs)?;
            let lo = chunk_ts.partition_point(|&t| t < start);
            let hi = chunk_ts.partition_point(|&t| t <= end);
            ts.extend_from_slice(&chunk_ts[lo..hi]);
            vs.extend_from_slice(&chunk_vs[lo..hi]);
            Ok(())
        };
        // Reserve once: growing the outputs chunk by chunk would copy them over and over.
        let in_range = || {
            self.sealed
                .iter()
                .filter(|c| c.max_t >= start && c.min_t <= end)
        };
        let expected = in_range()
            .map(|c| gorilla::read_header(&c.bytes).map_or(0, |h| h.count))
            .sum::<usize>()
            + self.open.as_ref().map_or(0, ChunkAppender::len)
            + self.ooo.len();
        ts.reserve(expected);
        vs.reserve(expected);
        for c in in_range() {
            take(&c.bytes, ts, vs)?;
        }
        if let Some(open) = &self.open
            && !open.is_empty()
        {
            take(&open.to_bytes()?, ts, vs)?;
        }
        let lo = self.ooo.partition_point(|s| s.0 < start);
        let hi = self.ooo.partition_point(|s| s.0 <= end);
        if lo < hi {
            merge_sorted(base, ts, vs, &self.ooo[lo..hi]);
        }
        Ok(())
    }

    /// Histogram samples in `[start, end]`, appended to `out` (which must be empty or hold the
    /// same bounds; chunks with other bounds are returned separately).
    pub fn read_histograms(&self, start: i64, end: i64) -> Result<Vec<HistogramColumns>> {
        let mut out = Vec::new();
        if self.kind != Kind::Histogram || end < self.oldest_t {
            return Ok(out);
        }
        let open = match &self.open_hist {
            Some(a) if !a.is_empty() => Some(a.to_bytes()?),
            _ => None,
        };
        let chunks = self
            .sealed
            .iter()
            .filter(|c| c.max_t >= start && c.min_t <= end)
            .map(|c| &c.bytes[..]);
        for bytes in chunks.chain(open.as_deref()) {
            let cols = histogram::decode(bytes)?;
            out.push(cols);
        }
        Ok(out)
    }

    /// Removes and returns every float sample older than `cut` (in time order), keeping the
    /// rest in fresh chunks.
    pub fn drain_floats_before(
        &mut self,
        cut: i64,
        limits: ChunkLimits,
    ) -> Result<(Vec<i64>, Vec<f64>)> {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        if self.kind != Kind::Float {
            return Ok((ts, vs));
        }
        self.read_floats(i64::MIN, i64::MAX, &mut ts, &mut vs)?;
        let split = ts.partition_point(|&t| t < cut);
        let keep_ts = ts.split_off(split);
        let keep_vs = vs.split_off(split);
        let (newest_t, newest_bits) = (self.newest_t, self.newest_bits);
        self.sealed.clear();
        self.open = None;
        self.ooo.clear();
        self.oldest_t = i64::MAX;
        self.newest_t = i64::MIN;
        for (&t, &v) in keep_ts.iter().zip(&keep_vs) {
            self.apply_float(t, v, limits)?;
        }
        // Ordering checks continue from the newest sample ever seen, even if it went to a block.
        if self.newest_t == i64::MIN {
            self.newest_t = newest_t;
            self.newest_bits = newest_bits;
        }
        Ok((ts, vs))
    }

    /// Encoded histogram chunks holding exactly the samples older than `cut` (copies; the
    /// series is unchanged).
    pub fn histogram_chunks_before(&self, cut: i64) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if self.kind != Kind::Histogram || self.oldest_t >= cut {
            return Ok(out);
        }
        let open = match &self.open_hist {
            Some(a) if !a.is_empty() => Some(a.to_bytes()?),
            _ => None,
        };
        let sealed = self.sealed.iter().map(|c| (c.min_t, c.max_t, &c.bytes[..]));
        let open = open.as_deref().map(|b| (i64::MIN, i64::MAX, b));
        for (min_t, max_t, bytes) in sealed.chain(open) {
            if min_t >= cut {
                continue;
            }
            if max_t < cut {
                out.push(bytes.to_vec());
                continue;
            }
            let cols = histogram::decode(bytes)?;
            let (mut ts, mut samples) = (Vec::new(), Vec::new());
            for (t, h) in cols.iter().filter(|(t, _)| *t < cut) {
                ts.push(t);
                samples.push(h);
            }
            if !ts.is_empty() {
                out.push(histogram::encode_chunk(&ts, &samples)?);
            }
        }
        Ok(out)
    }

    /// Removes and returns the encoded histogram chunks entirely older than `cut`, plus the
    /// samples older than `cut` from a chunk that straddles it (re-encoded).
    pub fn drain_histograms_before(
        &mut self,
        cut: i64,
        limits: HistogramLimits,
    ) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if self.kind != Kind::Histogram {
            return Ok(out);
        }
        if let Some(open) = self.open_hist.take()
            && !open.is_empty()
        {
            self.sealed.push(seal_hist(&open)?);
        }
        let newest = self.newest_t;
        let chunks = std::mem::take(&mut self.sealed);
        self.oldest_t = i64::MAX;
        self.newest_t = i64::MIN;
        for c in chunks {
            if c.max_t < cut {
                out.push(c.bytes.into_vec());
                continue;
            }
            let cols = histogram::decode(&c.bytes)?;
            let (mut old_t, mut old_s) = (Vec::new(), Vec::new());
            for (t, s) in cols.iter() {
                if t < cut {
                    old_t.push(t);
                    old_s.push(s);
                } else {
                    self.apply_histogram(t, &s.to_histogram(), limits)?;
                }
            }
            if !old_t.is_empty() {
                out.push(histogram::encode_chunk(&old_t, &old_s)?);
            }
        }
        if self.newest_t == i64::MIN {
            self.newest_t = newest;
        }
        Ok(out)
    }
}

/// Merges sorted out-of-order samples into `ts[base..]`/`vs[base..]`; on equal timestamps the
/// in-order sample wins.
fn merge_sorted(base: usize, ts: &mut Vec<i64>, vs: &mut Vec<f64>, extra: &[(i64, f64)]) {
    let a_ts = ts.split_off(base);
    let a_vs = vs.split_off(base);
    let (mut i, mut j) = (0, 0);
    while i < a_ts.len() || j < extra.len() {
        if j == extra.len() || (i < a_ts.len() && a_ts[i] <= extra[j].0) {
            if j < extra.len() && a_ts[i] == extra[j].0 {
                j += 1;
            }
            ts.push(a_ts[i]);
            vs.push(a_vs[i]);
            i += 1;
        } else {
            ts.push(extra[j].0);
            vs.push(extra[j].1);
            j += 1;
        }
    }
}

fn seal(a: &ChunkAppender) -> Result<SealedChunk> {
    Ok(SealedChunk {
        min_t: a.first_timestamp().unwrap_or(i64::MAX),
        max_t: a.max_timestamp().unwrap_or(i64::MIN),
        bytes: a.to_bytes()?.into_boxed_slice(),
    })
}

fn seal_hist(a: &HistogramAppender) -> Result<SealedChunk> {
    Ok(SealedChunk {
        min_t: a.first_timestamp().unwrap_or(i64::MAX),
        max_t: a.max_timestamp().unwrap_or(i64::MIN),
        bytes: a.to_bytes()?.into_boxed_slice(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_rules() {
        let mut s = MemSeries::new();
        let lim = ChunkLimits::default();
        assert_eq!(s.check_float(10, 1.0, 0), Ok(Placement::InOrder));
        s.apply_float(10, 1.0, lim).unwrap();
        assert_eq!(s.check_float(10, 1.0, 0), Ok(Placement::Duplicate));
        assert_eq!(s.check_float(10, 2.0, 0), Err("duplicate"));
        assert_eq!(s.check_float(9, 2.0, 0), Err("order"));
        assert_eq!(s.check_float(9, 2.0, 5), Ok(Placement::OutOfOrder));
        assert_eq!(s.check_float(4, 2.0, 5), Err("order"));
        s.apply_float(8, 8.0, lim).unwrap();
        s.apply_float(20, 20.0, lim).unwrap();
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        s.read_floats(0, 100, &mut ts, &mut vs).unwrap();
        assert_eq!(ts, vec![8, 10, 20]);
        assert_eq!(vs, vec![8.0, 1.0, 20.0]);
    }

    #[test]
    fn drain_splits_at_the_cut_across_many_chunks() {
        let mut s = MemSeries::new();
        let lim = ChunkLimits {
            max_samples: 7,
            max_bytes: 4096,
        };
        for t in 0..100 {
            s.apply_float(t * 10, t as f64, lim).unwrap();
        }
        let (ts, vs) = s.drain_floats_before(500, lim).unwrap();
        assert_eq!(ts, (0..50).map(|t| t * 10).collect::<Vec<_>>());
        assert_eq!(vs.len(), 50);
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        s.read_floats(i64::MIN, i64::MAX, &mut ts, &mut vs).unwrap();
        assert_eq!(ts.first(), Some(&500));
        assert_eq!(ts.len(), 50);
        assert_eq!(s.newest_t, 990);
    }
}
