//! Encrypted values against one encrypted value (an encrypted column): tfhe's radix equality
//! per row, then a general encrypted sum. This is the slow path (≈ 160 PBS per row); plaintext
//! columns use [`super::matching`].

use rayon::prelude::*;
use tfhe::integer::{BooleanBlock, IntegerCiphertext, RadixCiphertext, ServerKey};
use tfhe::shortint::parameters::NoiseLevel;
use tfhe::shortint::Ciphertext;

use super::counter::canonical_constant;
use crate::ciphertexts::COUNT_BLOCKS;

/// Encrypted `value == cell` for every cell.
pub fn match_encrypted(sks: &ServerKey, value: &RadixCiphertext, cells: &[RadixCiphertext]) -> Vec<Ciphertext> {
    cells.par_iter().map(|cell| sks.eq_parallelized(value, cell).into_raw_parts()).collect()
}

/// Encrypted number of true booleans. `anchor` (any genuinely encrypted block) provides a
/// non-trivial zero when `booleans` is empty.
pub fn count_booleans(sks: &ServerKey, booleans: &[Ciphertext], anchor: &Ciphertext) -> RadixCiphertext {
    let radixes: Vec<RadixCiphertext> = booleans
        .par_iter()
        .map(|b| BooleanBlock::new_unchecked(b.clone()).into_radix(COUNT_BLOCKS, sks))
        .collect();
    let shortint: &tfhe::shortint::ServerKey = sks.as_ref();
    let Some(mut sum) = sks.sum_ciphertexts_parallelized::<RadixCiphertext, _>(&radixes) else {
        let block = canonical_constant(shortint, anchor, &shortint.generate_lookup_table(|_| 0));
        return RadixCiphertext::from(vec![block; COUNT_BLOCKS]);
    };
    // Bring every block to the canonical form counts are checked against on load (degree 3,
    // nominal noise); carries are empty after tfhe's full propagation.
    let canonical = shortint.generate_lookup_table(|x| x % 4);
    // Trivial blocks (known constants) are re-derived from `anchor` so none stays recognisable.
    sum.blocks_mut().par_iter_mut().for_each(|block| {
        assert!(block.degree.get() < 4, "count block with pending carries");
        if let Ok(value) = block.decrypt_trivial() {
            *block = canonical_constant(shortint, anchor, &shortint.generate_lookup_table(move |_| value));
        } else if block.degree.get() != 3 || block.noise_level() != NoiseLevel::NOMINAL {
            shortint.apply_lookup_table_assign(block, &canonical);
        }
    });
    sum
}
