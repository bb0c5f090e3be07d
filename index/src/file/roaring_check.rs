//! Structural check of a serialized roaring bitmap before `roaring` reads it.
//!
//! `RoaringBitmap::deserialize_from` validates the contents of each container but not that
//! container keys increase or that the offset table agrees with the payload; a bitmap with keys
//! out of order would make later set operations silently wrong. Index files store the portable
//! format's no-run variant only (cookie 12346, which is what roaring 0.10 writes), so the whole
//! layout is determined by the header and can be checked exactly.

use super::le_u32;

const COOKIE_NO_RUN: u32 = 12346;
const ARRAY_LIMIT: usize = 4096;
const BITMAP_CONTAINER_LEN: usize = 8192;

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// `Ok` if `b` is exactly one well-formed no-run portable bitmap; otherwise what is wrong.
pub(crate) fn validate(b: &[u8]) -> Result<(), String> {
    let cookie = le_u32(b, 0).ok_or("shorter than the roaring header")?;
    if cookie != COOKIE_NO_RUN {
        return Err(format!(
            "roaring cookie {cookie} is not the no-run variant {COOKIE_NO_RUN}"
        ));
    }
    let size = le_u32(b, 4).ok_or("shorter than the roaring header")? as usize;
    if size > 1 << 16 {
        return Err(format!("{size} roaring containers exceed 65536"));
    }
    let header = 8 + size * 8;
    if b.len() < header {
        return Err(format!(
            "{size} roaring containers need a {header}-byte header"
        ));
    }
    let mut expected = header;
    let mut prev_key: Option<u16> = None;
    for i in 0..size {
        let key = le_u16(b, 8 + 4 * i).ok_or("truncated description")?;
        let card = usize::from(le_u16(b, 10 + 4 * i).ok_or("truncated description")?) + 1;
        if prev_key.is_some_and(|p| p >= key) {
            return Err(format!(
                "roaring container {i}: key {key} does not increase"
            ));
        }
        prev_key = Some(key);
        let offset = le_u32(b, 8 + 4 * size + 4 * i).ok_or("truncated offsets")? as usize;
        if offset != expected {
            return Err(format!(
                "roaring container {i}: offset {offset}, expected {expected}"
            ));
        }
        expected += if card <= ARRAY_LIMIT {
            2 * card
        } else {
            BITMAP_CONTAINER_LEN
        };
    }
    if expected != b.len() {
        return Err(format!(
            "roaring bitmap of {} bytes, its header describes {expected}",
            b.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use roaring::RoaringBitmap;

    #[test]
    fn accepts_what_roaring_writes_and_rejects_reordered_keys() {
        let bm: RoaringBitmap = (0..200_000)
            .step_by(3)
            .chain(1 << 30..(1 << 30) + 5)
            .collect();
        let mut bytes = Vec::new();
        bm.serialize_into(&mut bytes).unwrap();
        validate(&bytes).unwrap();
        assert!(validate(&bytes[..bytes.len() - 1]).is_err());
        // Swap the keys of the first two containers: roaring itself would accept this.
        let mut swapped = bytes.clone();
        swapped.swap(8, 12);
        swapped.swap(9, 13);
        assert!(validate(&swapped).is_err());
        let mut run = bytes;
        run[0..4].copy_from_slice(&12347u32.to_le_bytes());
        assert!(validate(&run).is_err());
    }
}
