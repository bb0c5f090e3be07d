//! Small helpers over (timestamp, value) columns.

/// Sorts samples by time when they are not already strictly increasing, keeping the first
/// sample of each timestamp (sources are passed oldest first, so the earliest-written wins).
pub fn sort_dedup(ts: &mut Vec<i64>, vs: &mut Vec<f64>) {
    if ts.windows(2).all(|w| w[0] < w[1]) {
        return;
    }
    let mut pairs: Vec<(i64, f64)> = ts.iter().copied().zip(vs.iter().copied()).collect();
    pairs.sort_by_key(|p| p.0); // stable: equal timestamps keep their order
    pairs.dedup_by_key(|p| p.0);
    *ts = pairs.iter().map(|p| p.0).collect();
    *vs = pairs.iter().map(|p| p.1).collect();
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorts_and_keeps_the_first_of_equal_timestamps() {
        let (mut ts, mut vs) = (vec![3, 1, 3, 2], vec![30.0, 10.0, 31.0, 20.0]);
        super::sort_dedup(&mut ts, &mut vs);
        assert_eq!(ts, vec![1, 2, 3]);
        assert_eq!(vs, vec![10.0, 20.0, 30.0]);
    }
}
