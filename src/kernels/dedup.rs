//! Plaintext deduplication: the encrypted work is done once per distinct value.

use std::collections::HashMap;
use std::hash::Hash;

use crate::digest::Digest;

/// The distinct values of a column (nulls skipped), in first-seen order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distinct<T> {
    /// For every row, the index of its value in `values` (None: null).
    pub rows: Vec<Option<u32>>,
    /// Every distinct value with its first row and how many rows hold it.
    pub values: Vec<(T, usize, u64)>,
}

/// Index the distinct values of `column` (nulls skipped), each row counting once.
pub fn index<T: Hash + Eq + Copy>(column: impl IntoIterator<Item = Option<T>>) -> Distinct<T> {
    index_weighted(column.into_iter().map(|v| (v, 1)))
}

/// Index the distinct values of `column` (nulls skipped), each row counting as its weight
/// (the multiplicity of a pre-aggregated `(value, rows)` pair).
pub fn index_weighted<T: Hash + Eq + Copy>(
    column: impl IntoIterator<Item = (Option<T>, u64)>,
) -> Distinct<T> {
    let mut position: HashMap<T, u32> = HashMap::new();
    let mut values: Vec<(T, usize, u64)> = Vec::new();
    let rows = column
        .into_iter()
        .enumerate()
        .map(|(row, (v, weight))| {
            v.map(|v| {
                let i = *position.entry(v).or_insert_with(|| {
                    values.push((v, row, 0));
                    (values.len() - 1) as u32
                });
                values[i as usize].2 += weight;
                i
            })
        })
        .collect();
    Distinct { rows, values }
}

/// Distinct digests of `values` (nulls skipped) with how often each occurs, in first-seen order.
pub fn distinct_with_counts<I: IntoIterator<Item = Option<Digest>>>(
    values: I,
) -> Vec<(Digest, u64)> {
    index(values)
        .values
        .into_iter()
        .map(|(d, _, n)| (d, n))
        .collect()
}

/// Distinct digests of `values` (nulls skipped), in first-seen order.
pub fn distinct(values: &[Option<Digest>]) -> Vec<Digest> {
    distinct_with_counts(values.iter().copied())
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_skips_nulls() {
        let a = Digest([1; 32]);
        let b = Digest([2; 32]);
        let got = distinct_with_counts([Some(a), None, Some(b), Some(a)]);
        assert_eq!(got, vec![(a, 2), (b, 1)]);
        assert!(distinct_with_counts([None, None]).is_empty());
    }

    #[test]
    fn index_maps_rows_and_first_rows() {
        let got = index([Some("x"), None, Some("y"), Some("x")]);
        assert_eq!(got.rows, vec![Some(0), None, Some(1), Some(0)]);
        assert_eq!(got.values, vec![("x", 0, 2), ("y", 2, 1)]);
    }

    #[test]
    fn weights_add_up_like_repeated_rows() {
        let got = index_weighted([(Some("x"), 3), (None, 7), (Some("y"), 0), (Some("x"), 2)]);
        assert_eq!(got.rows, vec![Some(0), None, Some(1), Some(0)]);
        assert_eq!(got.values, vec![("x", 0, 5), ("y", 2, 0)]);
    }
}
