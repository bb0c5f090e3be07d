//! Column codecs: property round trips for every encoding, corruption (every bit flipped, every
//! truncation) and the chooser's picks on typical columns.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use strata_codec::column::{
    self, ColumnInfo, ColumnOptions, ColumnType, Encoding, FloatCodec, IntEncoding, Packing,
    StringCodec, Transform, ZstdMode,
};

const NEVER: ColumnOptions = ColumnOptions {
    zstd: ZstdMode::Never,
    ints: None,
    floats: None,
    strings: None,
};

/// The chooser with and without zstd, zstd forced, and every integer encoding forced.
fn int_options() -> Vec<ColumnOptions> {
    let mut opts = vec![
        ColumnOptions::default(),
        NEVER,
        ColumnOptions {
            zstd: ZstdMode::Always { level: 1 },
            ..NEVER
        },
    ];
    opts.extend(IntEncoding::all().map(|e| ColumnOptions {
        ints: Some(e),
        ..NEVER
    }));
    opts
}

fn float_options() -> Vec<ColumnOptions> {
    let mut opts = int_options();
    for codec in [FloatCodec::Gorilla, FloatCodec::Decimal, FloatCodec::Raw] {
        opts.push(ColumnOptions {
            floats: Some(codec),
            ..NEVER
        });
    }
    opts.push(ColumnOptions {
        floats: Some(FloatCodec::Decimal),
        ints: Some(IntEncoding::new(
            Transform::DeltaOfDelta,
            Packing::RunLength,
        )),
        zstd: ZstdMode::Always { level: 19 },
        strings: None,
    });
    opts
}

fn string_options() -> Vec<ColumnOptions> {
    let mut opts = int_options();
    for codec in [StringCodec::Plain, StringCodec::Dictionary] {
        opts.push(ColumnOptions {
            strings: Some(codec),
            ..NEVER
        });
        opts.push(ColumnOptions {
            strings: Some(codec),
            ints: Some(IntEncoding::new(Transform::Delta, Packing::Varint)),
            ..NEVER
        });
    }
    opts
}

fn check_info(bytes: &[u8], ty: ColumnType, n: usize) -> ColumnInfo {
    let info = column::describe(bytes).expect("describe");
    assert_eq!(
        (info.column_type, info.count, info.encoded_bytes),
        (ty, n, bytes.len())
    );
    info
}

fn round_trip_i64(values: &[i64]) {
    for opts in int_options() {
        let bytes = column::encode_i64(values, &opts).unwrap();
        let mut back = vec![-7];
        assert_eq!(column::decode_i64(&bytes, &mut back).unwrap(), values.len());
        assert_eq!(&back[1..], values, "{opts:?}");
        let info = check_info(&bytes, ColumnType::I64, values.len());
        if let Some(e) = opts.ints {
            assert_eq!(info.encoding, Encoding::Int(e));
        }
    }
    let unsigned: Vec<u64> = values.iter().map(|&v| v as u64).collect();
    let bytes = column::encode_u64(&unsigned, &ColumnOptions::default()).unwrap();
    let mut back = Vec::new();
    column::decode_u64(&bytes, &mut back).unwrap();
    assert_eq!(back, unsigned);
    check_info(&bytes, ColumnType::U64, values.len());
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn round_trip_f64(values: &[f64]) {
    for opts in float_options() {
        let bytes = column::encode_f64(values, &opts).unwrap();
        let mut back = Vec::new();
        assert_eq!(column::decode_f64(&bytes, &mut back).unwrap(), values.len());
        assert_eq!(bits(&back), bits(values), "{opts:?}");
        let info = check_info(&bytes, ColumnType::F64, values.len());
        match opts.floats {
            Some(FloatCodec::Gorilla) => assert_eq!(info.encoding, Encoding::FloatGorilla),
            Some(FloatCodec::Raw) => assert_eq!(info.encoding, Encoding::FloatRaw),
            Some(FloatCodec::Decimal) => {
                assert!(matches!(info.encoding, Encoding::FloatDecimal { .. }))
            }
            None => {}
        }
    }
}

fn round_trip_str(values: &[String]) {
    for opts in string_options() {
        let bytes = column::encode_str(values, &opts).unwrap();
        let mut back = Vec::new();
        assert_eq!(column::decode_str(&bytes, &mut back).unwrap(), values.len());
        assert_eq!(back, values, "{opts:?}");
        let info = check_info(&bytes, ColumnType::Str, values.len());
        match opts.strings {
            Some(StringCodec::Plain) => assert!(matches!(info.encoding, Encoding::StrPlain { .. })),
            Some(StringCodec::Dictionary) => {
                assert!(matches!(info.encoding, Encoding::StrDict { .. }))
            }
            None => {}
        }
        // A string column also reads as bytes.
        let mut raw = Vec::new();
        column::decode_bytes(&bytes, &mut raw).unwrap();
        assert!(raw.iter().zip(values).all(|(r, s)| r == s.as_bytes()));
    }
}

fn round_trip_bytes(values: &[Vec<u8>]) {
    for opts in string_options() {
        let bytes = column::encode_bytes(values, &opts).unwrap();
        let mut back = Vec::new();
        assert_eq!(
            column::decode_bytes(&bytes, &mut back).unwrap(),
            values.len()
        );
        assert_eq!(back, values, "{opts:?}");
        check_info(&bytes, ColumnType::Bytes, values.len());
    }
}

fn round_trip_bool(values: &[bool]) {
    for opts in int_options() {
        let bytes = column::encode_bool(values, &opts).unwrap();
        let mut back = Vec::new();
        assert_eq!(
            column::decode_bool(&bytes, &mut back).unwrap(),
            values.len()
        );
        assert_eq!(back, values, "{opts:?}");
        check_info(&bytes, ColumnType::Bool, values.len());
    }
}

// ---- strategies ----

const EXTREMES: [i64; 8] = [
    i64::MIN,
    i64::MIN + 1,
    i64::MAX,
    i64::MAX - 1,
    0,
    1,
    -1,
    1 << 62,
];

fn counter() -> impl Strategy<Value = Vec<i64>> {
    (0i64..1 << 40, vec((0i64..100, 0u8..50), 0..600)).prop_map(|(start, steps)| {
        let mut v = start;
        steps
            .into_iter()
            .map(|(inc, reset)| {
                v = if reset == 0 { inc } else { v + inc };
                v
            })
            .collect()
    })
}

fn timestamps() -> impl Strategy<Value = Vec<i64>> {
    (any::<i64>(), 1i64..120_000, vec(-50i64..50, 0..600)).prop_map(|(start, step, jitter)| {
        jitter
            .iter()
            .enumerate()
            .map(|(i, j)| {
                start
                    .wrapping_add(step.wrapping_mul(i as i64))
                    .wrapping_add(*j)
            })
            .collect()
    })
}

fn i64_column() -> impl Strategy<Value = Vec<i64>> {
    prop_oneof![
        vec(any::<i64>(), 0..300),
        vec(-1000i64..1000, 0..600),
        (any::<i64>(), 0usize..600).prop_map(|(v, n)| vec![v; n]),
        vec(select(&EXTREMES[..]), 0..300),
        counter(),
        timestamps(),
        // Runs with outliers.
        vec(prop_oneof![8 => Just(5i64), 1 => any::<i64>()], 0..600),
    ]
}

fn special_f64() -> impl Strategy<Value = f64> {
    select(vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0002),
        f64::from_bits(0x7ff8_dead_beef_0001),
        f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        0.1 + 0.2,
        9_007_199_254_740_993.0,
        1e300,
    ])
}

fn decimal_f64() -> impl Strategy<Value = f64> {
    (-1_000_000_000i64..1_000_000_000, 0u32..=7).prop_map(|(m, k)| m as f64 / 10f64.powi(k as i32))
}

fn f64_column() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        vec(any::<u64>().prop_map(f64::from_bits), 0..300),
        vec(special_f64(), 0..200),
        vec(decimal_f64(), 0..400),
        // A gauge in cents.
        (0i64..100_000, vec(-50i64..50, 0..600)).prop_map(|(start, steps)| {
            let mut m = start;
            steps
                .iter()
                .map(|s| {
                    m += s;
                    m as f64 / 100.0
                })
                .collect()
        }),
        // Accumulated short decimals: 0.1 + 0.2 and friends.
        vec(select(vec![0.1, 0.2, 0.3, 0.7, 1.5]), 0..300).prop_map(|xs| {
            let mut sum = 0.0;
            xs.iter()
                .map(|x| {
                    sum += x;
                    sum
                })
                .collect()
        }),
        vec(prop_oneof![8 => decimal_f64(), 1 => special_f64()], 0..600),
        (any::<u64>(), 0usize..400).prop_map(|(b, n)| vec![f64::from_bits(b); n]),
    ]
}

fn str_column() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        vec(any::<String>(), 0..60),
        vec("[a-c]{0,3}", 0..400),
        vec(
            select(vec!["gpt-4o", "claude-sonnet-4", "llama-3.1-70b", "", "é✓"])
                .prop_map(String::from),
            0..600
        ),
    ]
}

fn bool_column() -> impl Strategy<Value = Vec<bool>> {
    prop_oneof![
        vec(any::<bool>(), 0..600),
        vec(prop_oneof![20 => Just(false), 1 => Just(true)], 0..2000),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn i64_columns_round_trip(values in i64_column()) {
        round_trip_i64(&values);
    }

    #[test]
    fn f64_columns_round_trip_bit_exactly(values in f64_column()) {
        round_trip_f64(&values);
    }

    #[test]
    fn str_columns_round_trip(values in str_column()) {
        round_trip_str(&values);
    }

    #[test]
    fn bytes_columns_round_trip(values in vec(vec(any::<u8>(), 0..24), 0..200)) {
        round_trip_bytes(&values);
    }

    #[test]
    fn bool_columns_round_trip(values in bool_column()) {
        round_trip_bool(&values);
    }

    #[test]
    fn zstd_over_a_plain_column_is_the_direct_encoding(
        ints in i64_column(),
        floats in f64_column(),
        strs in str_column(),
    ) {
        for mode in [ZstdMode::IfSmaller { level: 3 }, ZstdMode::Always { level: 1 }] {
            let with = ColumnOptions { zstd: mode, ..NEVER };
            let over = |plain: Vec<u8>| column::with_zstd(plain, mode).unwrap();
            prop_assert_eq!(
                over(column::encode_i64(&ints, &NEVER).unwrap()),
                column::encode_i64(&ints, &with).unwrap()
            );
            prop_assert_eq!(
                over(column::encode_f64(&floats, &NEVER).unwrap()),
                column::encode_f64(&floats, &with).unwrap()
            );
            prop_assert_eq!(
                over(column::encode_str(&strs, &NEVER).unwrap()),
                column::encode_str(&strs, &with).unwrap()
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..64), first in 0x10u8..0x16) {
        let mut bytes = bytes;
        bytes.insert(0, first);
        decode_everything(&bytes);
    }
}

#[test]
fn edge_columns_round_trip() {
    round_trip_i64(&[]);
    round_trip_i64(&[i64::MIN]);
    round_trip_i64(&[i64::MAX, i64::MIN, i64::MAX, i64::MIN]);
    round_trip_i64(&(0..5000).map(|i| i * 1_000_003).collect::<Vec<_>>());
    round_trip_f64(&[]);
    round_trip_f64(&[-0.0]);
    round_trip_f64(&[f64::NAN; 3]);
    round_trip_str(&[]);
    round_trip_str(&[String::new()]);
    round_trip_bytes(&[]);
    round_trip_bool(&[]);
    round_trip_bool(&[true]);
}

// ---- corruption ----

/// Runs every decoder on `bytes`; each may fail but none may panic.
fn decode_everything(bytes: &[u8]) {
    let _ = column::decode_i64(bytes, &mut Vec::new());
    let _ = column::decode_u64(bytes, &mut Vec::new());
    let _ = column::decode_f64(bytes, &mut Vec::new());
    let _ = column::decode_str(bytes, &mut Vec::new());
    let _ = column::decode_bytes(bytes, &mut Vec::new());
    let _ = column::decode_bool(bytes, &mut Vec::new());
    let _ = column::describe(bytes);
}

/// A column of each type in each of its encodings, with and without zstd.
fn sample_columns() -> Vec<Vec<u8>> {
    let ints: Vec<i64> = (0..300)
        .map(|i| 1_000_000 + i * 37 + (i * i) % 11)
        .collect();
    let floats: Vec<f64> = (0..200).map(|i| (i * 7 % 23) as f64 / 4.0).collect();
    let mut specials = floats.clone();
    specials[3] = f64::NAN;
    specials[150] = -0.0;
    let strings: Vec<String> = (0..150).map(|i| format!("model-{}", i % 5)).collect();
    let bools: Vec<bool> = (0..300).map(|i| i % 7 == 0).collect();
    let forced_zstd = ColumnOptions {
        zstd: ZstdMode::Always { level: 3 },
        ..NEVER
    };
    let mut out = Vec::new();
    for opts in [NEVER, forced_zstd] {
        for e in IntEncoding::all() {
            out.push(
                column::encode_i64(
                    &ints,
                    &ColumnOptions {
                        ints: Some(e),
                        ..opts
                    },
                )
                .unwrap(),
            );
        }
        for codec in [FloatCodec::Gorilla, FloatCodec::Decimal, FloatCodec::Raw] {
            let o = ColumnOptions {
                floats: Some(codec),
                ..opts
            };
            out.push(column::encode_f64(&floats, &o).unwrap());
            out.push(column::encode_f64(&specials, &o).unwrap());
        }
        for codec in [StringCodec::Plain, StringCodec::Dictionary] {
            let o = ColumnOptions {
                strings: Some(codec),
                ..opts
            };
            out.push(column::encode_str(&strings, &o).unwrap());
        }
        out.push(column::encode_bool(&bools, &opts).unwrap());
        out.push(
            column::encode_bool(
                &bools,
                &ColumnOptions {
                    ints: Some(IntEncoding::new(Transform::Plain, Packing::RunLength)),
                    ..opts
                },
            )
            .unwrap(),
        );
    }
    out
}

#[test]
fn every_bit_flip_decodes_or_errors() {
    for col in sample_columns() {
        let mut bytes = col.clone();
        for bit in 0..bytes.len() * 8 {
            bytes[bit / 8] ^= 1 << (bit % 8);
            decode_everything(&bytes);
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
    }
}

#[test]
fn every_truncation_is_an_error() {
    for col in sample_columns() {
        for len in 0..col.len() {
            let cut = &col[..len];
            decode_everything(cut);
            // A prefix of a valid column is never itself valid for its own type.
            let info = column::describe(&col).unwrap();
            let failed = match info.column_type {
                ColumnType::I64 => column::decode_i64(cut, &mut Vec::new()).is_err(),
                ColumnType::F64 => column::decode_f64(cut, &mut Vec::new()).is_err(),
                ColumnType::Str => column::decode_str(cut, &mut Vec::new()).is_err(),
                ColumnType::Bool => column::decode_bool(cut, &mut Vec::new()).is_err(),
                other => panic!("unexpected {other}"),
            };
            assert!(failed, "{info} cut to {len} bytes decoded");
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    for col in sample_columns() {
        let mut long = col.clone();
        long.push(0);
        let info = column::describe(&col).unwrap();
        let failed = match info.column_type {
            ColumnType::I64 => column::decode_i64(&long, &mut Vec::new()).is_err(),
            ColumnType::F64 => column::decode_f64(&long, &mut Vec::new()).is_err(),
            ColumnType::Str => column::decode_str(&long, &mut Vec::new()).is_err(),
            ColumnType::Bool => column::decode_bool(&long, &mut Vec::new()).is_err(),
            other => panic!("unexpected {other}"),
        };
        assert!(failed, "{info} with a trailing byte decoded");
    }
}

#[test]
fn huge_stated_counts_do_not_allocate_or_panic() {
    // i64, 2^24 values, plain+varint with no bytes; f64 gorilla; dict strings; zstd claiming a
    // large body.
    for bytes in [
        &[0x10, 0x80, 0x80, 0x80, 0x08, 0x04][..],
        &[0x12, 0x80, 0x80, 0x80, 0x08, 0x00, 0xff],
        &[0x13, 0x80, 0x80, 0x80, 0x08, 0x01, 0x80, 0x80, 0x80, 0x08],
        &[
            0x10, 0x80, 0x80, 0x80, 0x08, 0x84, 0xff, 0xff, 0xff, 0x7f, 0x28, 0xb5, 0x2f, 0xfd,
        ],
    ] {
        decode_everything(bytes);
        assert!(column::decode_i64(bytes, &mut Vec::new()).is_err());
    }
}

// ---- the chooser ----

/// A deterministic pseudo-random number (splitmix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn chooser_bit_packs_deltas_of_a_counter() {
    // llm_input_tokens_total scraped every 15 s: increments of 0..=2000 tokens.
    let mut total = 3_500_000_000i64;
    let values: Vec<i64> = (0..1000u64)
        .map(|i| {
            total += (mix(i) % 2001) as i64;
            total
        })
        .collect();
    let bytes = column::encode_i64(&values, &NEVER).unwrap();
    let info = column::describe(&bytes).unwrap();
    assert_eq!(
        info.encoding,
        Encoding::Int(IntEncoding::new(Transform::Delta, Packing::BitPack))
    );
    // 11 bits a value against 64 naively, and well under plain bit-packing (17 bits: a frame
    // of the counter spans ~128k) or varints.
    assert!(bytes.len() < values.len() * 11 / 8 + 40, "{info}");
    for naive in [
        IntEncoding::new(Transform::Plain, Packing::BitPack),
        IntEncoding::new(Transform::Plain, Packing::Varint),
    ] {
        let other = column::encode_i64(
            &values,
            &ColumnOptions {
                ints: Some(naive),
                ..NEVER
            },
        )
        .unwrap();
        assert!(
            bytes.len() * 10 < other.len() * 7,
            "{info} vs {naive}: {}",
            other.len()
        );
    }
}

#[test]
fn chooser_takes_the_decimal_path_for_a_gauge() {
    // gen_ai latency in seconds with two decimals, drifting.
    let mut cents = 125i64;
    let values: Vec<f64> = (0..1000u64)
        .map(|i| {
            cents = (cents + (mix(i) % 41) as i64 - 20).max(1);
            cents as f64 / 100.0
        })
        .collect();
    let bytes = column::encode_f64(&values, &NEVER).unwrap();
    let info = column::describe(&bytes).unwrap();
    assert_eq!(
        info.encoding,
        Encoding::FloatDecimal {
            scale: 2,
            exceptions: 0,
            ints: IntEncoding::new(Transform::Delta, Packing::BitPack)
        }
    );
    let gorilla = column::encode_f64(
        &values,
        &ColumnOptions {
            floats: Some(FloatCodec::Gorilla),
            ..NEVER
        },
    )
    .unwrap();
    assert!(
        bytes.len() * 3 < gorilla.len(),
        "{info} vs gorilla {}",
        gorilla.len()
    );
    assert!(bytes.len() < values.len(), "{info}");
}

#[test]
fn chooser_keeps_decimals_with_a_few_exceptions() {
    let mut values: Vec<f64> = (0..1000).map(|i| (i % 97) as f64 * 0.5).collect();
    values[10] = f64::NAN;
    values[500] = -0.0;
    values[900] = 0.1 + 0.2;
    let bytes = column::encode_f64(&values, &NEVER).unwrap();
    let info = column::describe(&bytes).unwrap();
    assert!(
        matches!(
            info.encoding,
            Encoding::FloatDecimal {
                scale: 1,
                exceptions: 3,
                ..
            }
        ),
        "{info}"
    );
    let mut back = Vec::new();
    column::decode_f64(&bytes, &mut back).unwrap();
    assert_eq!(bits(&back), bits(&values));
}

#[test]
fn chooser_picks_runs_for_timestamps_and_a_dictionary_for_labels() {
    let ts: Vec<i64> = (0..10_000)
        .map(|i| 1_795_322_189_000 + i * 15_000)
        .collect();
    let bytes = column::encode_i64(&ts, &ColumnOptions::default()).unwrap();
    let info = column::describe(&bytes).unwrap();
    assert_eq!(
        info.encoding,
        Encoding::Int(IntEncoding::new(Transform::Delta, Packing::RunLength))
    );
    assert!(bytes.len() < 20, "{info}");

    let models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "gemini-2.5-pro"];
    let labels: Vec<&str> = (0..2000u64)
        .map(|i| models[(mix(i) % 4) as usize])
        .collect();
    let bytes = column::encode_str(&labels, &NEVER).unwrap();
    let info = column::describe(&bytes).unwrap();
    assert!(
        matches!(info.encoding, Encoding::StrDict { entries: 4, .. }),
        "{info}"
    );
    assert!(bytes.len() < 2000 / 4 + 100, "{info}");
}

#[test]
fn random_floats_fall_back_to_raw_or_gorilla() {
    let values: Vec<f64> = (0..500u64).map(|i| f64::from_bits(mix(i) >> 2)).collect();
    let bytes = column::encode_f64(&values, &NEVER).unwrap();
    let info = column::describe(&bytes).unwrap();
    assert!(
        matches!(info.encoding, Encoding::FloatRaw | Encoding::FloatGorilla),
        "{info}"
    );
    assert!(bytes.len() <= values.len() * 8 + 8, "{info}");
}

#[test]
fn limits_are_enforced_when_encoding() {
    let too_many = vec![0i64; column::MAX_VALUES + 1];
    assert!(matches!(
        column::encode_i64(&too_many, &NEVER),
        Err(strata_codec::Error::LimitExceeded { .. })
    ));
}
