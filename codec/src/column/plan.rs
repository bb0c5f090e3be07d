//! The integer encoding chooser: the exact size of all nine encodings of a stream (see
//! [`super::int`]) in one pass over the values, without materialising any residuals.
//!
//! Each transform's residuals are produced on the fly and fed to a [`Sizes`], which keeps the
//! running size of that residual stream in the three packings: varints, runs, and bit-packed
//! frames of [`FRAME_LEN`]. The sizes are the ones `int::plan` would get by transforming and
//! then sizing each packing separately (the tests compare the two on many streams).

use crate::bytes::zigzag_encode;

use super::bitpack::FRAME_LEN;
use super::int::{IntEncoding, PACKINGS, TRANSFORMS};
use super::varint_len;

/// Running sizes of one residual stream in each packing.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Zigzag varints: the whole stream so far.
    varint: usize,
    /// Runs: the closed runs so far.
    runs: usize,
    /// The open run: its value, the varint size of that value, its length (0: none yet).
    run_value: i64,
    run_head: usize,
    run_len: usize,
    /// Bit-packed frames: the closed frames so far.
    packed: usize,
    /// The open frame: minimum, maximum and length.
    frame_min: i64,
    frame_max: i64,
    frame_len: usize,
}

impl Sizes {
    const fn new() -> Sizes {
        Sizes {
            varint: 0,
            runs: 0,
            run_value: 0,
            run_head: 0,
            run_len: 0,
            packed: 0,
            frame_min: i64::MAX,
            frame_max: i64::MIN,
            frame_len: 0,
        }
    }

    /// Adds residual `r`.
    #[inline(always)]
    fn push(&mut self, r: i64) {
        let len = varint_len(zigzag_encode(r));
        self.varint += len;
        if self.run_len > 0 && r == self.run_value {
            self.run_len += 1;
        } else {
            self.close_run();
            self.run_value = r;
            self.run_head = len;
            self.run_len = 1;
        }
        self.frame_min = self.frame_min.min(r);
        self.frame_max = self.frame_max.max(r);
        self.frame_len += 1;
        if self.frame_len == FRAME_LEN {
            self.close_frame();
        }
    }

    #[inline(always)]
    fn close_run(&mut self) {
        if self.run_len > 0 {
            self.runs += self.run_head + varint_len(self.run_len as u64 - 1);
        }
    }

    /// Adds the open frame's size (as `bitpack::size` counts it) to the packed size.
    #[inline(always)]
    fn close_frame(&mut self) {
        if self.frame_len == 0 {
            return;
        }
        // `max - min` is the true range as an unsigned number even when it overflows i64.
        let range = self.frame_max.wrapping_sub(self.frame_min) as u64;
        let width = 64 - range.leading_zeros() as usize;
        self.packed +=
            varint_len(zigzag_encode(self.frame_min)) + 1 + (self.frame_len * width).div_ceil(8);
        self.frame_min = i64::MAX;
        self.frame_max = i64::MIN;
        self.frame_len = 0;
    }

    /// The sizes in packing order (bit-pack, varint, runs), the open run and frame closed.
    fn finish(mut self) -> [usize; 3] {
        self.close_run();
        self.close_frame();
        [self.packed, self.varint, self.runs]
    }
}

/// Body size of `values` in every encoding, by transform then packing (the order of
/// [`TRANSFORMS`] and [`PACKINGS`]): heads plus packed residuals.
pub(super) fn sizes(values: &[i64]) -> [[usize; 3]; 3] {
    let head = |v: i64| varint_len(zigzag_encode(v));
    let mut s = [Sizes::new(); 3];
    let mut heads = [0usize; 3];
    if let Some(&v0) = values.first() {
        s[0].push(v0);
        heads[1] = head(v0);
        heads[2] = head(v0);
    }
    if let [v0, v1, ..] = values {
        let d = v1.wrapping_sub(*v0);
        s[0].push(*v1);
        s[1].push(d);
        heads[2] += head(d);
    }
    if values.len() > 2 {
        let (mut prev, mut prev_d) = (values[1], values[1].wrapping_sub(values[0]));
        for &v in &values[2..] {
            let d = v.wrapping_sub(prev);
            s[0].push(v);
            s[1].push(d);
            s[2].push(d.wrapping_sub(prev_d));
            prev = v;
            prev_d = d;
        }
    }
    let mut out = [[0usize; 3]; 3];
    for t in 0..3 {
        out[t] = s[t].finish().map(|p| heads[t] + p);
    }
    out
}

/// The smallest encoding of `values` and its body size; on a tie, the first in
/// [`IntEncoding::all`] order.
pub(super) fn choose(values: &[i64]) -> (IntEncoding, usize) {
    let sizes = sizes(values);
    let mut best = (IntEncoding::new(TRANSFORMS[0], PACKINGS[0]), sizes[0][0]);
    for (t, row) in TRANSFORMS.into_iter().zip(sizes) {
        for (p, size) in PACKINGS.into_iter().zip(row) {
            if size < best.1 {
                best = (IntEncoding::new(t, p), size);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::int::{packed_size, transform};
    use super::*;

    /// The sizes as the two-step path computes them: transform, then size each packing.
    fn reference(values: &[i64]) -> [[usize; 3]; 3] {
        let mut out = [[0usize; 3]; 3];
        for (ti, t) in TRANSFORMS.into_iter().enumerate() {
            let (heads, nh, res) = transform(values, t);
            let head: usize = heads[..nh]
                .iter()
                .map(|&h| varint_len(zigzag_encode(h)))
                .sum();
            for (pi, p) in PACKINGS.into_iter().enumerate() {
                out[ti][pi] = head + packed_size(&res, p);
            }
        }
        out
    }

    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *state >> 11
    }

    #[test]
    fn one_pass_sizes_match_the_two_step_sizes() {
        let mut st = 7u64;
        let mut streams: Vec<Vec<i64>> = vec![
            vec![],
            vec![5],
            vec![i64::MIN, i64::MAX],
            vec![i64::MAX, i64::MIN, i64::MAX, 0, -1, i64::MIN],
            vec![3; 129],
            (0..1000).map(|i| 1_700_000_000_000 + i * 15_000).collect(),
        ];
        for n in [1usize, 2, 3, 127, 128, 129, 130, 255, 256, 257, 2048, 3001] {
            for shape in 0..5 {
                let v: Vec<i64> = (0..n)
                    .map(|i| match shape {
                        0 => lcg(&mut st) as i64,
                        1 => (lcg(&mut st) % 4) as i64,
                        2 => (i / 7) as i64,
                        3 => 1_000 * i as i64 + (lcg(&mut st) % 50) as i64,
                        _ => (lcg(&mut st) << 11) as i64,
                    })
                    .collect();
                streams.push(v);
            }
        }
        for v in &streams {
            assert_eq!(sizes(v), reference(v), "{} values", v.len());
        }
    }
}
