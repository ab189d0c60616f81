//! Every bootstrap of the kernels, stoppable: once a stop was asked
//! ([`crate::interrupt::stopped`]) a bootstrap is skipped and its input comes back with the
//! output's degree and noise level, so the kernel runs to its end in moments without tripping
//! tfhe's checks; [`crate::interrupt::run`] then discards the result. Whatever outlives a call
//! (the selector cache) must not keep anything built while [`crate::interrupt::stopped`].

use tfhe::shortint::server_key::{LookupTableOwned, ManyLookupTableOwned};
use tfhe::shortint::{Ciphertext, ServerKey};

use crate::interrupt::stopped;

/// `sks.apply_lookup_table(ct, lut)`.
pub fn apply(sks: &ServerKey, ct: &Ciphertext, lut: &LookupTableOwned) -> Ciphertext {
    let mut out = ct.clone();
    apply_assign(sks, &mut out, lut);
    out
}

/// `sks.apply_lookup_table_assign(ct, lut)`.
pub fn apply_assign(sks: &ServerKey, ct: &mut Ciphertext, lut: &LookupTableOwned) {
    if stopped() {
        ct.degree = lut.degree;
        ct.set_noise_level_to_nominal();
    } else {
        sks.apply_lookup_table_assign(ct, lut);
    }
}

/// `sks.apply_many_lookup_table(ct, lut)`.
pub fn apply_many(sks: &ServerKey, ct: &Ciphertext, lut: &ManyLookupTableOwned) -> Vec<Ciphertext> {
    if !stopped() {
        return sks.apply_many_lookup_table(ct, lut);
    }
    lut.per_function_output_degree
        .iter()
        .map(|&degree| {
            let mut out = ct.clone();
            out.degree = degree;
            out.set_noise_level_to_nominal();
            out
        })
        .collect()
}
