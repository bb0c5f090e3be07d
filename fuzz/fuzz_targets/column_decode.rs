//! Untrusted bytes into every column decoder: an error or values, never a panic; a column that
//! decodes re-encodes to one that decodes to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_codec::column::{self, ColumnOptions};

fuzz_target!(|data: &[u8]| {
    let opts = ColumnOptions::default();
    let _ = column::describe(data);
    let mut ints = Vec::new();
    if column::decode_i64(data, &mut ints).is_ok() {
        let again = column::encode_i64(&ints, &opts).expect("decoded ints re-encode");
        let mut back = Vec::new();
        column::decode_i64(&again, &mut back).expect("own output decodes");
        assert_eq!(back, ints);
    }
    let mut uints = Vec::new();
    let _ = column::decode_u64(data, &mut uints);
    let mut floats = Vec::new();
    if column::decode_f64(data, &mut floats).is_ok() {
        let again = column::encode_f64(&floats, &opts).expect("decoded floats re-encode");
        let mut back = Vec::new();
        column::decode_f64(&again, &mut back).expect("own output decodes");
        assert!(back.iter().zip(&floats).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(back.len(), floats.len());
    }
    let mut strings = Vec::new();
    if column::decode_str(data, &mut strings).is_ok() {
        let again = column::encode_str(&strings, &opts).expect("decoded strings re-encode");
        let mut back = Vec::new();
        column::decode_str(&again, &mut back).expect("own output decodes");
        assert_eq!(back, strings);
    }
    let _ = column::decode_bytes(data, &mut Vec::new());
    let _ = column::decode_bool(data, &mut Vec::new());
});
