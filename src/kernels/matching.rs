//! Plaintext values against one encrypted value: per-value match booleans, and the fused
//! weighted count that never materialises them.

use rayon::prelude::*;
use tfhe::integer::RadixCiphertext;
use tfhe::shortint::{Ciphertext, ServerKey};

use super::and_tree::{and_all, AndLuts};
use super::counter::{refresh_lut, OneHotCounter};
use super::selectors::Selectors;
use crate::digest::Digest;

/// Encrypted `value == d` for every clear digest `d`, comparing the lowest `compare_bits` bits
/// (256 for exact equality).
pub fn match_clear(
    sks: &ServerKey,
    selectors: &Selectors,
    digests: &[Digest],
    compare_bits: usize,
) -> Vec<Ciphertext> {
    let luts = AndLuts::new(sks);
    digests
        .par_iter()
        .map(|d| and_all(sks, &luts, &selectors.select(d, compare_bits)))
        .collect()
}

/// Encrypted `Σ multiplicity × (value == digest)` over distinct `(digest, multiplicity)` pairs,
/// fused: one AND tree per distinct digest, summed straight into bit counters.
/// The digests must be distinct (at most one can equal the encrypted value).
pub fn count_clear(
    sks: &ServerKey,
    selectors: &Selectors,
    distinct: &[(Digest, u64)],
    compare_bits: usize,
) -> RadixCiphertext {
    let luts = AndLuts::new(sks);
    let refresh = refresh_lut(sks);
    let counter = distinct
        .par_iter()
        .fold(OneHotCounter::new, |mut counter, (digest, multiplicity)| {
            let matched = and_all(sks, &luts, &selectors.select(digest, compare_bits));
            counter.add(sks, &refresh, &matched, *multiplicity);
            counter
        })
        .reduce(OneHotCounter::new, |mut a, b| {
            a.merge(sks, &refresh, b);
            a
        });
    counter.finish(sks, &refresh, selectors.anchor())
}

/// An encrypted zero count, for when there is nothing to compare. `anchor` is any genuinely
/// encrypted block (see [`OneHotCounter::finish`]).
pub fn zero_count(sks: &ServerKey, anchor: &Ciphertext) -> RadixCiphertext {
    OneHotCounter::new().finish(sks, &refresh_lut(sks), anchor)
}
