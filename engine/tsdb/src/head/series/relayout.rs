//! Keeping a native series in one chunk while its bucket layout moves: a sample whose buckets
//! are all in the open chunk's layout is written in that layout (absent buckets as zeros), and
//! one that brings new buckets widens the open chunk to the union of both layouts (its samples
//! re-encoded with zeros in the new buckets), as Prometheus' head does. Without this, an OTLP
//! producer whose bucket arrays change length cut a chunk at nearly every sample.

use std::collections::BTreeMap;
use strata_codec::native::NativeLayout;
use strata_model::{BucketSpan, NativeHistogram};

/// Index → count of one side.
fn indexed(spans: &[BucketSpan], counts: &[f64]) -> BTreeMap<i64, f64> {
    let mut out = BTreeMap::new();
    let (mut index, mut k) = (0i64, 0usize);
    for (n, s) in spans.iter().enumerate() {
        index = if n == 0 {
            i64::from(s.offset)
        } else {
            index + i64::from(s.offset)
        };
        for _ in 0..s.length {
            out.insert(index, counts.get(k).copied().unwrap_or(0.0));
            index += 1;
            k += 1;
        }
    }
    out
}

/// The indexes a side's spans cover.
fn covered(spans: &[BucketSpan]) -> Vec<i64> {
    indexed(spans, &[]).into_keys().collect()
}

/// Spans covering exactly `indexes` (ascending).
fn spans_of(indexes: &[i64]) -> Option<Vec<BucketSpan>> {
    let mut out: Vec<BucketSpan> = Vec::new();
    let mut next: Option<i64> = None;
    for &i in indexes {
        match (next, out.last_mut()) {
            (Some(n), Some(last)) if n == i => last.length += 1,
            _ => out.push(BucketSpan {
                offset: i32::try_from(i - next.unwrap_or(0)).ok()?,
                length: 1,
            }),
        }
        next = Some(i + 1);
    }
    Some(out)
}

/// Whether `h` and `layout` differ at most in which buckets are present.
fn same_frame(h: &NativeHistogram, layout: &NativeLayout) -> bool {
    h.schema == layout.schema
        && h.zero_threshold.to_bits() == layout.zero_threshold.to_bits()
        && h.custom_values.len() == layout.custom_values.len()
        && h.custom_values
            .iter()
            .zip(&layout.custom_values)
            .all(|(a, b)| a.to_bits() == b.to_bits())
}

/// The counts of one side in the buckets `into`, if every bucket of it with a count is there.
fn side_in(spans: &[BucketSpan], counts: &[f64], into: &[BucketSpan]) -> Option<Vec<f64>> {
    let have = indexed(spans, counts);
    let target = covered(into);
    let fits = have
        .iter()
        .all(|(i, c)| *c == 0.0 || target.binary_search(i).is_ok());
    fits.then(|| {
        target
            .iter()
            .map(|i| have.get(i).copied().unwrap_or(0.0))
            .collect()
    })
}

/// `h` written in `layout`, when all its populated buckets are in it and nothing else differs.
pub(super) fn fit(h: &NativeHistogram, layout: &NativeLayout) -> Option<NativeHistogram> {
    if !same_frame(h, layout) {
        return None;
    }
    if h.positive_spans == layout.positive_spans && h.negative_spans == layout.negative_spans {
        return None; // already in it
    }
    let positive = side_in(
        &h.positive_spans,
        &h.positive_buckets,
        &layout.positive_spans,
    )?;
    let negative = side_in(
        &h.negative_spans,
        &h.negative_buckets,
        &layout.negative_spans,
    )?;
    Some(NativeHistogram {
        positive_spans: layout.positive_spans.clone(),
        positive_buckets: positive,
        negative_spans: layout.negative_spans.clone(),
        negative_buckets: negative,
        ..h.clone()
    })
}

/// The layout holding the buckets of both `layout` and `h`, if they share a frame.
pub(super) fn union(layout: &NativeLayout, h: &NativeHistogram) -> Option<NativeLayout> {
    if !same_frame(h, layout) {
        return None;
    }
    let merge = |a: &[BucketSpan], b: &[BucketSpan]| {
        let mut all = covered(a);
        all.extend(covered(b));
        all.sort_unstable();
        all.dedup();
        spans_of(&all)
    };
    Some(NativeLayout {
        positive_spans: merge(&layout.positive_spans, &h.positive_spans)?,
        negative_spans: merge(&layout.negative_spans, &h.negative_spans)?,
        ..layout.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(offset: i32, counts: &[f64]) -> NativeHistogram {
        NativeHistogram {
            count: counts.iter().sum(),
            positive_spans: vec![BucketSpan {
                offset,
                length: counts.len() as u32,
            }],
            positive_buckets: counts.to_vec(),
            ..NativeHistogram::default()
        }
    }

    #[test]
    fn narrower_samples_fit_and_wider_ones_widen() {
        let wide = NativeLayout::of(&h(0, &[1.0, 2.0, 3.0]));
        let narrow = fit(&h(1, &[5.0]), &wide).expect("fits");
        assert_eq!(narrow.positive_buckets, [0.0, 5.0, 0.0]);
        assert!(fit(&h(3, &[1.0]), &wide).is_none(), "bucket 3 is new");
        let u = union(&wide, &h(3, &[1.0])).expect("same frame");
        assert_eq!(
            u.positive_spans,
            [BucketSpan {
                offset: 0,
                length: 4
            }]
        );
        let mut other_schema = h(0, &[1.0]);
        other_schema.schema = 1;
        assert!(union(&wide, &other_schema).is_none());
    }
}
