//! Turning C arguments into Rust values: every pointer NULL-checked and alignment-checked,
//! every length bounded, every string bounded and UTF-8-checked. The only place borrowed C
//! memory becomes slices and strings.

use std::ffi::c_char;

use crate::STRATA_MAX_STRING_BYTES;
use crate::error::Failure;

/// Checks a count against its maximum.
pub(crate) fn check_len(len: usize, max: usize, what: &str) -> Result<(), Failure> {
    if len > max {
        Err(Failure::invalid(format!(
            "{what} is {len}, above the maximum {max}"
        )))
    } else {
        Ok(())
    }
}

/// A borrowed array of `len` elements; `len == 0` accepts any pointer, NULL included.
///
/// # Safety
/// When `len > 0` and `ptr` is non-NULL, `ptr` points to `len` initialised `T` that stay
/// valid and unmodified for `'a`. The caller has bounded `len` (see [`check_len`]).
pub(crate) unsafe fn slice<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::invalid(format!(
            "{what} is NULL but its length is {len}"
        )));
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format!("{what} is misaligned")));
    }
    // SAFETY: non-NULL, aligned, `len` elements valid for 'a (caller contract); `len` is
    // bounded by the caller well below isize::MAX bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A borrowed NUL-terminated UTF-8 string of at most [`STRATA_MAX_STRING_BYTES`] bytes. The
/// scan for the NUL stops after the maximum, so an unterminated buffer is reported rather than
/// read without end (as far as the maximum allows).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string (or to at least
/// `STRATA_MAX_STRING_BYTES + 1` readable bytes) valid and unmodified for `'a`.
pub(crate) unsafe fn c_str<'a>(
    ptr: *const c_char,
    what: impl Fn() -> String,
) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(&what()));
    }
    let mut len = 0usize;
    // SAFETY: every byte up to and including the NUL (or up to the maximum) is readable per
    // the caller contract; the loop never reads past the first NUL.
    while unsafe { *ptr.add(len) } != 0 {
        len += 1;
        if len > STRATA_MAX_STRING_BYTES {
            return Err(Failure::invalid(format!(
                "{} is longer than {STRATA_MAX_STRING_BYTES} bytes (or not NUL-terminated)",
                what()
            )));
        }
    }
    // SAFETY: the `len` bytes before the NUL were just read; they stay valid for 'a.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::invalid(format!(
            "{} is not valid UTF-8 (valid up to byte {})",
            what(),
            e.valid_up_to()
        ))
    })
}

/// Parallel arrays of label names and values, `count` long, as `(name, value)` pairs.
///
/// # Safety
/// When `count > 0`, `names` and `values` each point to `count` pointers, each NULL or a
/// NUL-terminated string, all valid for `'a`.
pub(crate) unsafe fn labels<'a>(
    names: *const *const c_char,
    values: *const *const c_char,
    count: usize,
) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    check_len(count, crate::STRATA_MAX_LABELS, "label_count")?;
    // SAFETY: `count` pointers each, per the contract; count bounded above.
    let (names, values) = unsafe {
        (
            slice(names, count, "names")?,
            slice(values, count, "values")?,
        )
    };
    let mut out = Vec::with_capacity(count);
    for (i, (&n, &v)) in names.iter().zip(values).enumerate() {
        // SAFETY: each element is NULL (reported) or a NUL-terminated string (contract).
        let name = unsafe { c_str(n, || format!("label {i} name"))? };
        // SAFETY: as above.
        let value = unsafe { c_str(v, || format!("label {i} value ({name})"))? };
        out.push((name, value));
    }
    Ok(out)
}
