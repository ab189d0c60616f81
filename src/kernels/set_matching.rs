//! Plaintext values against a cuckoo-hashed encrypted IOC set: per-slot encrypted counts.
//!
//! Each distinct value is compared only with its 2–3 candidate slots. Work is done slot by slot:
//! a slot's selector table (2–17 MB) lives only while its own values are compared, so memory does
//! not grow with the number of IOCs K or distinct values D beyond the plaintext work lists and
//! the B output counters.

use rayon::prelude::*;
use std::sync::Arc;

use tfhe::integer::RadixCiphertext;
use tfhe::shortint::{Ciphertext, ServerKey};

use super::matching;
use super::selectors::{DigitBits, Selectors};
use crate::cuckoo::CuckooParams;
use crate::digest::Digest;
use crate::kernels::pbs;

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

/// How kernels obtain a slot's selector table: `(slot, comparisons) → table`. Callers build it
/// (see [`BuildSelectors`]) or serve it from a cache.
pub trait SlotSelectors: Sync {
    /// The selectors of `slot`, about to be used for `comparisons` comparisons.
    fn selectors(&self, slot: usize, comparisons: usize) -> Arc<Selectors>;
}

/// Build slot tables on demand from the slots' radix ciphertexts, with a fixed or the cheapest
/// digit width; nothing is kept.
pub struct BuildSelectors<'a, F: Fn(usize) -> RadixCiphertext + Sync> {
    /// Server key.
    pub sks: &'a ServerKey,
    /// Slot `s` → its encrypted value.
    pub slot_value: F,
    /// Fixed digit width, or None for the cheapest per slot.
    pub bits: Option<DigitBits>,
    /// Bits compared.
    pub compare_bits: usize,
}

impl<F: Fn(usize) -> RadixCiphertext + Sync> SlotSelectors for BuildSelectors<'_, F> {
    fn selectors(&self, slot: usize, comparisons: usize) -> Arc<Selectors> {
        let width = self
            .bits
            .unwrap_or_else(|| DigitBits::cheapest(comparisons, self.compare_bits));
        Arc::new(Selectors::new(
            self.sks,
            &(self.slot_value)(slot),
            width,
            self.compare_bits,
        ))
    }
}

/// Encrypted `Σ multiplicity × (value == slot)` for every slot. `anchor` (any genuinely encrypted
/// block) gives the zero count of slots no value points at. `slot_stride` > 1 (benchmarks
/// only) computes every `slot_stride`-th slot and leaves the others at zero.
pub fn count_per_slot(
    sks: &ServerKey,
    tables: &impl SlotSelectors,
    anchor: &Ciphertext,
    cuckoo: &CuckooParams,
    distinct: &[(Digest, u64)],
    compare_bits: usize,
    slot_stride: usize,
) -> Vec<RadixCiphertext> {
    let stride = slot_stride.max(1);
    // Benchmark sampling: skipped slots share one zero (no PBS spent on them).
    let skipped_zero = (stride > 1).then(|| matching::zero_count(sks, anchor));
    work_lists(cuckoo, distinct)
        .into_par_iter()
        .enumerate()
        .map(|(slot, list)| {
            if let (Some(zero), true) = (&skipped_zero, slot % stride != 0) {
                return zero.clone();
            }
            if list.is_empty() {
                return matching::zero_count(sks, anchor);
            }
            let selectors = tables.selectors(slot, list.len());
            matching::count_clear(sks, &selectors, &list, compare_bits)
        })
        .collect()
}

/// Every slot's comparisons with the distinct values pointing at it, computed once: for
/// grouped counts, where each group then only weighs these booleans by its own rows.
pub struct SlotMatches {
    /// Per slot: indices (into the digests given to [`SlotMatches::new`]) of the values compared.
    lists: Vec<Vec<usize>>,
    /// Per slot: the encrypted `value == slot` booleans, in `lists` order.
    matched: Vec<Vec<Ciphertext>>,
}

impl SlotMatches {
    /// Compare every distinct digest with its candidate slots (memory: one 16 KB boolean per
    /// digest and candidate; callers bound the number of digests, e.g. per scan partition).
    pub fn new(
        sks: &ServerKey,
        tables: &impl SlotSelectors,
        cuckoo: &CuckooParams,
        digests: &[Digest],
        compare_bits: usize,
    ) -> SlotMatches {
        let mut lists: Vec<Vec<usize>> = vec![Vec::new(); cuckoo.slots as usize];
        for (i, digest) in digests.iter().enumerate() {
            for slot in cuckoo.candidates(digest) {
                lists[slot].push(i);
            }
        }
        let matched = lists
            .par_iter()
            .enumerate()
            .map(|(slot, list)| {
                if list.is_empty() {
                    return Vec::new();
                }
                let values: Vec<Digest> = list.iter().map(|&i| digests[i]).collect();
                let selectors = tables.selectors(slot, values.len());
                matching::match_clear(sks, &selectors, &values, compare_bits)
            })
            .collect();
        SlotMatches { lists, matched }
    }

    /// Encrypted `Σ weight(value) × (value == slot)` for every slot, from the booleans already
    /// computed (no comparison): additions, one refresh PBS per 4 per count bit, and finishing
    /// the counter. Slots no weighted value points at get a trivial zero (no PBS): these are
    /// partial counts, released through [`super::release`].
    pub fn count(
        &self,
        sks: &ServerKey,
        weight: impl Fn(usize) -> u64 + Sync,
    ) -> Vec<RadixCiphertext> {
        let refresh = super::counter::refresh_lut(sks);
        self.lists
            .par_iter()
            .zip(&self.matched)
            .map(|(list, matched)| {
                let (m, w): (Vec<Ciphertext>, Vec<u64>) = list
                    .iter()
                    .zip(matched)
                    .map(|(&i, m)| (m, weight(i)))
                    .filter(|(_, w)| *w > 0)
                    .map(|(m, w)| (m.clone(), w))
                    .unzip();
                let mut counter = super::counter::OneHotCounter::new();
                counter.add_all(sks, &refresh, &m, &w);
                counter.finish_partial(sks, &refresh)
            })
            .collect()
    }
}

/// PBS [`count_per_slot`] spends on selector builds and comparisons (counters excluded), for
/// the slots a `slot_stride` computes.
pub fn planned_pbs(
    cuckoo: &CuckooParams,
    distinct: &[(Digest, u64)],
    bits: Option<DigitBits>,
    compare_bits: usize,
    slot_stride: usize,
) -> u64 {
    work_lists(cuckoo, distinct)
        .iter()
        .enumerate()
        .filter(|(slot, l)| !l.is_empty() && slot % slot_stride.max(1) == 0)
        .map(|(_, l)| l)
        .map(|l| {
            let w = bits.unwrap_or_else(|| DigitBits::cheapest(l.len(), compare_bits));
            (w.build_cost(compare_bits) + l.len() * w.compare_cost(compare_bits)) as u64
        })
        .sum()
}

/// Encrypted "value is in the set" for every distinct digest: the sum of its ≤ 3 candidate
/// comparisons (at most one can be true), refreshed into a boolean. Keeps one boolean per
/// distinct value (for materialised per-row results; counts use [`count_per_slot`]).
pub fn match_per_value(
    sks: &ServerKey,
    tables: &impl SlotSelectors,
    cuckoo: &CuckooParams,
    digests: &[Digest],
    compare_bits: usize,
) -> Vec<Ciphertext> {
    let index: std::collections::HashMap<Digest, usize> =
        digests.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let lists = work_lists(cuckoo, &digests.iter().map(|d| (*d, 1)).collect::<Vec<_>>());
    let per_slot: Vec<(Vec<Digest>, Vec<Ciphertext>)> = lists
        .into_par_iter()
        .enumerate()
        .filter(|(_, list)| !list.is_empty())
        .map(|(slot, list)| {
            let selectors = tables.selectors(slot, list.len());
            let values: Vec<Digest> = list.into_iter().map(|(d, _)| d).collect();
            let matches = matching::match_clear(sks, &selectors, &values, compare_bits);
            (values, matches)
        })
        .collect();
    let mut sums: Vec<Option<Ciphertext>> = vec![None; digests.len()];
    for (values, matches) in per_slot {
        for (d, m) in values.iter().zip(matches) {
            match &mut sums[index[d]] {
                Some(sum) => sks.unchecked_add_assign(sum, &m),
                slot @ None => *slot = Some(m),
            }
        }
    }
    let refresh = super::counter::refresh_lut(sks);
    sums.into_par_iter()
        .map(|s| {
            pbs::apply(
                sks,
                &s.expect("every digest has a candidate slot"),
                &refresh,
            )
        })
        .collect()
}
