//! Plaintext deduplication: the encrypted work is done once per distinct value.

use std::collections::HashMap;

use crate::digest::Digest;

/// Distinct digests of `values` (nulls skipped) with how often each occurs, in first-seen order.
pub fn distinct_with_counts<I: IntoIterator<Item = Option<Digest>>>(
    values: I,
) -> Vec<(Digest, u64)> {
    let mut index: HashMap<Digest, usize> = HashMap::new();
    let mut out: Vec<(Digest, u64)> = Vec::new();
    for d in values.into_iter().flatten() {
        match index.get(&d) {
            Some(&i) => out[i].1 += 1,
            None => {
                index.insert(d, out.len());
                out.push((d, 1));
            }
        }
    }
    out
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
}
