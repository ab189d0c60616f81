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

/// Values compared per batch by [`count_clear`]: bounds its memory (one 16 KB boolean each).
const BATCH: usize = 1024;

/// Encrypted `Σ multiplicity × (value == digest)` over distinct `(digest, multiplicity)` pairs,
/// fused: one AND tree per distinct digest (in parallel), its boolean summed straight into the
/// bit counters. The digests must be distinct (at most one can equal the encrypted value).
pub fn count_clear(
    sks: &ServerKey,
    selectors: &Selectors,
    distinct: &[(Digest, u64)],
    compare_bits: usize,
) -> RadixCiphertext {
    let luts = AndLuts::new(sks);
    let refresh = refresh_lut(sks);
    let mut counter = OneHotCounter::new();
    for batch in distinct.chunks(BATCH) {
        let matched: Vec<Ciphertext> = batch
            .par_iter()
            .map(|(digest, _)| and_all(sks, &luts, &selectors.select(digest, compare_bits)))
            .collect();
        let weights: Vec<u64> = batch.iter().map(|(_, m)| *m).collect();
        counter.add_all(sks, &refresh, &matched, &weights);
    }
    counter.finish(sks, &refresh, selectors.anchor())
}

/// An encrypted zero count, for when there is nothing to compare. `anchor` is any genuinely
/// encrypted block (see [`OneHotCounter::finish`]).
pub fn zero_count(sks: &ServerKey, anchor: &Ciphertext) -> RadixCiphertext {
    OneHotCounter::new().finish(sks, &refresh_lut(sks), anchor)
}
