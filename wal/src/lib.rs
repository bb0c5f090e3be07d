//! strata-wal (being written).
