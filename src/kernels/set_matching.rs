//! Plaintext values against a cuckoo-hashed encrypted IOC set: per-slot encrypted counts.
//!
//! Each distinct value is compared only with its 2–3 candidate slots. Work is done slot by slot:
//! a slot's selector table (2–17 MB) lives only while its own values are compared, so memory does
//! not grow with the number of IOCs K or distinct values D beyond the plaintext work lists and
//! the B output counters.

use rayon::prelude::*;
use tfhe::integer::{IntegerCiphertext, RadixCiphertext};
use tfhe::shortint::ServerKey;

use super::matching;
use super::selectors::{DigitBits, Selectors};
use crate::cuckoo::CuckooParams;
use crate::digest::Digest;

/// For every slot, the distinct `(digest, multiplicity)` pairs that have it as a candidate.
pub fn work_lists(cuckoo: &CuckooParams, distinct: &[(Digest, u64)]) -> Vec<Vec<(Digest, u64)>> {
    let mut lists = vec![Vec::new(); cuckoo.slots as usize];
    for &(digest, multiplicity) in distinct {
        for slot in cuckoo.candidates(&digest) {
            lists[slot].push((digest, multiplicity));
        }
    }
    lists
}

/// Encrypted `Σ multiplicity × (value == slot)` for every slot. `slot_value(s)` returns slot `s`'s
/// encrypted 256-bit value. `bits: None` picks the cheaper selector width per slot.
pub fn count_per_slot<F>(
    sks: &ServerKey,
    slot_value: F,
    cuckoo: &CuckooParams,
    distinct: &[(Digest, u64)],
    bits: Option<DigitBits>,
    compare_bits: usize,
) -> Vec<RadixCiphertext>
where
    F: Fn(usize) -> RadixCiphertext + Sync,
{
    let lists = work_lists(cuckoo, distinct);
    lists
        .into_par_iter()
        .enumerate()
        .map(|(slot, list)| {
            let value = slot_value(slot);
            if list.is_empty() {
                return matching::zero_count(sks, &value.blocks()[0]);
            }
            let width = bits.unwrap_or_else(|| DigitBits::cheapest(list.len(), compare_bits));
            let selectors = Selectors::new(sks, &value, width);
            matching::count_clear(sks, &selectors, &list, compare_bits)
        })
        .collect()
}

/// PBS the per-slot counting will spend (selector builds and comparisons; counters excluded).
pub fn planned_pbs(cuckoo: &CuckooParams, distinct: &[(Digest, u64)], bits: Option<DigitBits>, compare_bits: usize) -> u64 {
    work_lists(cuckoo, distinct)
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let w = bits.unwrap_or_else(|| DigitBits::cheapest(l.len(), compare_bits));
            (w.build_cost() + l.len() * w.compare_cost(compare_bits)) as u64
        })
        .sum()
}
