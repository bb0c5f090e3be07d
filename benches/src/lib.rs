//! Shared helpers for Strata benchmarks.
