//! Native histogram chunks: a bounded run of Prometheus native (sparse exponential or custom
//! bucket) histogram samples of one series, [`NativeHistogram`] values.
//!
//! Layout (full description in `docs/format/chunks.md`, section "Native histogram chunks"):
//!
//! ```text
//! byte 0      encoding id: 0x03 = integer native histogram chunk v1, 0x04 = float v1
//! bytes 1..3  sample count, u16 little-endian, 1..=65535
//! byte 3      flags: bits 0-1 the counter-reset hint of sample 0, bits 2-7 zero
//! layout      zvarint schema, 8-byte zero threshold, positive spans, negative spans,
//!             custom bounds (stored once: every sample of the chunk has this layout)
//! zvarint     first timestamp; zvarint last timestamp - first timestamp
//! bits        LSB-first stream, per sample:
//!             [timestamp: full delta-of-delta code]             (not for sample 0)
//!             [hint: 1 bit, 0 = unknown, 1 = not a reset]       (not for sample 0, not gauges)
//!             integer chunk: count and zero count varbit codes, sum (full XOR code),
//!               changed bit [+ one varbit code per bucket: in-sample delta, then its change
//!               since the previous sample]
//!             float chunk: count, zero count and sum (full XOR codes), changed bit [+ one
//!               full XOR code per bucket against the same bucket of the previous sample]
//! ```
//!
//! A sample whose layout (schema, zero threshold, spans, custom bounds) differs from the
//! chunk's is refused with [`LAYOUT_MISMATCH`]; a counter reset, or a change between gauge
//! and counter, with [`HINT_MISMATCH`]; a non-integer sample for an integer chunk with
//! [`KIND_MISMATCH`]. Each says: cut a new chunk. [`NativeAppender::accepts`] asks first.
//!
//! The stream ends zero-padded to a byte; the decoder insists that the chunk's bytes are exactly
//! consumed, so truncation or trailing garbage is caught.

mod appender;
mod decode;
mod float;
mod header;
mod int;
mod layout;

pub use appender::{NativeAppender, encode_chunk};
pub use decode::{NativeSamples, decode};
pub use header::{NativeHeader, read_header};
pub use layout::NativeLayout;

use crate::error::Result;
use strata_model::NativeHistogram;
use strata_model::native::MAX_NATIVE_BUCKETS;

/// Encoding id (and version) of an integer native histogram chunk.
pub const ENCODING_NATIVE_INT_V1: u8 = 0x03;
/// Encoding id (and version) of a float native histogram chunk.
pub const ENCODING_NATIVE_FLOAT_V1: u8 = 0x04;
/// Hard bound of the format: the count is a u16.
pub const MAX_SAMPLES_PER_CHUNK: usize = u16::MAX as usize;
/// At most this many spans on each side (positive, negative) of a chunk's layout.
pub const MAX_SPANS: usize = MAX_NATIVE_BUCKETS;
/// The `what` of the [`Error::InvalidInput`](crate::Error::InvalidInput) returned when a
/// sample's schema, zero threshold, spans or custom bounds differ from its chunk's: cut a new
/// chunk.
pub const LAYOUT_MISMATCH: &str =
    "native histogram layout differs from the chunk's: cut a new chunk";
/// The `what` of the error returned for a sample after the first whose counter-reset hint
/// this chunk cannot carry (a counter reset, or gauge vs counter): cut a new chunk, whose
/// header then records the hint.
pub const HINT_MISMATCH: &str = "native histogram counter-reset hint needs a new chunk";
/// The `what` of the error returned for a sample that is not an integer histogram
/// ([`fits_integer`]) appended to an integer chunk: cut a new (float) chunk.
pub const KIND_MISMATCH: &str = "float native histogram for an integer chunk: cut a new chunk";

const WHAT: &str = "native histogram chunk";

/// Which of the two encodings a chunk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeKind {
    /// Id `0x03`: every count is a whole number below 2^53 ([`fits_integer`]); counts are
    /// delta-coded integers.
    Integer,
    /// Id `0x04`: counts are any non-negative floats; each is XOR-coded.
    Float,
}

impl NativeKind {
    /// The encoding a chunk of this one sample would use: integer when [`fits_integer`].
    pub fn of(h: &NativeHistogram) -> NativeKind {
        if fits_integer(h) {
            NativeKind::Integer
        } else {
            NativeKind::Float
        }
    }

    pub fn encoding_id(self) -> u8 {
        match self {
            NativeKind::Integer => ENCODING_NATIVE_INT_V1,
            NativeKind::Float => ENCODING_NATIVE_FLOAT_V1,
        }
    }

    /// The kind whose encoding id is `id`, if it is one.
    pub fn from_encoding_id(id: u8) -> Option<NativeKind> {
        match id {
            ENCODING_NATIVE_INT_V1 => Some(NativeKind::Integer),
            ENCODING_NATIVE_FLOAT_V1 => Some(NativeKind::Float),
            _ => None,
        }
    }
}

/// Whether an integer chunk can hold `h` bit for bit: [`NativeHistogram::is_integer`] and no
/// count is `-0.0` (which the integer encoding would return as `0.0`).
pub fn fits_integer(h: &NativeHistogram) -> bool {
    let positive = |v: &f64| v.is_sign_positive();
    h.is_integer()
        && positive(&h.count)
        && positive(&h.zero_count)
        && h.positive_buckets.iter().all(positive)
        && h.negative_buckets.iter().all(positive)
}

/// When an open chunk is full. Both bounds hold at once; the same rules as
/// [`HistogramLimits`](crate::histogram::HistogramLimits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeLimits {
    /// At most this many samples (1..=65535).
    pub max_samples: usize,
    /// A sample is refused if the chunk would then exceed this many bytes (≥ 64). The first
    /// sample is always accepted, so a chunk holding one very wide histogram may be larger.
    pub max_bytes: usize,
}

impl Default for NativeLimits {
    /// 120 samples (Prometheus' chunk length), 8 KiB.
    fn default() -> Self {
        NativeLimits {
            max_samples: 120,
            max_bytes: 8192,
        }
    }
}

impl NativeLimits {
    fn validate(&self) -> Result<()> {
        crate::gorilla::validate_chunk_limits(
            "native histogram chunk limits",
            self.max_samples,
            self.max_bytes,
        )
    }
}

#[cfg(test)]
mod tests;
