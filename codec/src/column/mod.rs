//! Column codecs (being written).
