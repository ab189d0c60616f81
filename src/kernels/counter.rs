//! Fused weighted counting for "at most one match" sums.
//!
//! When at most one of the summed booleans can be true (distinct values against one encrypted
//! value: at most one is equal), `Σ multiplicity_d × match_d` has, for every bit `i`, the bit
//! `C_i = Σ_{d: bit i of multiplicity_d set} match_d ∈ {0, 1}`. Each `C_i` is a plain sum of
//! booleans that never exceeds 1: add [`MAX_NOISE_LEVEL`] of them, refresh with one PBS, go on.
//! The count's 2-bit blocks are then `C_{2j} + 2·C_{2j+1}` with no carry propagation at all.
//! Cost: about `popcount(multiplicity) / 4` PBS per summed boolean, plus at most 3 PBS per
//! count block (16 blocks) to finish.

use rayon::prelude::*;
use tfhe::integer::{IntegerCiphertext, RadixCiphertext};
use tfhe::shortint::ciphertext::Degree;
use tfhe::shortint::parameters::NoiseLevel;
use tfhe::shortint::server_key::LookupTableOwned;
use tfhe::shortint::{Ciphertext, ServerKey};

use crate::kernels::pbs;
use crate::params::{COUNT_BITS, MAX_NOISE_LEVEL};

/// Encrypted bit counters `C_0 … C_{COUNT_BITS-1}` of a one-hot weighted sum.
#[derive(Clone)]
pub struct OneHotCounter {
    /// `bits[i]`: the encrypted sum for bit `i` and how many booleans it holds since its
    /// last refresh (its noise level).
    bits: Vec<Option<(Ciphertext, usize)>>,
}

impl Default for OneHotCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl OneHotCounter {
    /// An empty counter (all bits zero).
    pub fn new() -> OneHotCounter {
        OneHotCounter {
            bits: vec![None; COUNT_BITS],
        }
    }

    /// Add `weights[k] × matched[k]` for every k (fresh encrypted booleans, at most one true
    /// over the whole count). Bits are independent, so they are accumulated in parallel; each
    /// costs one refresh PBS per 4 additions.
    pub fn add_all(
        &mut self,
        sks: &ServerKey,
        refresh: &LookupTableOwned,
        matched: &[Ciphertext],
        weights: &[u64],
    ) {
        assert_eq!(matched.len(), weights.len());
        assert!(
            weights.iter().all(|w| *w < (1u64 << COUNT_BITS)),
            "weight exceeds the count width"
        );
        self.bits.par_iter_mut().enumerate().for_each(|(i, bit)| {
            for (ct, _) in matched
                .iter()
                .zip(weights)
                .filter(|(_, w)| *w >> i & 1 == 1)
            {
                match bit {
                    None => *bit = Some((ct.clone(), 1)),
                    Some((acc, level)) => {
                        if *level + 1 > MAX_NOISE_LEVEL {
                            pbs::apply_assign(sks, acc, refresh);
                            *level = 1;
                        }
                        sks.unchecked_add_assign(acc, ct);
                        *level += 1;
                    }
                }
            }
        });
    }

    /// The encrypted count as a radix ciphertext of `COUNT_BITS / 2` blocks, each one fresh PBS
    /// output `C_{2j} + 2·C_{2j+1}` (degree 3, nominal noise). `anchor` is any genuinely
    /// encrypted ciphertext: blocks that received nothing become a PBS of it that outputs 0, so
    /// no block of the result is a recognisable trivial zero.
    pub fn finish(
        self,
        sks: &ServerKey,
        refresh: &LookupTableOwned,
        anchor: &Ciphertext,
    ) -> RadixCiphertext {
        let zero = sks.generate_lookup_table(|_| 0);
        self.finish_with(sks, refresh, || canonical_constant(sks, anchor, &zero))
    }

    /// Like [`Self::finish`], but blocks that received nothing stay trivial zeros (no PBS): for
    /// partial counts that are only ever released through [`super::release`], which
    /// re-randomises every block.
    pub fn finish_partial(self, sks: &ServerKey, refresh: &LookupTableOwned) -> RadixCiphertext {
        self.finish_with(sks, refresh, || trivial_zero(sks))
    }

    fn finish_with(
        self,
        sks: &ServerKey,
        refresh: &LookupTableOwned,
        empty: impl Fn() -> Ciphertext + Sync,
    ) -> RadixCiphertext {
        let block_lut = sks.generate_lookup_table(|x| x % 4);
        let pairs: Vec<_> = self
            .bits
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect();
        let blocks: Vec<Ciphertext> = pairs
            .into_par_iter()
            .map(|(low, high)| {
                // Noise budget of low + 2·high: level(low) + 2·level(high) ≤ MAX_NOISE_LEVEL.
                let fresh = |bit: Option<(Ciphertext, usize)>, max_level: usize| {
                    bit.map(|(mut ct, level)| {
                        if level > max_level {
                            pbs::apply_assign(sks, &mut ct, refresh);
                        }
                        ct
                    })
                };
                let high = fresh(high, 1);
                let low = fresh(low, MAX_NOISE_LEVEL - 2);
                let sum = match (low, high) {
                    (None, None) => return empty(),
                    (Some(low), None) => low,
                    (low, Some(mut high)) => {
                        sks.unchecked_scalar_mul_assign(&mut high, 2);
                        if let Some(low) = low {
                            sks.unchecked_add_assign(&mut high, &low);
                        }
                        high
                    }
                };
                pbs::apply(sks, &sum, &block_lut)
            })
            .collect();
        RadixCiphertext::from(blocks)
    }
}

fn zero_mask(block: &Ciphertext) -> bool {
    block.ct.get_mask().as_ref().iter().all(|&x| x == 0)
}

/// The block is a trivial encryption of zero (zero mask and body), whatever noise level and
/// degree it claims (see [`trivial_zero`]).
pub fn is_trivial_zero(block: &Ciphertext) -> bool {
    *block.ct.get_body().data == 0 && zero_mask(block)
}

/// The value of a block with a zero mask (trivial, whatever noise level it claims: see
/// [`trivial_zero`]), or None.
fn trivial_value(sks: &ServerKey, block: &Ciphertext) -> Option<u64> {
    if !zero_mask(block) {
        return None;
    }
    let mut plain = block.clone();
    plain.set_noise_level(NoiseLevel::ZERO, sks.max_noise_level);
    plain.decrypt_trivial().ok()
}

/// A trivial zero block in the canonical count form (degree 3, nominal noise: both valid upper
/// bounds), so that partial counts holding it pass the count conformance check. Only for
/// partial counts that are released through [`super::release`] (which re-randomises it).
pub fn trivial_zero(sks: &ServerKey) -> Ciphertext {
    let mut block = sks.create_trivial(0);
    block.degree = Degree::new(sks.message_modulus.0 - 1);
    block.set_noise_level_to_nominal();
    block
}

/// A fresh-looking encrypted constant block in the canonical count form (degree 3 — a valid
/// upper bound — and nominal noise): a PBS of the genuinely encrypted `anchor` through a
/// constant lookup table `const_lut`.
pub fn canonical_constant(
    sks: &ServerKey,
    anchor: &Ciphertext,
    const_lut: &LookupTableOwned,
) -> Ciphertext {
    let mut block = pbs::apply(sks, anchor, const_lut);
    block.degree = Degree::new(sks.message_modulus.0 - 1);
    block
}

/// The refresh table: `x → (x != 0)`, exact while the one-hot invariant holds (x ≤ 1).
pub fn refresh_lut(sks: &ServerKey) -> LookupTableOwned {
    sks.generate_lookup_table(|x| u64::from(x != 0))
}

/// Encrypted sum of counts (`COUNT_BLOCKS` blocks each), in the canonical count form: every
/// block degree 3 with nominal noise. With an `anchor` (any genuinely encrypted block) none is
/// trivial: trivial blocks are re-derived from it, and it makes the zero of an empty sum;
/// without one (partial counts, released later through [`super::release`]) trivial blocks
/// stay trivial and cost nothing.
pub fn sum_counts(
    sks: &tfhe::integer::ServerKey,
    counts: &[RadixCiphertext],
    anchor: Option<&Ciphertext>,
) -> RadixCiphertext {
    let shortint: &ServerKey = sks.as_ref();
    // Counts that are trivially zero (untouched slots of a group) add nothing: skip them.
    let counted = counts
        .iter()
        .filter(|c| !c.blocks().iter().all(is_trivial_zero));
    let Some(mut sum) = sks.sum_ciphertexts_parallelized::<RadixCiphertext, _>(counted) else {
        let block = match anchor {
            Some(a) => canonical_constant(shortint, a, &shortint.generate_lookup_table(|_| 0)),
            None => trivial_zero(shortint),
        };
        return RadixCiphertext::from(vec![block; COUNT_BITS / 2]);
    };
    // Carries are empty after tfhe's full propagation.
    let canonical = shortint.generate_lookup_table(|x| x % 4);
    sum.blocks_mut().par_iter_mut().for_each(|block| {
        assert!(block.degree.get() < 4, "count block with pending carries");
        if let Some(value) = trivial_value(shortint, block) {
            match anchor {
                Some(anchor) => {
                    *block = canonical_constant(
                        shortint,
                        anchor,
                        &shortint.generate_lookup_table(move |_| value),
                    )
                }
                None => {
                    block.degree = Degree::new(3);
                    block.set_noise_level_to_nominal();
                }
            }
        } else if block.degree.get() != 3 || block.noise_level() != NoiseLevel::NOMINAL {
            pbs::apply_assign(shortint, block, &canonical);
        }
    });
    sum
}

/// Items weighed per batch by [`weighted_sum`]: bounds its memory (a 16-block radix each).
const WEIGHT_BATCH: usize = 256;

/// Encrypted `Σ weight × boolean` where any number of the booleans may be true (a general sum,
/// unlike [`OneHotCounter`]). Each boolean becomes a radix whose 2-bit blocks are the base-4
/// digits of its weight times the boolean (digit 1: the boolean itself; 2 or 3: one PBS), and
/// tfhe sums them. `anchor` (any genuinely encrypted block) makes the zero of an empty sum.
pub fn weighted_sum(
    sks: &tfhe::integer::ServerKey,
    items: &[(Ciphertext, u64)],
    anchor: &Ciphertext,
) -> RadixCiphertext {
    let shortint: &ServerKey = sks.as_ref();
    let blocks = COUNT_BITS / 2;
    let times = [2u64, 3].map(|d| shortint.generate_lookup_table(move |x| (x & 1) * d));
    let zero = shortint.create_trivial(0);
    let partials: Vec<RadixCiphertext> = items
        .chunks(WEIGHT_BATCH)
        .map(|batch| {
            let radixes: Vec<RadixCiphertext> = batch
                .par_iter()
                .map(|(boolean, weight)| {
                    assert!(
                        *weight < (1u64 << COUNT_BITS),
                        "weight exceeds the count width"
                    );
                    let digits = (0..blocks).map(|j| match weight >> (2 * j) & 3 {
                        0 => zero.clone(),
                        1 => boolean.clone(),
                        d => pbs::apply(shortint, boolean, &times[d as usize - 2]),
                    });
                    RadixCiphertext::from(digits.collect::<Vec<_>>())
                })
                .collect();
            sum_counts(sks, &radixes, Some(anchor))
        })
        .collect();
    if partials.len() == 1 {
        return partials.into_iter().next().unwrap();
    }
    sum_counts(sks, &partials, Some(anchor))
}
