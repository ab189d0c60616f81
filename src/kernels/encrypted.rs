//! Encrypted values against one encrypted value (an encrypted column): tfhe's radix equality
//! per row, then a general encrypted sum. This is the slow path (≈ 160 PBS per row); plaintext
//! columns use [`super::matching`].

use rayon::prelude::*;
use tfhe::integer::prelude::ServerKeyDefaultCMux;
use tfhe::integer::{RadixCiphertext, ServerKey};
use tfhe::shortint::Ciphertext;

use super::counter::weighted_sum;
use crate::kernels::pbs;
use crate::params::COUNT_BLOCKS;

/// Encrypted `value == cell` for every cell.
pub fn match_encrypted(
    sks: &ServerKey,
    value: &RadixCiphertext,
    cells: &[RadixCiphertext],
) -> Vec<Ciphertext> {
    cells
        .par_iter()
        .map(|cell| sks.eq_parallelized(value, cell).into_raw_parts())
        .collect()
}

/// Encrypted number of true booleans. `anchor` (any genuinely encrypted block) provides a
/// non-trivial zero when `booleans` is empty.
pub fn count_booleans(
    sks: &ServerKey,
    booleans: &[Ciphertext],
    anchor: &Ciphertext,
) -> RadixCiphertext {
    let weighted: Vec<(Ciphertext, u64)> = booleans.iter().map(|b| (b.clone(), 1)).collect();
    weighted_sum(sks, &weighted, anchor)
}

/// The seed prototype's way, kept only as the benchmark baseline: every row encrypted, compared
/// encrypted-to-encrypted with `value`, and counted with `if_then_else` + addition.
pub fn prototype_count(
    sks: &ServerKey,
    value: &RadixCiphertext,
    cells: &[RadixCiphertext],
) -> RadixCiphertext {
    let one: RadixCiphertext = sks.create_trivial_radix(1u64, COUNT_BLOCKS);
    let zero: RadixCiphertext = sks.create_trivial_radix(0u64, COUNT_BLOCKS);
    let mut count = zero.clone();
    for cell in cells {
        let matched = sks.eq_parallelized(value, cell);
        let increment = sks.if_then_else_parallelized(&matched, &one, &zero);
        sks.add_assign_parallelized(&mut count, &increment);
    }
    count
}

/// Time `n` independent PBS of `block` spread over all cores (tfhe's bare throughput).
pub fn raw_pbs_seconds(sks: &ServerKey, block: &Ciphertext, n: usize) -> f64 {
    let shortint: &tfhe::shortint::ServerKey = sks.as_ref();
    let lut = shortint.generate_lookup_table(|x| x);
    let start = std::time::Instant::now();
    (0..n).into_par_iter().for_each(|_| {
        let _ = std::hint::black_box(pbs::apply(shortint, block, &lut));
    });
    start.elapsed().as_secs_f64()
}
