//! Histogram chunks (being written).
