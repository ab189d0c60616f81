//! One-hot selectors of an encrypted 256-bit value: for every digit position and every digit
//! value `t`, an encrypted boolean `digit == t`. Computed once per encrypted IOC; equality with
//! any clear digest is then an AND over one selected boolean per digit.

use rayon::prelude::*;
use tfhe::integer::{IntegerCiphertext, RadixCiphertext};
use tfhe::shortint::{Ciphertext, ServerKey};

use super::and_tree::and_cost;
use crate::digest::Digest;
use crate::kernels::pbs;
use crate::params::DIGEST_BLOCKS;

/// Digit width of a selector table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigitBits {
    /// One digit per 2-bit block: 128 digits × 4 selectors, built with one many-LUT PBS per
    /// block (128 PBS); a comparison ANDs 128 booleans (32 PBS).
    Two,
    /// Two blocks packed per 4-bit digit: 64 digits × 16 selectors (576 PBS with two-function
    /// lookups); a comparison ANDs 64 booleans (16 PBS).
    Four,
}

impl DigitBits {
    /// Bits per digit.
    pub fn bits(self) -> usize {
        match self {
            DigitBits::Two => 2,
            DigitBits::Four => 4,
        }
    }

    /// PBS spent building a selector table of this width covering the lowest `covered_bits`.
    pub fn build_cost(self, covered_bits: usize) -> usize {
        let blocks = covered_bits / 2;
        match self {
            DigitBits::Two => blocks,
            DigitBits::Four => blocks / 2 * 9,
        }
    }

    /// PBS spent by one comparison on the lowest `compare_bits` bits.
    pub fn compare_cost(self, compare_bits: usize) -> usize {
        and_cost(compare_bits / self.bits())
    }

    /// The width that minimises build + `comparisons` comparisons.
    pub fn cheapest(comparisons: usize, compare_bits: usize) -> DigitBits {
        let total =
            |w: DigitBits| w.build_cost(compare_bits) + comparisons * w.compare_cost(compare_bits);
        if total(DigitBits::Four) < total(DigitBits::Two) {
            DigitBits::Four
        } else {
            DigitBits::Two
        }
    }
}

/// The one-hot selectors of one encrypted value (of its lowest `covered` bits).
pub struct Selectors {
    bits: DigitBits,
    covered: usize,
    /// `table[i][t]` encrypts `digit_i == t`.
    table: Vec<Vec<Ciphertext>>,
}

impl Selectors {
    /// Compute the selectors of the lowest `covered` bits (64, 128 or 256) of `value` (a
    /// 128-block radix ciphertext): enough for comparisons of up to `covered` bits.
    pub fn new(
        sks: &ServerKey,
        value: &RadixCiphertext,
        bits: DigitBits,
        covered: usize,
    ) -> Selectors {
        assert_eq!(
            value.blocks().len(),
            DIGEST_BLOCKS,
            "selectors need a 256-bit value"
        );
        assert!(
            [64, 128, 256].contains(&covered),
            "selectors cover 64, 128 or 256 bits"
        );
        let blocks = &value.blocks()[..covered / 2];
        let is = |t: u64| move |x: u64| u64::from(x == t);
        let eq_lut = {
            let fns = [is(0), is(1), is(2), is(3)];
            let refs: Vec<&dyn Fn(u64) -> u64> = fns.iter().map(|f| f as _).collect();
            sks.generate_many_lookup_table(&refs)
        };
        let table = match bits {
            DigitBits::Two => blocks
                .par_iter()
                .map(|b| pbs::apply_many(sks, b, &eq_lut))
                .collect(),
            DigitBits::Four => {
                // z = lo + 4·[hi == h] is in 0..8, so one PBS evaluates two functions of it:
                // [z == 4 + l] = [hi == h ∧ lo == l]. Per digit: 1 PBS for the four [hi == h],
                // then 2 per h: 9 PBS instead of 16 single lookups.
                let pair_luts: Vec<_> = [(4, 5), (6, 7)]
                    .into_iter()
                    .map(|(a, b)| {
                        let (fa, fb) = (is(a), is(b));
                        sks.generate_many_lookup_table(&[&fa as &dyn Fn(u64) -> u64, &fb])
                    })
                    .collect();
                blocks
                    .par_chunks(2)
                    .map(|pair| {
                        let (lo, hi) = (&pair[0], &pair[1]);
                        let hi_is = pbs::apply_many(sks, hi, &eq_lut);
                        (0..4 * pair_luts.len())
                            .into_par_iter()
                            .flat_map_iter(|job| {
                                let mut z = hi_is[job / 2].clone();
                                sks.unchecked_scalar_mul_assign(&mut z, 4);
                                sks.unchecked_add_assign(&mut z, lo);
                                pbs::apply_many(sks, &z, &pair_luts[job % 2])
                            })
                            .collect()
                    })
                    .collect()
            }
        };
        Selectors {
            bits,
            covered,
            table,
        }
    }

    /// Bits covered: comparisons may use up to this many.
    pub fn covered(&self) -> usize {
        self.covered
    }

    /// The digit width.
    pub fn bits(&self) -> DigitBits {
        self.bits
    }

    /// Number of selector ciphertexts held (memory ≈ 16 KB each).
    pub fn len(&self) -> usize {
        self.table.iter().map(Vec::len).sum()
    }

    /// Never empty (a table covers at least 64 bits).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The booleans whose AND says "the encrypted value equals `digest`" on its lowest
    /// `compare_bits` bits (256 for exact equality).
    pub fn select<'a>(&'a self, digest: &Digest, compare_bits: usize) -> Vec<&'a Ciphertext> {
        assert!(
            compare_bits <= self.covered,
            "comparison wider than the table"
        );
        let digits = compare_bits / self.bits.bits();
        (0..digits)
            .map(|i| &self.table[i][digest.digit(self.bits.bits(), i) as usize])
            .collect()
    }

    /// Any one selector: a genuinely encrypted ciphertext to derive fresh-looking zeros from.
    pub fn anchor(&self) -> &Ciphertext {
        &self.table[0][0]
    }
}
