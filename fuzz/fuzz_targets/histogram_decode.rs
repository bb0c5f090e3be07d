//! Untrusted bytes into the histogram chunk decoder: an error or samples, never a panic, and a
//! re-encode of what decoded reproduces a chunk that decodes to the same samples.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_codec::histogram::{self, HistogramSample};

fuzz_target!(|data: &[u8]| {
    let Ok(cols) = histogram::decode(data) else {
        return;
    };
    assert!(cols.len() <= data.len() * 8);
    let ts: Vec<i64> = cols.timestamps().to_vec();
    let samples: Vec<HistogramSample<'_>> = cols.iter().map(|(_, s)| s).collect();
    let again = histogram::encode_chunk(&ts, &samples).expect("decoded samples re-encode");
    let cols2 = histogram::decode(&again).expect("own output decodes");
    assert_eq!(cols2.timestamps(), cols.timestamps());
    assert_eq!(cols2.all_bucket_counts(), cols.all_bucket_counts());
    assert_eq!(cols2.counts(), cols.counts());
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(cols2.sums()), bits(cols.sums()));
});
