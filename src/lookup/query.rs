//! The agency's lookup query for one set: per entry (a real IOC, or padding), the negated tag
//! nibbles in one seeded GLWE and, per candidate sub-table, a seeded GGSW of `X^-low` followed
//! by seeded GGSWs of the position bits 11..max_bits. Serialized with tfhe's versioned safe
//! serialization (size limit, conformance of every ciphertext) as envelope kind `lookup`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tfhe::conformance::ParameterSetConformant;
use tfhe::core_crypto::prelude::*;
use tfhe::named::Named;
use tfhe_versionable::{Versionize, VersionsDispatch};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::lookup::hashing::{nibble, position_of, table_hash};
use crate::lookup::{ggsw, CANDIDATES, LOW_BITS, MAX_MAX_BITS, MIN_TABLE_BITS, TAG_NIBBLES};
use crate::params::{self, MAX_SET_SLOTS};
use crate::wire::envelope::{self, Kind};
use crate::wire::ids::KeyId;

/// Largest lookup query accepted (about 2,000 IOCs at the default size).
pub const MAX_LOOKUP_BYTES: u64 = 2 << 30;

/// One looked-up IOC.
#[derive(Clone, Serialize, Deserialize, Versionize)]
#[versionize(LookupEntryVersions)]
pub struct LookupEntry {
    /// `−nibble_i(H_t) · Δ` of the IOC's table hashes at coefficient `64·t + i`.
    tag: SeededGlweCiphertextOwned<u64>,
    /// Per candidate: GGSW(X^-low), then GGSW(bit 11), …, GGSW(bit max_bits − 1).
    positions: Vec<SeededGgswCiphertextOwned<u64>>,
}

/// Versions of [`LookupEntry`].
#[derive(VersionsDispatch)]
#[allow(missing_docs)]
pub enum LookupEntryVersions {
    V0(LookupEntry),
}

/// The lookup part of a query for one set.
#[derive(Clone, Serialize, Deserialize, Versionize)]
#[versionize(LookupQueryVersions)]
pub struct LookupQuery {
    /// Public seed of the position hashes (two little-endian halves).
    seed: [u64; 2],
    /// Position bits the entries cover: the server's sub-tables may have up to 2^max_bits
    /// positions.
    max_bits: u32,
    /// The agency asked for this kernel whenever it applies (`kernel="lookup"`).
    forced: bool,
    /// One per real IOC (in manifest slot order), then padding.
    entries: Vec<LookupEntry>,
}

/// Versions of [`LookupQuery`].
#[derive(VersionsDispatch)]
#[allow(missing_docs)]
pub enum LookupQueryVersions {
    V0(LookupQuery),
}

impl Named for LookupQuery {
    const NAME: &'static str = "iocz::LookupQuery";
}

/// Conformance of a lookup query: declared size within limits and every ciphertext of the
/// pinned shape.
pub struct LookupConformance;

fn tag_conformant(tag: &SeededGlweCiphertextOwned<u64>) -> bool {
    let p = params::COMPUTE;
    tag.is_conformant(&GlweCiphertextConformanceParams {
        glwe_dim: p.glwe_dimension,
        polynomial_size: p.polynomial_size,
        ct_modulus: p.ciphertext_modulus,
    })
}

impl ParameterSetConformant for LookupQuery {
    type ParameterSet = LookupConformance;

    fn is_conformant(&self, _: &LookupConformance) -> bool {
        (MIN_TABLE_BITS..=MAX_MAX_BITS).contains(&self.max_bits)
            && !self.entries.is_empty()
            && self.entries.len() <= MAX_SET_SLOTS
            && self.entries.iter().all(|e| {
                e.positions.len() == CANDIDATES * per_candidate(self.max_bits)
                    && tag_conformant(&e.tag)
                    && e.positions.iter().all(ggsw::is_conformant)
            })
    }
}

/// GGSWs per candidate: the monomial, then one per high bit.
pub fn per_candidate(max_bits: u32) -> usize {
    1 + (max_bits - LOW_BITS) as usize
}

/// Encoding of a 4-bit value in a block (message and carry space, padding bit on top).
pub fn delta() -> u64 {
    let p = params::COMPUTE;
    (1u64 << 63) / (p.message_modulus.0 * p.carry_modulus.0)
}

impl LookupQuery {
    /// Encrypt one entry per `digest` (real IOCs in manifest slot order, then random padding)
    /// under the agency's GLWE secret key. `forced`: the agency asks for this kernel.
    pub fn encrypt(
        key: &GlweSecretKeyOwned<u64>,
        digests: &[Digest],
        max_bits: u32,
        forced: bool,
    ) -> Result<LookupQuery> {
        if !(MIN_TABLE_BITS..=MAX_MAX_BITS).contains(&max_bits) {
            return Err(Error::InvalidInput(format!(
                "lookup size must be {MIN_TABLE_BITS}..={MAX_MAX_BITS} position bits, not {max_bits}"
            )));
        }
        let seed: [u64; 2] = rand::random();
        let seed_bytes = seed_bytes(seed);
        let p = params::COMPUTE;
        let entries = digests
            .par_iter()
            .map(|d| {
                let hashes: Vec<[u8; 32]> = (0..CANDIDATES)
                    .map(|t| table_hash(&seed_bytes, t, d))
                    .collect();
                let mut plain = PlaintextList::new(0u64, PlaintextCount(p.polynomial_size.0));
                for (t, h) in hashes.iter().enumerate() {
                    for i in 0..TAG_NIBBLES {
                        plain.as_mut()[t * TAG_NIBBLES + i] =
                            (nibble(h, i) * delta()).wrapping_neg();
                    }
                }
                let mut seeder = new_seeder();
                let mut tag = SeededGlweCiphertext::new(
                    0u64,
                    p.glwe_dimension.to_glwe_size(),
                    p.polynomial_size,
                    seeder.seed().into(),
                    p.ciphertext_modulus,
                );
                encrypt_seeded_glwe_ciphertext(
                    key,
                    &mut tag,
                    &plain,
                    p.glwe_noise_distribution,
                    seeder.as_mut(),
                );
                let positions = hashes
                    .iter()
                    .flat_map(|h| {
                        let pos = position_of(h, max_bits);
                        let low = (pos & ((1 << LOW_BITS) - 1)) as usize;
                        std::iter::once(ggsw::encrypt_monomial(key, low)).chain(
                            (LOW_BITS..max_bits)
                                .map(move |b| ggsw::encrypt_bit(key, (pos >> b) & 1)),
                        )
                    })
                    .collect();
                LookupEntry { tag, positions }
            })
            .collect();
        Ok(LookupQuery {
            seed,
            max_bits,
            forced,
            entries,
        })
    }

    /// Public seed of the position hashes.
    pub fn seed(&self) -> [u8; 16] {
        seed_bytes(self.seed)
    }

    /// Position bits the entries cover.
    pub fn max_bits(&self) -> u32 {
        self.max_bits
    }

    /// Whether the agency asked for this kernel.
    pub fn forced(&self) -> bool {
        self.forced
    }

    /// Number of entries.
    pub fn entries(&self) -> usize {
        self.entries.len()
    }

    /// Entry `e`'s negated tag GLWE.
    pub fn tag(&self, e: usize) -> &SeededGlweCiphertextOwned<u64> {
        &self.entries[e].tag
    }

    /// Entry `e`'s GGSWs for candidate sub-table `t`: the monomial, then the high bits.
    pub fn candidate(&self, e: usize, t: usize) -> &[SeededGgswCiphertextOwned<u64>] {
        let n = per_candidate(self.max_bits);
        &self.entries[e].positions[t * n..(t + 1) * n]
    }

    /// Serialize (kind `lookup`, key `key`).
    pub fn seal(&self, key: KeyId) -> Result<Vec<u8>> {
        envelope::seal(Kind::Lookup, key, self, MAX_LOOKUP_BYTES)
    }

    /// Read a sealed lookup query: size limit and conformance of every ciphertext.
    pub fn open(bytes: &[u8]) -> Result<(KeyId, LookupQuery)> {
        envelope::unseal(bytes, Kind::Lookup, MAX_LOOKUP_BYTES, &LookupConformance)
    }
}

fn seed_bytes(seed: [u64; 2]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&seed[0].to_le_bytes());
    out[8..].copy_from_slice(&seed[1].to_le_bytes());
    out
}
