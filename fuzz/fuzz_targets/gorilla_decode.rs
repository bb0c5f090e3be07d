//! Untrusted bytes into the Gorilla chunk decoders: an error or samples, never a panic, and never
//! more samples than the input can pay for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_codec::gorilla::{ChunkIter, decode_into};

fuzz_target!(|data: &[u8]| {
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let bulk = decode_into(data, &mut ts, &mut vs);
    if let Ok(n) = bulk {
        assert_eq!((ts.len(), vs.len()), (n, n));
        assert!(n <= data.len() * 8);
    } else {
        assert!(ts.is_empty() && vs.is_empty());
    }
    // The iterator must agree with the bulk decoder sample for sample.
    if let Ok(iter) = ChunkIter::new(data) {
        let mut i = 0;
        for s in iter {
            match s {
                Ok((t, v)) => {
                    if bulk.is_ok() {
                        assert_eq!((t, v.to_bits()), (ts[i], vs[i].to_bits()));
                    }
                    i += 1;
                }
                Err(_) => {
                    assert!(bulk.is_err());
                    break;
                }
            }
        }
    }
});
