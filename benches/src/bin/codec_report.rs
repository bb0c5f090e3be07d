//! Prints Strata's Gorilla chunk figures next to tsz's on the same real series, in one run.
//!
//! usage: codec_report [DATA.prom[.zst]] [CHUNK_SAMPLES=120] [ROUNDS=5]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use strata_benches::{gorilla_cmp as cmp, prom, shared_data_dir};

fn best_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..rounds {
        let t0 = Instant::now();
        let r = black_box(f());
        best = best.min(t0.elapsed());
        out = Some(r);
    }
    (best, out.expect("rounds >= 1"))
}

/// Like [`best_of`], with an untimed `setup` before each round.
fn best_of_with_setup<S, T>(
    rounds: usize,
    mut setup: impl FnMut() -> S,
    mut f: impl FnMut(S) -> T,
) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..rounds {
        let input = setup();
        let t0 = Instant::now();
        let r = black_box(f(input));
        best = best.min(t0.elapsed());
        out = Some(r);
    }
    (best, out.expect("rounds >= 1"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| shared_data_dir().join("node-1s.prom.zst"));
    let chunk_len: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(120);
    let rounds: usize = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5)
        .max(1);

    let series = prom::load(&path)?;
    let samples: usize = series.iter().map(|s| s.values.len()).sum();
    let chunks = cmp::chunks(&series, chunk_len);
    println!(
        "data: {} — {} series, {} samples, {} chunks of ≤ {chunk_len} samples; best of {rounds} rounds",
        path.display(),
        series.len(),
        samples,
        chunks.len()
    );

    let (enc_ours, ours) = best_of(rounds, || cmp::strata_encode(&chunks));
    let (enc_tsz, theirs) = best_of(rounds, || cmp::tsz_encode(&chunks));
    cmp::verify(&chunks, &ours, &theirs)?;
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let (dec_ours, n1) = best_of(rounds, || cmp::strata_decode(&ours, &mut ts, &mut vs));
    let mut dps = Vec::new();
    let (dec_tsz, n2) =
        best_of_with_setup(rounds, || theirs.clone(), |c| cmp::tsz_decode(c, &mut dps));
    assert_eq!((n1, n2), (samples, samples), "every sample decoded");

    let bytes_ours: usize = ours.iter().map(Vec::len).sum();
    let bytes_tsz: usize = theirs.iter().map(|b| b.len()).sum();
    let rate = |d: Duration| samples as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{:<28} {:>14} {:>14} {:>8}",
        "metric", "strata", "tsz", "ratio"
    );
    let row =
        |name: &str, a: f64, b: f64| println!("{name:<28} {a:>14.2} {b:>14.2} {:>7.2}x", a / b);
    row("encode Msamples/s", rate(enc_ours), rate(enc_tsz));
    row("decode Msamples/s", rate(dec_ours), rate(dec_tsz));
    let bps = |b: usize| b as f64 / samples as f64;
    println!(
        "{:<28} {:>14.4} {:>14.4} {:>7.3}x",
        "bytes/sample",
        bps(bytes_ours),
        bps(bytes_tsz),
        bps(bytes_ours) / bps(bytes_tsz)
    );

    // The column codecs are for sealed blocks: a whole series per block (this capture spans 33
    // minutes, inside one 2 h block), and, for comparison, the same 120-sample pieces.
    let whole: Vec<(&[i64], &[f64])> = series
        .iter()
        .map(|s| (s.timestamps.as_slice(), s.values.as_slice()))
        .collect();
    let col_block = cmp::column_bytes(&whole)?;
    let col_chunks = cmp::column_bytes(&chunks)?;
    println!(
        "{:<28} {:>14.4} {:>14} {:>7.3}x",
        "bytes/sample, columns/block",
        bps(col_block),
        "",
        bps(col_block) / bps(bytes_tsz)
    );
    println!(
        "{:<28} {:>14.4} {:>14} {:>7.3}x",
        "bytes/sample, columns/120",
        bps(col_chunks),
        "",
        bps(col_chunks) / bps(bytes_tsz)
    );
    Ok(())
}
