//! Ingest formats: parsers that turn wire formats into label sets and samples.

pub mod prom_text;
