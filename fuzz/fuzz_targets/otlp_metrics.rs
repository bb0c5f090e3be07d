//! Untrusted bytes into the OTLP `ExportMetricsServiceRequest` decoder: an error or samples and
//! histograms, never a panic — also when the same payload is decoded again with the delta state
//! the first decode left behind (delta sums and histograms accumulate).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_engine::otlp::{DeltaState, decode_metrics};

fuzz_target!(|data: &[u8]| {
    let mut delta = DeltaState::default();
    let Ok(first) = decode_metrics(data, &mut delta) else {
        return;
    };
    for (labels, _, _) in &first.samples {
        assert!(
            labels.iter().any(|(k, _)| k == "__name__"),
            "every sample is named"
        );
    }
    for h in &first.histograms {
        assert!(
            h.labels.iter().any(|(k, _)| k == "__name__"),
            "every histogram is named"
        );
    }
    let again =
        decode_metrics(data, &mut delta).expect("a payload that decoded once decodes again");
    assert_eq!(again.samples.len(), first.samples.len());
    assert_eq!(again.histograms.len(), first.histograms.len());
});
