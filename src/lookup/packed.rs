//! Lookup GGSWs as they travel: the seed of their masks and their bodies rounded to the top
//! [`KEPT_BITS`] bits of each 64-bit coefficient (6 bytes instead of 8, query bytes −25 %).
//!
//! Rounding is a public function of the ciphertext (anyone holding it could compute it), so it
//! cannot weaken the encryption. It adds a uniform error of at most 2^15 per coefficient to the
//! GGSW's own noise (TUniform(17), variance ≈ 2^32.4; rounding ≈ 2^28.4, +6 %), far below the
//! decomposition error of an external product; the noise test of docs/LOOKUP.md ("Noise")
//! runs on rounded GGSWs.

use serde::{Deserialize, Serialize};
use tfhe::core_crypto::commons::math::random::CompressionSeed;
use tfhe::core_crypto::prelude::*;
use tfhe_versionable::{Versionize, VersionsDispatch};

use crate::lookup::ggsw;

/// Bits kept of each body coefficient.
pub const KEPT_BITS: u32 = 48;
const DROPPED: u32 = 64 - KEPT_BITS;
const BYTES: usize = KEPT_BITS as usize / 8;

/// A seeded GGSW of the pinned shape ([`ggsw::shape`]) with bodies rounded to [`KEPT_BITS`].
#[derive(Clone, Serialize, Deserialize, Versionize)]
#[versionize(PackedGgswVersions)]
pub struct PackedGgsw {
    /// Seed of the masks.
    seed: CompressionSeed,
    /// Body coefficients, top [`KEPT_BITS`] bits each, little-endian.
    bodies: Vec<u8>,
}

/// Versions of [`PackedGgsw`].
#[derive(VersionsDispatch)]
#[allow(missing_docs)]
pub enum PackedGgswVersions {
    V0(PackedGgsw),
}

/// Coefficients of a seeded GGSW of the pinned shape.
fn coefficients() -> usize {
    let p = ggsw::shape();
    seeded_ggsw_ciphertext_size(
        p.glwe_dimension.to_glwe_size(),
        p.polynomial_size,
        p.pbs_level,
    )
}

impl PackedGgsw {
    /// Round `ct`'s bodies (nearest, wrapping) to their top bits.
    pub fn pack(ct: &SeededGgswCiphertextOwned<u64>) -> PackedGgsw {
        let half = 1u64 << (DROPPED - 1);
        let bodies = ct
            .as_ref()
            .iter()
            .flat_map(|&c| (c.wrapping_add(half) >> DROPPED).to_le_bytes()[..BYTES].to_vec())
            .collect();
        PackedGgsw {
            seed: ct.compression_seed(),
            bodies,
        }
    }

    /// The seeded GGSW these bodies round (low bits zero).
    pub fn unpack(&self) -> SeededGgswCiphertextOwned<u64> {
        let p = ggsw::shape();
        let data = self
            .bodies
            .chunks_exact(BYTES)
            .map(|b| {
                let mut word = [0u8; 8];
                word[..BYTES].copy_from_slice(b);
                u64::from_le_bytes(word) << DROPPED
            })
            .collect();
        SeededGgswCiphertext::from_container(
            data,
            p.glwe_dimension.to_glwe_size(),
            p.polynomial_size,
            p.pbs_base_log,
            self.seed.clone(),
            p.ciphertext_modulus,
        )
    }

    /// Exactly the bytes the pinned shape needs.
    pub fn is_conformant(&self) -> bool {
        self.bodies.len() == coefficients() * BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::keys;

    #[test]
    fn rounding_moves_every_coefficient_by_at_most_half_a_step() {
        let ct = ggsw::encrypt_monomial_sum(&keys().client.glwe_secret_key(), &[0, 5, 9, 2047]);
        let packed = PackedGgsw::pack(&ct);
        assert!(packed.is_conformant());
        assert_eq!(packed.bodies.len(), ct.as_ref().len() * 6);
        let back = packed.unpack();
        assert!(ggsw::is_conformant(&back));
        assert_eq!(back.compression_seed(), ct.compression_seed());
        for (a, b) in ct.as_ref().iter().zip(back.as_ref()) {
            let d = a.wrapping_sub(*b) as i64;
            assert!(d.unsigned_abs() <= 1 << (DROPPED - 1), "{d}");
        }
        let short = PackedGgsw {
            seed: packed.seed.clone(),
            bodies: packed.bodies[1..].to_vec(),
        };
        assert!(!short.is_conformant());
    }
}
