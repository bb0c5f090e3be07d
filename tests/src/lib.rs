//! Cross-crate integration, crash and fault tests live in `tests/`.
