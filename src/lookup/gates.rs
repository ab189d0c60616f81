//! The bootstraps of the lookup kernel, for a batch of bins whose records were read
//! ([`super::eval`]): each 5-bit tag chunk tested by one bootstrap (`[x == 0]`), the results
//! ANDed five at a time (`[Σ = n]`), and each 2-bit count chunk gated by the match in one
//! bootstrap of a re-randomised input, whose output is the released block.

use std::ops::Range;

use rayon::prelude::*;
use tfhe::core_crypto::prelude::*;
use tfhe::shortint::ciphertext::{Degree, NoiseLevel};
use tfhe::shortint::server_key::LookupTableOwned;
use tfhe::shortint::{Ciphertext, CompactPublicKey, ServerKey};

use crate::kernels::pbs;
use crate::kernels::release::rerandomize;
use crate::lookup::hashing::chunks_for;
use crate::lookup::query::LookupQuery;
use crate::params::MAX_NOISE_LEVEL;

/// What one bin entry evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Tag chunks compared (`⌈bits / 5⌉`).
    pub tag_chunks: usize,
    /// Count chunks per group (`count_bits / 2`).
    pub count_chunks: usize,
    /// Groups.
    pub groups: usize,
}

impl Plan {
    /// The plan comparing `bits` bits, releasing `count_bits`-bit counts in `groups` groups.
    pub fn new(bits: usize, count_bits: usize, groups: usize) -> Plan {
        Plan {
            tag_chunks: chunks_for(bits),
            count_chunks: count_bits / 2,
            groups,
        }
    }

    /// Record blocks read per entry.
    pub fn blocks(&self) -> usize {
        self.tag_chunks + self.groups * self.count_chunks
    }

    /// Bootstraps per entry: tag tests, the AND chain, one gate per count chunk and group.
    pub fn pbs(&self) -> u64 {
        (self.tag_chunks + and_steps(self.tag_chunks) + self.groups * self.count_chunks) as u64
    }
}

/// AND bootstraps over `n` tag results: 5 in the first, then the running AND and 4 more each.
pub fn and_steps(n: usize) -> usize {
    n.saturating_sub(1).div_ceil(4).max(1)
}

/// A read LWE as a shortint block the pinned server key bootstraps (nominal noise: see
/// docs/LOOKUP.md, "Noise").
pub fn as_block(sks: &ServerKey, lwe: LweCiphertextOwned<u64>, degree: u64) -> Ciphertext {
    Ciphertext::new(
        lwe,
        Degree::new(degree),
        NoiseLevel::NOMINAL,
        sks.message_modulus,
        sks.carry_modulus,
        crate::params::ATOMIC_PATTERN,
    )
}

/// The bootstrap tables of the kernel.
pub struct Luts {
    /// `[x == 0]`: 1 on a tag chunk match, −1 at 16 (negacyclic half), 0 otherwise.
    pub is_zero: LookupTableOwned,
    /// `[x == n]` for n = 0..=5: the AND of n results.
    pub and: Vec<LookupTableOwned>,
    /// `x = 4c + 2b` → `c` when `b` (x ≡ 2 mod 4), else 0; non-members' `c ≥ 4` fall in the
    /// negacyclic half, where it is also 0.
    pub gate: LookupTableOwned,
}

impl Luts {
    /// Build them for `sks`.
    pub fn new(sks: &ServerKey) -> Luts {
        Luts {
            is_zero: sks.generate_lookup_table(|x| u64::from(x == 0)),
            and: (0..=MAX_NOISE_LEVEL as u64)
                .map(|n| sks.generate_lookup_table(move |x| u64::from(x == n)))
                .collect(),
            gate: sks.generate_lookup_table(|x| if x % 4 == 2 { x / 4 } else { 0 }),
        }
    }
}

/// Tag test, AND and gate of a batch of bins: per bin, per group, the released count blocks.
pub fn evaluate(
    sks: &ServerKey,
    cpk: &CompactPublicKey,
    luts: &Luts,
    query: &LookupQuery,
    batch: Range<usize>,
    reads: Vec<Vec<LweCiphertextOwned<u64>>>,
    plan: &Plan,
) -> Vec<Vec<Vec<Ciphertext>>> {
    let p = crate::params::COMPUTE;
    let lwe_size = p
        .glwe_dimension
        .to_equivalent_lwe_dimension(p.polynomial_size)
        .to_lwe_size();
    // Tag tests of every bin in one pass: read + (−t), bootstrapped by [x == 0].
    let tags: Vec<(GlweCiphertextOwned<u64>, usize)> = batch
        .clone()
        .into_par_iter()
        .map(|b| {
            let (glwe, base) = query.tag(b);
            (glwe.clone().decompress_into_glwe_ciphertext(), base)
        })
        .collect();
    let jobs: Vec<(usize, usize)> = (0..reads.len())
        .flat_map(|i| (0..plan.tag_chunks).map(move |j| (i, j)))
        .collect();
    let equal: Vec<Ciphertext> = jobs
        .par_iter()
        .map(|&(i, j)| {
            let (glwe, base) = (&tags[i].0, tags[i].1);
            let mut tag = LweCiphertext::new(0u64, lwe_size, p.ciphertext_modulus);
            extract_lwe_sample_from_glwe_ciphertext(glwe, &mut tag, MonomialDegree(base + j));
            let mut diff = as_block(sks, reads[i][j].clone(), 15);
            lwe_ciphertext_add_assign(&mut diff.ct, &tag);
            pbs::apply(sks, &diff, &luts.is_zero)
        })
        .collect();
    let per_bin: Vec<&[Ciphertext]> = equal.chunks(plan.tag_chunks).collect();
    // AND chain, one step for all bins at a time: 5 results, then the running AND and 4 more.
    let first = plan.tag_chunks.min(MAX_NOISE_LEVEL);
    let mut matched: Vec<Ciphertext> = per_bin
        .par_iter()
        .map(|r| sum_and(sks, luts, None, &r[..first]))
        .collect();
    let mut done = first;
    while done < plan.tag_chunks {
        let next = (done + MAX_NOISE_LEVEL - 1).min(plan.tag_chunks);
        matched = matched
            .into_par_iter()
            .zip(&per_bin)
            .map(|(m, r)| sum_and(sks, luts, Some(m), &r[done..next]))
            .collect();
        done = next;
    }
    // Gates: re-randomise every count read, add 2·match, bootstrap: the released block.
    let mut counts: Vec<Ciphertext> = reads
        .into_iter()
        .flat_map(|r| r.into_iter().skip(plan.tag_chunks))
        .map(|lwe| as_block(sks, lwe, 3))
        .collect();
    rerandomize(cpk, &mut counts);
    let per_entry = plan.groups * plan.count_chunks;
    let gated: Vec<Ciphertext> = counts
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let twice = sks.unchecked_scalar_mul(&matched[i / per_entry], 2);
            let mut x = c.clone();
            sks.unchecked_add_assign(&mut x, &twice);
            pbs::apply(sks, &x, &luts.gate)
        })
        .collect();
    gated
        .chunks(per_entry)
        .map(|entry| {
            entry
                .chunks(plan.count_chunks)
                .map(<[Ciphertext]>::to_vec)
                .collect()
        })
        .collect()
}

/// `[running + Σ results == n]`: the AND of a running boolean (if any) and ≤ 5 tag results.
fn sum_and(
    sks: &ServerKey,
    luts: &Luts,
    running: Option<Ciphertext>,
    results: &[Ciphertext],
) -> Ciphertext {
    let n = results.len() + usize::from(running.is_some());
    let mut sum = running.unwrap_or_else(|| results[0].clone());
    let skip = usize::from(n == results.len());
    for r in &results[skip..] {
        sks.unchecked_add_assign(&mut sum, r);
    }
    pbs::apply(sks, &sum, &luts.and[n])
}
