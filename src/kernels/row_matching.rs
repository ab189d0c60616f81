//! Rows expanded into several candidate digests (subdomains, CIDR prefixes, substring
//! windows) against a cuckoo-hashed encrypted IOC set.
//!
//! - Per IOC ("rows containing it at least once"): candidates are de-duplicated per row, so a
//!   row contributes at most once to any IOC; each distinct candidate is weighted by the number
//!   of rows holding it, and [`super::set_matching::count_per_slot`] does the rest.
//! - Rows with at least one match: per distinct candidate, the sum of its ≤ 3 slot comparisons
//!   (a boolean); per distinct row value, the OR of its candidates' booleans (≤ 5 per PBS); then
//!   `Σ multiplicity × any` with a general weighted sum. Values are processed in chunks so
//!   memory stays bounded: a candidate shared by two chunks is compared twice.

use std::collections::HashMap;

use rayon::prelude::*;
use tfhe::integer::RadixCiphertext;
use tfhe::shortint::Ciphertext;

use super::and_tree::{any_lut, or_all};
use super::counter::{canonical_constant, sum_counts, weighted_sum};
use super::set_matching::{match_per_value, SlotSelectors};
use crate::cuckoo::CuckooParams;
use crate::digest::Digest;

/// Distinct candidates handled per chunk by [`count_rows`]: 16,384 booleans (256 MB) plus the
/// comparisons in flight.
const CHUNK_CANDIDATES: usize = 16 * 1024;

/// Distinct log values expanded into candidate digests, in the clear.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    /// Distinct candidate digests, in first-seen order.
    pub candidates: Vec<Digest>,
    /// For each distinct log value: the indices of its distinct candidates and how many rows
    /// hold the value.
    pub values: Vec<(Vec<u32>, u64)>,
}

impl Expanded {
    /// Build from each distinct value's candidates (duplicates within a value are merged) and
    /// multiplicity.
    pub fn new(values: impl IntoIterator<Item = (Vec<Digest>, u64)>) -> Expanded {
        let mut index: HashMap<Digest, u32> = HashMap::new();
        let mut out = Expanded::default();
        for (candidates, multiplicity) in values {
            let mut ids: Vec<u32> = candidates
                .into_iter()
                .map(|d| {
                    *index.entry(d).or_insert_with(|| {
                        out.candidates.push(d);
                        (out.candidates.len() - 1) as u32
                    })
                })
                .collect();
            ids.sort_unstable();
            ids.dedup();
            out.values.push((ids, multiplicity));
        }
        out
    }

    /// The values `range` as an [`Expanded`] of their own (candidates re-indexed).
    pub fn subset(&self, range: std::ops::Range<usize>) -> Expanded {
        Expanded::new(self.values[range].iter().map(|(ids, multiplicity)| {
            let candidates = ids.iter().map(|&i| self.candidates[i as usize]).collect();
            (candidates, *multiplicity)
        }))
    }

    /// Every distinct candidate with the number of rows holding it (each row counted once).
    pub fn candidate_rows(&self) -> Vec<(Digest, u64)> {
        let mut rows = vec![0u64; self.candidates.len()];
        for (ids, multiplicity) in &self.values {
            for &i in ids {
                rows[i as usize] += multiplicity;
            }
        }
        self.candidates.iter().copied().zip(rows).collect()
    }

    /// Chunks of values (those with candidates) whose distinct candidates stay under `limit`
    /// (a single larger value makes a chunk of its own): each chunk as its own [`Expanded`]
    /// plus the positions of its values in `self.values`.
    fn chunks(&self, limit: usize) -> Vec<(Expanded, Vec<usize>)> {
        let mut out = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut seen: std::collections::HashSet<u32> = Default::default();
        let flush = |current: &mut Vec<usize>, out: &mut Vec<(Expanded, Vec<usize>)>| {
            if !current.is_empty() {
                let chunk = Expanded::new(current.iter().map(|&v| {
                    let (ids, m) = &self.values[v];
                    (
                        ids.iter().map(|&i| self.candidates[i as usize]).collect(),
                        *m,
                    )
                }));
                out.push((chunk, std::mem::take(current)));
            }
        };
        for (v, (ids, _)) in self.values.iter().enumerate() {
            if ids.is_empty() {
                continue;
            }
            let new = ids.iter().filter(|i| !seen.contains(i)).count();
            if !current.is_empty() && seen.len() + new > limit {
                flush(&mut current, &mut out);
                seen.clear();
            }
            seen.extend(ids.iter().copied());
            current.push(v);
        }
        flush(&mut current, &mut out);
        out
    }
}

/// Encrypted "the value matches some IOC" for every distinct value of `expanded`, None for
/// values without candidates (they never match).
pub fn any_per_value(
    sks: &tfhe::shortint::ServerKey,
    tables: &impl SlotSelectors,
    cuckoo: &CuckooParams,
    expanded: &Expanded,
    compare_bits: usize,
) -> Vec<Option<Ciphertext>> {
    let mut out: Vec<Option<Ciphertext>> = vec![None; expanded.values.len()];
    for (chunk, positions) in expanded.chunks(CHUNK_CANDIDATES) {
        let any = chunk_any(sks, tables, cuckoo, &chunk, compare_bits);
        for (position, value) in positions.into_iter().zip(any) {
            out[position] = Some(value);
        }
    }
    out
}

/// OR over each value's candidates of "candidate is in the set", for one chunk.
fn chunk_any(
    sks: &tfhe::shortint::ServerKey,
    tables: &impl SlotSelectors,
    cuckoo: &CuckooParams,
    chunk: &Expanded,
    compare_bits: usize,
) -> Vec<Ciphertext> {
    let member = match_per_value(sks, tables, cuckoo, &chunk.candidates, compare_bits);
    let any = any_lut(sks);
    chunk
        .values
        .par_iter()
        .map(|(ids, _)| {
            let inputs: Vec<&Ciphertext> = ids.iter().map(|&i| &member[i as usize]).collect();
            or_all(sks, &any, &inputs)
        })
        .collect()
}

/// Encrypted number of rows whose value matches at least one IOC. `anchor` (any genuinely
/// encrypted block) makes the zero when nothing can match.
pub fn count_rows(
    sks: &tfhe::integer::ServerKey,
    tables: &impl SlotSelectors,
    anchor: &Ciphertext,
    cuckoo: &CuckooParams,
    expanded: &Expanded,
    compare_bits: usize,
) -> RadixCiphertext {
    let shortint: &tfhe::shortint::ServerKey = sks.as_ref();
    let partials: Vec<RadixCiphertext> = expanded
        .chunks(CHUNK_CANDIDATES)
        .into_iter()
        .map(|(chunk, _)| {
            let any = chunk_any(shortint, tables, cuckoo, &chunk, compare_bits);
            let weighted: Vec<(Ciphertext, u64)> = any
                .into_iter()
                .zip(chunk.values.iter().map(|v| v.1))
                .collect();
            weighted_sum(sks, &weighted, anchor)
        })
        .collect();
    match partials.len() {
        1 => partials.into_iter().next().unwrap(),
        _ => sum_counts(sks, &partials, Some(anchor)),
    }
}

/// [`count_rows`] for every group at once: each chunk's comparisons and per-value ORs run once,
/// then each group weighs the per-value booleans by its own rows (`value_rows[v]`: group →
/// rows holding value `v`). `result[g]` is group `g`'s count.
#[allow(clippy::too_many_arguments)]
pub fn count_rows_grouped(
    sks: &tfhe::integer::ServerKey,
    tables: &impl SlotSelectors,
    anchor: &Ciphertext,
    cuckoo: &CuckooParams,
    expanded: &Expanded,
    value_rows: &[HashMap<u32, u64>],
    groups: usize,
    compare_bits: usize,
) -> Vec<RadixCiphertext> {
    let shortint: &tfhe::shortint::ServerKey = sks.as_ref();
    let mut partials: Vec<Vec<RadixCiphertext>> = vec![Vec::new(); groups];
    for (chunk, positions) in expanded.chunks(CHUNK_CANDIDATES) {
        let any = chunk_any(shortint, tables, cuckoo, &chunk, compare_bits);
        let counted: Vec<RadixCiphertext> = (0..groups as u32)
            .into_par_iter()
            .map(|g| {
                let weighted: Vec<(Ciphertext, u64)> = any
                    .iter()
                    .zip(&positions)
                    .filter_map(|(b, &v)| value_rows[v].get(&g).map(|&w| (b.clone(), w)))
                    .collect();
                weighted_sum(sks, &weighted, anchor)
            })
            .collect();
        for (g, c) in counted.into_iter().enumerate() {
            partials[g].push(c);
        }
    }
    partials
        .into_iter()
        .map(|p| match p.len() {
            1 => p.into_iter().next().unwrap(),
            _ => sum_counts(sks, &p, Some(anchor)),
        })
        .collect()
}

/// An encrypted false (a PBS of `anchor`, indistinguishable from a computed one).
pub fn encrypted_false(sks: &tfhe::shortint::ServerKey, anchor: &Ciphertext) -> Ciphertext {
    let mut block = canonical_constant(sks, anchor, &sks.generate_lookup_table(|_| 0));
    block.degree = tfhe::shortint::ciphertext::Degree::new(1);
    block
}
