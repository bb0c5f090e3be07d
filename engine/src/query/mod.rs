//! Query layer (being written).
