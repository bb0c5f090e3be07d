//! Helpers for fuzzing, corruption tests and benchmarks; not part of the supported API.

use crate::file::*;

pub use telemetry::LlmTelemetry;
mod telemetry;

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Recomputes every checksum of a (possibly damaged) index file in place, as far as its
/// framing can be followed, so that a test or fuzzer reaches the structural checks behind the
/// CRCs. Never panics; leaves what it cannot locate alone.
pub fn reseal(b: &mut [u8]) {
    if b.len() < HEADER_LEN + TOC_FIXED_LEN + FOOTER_LEN {
        return;
    }
    let footer = b.len() - FOOTER_LEN;
    let toc_at = match le_u64(b, footer) {
        Some(t) if t >= HEADER_LEN as u64 && t <= (footer - TOC_FIXED_LEN) as u64 => t as usize,
        _ => return,
    };
    let series_count = le_u32(b, toc_at + 4).unwrap_or(0) as usize;
    let mut sections = Vec::new();
    for i in 0..SECTION_COUNT {
        let e = toc_at + TOC_FIXED_LEN + i * TOC_ENTRY_LEN;
        let (Some(off), Some(len)) = (le_u64(b, e), le_u64(b, e + 8)) else {
            return;
        };
        match off.checked_add(len) {
            Some(end) if end <= toc_at as u64 && e + TOC_ENTRY_LEN <= footer => {
                sections.push((e, off as usize, end as usize));
            }
            _ => return,
        }
    }
    // Series entries.
    let (_, s_start, s_end) = sections[SERIES];
    let s_len = s_end - s_start;
    if series_count.checked_mul(8).is_some_and(|t| t <= s_len) {
        for id in 0..series_count {
            let start = le_u64(b, s_start + id * 8).unwrap_or(u64::MAX) as usize;
            let end = match id + 1 < series_count {
                true => le_u64(b, s_start + (id + 1) * 8).unwrap_or(0) as usize,
                false => s_len,
            };
            if start >= series_count * 8 && start <= end && end <= s_len && end - start >= 5 {
                let crc = crc32fast::hash(&b[s_start + start..s_start + end - 4]);
                put_u32(b, s_start + end - 4, crc);
            }
        }
    }
    // Postings checksums in the value table.
    let (_, p_start, p_end) = sections[POSTINGS];
    let (_, l_start, l_end) = sections[LABEL_INDEX];
    if let Some(names) = le_u32(b, l_start).filter(|_| l_end - l_start >= 4) {
        let values_at = l_start + 4 + names as usize * NAME_ENTRY_LEN;
        let mut at = values_at;
        while at + VALUE_ENTRY_LEN <= l_end {
            let off = le_u64(b, at + 8).unwrap_or(u64::MAX);
            let len = u64::from(le_u32(b, at + 16).unwrap_or(0));
            if off
                .checked_add(len)
                .is_some_and(|e| e <= (p_end - p_start) as u64)
            {
                let s = p_start + off as usize;
                let crc = crc32fast::hash(&b[s..s + len as usize]);
                put_u32(b, at + 20, crc);
            }
            at += VALUE_ENTRY_LEN;
        }
    }
    for (entry, start, end) in sections {
        let crc = crc32fast::hash(&b[start..end]);
        put_u32(b, entry + 16, crc);
    }
    let crc = crc32fast::hash(&b[toc_at..footer]);
    put_u32(b, footer + 8, crc);
}
