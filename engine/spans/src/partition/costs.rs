//! Span costs in the hot columns (version 3 on): a reference to the price a cost was computed
//! from, recomputed exactly on read, or the raw cost when the price table no longer gives the
//! cost recorded at ingest. Version 2 stores raw costs (`cost_usd`).
//!
//! `cost_ref` per row: [`COST_UNKNOWN`], [`COST_RAW`] (the next `cost_raw` value), else price
//! `k - COST_PRICE` of the group's `prices` (three values a price).

use super::colfile::ColFile;
use super::hot::{Hot, from_opt};
use super::{Partition, Row};
use crate::error::{Error, Result};
use crate::genai::{GenAi, ModelPrice, PriceTable};

/// `cost_ref`: the span's cost is unknown.
const COST_UNKNOWN: u64 = 0;
/// `cost_ref`: the cost is the next `cost_raw` value.
const COST_RAW: u64 = 1;
/// `cost_ref` of the group's first price; price `k` is `COST_PRICE + k`.
const COST_PRICE: u64 = 2;

/// The cost columns of one row group, before encoding.
#[derive(Debug, Default)]
pub(super) struct CostColumns {
    /// One `cost_ref` code per row.
    pub refs: Vec<u64>,
    /// Costs coded [`COST_RAW`], in order.
    pub raws: Vec<f64>,
    /// The group's prices, flattened: input, cached input and output per million tokens.
    pub prices: Vec<f64>,
}

/// The cost columns of row group `rows`: each known cost as a reference to the price of
/// `prices` that gives it exactly, else raw.
pub(super) fn encode(rows: &[&Row], prices: &PriceTable) -> CostColumns {
    let mut refs: Vec<u64> = Vec::with_capacity(rows.len());
    let mut raws: Vec<f64> = Vec::new();
    let mut price_list: Vec<[f64; 3]> = Vec::new();
    for r in rows {
        let Some(cost) = r.genai.cost_usd else {
            refs.push(COST_UNKNOWN);
            continue;
        };
        let p = prices
            .price_of(&r.genai)
            .filter(|p| p.cost(&r.genai).map(f64::to_bits) == Some(cost.to_bits()));
        match p {
            Some(p) => {
                let k = price_number(&mut price_list, p);
                refs.push(COST_PRICE + k as u64);
            }
            None => {
                refs.push(COST_RAW);
                raws.push(cost);
            }
        }
    }
    CostColumns {
        refs,
        raws,
        prices: price_list.iter().flatten().copied().collect(),
    }
}

/// The position of price `p` in `list` (bit for bit), added at the end if new.
fn price_number(list: &mut Vec<[f64; 3]>, p: &ModelPrice) -> usize {
    let key = [
        p.input_per_mtok,
        p.cached_input_per_mtok.unwrap_or(p.input_per_mtok),
        p.output_per_mtok,
    ];
    match list
        .iter()
        .position(|q| q.map(f64::to_bits) == key.map(f64::to_bits))
    {
        Some(k) => k,
        None => {
            list.push(key);
            list.len() - 1
        }
    }
}

impl Partition {
    /// Decodes group `g`'s costs (version 3: price references) after its token columns.
    pub(super) fn read_costs(&self, f: &ColFile, g: usize, n: usize, h: &mut Hot) -> Result<()> {
        let refs = f.u64s(&format!("cost_ref@{g}"), n)?;
        let raws = f.f64s(
            &format!("cost_raw@{g}"),
            refs.iter().filter(|r| **r == COST_RAW).count(),
        )?;
        let prices = f.f64s(&format!("prices@{g}"), f.count(&format!("prices@{g}"))?)?;
        let bad = |d: String| Error::corrupt(f.path(), format!("group {g}: {d}"));
        if prices.len() % 3 != 0 {
            return Err(bad(format!("{} price values", prices.len())));
        }
        let first = h.cost.len();
        let tokens = h.input_tokens.len() - n;
        let mut raw = raws.iter();
        for (i, r) in refs.into_iter().enumerate() {
            let cost = match r {
                COST_UNKNOWN => f64::NAN,
                COST_RAW => *raw.next().expect("counted"),
                k => {
                    let k = (k - COST_PRICE) as usize;
                    let at = k.saturating_mul(3);
                    let p = prices.get(at..at.saturating_add(3)).ok_or_else(|| {
                        bad(format!("price {k} past the {} prices", prices.len() / 3))
                    })?;
                    let price = ModelPrice {
                        input_per_mtok: p[0],
                        cached_input_per_mtok: Some(p[1]),
                        output_per_mtok: p[2],
                    };
                    let j = tokens + i;
                    let g = GenAi {
                        input_tokens: from_opt(h.input_tokens[j]),
                        output_tokens: from_opt(h.output_tokens[j]),
                        cache_read_tokens: from_opt(h.cache_read_tokens[j]),
                        ..GenAi::default()
                    };
                    price.cost(&g).unwrap_or(f64::NAN)
                }
            };
            h.cost.push(cost);
        }
        debug_assert_eq!(h.cost.len(), first + n);
        Ok(())
    }
}
