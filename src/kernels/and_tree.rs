//! AND / OR of many encrypted booleans: sum up to [`MAX_NOISE_LEVEL`] of them (the noise
//! budget), then one PBS tests `sum == count` (AND) or `sum != 0` (OR). 128 inputs cost 32 PBS,
//! 64 inputs 16, 16 inputs 4.

use tfhe::shortint::server_key::LookupTableOwned;
use tfhe::shortint::{Ciphertext, ServerKey};

use crate::kernels::pbs;
use crate::params::MAX_NOISE_LEVEL;

/// Lookup tables `x == n` for n = 1..=MAX_NOISE_LEVEL, built once per kernel call.
pub struct AndLuts {
    all_set: Vec<LookupTableOwned>,
}

impl AndLuts {
    /// Build the tables for `sks`.
    pub fn new(sks: &ServerKey) -> AndLuts {
        let all_set = (1..=MAX_NOISE_LEVEL as u64)
            .map(|n| sks.generate_lookup_table(move |x| u64::from(x == n)))
            .collect();
        AndLuts { all_set }
    }
}

/// Encrypted AND of `inputs` (fresh booleans, noise level 1 each). Each level sums full
/// groups of [`MAX_NOISE_LEVEL`] and carries the remainder up unchanged, which reaches the
/// minimum of ⌈(n-1)/4⌉ PBS. Sequential: callers parallelise across independent ANDs.
pub fn and_all(sks: &ServerKey, luts: &AndLuts, inputs: &[&Ciphertext]) -> Ciphertext {
    tree(sks, inputs, &|n| &luts.all_set[n - 1])
}

/// Encrypted OR of `inputs` (fresh booleans), with `any` = [`any_lut`]: same shape and cost
/// as [`and_all`].
pub fn or_all(sks: &ServerKey, any: &LookupTableOwned, inputs: &[&Ciphertext]) -> Ciphertext {
    tree(sks, inputs, &|_| any)
}

/// The OR table `x → (x != 0)` (the counters' refresh table).
pub use super::counter::refresh_lut as any_lut;

/// Reduce `inputs` in groups of up to [`MAX_NOISE_LEVEL`]; `lut(n)` tests a group of `n`.
fn tree<'l>(
    sks: &ServerKey,
    inputs: &[&Ciphertext],
    lut: &dyn Fn(usize) -> &'l LookupTableOwned,
) -> Ciphertext {
    assert!(!inputs.is_empty(), "boolean tree of nothing");
    if inputs.len() == 1 {
        return inputs[0].clone();
    }
    if inputs.len() <= MAX_NOISE_LEVEL {
        return group(sks, lut, inputs);
    }
    let full = inputs.len() / MAX_NOISE_LEVEL * MAX_NOISE_LEVEL;
    let mut next: Vec<Ciphertext> = inputs[..full]
        .chunks(MAX_NOISE_LEVEL)
        .map(|g| group(sks, lut, g))
        .collect();
    next.extend(inputs[full..].iter().map(|c| (*c).clone()));
    let refs: Vec<&Ciphertext> = next.iter().collect();
    tree(sks, &refs, lut)
}

fn group<'l>(
    sks: &ServerKey,
    lut: &dyn Fn(usize) -> &'l LookupTableOwned,
    inputs: &[&Ciphertext],
) -> Ciphertext {
    let mut sum = inputs[0].clone();
    for ct in &inputs[1..] {
        sks.unchecked_add_assign(&mut sum, ct);
    }
    pbs::apply(sks, &sum, lut(inputs.len()))
}

/// Number of PBS [`and_all`] (or [`or_all`]) spends on `n` inputs.
pub fn and_cost(n: usize) -> usize {
    if n <= 1 {
        0
    } else if n <= MAX_NOISE_LEVEL {
        1
    } else {
        let groups = n / MAX_NOISE_LEVEL;
        groups + and_cost(groups + n % MAX_NOISE_LEVEL)
    }
}

#[cfg(test)]
mod tests {
    use super::and_cost;

    #[test]
    fn costs_match_the_design() {
        assert_eq!(and_cost(128), 32);
        assert_eq!(and_cost(64), 16);
        assert_eq!(and_cost(32), 8);
        assert_eq!(and_cost(16), 4);
        assert_eq!(and_cost(1), 0);
        for n in 2..300 {
            assert_eq!(and_cost(n), (n - 1).div_ceil(4), "n = {n}");
        }
    }
}
