//! The agency's lookup query for one set: its IOCs cuckoo-hashed into public bins (one entry
//! per bin, random dummies in empty bins); per entry one seeded GGSW of the monomial sum of its
//! four cell positions and one seeded GGSW per window bit; the negated tag chunks of every
//! entry packed into shared seeded GLWEs. Serialized with tfhe's versioned safe serialization
//! (size limit, conformance of every ciphertext) as envelope kind `lookup`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tfhe::conformance::ParameterSetConformant;
use tfhe::core_crypto::prelude::*;
use tfhe::named::Named;
use tfhe_versionable::{Upgrade, Version, Versionize, VersionsDispatch};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::lookup::hashing::{location, tag_chunks};
use crate::lookup::packed::PackedGgsw;
use crate::lookup::{bins, filter, ggsw};
use crate::lookup::{MAX_MAX_BITS, MAX_WINDOW_BITS, MIN_MAX_BITS, TAG_CHUNKS};
use crate::params::{self, MAX_SET_SLOTS};
use crate::wire::envelope::{self, Kind};
use crate::wire::ids::KeyId;

/// What the agency allows for a set's per-IOC counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupOptions {
    /// The query covers up to about 2^max_bits distinct company values (see
    /// [`crate::lookup::DEFAULT_MAX_BITS`]).
    pub max_bits: u32,
    /// Width of the released counts (16 or 32): the lookup's gates release them directly.
    pub count_bits: usize,
    /// Ask for the lookup kernel wherever it applies (`kernel="lookup"`), rather than letting
    /// the server choose the cheaper (`kernel="auto"`).
    pub forced: bool,
}

/// Largest lookup query accepted.
pub const MAX_LOOKUP_BYTES: u64 = 2 << 30;
/// Entries whose tag chunks share one GLWE (2048 coefficients / 52 chunks).
pub const ENTRIES_PER_TAG_GLWE: usize = 2048 / TAG_CHUNKS;
/// Encoding of a 5-bit tag chunk: the whole torus, no padding bit (2^64 / 32).
pub const TAG_DELTA: u64 = 1 << 59;
/// Encoding of a 2-bit count chunk in a cell of 8 values (2^64 / 8): members' chunks are < 4.
pub const COUNT_DELTA: u64 = 1 << 61;

/// One bin's entry (GGSW bodies rounded to 48 bits: [`PackedGgsw`]).
#[derive(Clone, Serialize, Deserialize, Versionize)]
#[versionize(LookupEntryVersions)]
pub struct LookupEntry {
    /// GGSW of `X^-c1 + X^-c2 + X^-c3 + X^-c4`, the entry's cells.
    cells: PackedGgsw,
    /// GGSW of each window bit, lowest first.
    window: Vec<PackedGgsw>,
}

/// [`LookupEntry`] with full 64-bit GGSW bodies (before packing).
#[derive(Version)]
#[allow(missing_docs)]
pub struct LookupEntryV0 {
    cells: SeededGgswCiphertextOwned<u64>,
    window: Vec<SeededGgswCiphertextOwned<u64>>,
}

impl Upgrade<LookupEntry> for LookupEntryV0 {
    type Error = std::convert::Infallible;

    fn upgrade(self) -> std::result::Result<LookupEntry, Self::Error> {
        Ok(LookupEntry {
            cells: PackedGgsw::pack(&self.cells),
            window: self.window.iter().map(PackedGgsw::pack).collect(),
        })
    }
}

/// Versions of [`LookupEntry`].
#[derive(VersionsDispatch)]
#[allow(missing_docs)]
pub enum LookupEntryVersions {
    V0(LookupEntryV0),
    V1(LookupEntry),
}

/// The lookup part of a query for one set.
#[derive(Clone, Serialize, Deserialize, Versionize)]
#[versionize(LookupQueryVersions)]
pub struct LookupQuery {
    /// Public seed of the filter hashes (two little-endian halves).
    seed: [u64; 2],
    /// The query covers up to about 2^max_bits distinct server values.
    max_bits: u32,
    /// Window bits every entry carries (the most a server bin may use).
    window_bits: u32,
    /// The agency asked for this kernel whenever it applies (`kernel="lookup"`).
    forced: bool,
    /// Width of the released counts (16 or 32 bits), as the query declares.
    count_bits: u32,
    /// One per bin.
    entries: Vec<LookupEntry>,
    /// `−chunk_i · 2^59` of entry `e` at GLWE `e / 39`, coefficient `(e % 39) · 52 + i`.
    tags: Vec<SeededGlweCiphertextOwned<u64>>,
}

/// Versions of [`LookupQuery`].
#[derive(VersionsDispatch)]
#[allow(missing_docs)]
pub enum LookupQueryVersions {
    V0(LookupQuery),
}

impl Named for LookupQuery {
    const NAME: &'static str = "iocz::FilterLookupQuery";
}

/// Conformance of a lookup query: declared size within limits and every ciphertext of the
/// pinned shape.
pub struct LookupConformance;

fn glwe_conformant(tag: &SeededGlweCiphertextOwned<u64>) -> bool {
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
        (MIN_MAX_BITS..=MAX_MAX_BITS).contains(&self.max_bits)
            && self.window_bits == window_bits_for(self.max_bits, self.entries.len())
            && params::RELEASE_WIDTHS.contains(&(self.count_bits as usize))
            && self.entries.len() >= 2
            && self.entries.len() <= MAX_SET_SLOTS
            && self.tags.len() == self.entries.len().div_ceil(ENTRIES_PER_TAG_GLWE)
            && self.tags.iter().all(glwe_conformant)
            && self.entries.iter().all(|e| {
                e.window.len() == self.window_bits as usize
                    && e.cells.is_conformant()
                    && e.window.iter().all(PackedGgsw::is_conformant)
            })
    }
}

/// Window bits a query of `bins` bins carries to cover 2^max_bits distinct values: enough
/// windows for the expected bin load (each value sits in up to [`crate::lookup::BIN_HASHES`]
/// bins) with 20 % + 64 values of margin.
pub fn window_bits_for(max_bits: u32, bins: usize) -> u32 {
    let mean = bins::bins_per_value(bins) * (1u64 << max_bits) as f64 / bins.max(1) as f64;
    filter::start_bits((1.2 * mean) as usize + 64).min(MAX_WINDOW_BITS)
}

/// Encoded chunk `−t mod 32` of a tag chunk `t`.
fn negated_tag(t: u8) -> u64 {
    (u64::from(t) * TAG_DELTA).wrapping_neg()
}

fn seeded_glwe(
    key: &GlweSecretKeyOwned<u64>,
    plain: &PlaintextListOwned<u64>,
) -> SeededGlweCiphertextOwned<u64> {
    let p = params::COMPUTE;
    let mut seeder = new_seeder();
    let mut glwe = SeededGlweCiphertext::new(
        0u64,
        p.glwe_dimension.to_glwe_size(),
        p.polynomial_size,
        seeder.seed().into(),
        p.ciphertext_modulus,
    );
    encrypt_seeded_glwe_ciphertext(
        key,
        &mut glwe,
        plain,
        p.glwe_noise_distribution,
        seeder.as_mut(),
    );
    glwe
}

impl LookupQuery {
    /// Place the distinct `digests` (real IOCs) into bins (at least enough for `pad_to`
    /// entries, hiding the real count), fill empty bins with random dummies and encrypt every
    /// entry under the agency's GLWE secret key. Returns the query and each digest's bin (the
    /// agency keeps it in its manifest to name the counts). `forced`: the agency asks for this
    /// kernel; `count_bits`: the declared width of the released counts.
    pub fn encrypt(
        key: &GlweSecretKeyOwned<u64>,
        digests: &[Digest],
        pad_to: usize,
        options: LookupOptions,
    ) -> Result<(LookupQuery, Vec<u32>)> {
        let LookupOptions {
            max_bits,
            forced,
            count_bits,
        } = options;
        if !params::RELEASE_WIDTHS.contains(&count_bits) {
            return Err(Error::InvalidInput(format!(
                "count width must be one of {:?} bits, not {count_bits}",
                params::RELEASE_WIDTHS
            )));
        }
        if !(MIN_MAX_BITS..=MAX_MAX_BITS).contains(&max_bits) {
            return Err(Error::InvalidInput(format!(
                "lookup size must be {MIN_MAX_BITS}..={MAX_MAX_BITS} bits (up to 2^bits distinct \
                 values), not {max_bits}"
            )));
        }
        let seed: [u64; 2] = rand::random();
        let seed_bytes = seed_bytes(seed);
        let mut padded = digests.to_vec();
        while padded.len() < pad_to {
            padded.push(Digest(rand::random()));
        }
        let (bin_count, occupant) = bins::place(&seed_bytes, &padded)?;
        if bin_count > MAX_SET_SLOTS {
            return Err(Error::InvalidInput(format!(
                "{} IOCs need {bin_count} lookup bins, more than the limit of {MAX_SET_SLOTS}",
                padded.len()
            )));
        }
        let mut bin_of = vec![0u32; digests.len()];
        let entry_digests: Vec<Digest> = occupant
            .iter()
            .enumerate()
            .map(|(b, o)| match o {
                Some(i) => {
                    if *i < digests.len() {
                        bin_of[*i] = b as u32;
                    }
                    padded[*i]
                }
                None => Digest(rand::random()),
            })
            .collect();
        let window_bits = window_bits_for(max_bits, bin_count);
        let entries: Vec<LookupEntry> = entry_digests
            .par_iter()
            .map(|d| {
                let l = location(&seed_bytes, d);
                let cells: Vec<usize> = l.cells.iter().map(|&c| c as usize).collect();
                LookupEntry {
                    cells: PackedGgsw::pack(&ggsw::encrypt_monomial_sum(key, &cells)),
                    window: (0..window_bits)
                        .map(|b| {
                            PackedGgsw::pack(&ggsw::encrypt_bit(
                                key,
                                u64::from((l.window >> b) & 1),
                            ))
                        })
                        .collect(),
                }
            })
            .collect();
        let p = params::COMPUTE;
        let tags = entry_digests
            .par_chunks(ENTRIES_PER_TAG_GLWE)
            .map(|chunk| {
                let mut plain = PlaintextList::new(0u64, PlaintextCount(p.polynomial_size.0));
                for (j, d) in chunk.iter().enumerate() {
                    for (i, &t) in tag_chunks(&seed_bytes, d).iter().enumerate() {
                        plain.as_mut()[j * TAG_CHUNKS + i] = negated_tag(t);
                    }
                }
                seeded_glwe(key, &plain)
            })
            .collect();
        Ok((
            LookupQuery {
                seed,
                max_bits,
                window_bits,
                forced,
                count_bits: count_bits as u32,
                entries,
                tags,
            },
            bin_of,
        ))
    }

    /// Public seed of the filter hashes.
    pub fn seed(&self) -> [u8; 16] {
        seed_bytes(self.seed)
    }

    /// The query covers up to about 2^max_bits distinct values.
    pub fn max_bits(&self) -> u32 {
        self.max_bits
    }

    /// Window bits every entry carries.
    pub fn window_bits(&self) -> u32 {
        self.window_bits
    }

    /// Whether the agency asked for this kernel.
    pub fn forced(&self) -> bool {
        self.forced
    }

    /// Declared width of the released counts.
    pub fn count_bits(&self) -> usize {
        self.count_bits as usize
    }

    /// Number of entries (= bins).
    pub fn entries(&self) -> usize {
        self.entries.len()
    }

    /// Entry `e`'s cell GGSW.
    pub fn cells(&self, e: usize) -> SeededGgswCiphertextOwned<u64> {
        self.entries[e].cells.unpack()
    }

    /// Entry `e`'s first `bits` window-bit GGSWs, lowest first.
    pub fn window(&self, e: usize, bits: usize) -> Vec<SeededGgswCiphertextOwned<u64>> {
        self.entries[e].window[..bits]
            .iter()
            .map(PackedGgsw::unpack)
            .collect()
    }

    /// The shared tag GLWE holding entry `e`'s chunks, and the coefficient of chunk 0.
    pub fn tag(&self, e: usize) -> (&SeededGlweCiphertextOwned<u64>, usize) {
        (
            &self.tags[e / ENTRIES_PER_TAG_GLWE],
            (e % ENTRIES_PER_TAG_GLWE) * TAG_CHUNKS,
        )
    }

    /// Serialize (kind `lookup`, key `key`).
    pub fn seal(&self, key: KeyId) -> Result<Vec<u8>> {
        envelope::seal(Kind::Lookup, key, self, MAX_LOOKUP_BYTES)
    }

    /// Read a sealed lookup query: size limit and conformance of every ciphertext. A lookup
    /// part of the row-table kernel (iocz before the filter kernel) is refused by name.
    pub fn open(bytes: &[u8]) -> Result<(KeyId, LookupQuery)> {
        envelope::unseal(bytes, Kind::Lookup, MAX_LOOKUP_BYTES, &LookupConformance).map_err(|e| {
            let old = b"iocz::LookupQuery";
            if bytes.windows(old.len()).any(|w| w == old) {
                Error::Format(
                    "the set's lookup part was made by an older iocz (row-table lookup kernel): \
                     the agency must make a new query"
                        .into(),
                )
            } else {
                e
            }
        })
    }
}

fn seed_bytes(seed: [u64; 2]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&seed[0].to_le_bytes());
    out[8..].copy_from_slice(&seed[1].to_le_bytes());
    out
}
