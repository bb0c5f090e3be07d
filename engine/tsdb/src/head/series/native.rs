//! Native histogram series in the head: in-order samples into native chunks
//! (`strata_codec::native`), a new chunk whenever the schema, zero threshold, custom bounds,
//! counter-reset hint or integer/float encoding changes, or the chunk is full. Buckets that
//! come and go do not cut: a sample is written in the open chunk's layout when its populated
//! buckets are all there, and new buckets widen the open chunk (`relayout`).

use std::borrow::Cow;
use strata_codec::native::{self, NativeAppender, NativeLimits};
use strata_model::float_histogram::FloatHistogram;
use strata_model::{CounterResetHint, NativeHistogram};

use super::{Kind, MemSeries, SealedChunk, relayout};
use crate::{Error, Result};

/// A chunk's first and last timestamps and bytes.
type RangedChunk<'a> = (i64, i64, Cow<'a, [u8]>);

impl MemSeries {
    /// Stores a native histogram sample. Native series accept in-order samples only; an older
    /// or equal timestamp is taken as already stored (replay) and ignored.
    pub fn apply_native(
        &mut self,
        t: i64,
        h: &NativeHistogram,
        limits: NativeLimits,
    ) -> Result<()> {
        if !matches!(self.kind, Kind::Empty | Kind::Native) {
            return Err(Error::KindMismatch {
                series: String::new(),
                detail: "native histogram sample for a float or explicit-bucket series",
            });
        }
        if self.newest_t != i64::MIN && t <= self.newest_t {
            return Ok(());
        }
        self.kind = Kind::Native;
        let resolved = self.resolve_hint(h);
        let h = resolved.as_ref().unwrap_or(h);
        let refit = self.relayout(h, limits)?;
        let h = refit.as_ref().unwrap_or(h);
        let fits = self
            .open_native
            .as_ref()
            .is_some_and(|a| !a.is_full() && a.accepts(h));
        if !fits {
            self.seal_native()?;
            self.open_native = Some(Box::new(NativeAppender::new(limits)?));
        }
        let app = self
            .open_native
            .as_mut()
            .ok_or_else(|| Error::Internal("no open native chunk".into()))?;
        match app.append(t, h) {
            Ok(()) => {}
            Err(strata_codec::Error::LimitExceeded { .. }) if !app.is_empty() => {
                // The byte budget refused it: a fresh chunk takes any valid first sample.
                self.seal_native()?;
                let mut fresh = NativeAppender::new(limits)?;
                fresh.append(t, h)?;
                self.open_native = Some(Box::new(fresh));
            }
            Err(e) => return Err(e.into()),
        }
        self.oldest_t = self.oldest_t.min(t);
        self.newest_t = t;
        self.last_native = Some(Box::new(h.clone()));
        Ok(())
    }

    /// `h` in the open chunk's layout: as it is when its populated buckets are all there,
    /// after widening the open chunk (re-encoding its samples) when it brings new ones. `None`
    /// when `h` keeps its own layout (no open chunk, another schema, zero threshold or custom
    /// bounds, or the widened chunk would not take it).
    fn relayout(
        &mut self,
        h: &NativeHistogram,
        limits: NativeLimits,
    ) -> Result<Option<NativeHistogram>> {
        let Some(open) = self
            .open_native
            .as_ref()
            .filter(|a| !a.is_empty() && !a.is_full())
        else {
            return Ok(None);
        };
        let Some(layout) = open.layout() else {
            return Ok(None);
        };
        if let Some(fitted) = relayout::fit(h, layout) {
            return Ok(Some(fitted));
        }
        let Some(wider) = relayout::union(layout, h) else {
            return Ok(None);
        };
        if wider.positive_spans == layout.positive_spans
            && wider.negative_spans == layout.negative_spans
        {
            return Ok(None);
        }
        let mut fresh = NativeAppender::new(limits)?;
        for (t, old) in native::decode(&open.to_bytes()?)?.iter() {
            let Some(old) = relayout::fit(&old, &wider) else {
                return Ok(None);
            };
            if !fresh.accepts(&old) || fresh.append(t, &old).is_err() {
                return Ok(None); // the widened chunk does not hold them all: cut instead
            }
        }
        let same =
            h.positive_spans == wider.positive_spans && h.negative_spans == wider.negative_spans;
        let fitted = if same {
            Some(h.clone())
        } else {
            relayout::fit(h, &wider)
        };
        if fitted.is_some() {
            self.open_native = Some(Box::new(fresh));
        }
        Ok(fitted)
    }

    /// What Prometheus' head does with a sample whose counter-reset hint is unknown: compare
    /// it with the series' previous sample and store "not reset" when it continues it. A
    /// sample after a reset stays unknown (Prometheus starts a chunk there, whose first sample
    /// reads back as unknown), as do the first sample of a series and of the head after a
    /// restart; gauges and explicit hints are kept.
    fn resolve_hint(&self, h: &NativeHistogram) -> Option<NativeHistogram> {
        if h.counter_reset_hint != CounterResetHint::Unknown {
            return None;
        }
        let prev = self.last_native.as_deref()?;
        if prev.counter_reset_hint == CounterResetHint::Gauge
            || FloatHistogram::from_native(h).detect_reset(&FloatHistogram::from_native(prev))
        {
            return None;
        }
        let mut h = h.clone();
        h.counter_reset_hint = CounterResetHint::NotCounterReset;
        Some(h)
    }

    fn seal_native(&mut self) -> Result<()> {
        if let Some(a) = self.open_native.take()
            && !a.is_empty()
        {
            self.sealed.push(SealedChunk {
                min_t: a.first_timestamp().unwrap_or(i64::MAX),
                max_t: a.max_timestamp().unwrap_or(i64::MIN),
                bytes: a.to_bytes()?.into_boxed_slice(),
            });
        }
        Ok(())
    }

    /// The chunks (sealed, then the open one encoded) of a native series, with their ranges:
    /// sealed chunks borrowed, the open one encoded.
    fn native_chunks(&self) -> Result<Vec<RangedChunk<'_>>> {
        let mut out: Vec<RangedChunk<'_>> = self
            .sealed
            .iter()
            .map(|c| (c.min_t, c.max_t, Cow::Borrowed(&c.bytes[..])))
            .collect();
        if let Some(a) = self.open_native.as_ref().filter(|a| !a.is_empty()) {
            let lo = a.first_timestamp().unwrap_or(i64::MAX);
            let hi = a.max_timestamp().unwrap_or(i64::MIN);
            out.push((lo, hi, Cow::Owned(a.to_bytes()?)));
        }
        Ok(out)
    }

    /// Native histogram samples in `[start, end]`, in time order.
    pub fn read_natives(&self, start: i64, end: i64) -> Result<Vec<(i64, NativeHistogram)>> {
        let mut out = Vec::new();
        if self.kind != Kind::Native || end < self.oldest_t {
            return Ok(out);
        }
        for (lo, hi, bytes) in self.native_chunks()? {
            if hi < start || lo > end {
                continue;
            }
            let samples = native::decode(&bytes)?;
            out.extend(samples.iter().filter(|(t, _)| (start..=end).contains(t)));
        }
        Ok(out)
    }

    /// Encoded native chunks holding exactly the samples older than `cut` (copies; the series
    /// is unchanged).
    pub fn native_chunks_before(&self, cut: i64) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if self.kind != Kind::Native || self.oldest_t >= cut {
            return Ok(out);
        }
        for (lo, hi, bytes) in self.native_chunks()? {
            if lo >= cut {
                continue;
            }
            if hi < cut {
                out.push(bytes.into_owned());
                continue;
            }
            let old: Vec<(i64, NativeHistogram)> = native::decode(&bytes)?
                .iter()
                .filter(|(t, _)| *t < cut)
                .collect();
            if !old.is_empty() {
                let (ts, hs): (Vec<i64>, Vec<NativeHistogram>) = old.into_iter().unzip();
                out.push(native::encode_chunk(&ts, &hs)?);
            }
        }
        Ok(out)
    }

    /// Drops the samples older than `cut` (they are in a block now), keeping the rest.
    pub fn drain_natives_before(&mut self, cut: i64, limits: NativeLimits) -> Result<()> {
        if self.kind != Kind::Native {
            return Ok(());
        }
        let chunks: Vec<(i64, i64, Vec<u8>)> = (self.native_chunks()?.into_iter())
            .map(|(lo, hi, b)| (lo, hi, b.into_owned()))
            .collect();
        let newest = self.newest_t;
        // Re-applied samples keep the hints they were stored with.
        let last = self.last_native.take();
        self.sealed.clear();
        self.open_native = None;
        self.oldest_t = i64::MAX;
        self.newest_t = i64::MIN;
        for (lo, hi, bytes) in chunks {
            if hi < cut {
                continue;
            }
            if lo >= cut {
                // Samples re-applied from a straddling chunk come first: close their chunk.
                self.seal_native()?;
                self.sealed.push(SealedChunk {
                    min_t: lo,
                    max_t: hi,
                    bytes: bytes.into_boxed_slice(),
                });
                self.oldest_t = self.oldest_t.min(lo);
                self.newest_t = self.newest_t.max(hi);
                continue;
            }
            for (t, h) in native::decode(&bytes)?.iter().filter(|(t, _)| *t >= cut) {
                self.apply_native(t, &h, limits)?;
            }
        }
        // Ordering continues from the newest sample ever seen, even if it went to a block.
        if self.newest_t == i64::MIN {
            self.newest_t = newest;
        }
        self.last_native = last;
        Ok(())
    }

    /// Samples held (for stats).
    pub(crate) fn native_len(&self) -> Result<u64> {
        let mut n = 0;
        for (_, _, bytes) in self.native_chunks()? {
            n += native::read_header(&bytes)?.count as u64;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_model::BucketSpan;

    fn h(count: f64, buckets: Vec<f64>) -> NativeHistogram {
        let n = buckets.len() as u32;
        NativeHistogram {
            schema: 3,
            count,
            sum: count * 0.5,
            positive_spans: vec![BucketSpan {
                offset: -2,
                length: n,
            }],
            positive_buckets: buckets,
            ..NativeHistogram::default()
        }
    }

    #[test]
    fn layouts_cut_chunks_and_drains_split_at_the_cut() {
        let mut s = MemSeries::new();
        let lim = NativeLimits {
            max_samples: 5,
            ..NativeLimits::default()
        };
        for t in 0..20i64 {
            let c = t as f64;
            // The layout widens at t = 10: a new chunk.
            let b = if t < 10 {
                vec![c, 1.0]
            } else {
                vec![c, 1.0, 2.0]
            };
            s.apply_native(
                t * 1000,
                &h(c + 1.0 + if t < 10 { 0.0 } else { 2.0 }, b),
                lim,
            )
            .expect("append");
        }
        assert_eq!(s.read_natives(i64::MIN, i64::MAX).expect("read").len(), 20);
        assert_eq!(s.native_len().expect("len"), 20);
        let old = s.native_chunks_before(12_500).expect("chunks");
        let n: usize = old
            .iter()
            .map(|c| native::decode(c).expect("decodes").len())
            .sum();
        assert_eq!(n, 13);
        s.drain_natives_before(12_500, lim).expect("drain");
        let left = s.read_natives(i64::MIN, i64::MAX).expect("read");
        assert_eq!(left.first().map(|x| x.0), Some(13_000));
        assert_eq!(left.len(), 7);
        assert!(s.apply_float(30_000, 1.0, Default::default()).is_err());
    }
}
