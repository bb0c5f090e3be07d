//! strata-index (being written).
