//! Strata's C ABI: `libstrata.so` / `libstrata.a` and the generated header `include/strata.h`.
//!
//! # Why this crate has `unsafe`
//!
//! The workspace denies `unsafe_code`; this crate allows it because a C ABI cannot be written
//! without it: exported symbols need `#[unsafe(no_mangle)]`, and every argument arrives as a raw
//! pointer that must be dereferenced. The unsafety is confined to [`args`] (turning checked
//! pointers and lengths into slices and strings) and to the few places that write
//! out-parameters or free handles; each block carries a `// SAFETY:` comment naming the caller
//! contract it relies on, and each exported function documents that contract under `# Safety`.
//!
//! # Rules every exported function follows
//!
//! - It runs inside `catch_unwind` ([`guard::call`]): a panic becomes `STRATA_ERR_PANIC`, never
//!   an unwind across the boundary.
//! - It returns a [`strata_status`] and, when the caller passes a non-NULL `strata_error **err`,
//!   a per-call error object (code + message) that the caller frees with `strata_error_free`.
//!   There is no global "last error".
//! - Every pointer is checked for NULL, every length against a documented maximum, every
//!   string for UTF-8.
//! - Every Rust allocation handed out is owned by exactly one handle with exactly one free
//!   function; borrowed views say how long they live.

#![allow(unsafe_code)]

pub mod annotations;
pub mod args;
pub mod cursor;
pub mod db;
pub mod error;
pub mod events;
pub mod guard;
pub mod native;
pub mod spans;

pub use cursor::*;
pub use db::*;
pub use error::*;
pub use native::*;
pub use spans::*;

use std::ffi::c_char;

/// Major version of the header this library was built with (semantic versioning: the ABI only
/// breaks when the major version changes, after 1.0).
pub const STRATA_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const STRATA_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const STRATA_VERSION_PATCH: u32 = 0;
/// `"MAJOR.MINOR.PATCH"`; compare with `strata_version()` to detect a header/library mismatch.
/// (The header's `STRATA_VERSION` macro comes from `cbindgen.toml`; a test checks they agree.)
///
/// cbindgen:ignore
pub const STRATA_VERSION: &str = "0.1.0";

/// Most labels in one label set (the engine's limit).
pub const STRATA_MAX_LABELS: usize = 128;
/// Most bytes in one C string argument (label name or value, matcher, directory, query),
/// not counting the terminating NUL. The engine limits label names to 256 bytes and label
/// values to 4096 bytes on top of this.
pub const STRATA_MAX_STRING_BYTES: usize = 65536;
/// Most samples in one `strata_db_append_batch` call.
pub const STRATA_MAX_BATCH_SAMPLES: usize = 1 << 24;
/// Most matchers in one `strata_db_select` call.
pub const STRATA_MAX_MATCHERS: usize = 64;
/// Most finite bucket bounds in one histogram sample (buckets = bounds + 1).
pub const STRATA_MAX_HISTOGRAM_BOUNDS: usize = 256;
/// Most bytes in one OTLP request body (`strata_db_import_otlp_traces` / `_metrics`).
pub const STRATA_MAX_OTLP_BYTES: usize = 1 << 28;

/// The library's version, `"MAJOR.MINOR.PATCH"`: a static NUL-terminated string, never NULL,
/// never to be freed. Safe to call from any thread at any time.
#[unsafe(no_mangle)]
pub extern "C" fn strata_version() -> *const c_char {
    c"0.1.0".as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_constants_match_the_package() {
        assert_eq!(
            STRATA_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            STRATA_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            STRATA_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        assert_eq!(STRATA_VERSION, env!("CARGO_PKG_VERSION"));
        // SAFETY: strata_version returns a pointer to a static NUL-terminated string.
        let runtime = unsafe { CStr::from_ptr(strata_version()) };
        assert_eq!(runtime.to_str().unwrap(), STRATA_VERSION);
        let header = include_str!("../include/strata.h");
        assert!(
            header.contains(&format!("#define STRATA_VERSION \"{STRATA_VERSION}\"")),
            "include/strata.h's STRATA_VERSION differs from the package version"
        );
        for (name, value) in [
            ("MAJOR", STRATA_VERSION_MAJOR),
            ("MINOR", STRATA_VERSION_MINOR),
            ("PATCH", STRATA_VERSION_PATCH),
        ] {
            assert!(header.contains(&format!("#define STRATA_VERSION_{name} {value}\n")));
        }
    }

    #[test]
    fn limits_agree_with_the_engine() {
        assert_eq!(
            STRATA_MAX_LABELS,
            strata_index::Limits::default().max_labels
        );
        assert_eq!(
            STRATA_MAX_HISTOGRAM_BOUNDS,
            strata_codec::histogram::MAX_BOUNDS
        );
    }
}
