//! GGSW ciphertexts of lookup positions, under the pinned set's GLWE secret key with the
//! bootstrapping key's decomposition (base 2^23, 1 level) and noise distribution: exactly the
//! kind of ciphertext the bootstrapping key itself is made of (THREAT_MODEL.md, "Lookup
//! queries").
//!
//! A window bit travels as a GGSW of the constant 0 or 1; the cells of an entry as one GGSW of
//! the monomial sum `Q = X^-c1 + … + X^-c4`. tfhe encrypts constants only, so `Q` is a seeded
//! GGSW of 0 whose bodies get the plaintext rows tfhe would have written for the polynomial
//! message: row `i < k` holds `factor · S_i · Q`, the last row `−factor · Q`.

use tfhe::core_crypto::algorithms::polynomial_algorithms::{
    polynomial_wrapping_monic_monomial_div, polynomial_wrapping_mul,
};
use tfhe::core_crypto::commons::math::decomposition::DecompositionLevel;
use tfhe::core_crypto::fft_impl::fft64::crypto::ggsw::FourierGgswCiphertext;
use tfhe::core_crypto::prelude::*;
use tfhe::shortint::parameters::KeySwitch32PBSParameters;

use crate::params;

/// Pinned shape of every lookup GGSW (from the compute parameters).
pub fn shape() -> KeySwitch32PBSParameters {
    params::COMPUTE
}

fn new_seeded(seeder: &mut dyn Seeder) -> SeededGgswCiphertextOwned<u64> {
    let p = shape();
    SeededGgswCiphertext::new(
        0u64,
        p.glwe_dimension.to_glwe_size(),
        p.polynomial_size,
        p.pbs_base_log,
        p.pbs_level,
        seeder.seed().into(),
        p.ciphertext_modulus,
    )
}

/// Seeded GGSW of the constant `bit` (0 or 1).
pub fn encrypt_bit(key: &GlweSecretKeyOwned<u64>, bit: u64) -> SeededGgswCiphertextOwned<u64> {
    let mut seeder = new_seeder();
    let mut out = new_seeded(seeder.as_mut());
    encrypt_constant_seeded_ggsw_ciphertext(
        key,
        &mut out,
        Cleartext(bit),
        shape().glwe_noise_distribution,
        seeder.as_mut(),
    );
    out
}

/// Seeded GGSW of the monomial sum `Σ X^-e` over `exponents` (each < N, distinct).
pub fn encrypt_monomial_sum(
    key: &GlweSecretKeyOwned<u64>,
    exponents: &[usize],
) -> SeededGgswCiphertextOwned<u64> {
    let p = shape();
    let n = p.polynomial_size;
    let mut q = Polynomial::new(0u64, n);
    for &e in exponents {
        assert!(e < n.0, "monomial degree {e} must be below N = {}", n.0);
        let mut one = Polynomial::new(0u64, n);
        one.as_mut()[0] = 1;
        let mut m = Polynomial::new(0u64, n);
        polynomial_wrapping_monic_monomial_div(&mut m, &one, MonomialDegree(e));
        q.as_mut()
            .iter_mut()
            .zip(m.as_ref())
            .for_each(|(a, b)| *a = a.wrapping_add(*b));
    }
    let mut seeder = new_seeder();
    let mut out = new_seeded(seeder.as_mut());
    encrypt_constant_seeded_ggsw_ciphertext(
        key,
        &mut out,
        Cleartext(0u64),
        p.glwe_noise_distribution,
        seeder.as_mut(),
    );
    let level_count = out.decomposition_level_count().0;
    let glwe_size = out.glwe_size().0;
    let key_polys = key.as_polynomial_list();
    let mut bodies = out.as_mut_polynomial_list();
    for (index, mut body) in bodies.iter_mut().enumerate() {
        let (matrix, row) = (index / glwe_size, index % glwe_size);
        let factor = ggsw_encryption_multiplicative_factor(
            p.ciphertext_modulus,
            DecompositionLevel(level_count - matrix),
            p.pbs_base_log,
            Cleartext(1u64),
        );
        let mut term = Polynomial::new(0u64, n);
        if row + 1 < glwe_size {
            polynomial_wrapping_mul(&mut term, &key_polys.get(row), &q);
            term.as_mut()
                .iter_mut()
                .for_each(|c| *c = c.wrapping_mul(factor));
        } else {
            term.as_mut()
                .iter_mut()
                .zip(q.as_ref())
                .for_each(|(c, x)| *c = x.wrapping_mul(factor).wrapping_neg());
        }
        body.as_mut()
            .iter_mut()
            .zip(term.as_ref())
            .for_each(|(b, t)| *b = b.wrapping_add(*t));
    }
    out
}

/// The ciphertext has the pinned shape and exactly the data that shape needs.
pub fn is_conformant(ct: &SeededGgswCiphertextOwned<u64>) -> bool {
    let p = shape();
    ct.glwe_size() == p.glwe_dimension.to_glwe_size()
        && ct.polynomial_size() == p.polynomial_size
        && ct.decomposition_base_log() == p.pbs_base_log
        && ct.decomposition_level_count() == p.pbs_level
        && ct.ciphertext_modulus() == p.ciphertext_modulus
        && ct.as_ref().len()
            == seeded_ggsw_ciphertext_size(
                p.glwe_dimension.to_glwe_size(),
                p.polynomial_size,
                p.pbs_level,
            )
}

/// Expand a (conformant) seeded GGSW and convert it to the Fourier domain for external
/// products.
pub fn to_fourier(
    ct: &SeededGgswCiphertextOwned<u64>,
) -> FourierGgswCiphertext<
    tfhe::core_crypto::fft_impl::fft64::ABox<[tfhe::core_crypto::fft_impl::fft64::c64]>,
> {
    let standard = ct.clone().decompress_into_ggsw_ciphertext();
    let mut fourier = FourierGgswCiphertext::new(
        standard.glwe_size(),
        standard.polynomial_size(),
        standard.decomposition_base_log(),
        standard.decomposition_level_count(),
    );
    convert_standard_ggsw_ciphertext_to_fourier(&standard, &mut fourier);
    fourier
}
