//! Damaged index files: every flipped bit and every truncation is an error (from `open` or from
//! `verify`), never a panic; with checksums recomputed over the damage (`testing::reseal`) the
//! structural checks behind them still hold; a table of specific damage gets specific errors.

use strata_index::testing::reseal;
use strata_index::{Error, IndexFile, LabelIndex, Matcher, Section};

mod common;

fn good() -> Vec<u8> {
    common::small_index().encode().unwrap()
}

fn queries() -> Vec<Vec<Matcher>> {
    vec![
        vec![
            Matcher::equal("service", "checkout"),
            Matcher::regex("model", "gpt-4.*").unwrap(),
            Matcher::not_equal("provider", "azure"),
        ],
        vec![Matcher::equal("job", "")],
        vec![Matcher::not_regex("model", "c.*|g.*").unwrap()],
    ]
}

/// Everything a reader can be asked; returns the first error. Must never panic.
fn exercise(f: &IndexFile, queries: &[Vec<Matcher>]) -> strata_index::Result<()> {
    for q in queries {
        f.select(q)?;
    }
    f.label_names(&[Matcher::equal("gen_ai_token_type", "input")])?;
    f.label_values("model", &[])?;
    for id in 0..f.series_count() + 1 {
        f.series_labels(id)?;
    }
    f.verify()
}

/// (offset, length) of TOC section `i`, read the way the format doc describes.
fn section(b: &[u8], i: usize) -> (usize, usize) {
    let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize;
    let toc = u64_at(b.len() - 16);
    let e = toc + 12 + i * 20;
    (u64_at(e), u64_at(e + 8))
}

#[test]
fn every_bit_flip_is_detected() {
    let (good, queries) = (good(), queries());
    for bit in 0..good.len() * 8 {
        let mut b = good.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        let opened = IndexFile::from_bytes(b);
        if let Ok(f) = &opened {
            // Lazily checked parts may still be damaged: queries answer or fail, never panic.
            let _ = exercise(f, &queries);
        }
        let verified = opened.and_then(|f| f.verify());
        let reserved = (5..8).contains(&(bit / 8));
        assert_eq!(verified.is_ok(), reserved, "bit {bit}: {verified:?}");
    }
}

#[test]
fn resealed_damage_is_an_error_or_an_answer_never_a_panic() {
    let (good, queries) = (good(), queries());
    let mut errors = 0;
    for bit in 0..good.len() * 8 {
        let mut b = good.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        reseal(&mut b);
        if let Ok(f) = IndexFile::from_bytes(b) {
            errors += usize::from(exercise(&f, &queries).is_err());
        } else {
            errors += 1;
        }
    }
    // Most structural damage is caught even with valid checksums.
    assert!(errors > good.len() * 8 / 2, "{errors} errors");
}

#[test]
fn every_truncation_and_extension_is_an_error() {
    let good = good();
    for len in 0..good.len() {
        assert!(
            IndexFile::from_bytes(good[..len].to_vec()).is_err(),
            "{len}"
        );
    }
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 3]);
    assert!(IndexFile::from_bytes(longer).is_err());
}

#[test]
fn damage_table() {
    let good = good();
    let at = |i: usize| section(&good, i).0;
    let damaged = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        IndexFile::from_bytes(b)
    };
    let flip = |off: usize| {
        move |b: &mut Vec<u8>| {
            b[off] ^= 0x10;
        }
    };
    let len = good.len();

    let e = damaged(&flip(0)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BadMagic {
                section: Section::Header,
                ..
            }
        ),
        "{e}"
    );
    let e = damaged(&|b| b[4] = 2).unwrap_err();
    assert!(matches!(e, Error::UnsupportedVersion { version: 2 }), "{e}");
    let e = damaged(&flip(len - 1)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BadMagic {
                section: Section::Footer,
                ..
            }
        ),
        "{e}"
    );
    let e = damaged(&flip(len - 16)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ChecksumMismatch {
                section: Section::Toc,
                ..
            }
        ),
        "{e}"
    );
    let e = damaged(&flip(len - 8)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ChecksumMismatch {
                section: Section::Toc,
                ..
            }
        ),
        "{e}"
    );
    let e = damaged(&flip(at(0) + 10)).unwrap_err();
    assert!(
        matches!(e, Error::ChecksumMismatch { section: Section::Symbols, offset, .. } if offset == at(0) as u64),
        "{e}"
    );
    let e = damaged(&flip(at(3) + 5)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ChecksumMismatch {
                section: Section::LabelIndex,
                ..
            }
        ),
        "{e}"
    );
    let e = IndexFile::from_bytes(good[..len - 1].to_vec()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BadMagic {
                section: Section::Footer,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.is_corruption());

    // Series entries and postings lists are checked when read, with their own CRCs.
    let series_count = 11;
    let f = damaged(&flip(at(1) + series_count * 8 + 1)).unwrap();
    let e = f.series_labels(0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ChecksumMismatch {
                section: Section::Series,
                ..
            }
        ),
        "{e}"
    );
    assert!(f.series_labels(1).is_ok());
    let f = damaged(&flip(at(2) + 9)).unwrap();
    let e = f.verify().unwrap_err();
    assert!(
        matches!(
            e,
            Error::ChecksumMismatch {
                section: Section::Postings,
                ..
            }
        ),
        "{e}"
    );
    // The first list belongs to the first name, `__name__`.
    let e = f
        .select(&[Matcher::regex("__name__", ".+").unwrap()])
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::ChecksumMismatch {
                section: Section::Postings,
                ..
            }
        ),
        "{e}"
    );
    assert!(f.select(&[Matcher::equal("job", "node")]).is_ok());

    // Valid checksums over impossible structure: two name entries swapped.
    let e = damaged(&|b| {
        let names = at(3) + 4;
        for k in 0..12 {
            b.swap(names + k, names + 12 + k);
        }
        reseal(b);
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Corrupt {
                section: Section::LabelIndex,
                ..
            }
        ),
        "{e}"
    );
    // A postings list claiming ids past the id space.
    let f = damaged(&|b| {
        let toc = u64::from_le_bytes(b[len - 16..len - 8].try_into().unwrap()) as usize;
        b[toc] = 1; // id_count 11 → 1 (series_count must then be 0 or 1: also corrupt)
        reseal(b);
    });
    assert!(
        matches!(
            f,
            Err(Error::Corrupt {
                section: Section::Toc,
                ..
            })
        ),
        "{f:?}"
    );
}
