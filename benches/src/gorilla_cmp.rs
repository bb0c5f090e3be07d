//! The same Gorilla workload through Strata's chunks and through the `tsz` crate, so both are
//! measured on identical series, identical chunk boundaries, in one process.

use crate::prom::Series;
use strata_codec::column::{self, ColumnOptions};
use strata_codec::gorilla::{self, ChunkAppender, ChunkLimits};
use tsz::stream::{BufferedReader, BufferedWriter};
use tsz::{DataPoint, Decode, Encode, StdDecoder, StdEncoder};

/// Splits every series into chunks of at most `chunk_len` samples.
pub fn chunks(series: &[Series], chunk_len: usize) -> Vec<(&[i64], &[f64])> {
    series
        .iter()
        .flat_map(|s| {
            s.timestamps
                .chunks(chunk_len)
                .zip(s.values.chunks(chunk_len))
        })
        .collect()
}

/// Encodes each chunk with Strata's appender.
pub fn strata_encode(chunks: &[(&[i64], &[f64])]) -> Vec<Vec<u8>> {
    chunks
        .iter()
        .map(|(ts, vs)| {
            let mut app = ChunkAppender::new(ChunkLimits {
                max_samples: ts.len(),
                max_bytes: 1 << 20,
            })
            .expect("valid limits");
            for (&t, &v) in ts.iter().zip(*vs) {
                app.append(t, v).expect("chunk has room");
            }
            app.to_bytes().expect("non-empty chunk")
        })
        .collect()
}

/// Decodes every chunk into reused buffers; returns the samples decoded.
pub fn strata_decode(encoded: &[Vec<u8>], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> usize {
    let mut n = 0;
    for c in encoded {
        ts.clear();
        vs.clear();
        n += gorilla::decode_into(c, ts, vs).expect("valid chunk");
    }
    n
}

/// Encodes each chunk with tsz (its start time is the chunk's first timestamp).
pub fn tsz_encode(chunks: &[(&[i64], &[f64])]) -> Vec<Box<[u8]>> {
    chunks
        .iter()
        .map(|(ts, vs)| {
            let mut e = StdEncoder::new(ts[0] as u64, BufferedWriter::new());
            for (&t, &v) in ts.iter().zip(*vs) {
                e.encode(DataPoint::new(t as u64, v));
            }
            e.close()
        })
        .collect()
}

/// Decodes every tsz chunk into a reused buffer; returns the samples decoded. tsz's reader owns
/// its input, so the chunks are passed by value (callers clone them outside any timing).
pub fn tsz_decode(encoded: Vec<Box<[u8]>>, out: &mut Vec<DataPoint>) -> usize {
    let mut n = 0;
    for c in encoded {
        out.clear();
        let mut d = StdDecoder::new(BufferedReader::new(c));
        while let Ok(dp) = d.next() {
            out.push(dp);
        }
        n += out.len();
    }
    n
}

/// Checks both codecs reproduce every chunk bit for bit. Returns a description of the first
/// mismatch.
pub fn verify(
    chunks: &[(&[i64], &[f64])],
    ours: &[Vec<u8>],
    theirs: &[Box<[u8]>],
) -> Result<(), String> {
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for (i, ((t, v), (o, p))) in chunks.iter().zip(ours.iter().zip(theirs)).enumerate() {
        ts.clear();
        vs.clear();
        gorilla::decode_into(o, &mut ts, &mut vs).map_err(|e| format!("chunk {i}: {e}"))?;
        let same = ts == *t && vs.iter().zip(*v).all(|(a, b)| a.to_bits() == b.to_bits());
        if !same || vs.len() != v.len() {
            return Err(format!("chunk {i}: strata round trip differs"));
        }
        let mut d = StdDecoder::new(BufferedReader::new(p.clone()));
        let mut k = 0;
        while let Ok(dp) = d.next() {
            if k >= t.len()
                || dp.get_time() != t[k] as u64
                || dp.get_value().to_bits() != v[k].to_bits()
            {
                return Err(format!("chunk {i}: tsz round trip differs at sample {k}"));
            }
            k += 1;
        }
        if k != t.len() {
            return Err(format!("chunk {i}: tsz decoded {k} of {} samples", t.len()));
        }
    }
    Ok(())
}

/// Bytes of the column codecs' smallest choice (timestamps as an i64 column, values as an f64
/// column, zstd where it helps) for each piece, with every piece checked to round-trip.
pub fn column_bytes(pieces: &[(&[i64], &[f64])]) -> Result<usize, String> {
    let opts = ColumnOptions::default();
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let mut total = 0;
    for (i, (t, v)) in pieces.iter().enumerate() {
        let tc = column::encode_i64(t, &opts).map_err(|e| format!("piece {i}: {e}"))?;
        let vc = column::encode_f64(v, &opts).map_err(|e| format!("piece {i}: {e}"))?;
        ts.clear();
        vs.clear();
        column::decode_i64(&tc, &mut ts).map_err(|e| format!("piece {i}: {e}"))?;
        column::decode_f64(&vc, &mut vs).map_err(|e| format!("piece {i}: {e}"))?;
        if ts != *t || vs.iter().zip(*v).any(|(a, b)| a.to_bits() != b.to_bits()) {
            return Err(format!("piece {i}: column round trip differs"));
        }
        total += tc.len() + vc.len();
    }
    Ok(total)
}
