//! Released counts: what leaves the company. The per-IOC counts of one (set, column, group) and
//! their total, each already re-randomised and refreshed ([`crate::kernels::release`]), packed
//! into one tfhe list compression (256 blocks per GLWE, 12-bit storage) under the pinned
//! compression parameters. The agency decrypts the packed GLWEs directly with its compression
//! secret key (part of its client key): no bootstrap, so even thousands of counts per group
//! decrypt in milliseconds (tfhe's own decompression costs one PBS per block; a test checks
//! both give the same counts).

use serde::{Deserialize, Serialize};
use tfhe::conformance::ParameterSetConformant;
use tfhe::core_crypto::entities::compressed_modulus_switched_glwe_ciphertext::CompressedModulusSwitchedGlweCiphertext;
use tfhe::core_crypto::prelude::{
    decrypt_glwe_ciphertext, GlweCiphertextConformanceParams, GlweSecretKeyOwned, PlaintextCount,
    PlaintextList,
};
use tfhe::integer::{IntegerCiphertext, RadixCiphertext};
use tfhe::named::Named;
use tfhe::shortint::ciphertext::{CompressedCiphertextList, Degree};
use tfhe::shortint::list_compression::CompressionKey;
use tfhe::shortint::parameters::{CompressedCiphertextConformanceParams, NoiseLevel};
use tfhe::shortint::Ciphertext;
use tfhe_versionable::{Upgrade, Version, Versionize, VersionsDispatch};

use crate::error::{Error, Result};
use crate::params::{self, MAX_SET_SLOTS, RELEASE_WIDTHS};
use crate::wire::envelope::{self, Kind};
use crate::wire::ids::{KeyId, SetId};

/// Largest released-counts object accepted (a full set's slots at 32 bits is about 16 MB).
pub const MAX_RELEASED_BYTES: u64 = 32 << 20;

/// The payload of a `released` envelope.
#[derive(Clone, Serialize, Deserialize, Versionize)]
#[versionize(ReleasedCountsVersions)]
pub struct ReleasedCounts {
    /// The set the counts belong to (its 8-byte id, little-endian).
    set: u64,
    /// Width of every count, as the query declared it.
    bits: u32,
    /// Number of per-slot (or per-bin) counts (the total, if any, follows them).
    slots: u32,
    /// The counts are per lookup bin (the agency's manifest names them), not per cuckoo slot.
    per_bin: bool,
    /// No released total: every row has at most one candidate, so the rows matching any IOC
    /// are the sum of the per-IOC counts, which the agency adds after decryption.
    summed_total: bool,
    /// No released total: rows have several candidates and the company did not count the rows
    /// matching any IOC (an opt-in when it costs more than the per-IOC counts).
    uncounted_total: bool,
    /// `(slots [+ 1]) × bits / 2` blocks: slot counts in order, then the total if released.
    list: CompressedCiphertextList,
}

/// [`ReleasedCounts`] before uncounted totals.
#[derive(Version)]
#[allow(missing_docs)]
pub struct ReleasedCountsV1 {
    set: u64,
    bits: u32,
    slots: u32,
    per_bin: bool,
    summed_total: bool,
    list: CompressedCiphertextList,
}

impl Upgrade<ReleasedCounts> for ReleasedCountsV1 {
    type Error = std::convert::Infallible;

    fn upgrade(self) -> std::result::Result<ReleasedCounts, Self::Error> {
        Ok(ReleasedCounts {
            set: self.set,
            bits: self.bits,
            slots: self.slots,
            per_bin: self.per_bin,
            summed_total: self.summed_total,
            uncounted_total: false,
            list: self.list,
        })
    }
}

/// [`ReleasedCounts`] before lookup bins (always per slot, always with a total).
#[derive(Version)]
#[allow(missing_docs)]
pub struct ReleasedCountsV0 {
    set: u64,
    bits: u32,
    slots: u32,
    list: CompressedCiphertextList,
}

impl Upgrade<ReleasedCountsV1> for ReleasedCountsV0 {
    type Error = std::convert::Infallible;

    fn upgrade(self) -> std::result::Result<ReleasedCountsV1, Self::Error> {
        Ok(ReleasedCountsV1 {
            set: self.set,
            bits: self.bits,
            slots: self.slots,
            per_bin: false,
            summed_total: false,
            list: self.list,
        })
    }
}

/// Versions of [`ReleasedCounts`] (tfhe's versioned serialization).
#[derive(VersionsDispatch)]
#[allow(missing_docs)]
pub enum ReleasedCountsVersions {
    V0(ReleasedCountsV0),
    V1(ReleasedCountsV1),
    V2(ReleasedCounts),
}

impl Named for ReleasedCounts {
    const NAME: &'static str = "iocz::ReleasedCounts";
}

/// Conformance of released counts: the pinned compression parameters, a declared width, a set
/// size within limits, and exactly the blocks the header announces.
pub struct ReleasedConformance;

impl ParameterSetConformant for ReleasedCounts {
    type ParameterSet = ReleasedConformance;

    fn is_conformant(&self, _: &ReleasedConformance) -> bool {
        let c = params::COMPRESSION;
        let packed = CompressedCiphertextConformanceParams {
            ct_params: GlweCiphertextConformanceParams {
                glwe_dim: c.packing_ks_glwe_dimension(),
                polynomial_size: c.packing_ks_polynomial_size(),
                ct_modulus: params::COMPUTE.ciphertext_modulus,
            },
            lwe_per_glwe: c.lwe_per_glwe(),
            message_modulus: params::COMPUTE.message_modulus,
            carry_modulus: params::COMPUTE.carry_modulus,
            degree: Degree::new(params::COMPUTE.message_modulus.0 - 1),
            noise_level: NoiseLevel::NOMINAL,
            atomic_pattern: params::ATOMIC_PATTERN,
        };
        RELEASE_WIDTHS.contains(&(self.bits as usize))
            && self.slots as usize <= MAX_SET_SLOTS
            && self.list.len()
                == (self.slots as usize + usize::from(self.total() == TotalKind::Released))
                    * self.bits as usize
                    / 2
            && !(self.summed_total && self.uncounted_total)
            && self.list.is_conformant(&packed)
    }
}

impl ReleasedCounts {
    /// The set the counts belong to.
    pub fn set(&self) -> SetId {
        self.set.to_le_bytes()
    }

    /// Width of every count.
    pub fn bits(&self) -> usize {
        self.bits as usize
    }

    /// Number of per-slot counts.
    pub fn slots(&self) -> usize {
        self.slots as usize
    }

    /// Whether the counts are per lookup bin.
    pub fn per_bin(&self) -> bool {
        self.per_bin
    }

    /// What stands for the rows matching any IOC.
    pub fn total(&self) -> TotalKind {
        match (self.summed_total, self.uncounted_total) {
            (true, _) => TotalKind::Summed,
            (false, true) => TotalKind::Uncounted,
            (false, false) => TotalKind::Released,
        }
    }

    /// The packed GLWEs of the list. tfhe 1.7 keeps them crate-private, so they are read
    /// through its serde form (field name, not position; tfhe is pinned, and a test compares
    /// with tfhe's own decompression).
    fn packed_glwes(&self) -> Result<Vec<CompressedModulusSwitchedGlweCiphertext<u64>>> {
        let layout = |e: String| Error::Format(format!("released counts: unexpected layout ({e})"));
        let value = serde_json::to_value(&self.list).map_err(|e| layout(e.to_string()))?;
        let glwes = value
            .get("modulus_switched_glwe_ciphertext_list")
            .ok_or_else(|| layout("no packed GLWE list".into()))?;
        serde_json::from_value(glwes.clone()).map_err(|e| layout(e.to_string()))
    }

    /// Every count (slots, then the total), decrypted straight from the packed GLWEs with the
    /// agency's compression secret key: each block is a 2-bit message scaled by 4 under the
    /// padding bit (tfhe packs messages into the carry space), read by rounding.
    pub fn decrypt(&self, key: &GlweSecretKeyOwned<u64>) -> Result<Vec<u64>> {
        let mut blocks = Vec::with_capacity(self.list.len());
        for glwe in self.packed_glwes()? {
            if glwe.glwe_dimension() != key.glwe_dimension()
                || glwe.polynomial_size() != key.polynomial_size()
                || glwe.packed_integers().log_modulus() != params::COMPRESSION.storage_log_modulus()
                || glwe.bodies_count().0 > glwe.polynomial_size().0
            {
                return Err(Error::Format(
                    "released counts are not packed with iocz's compression parameters".into(),
                ));
            }
            let mut phases = PlaintextList::new(0u64, PlaintextCount(glwe.polynomial_size().0));
            decrypt_glwe_ciphertext(key, &glwe.extract(), &mut phases);
            let delta_log = 61; // 2^63 / 4: messages 0..3, one padding bit.
            blocks.extend(
                phases.as_ref()[..glwe.bodies_count().0]
                    .iter()
                    .map(|p| (p.wrapping_add(1 << (delta_log - 1)) >> delta_log) & 3),
            );
        }
        if blocks.len() != self.list.len() {
            return Err(Error::Format(
                "released counts: block count mismatch".into(),
            ));
        }
        Ok(blocks
            .chunks(self.bits() / 2)
            .map(|c| c.iter().rev().fold(0, |acc, b| acc * 4 + b))
            .collect())
    }

    /// Unpack every count's blocks with tfhe's decompression key (one PBS per block).
    #[cfg(test)]
    pub fn unpack(
        &self,
        key: &tfhe::shortint::list_compression::DecompressionKey,
    ) -> Result<Vec<Vec<Ciphertext>>> {
        use rayon::prelude::*;
        let blocks = (0..self.list.len())
            .into_par_iter()
            .map(|i| key.unpack(&self.list, i))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Format(format!("released counts cannot be unpacked: {e}")))?;
        Ok(blocks.chunks(self.bits() / 2).map(|c| c.to_vec()).collect())
    }
}

/// What stands for the rows matching any IOC in released counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotalKind {
    /// A released count follows the per-IOC counts.
    Released,
    /// None released: every row has at most one candidate, so the agency sums the per-IOC
    /// counts after decryption.
    Summed,
    /// None released: rows have several candidates and the company did not count it (opt-in).
    Uncounted,
}

/// How a list of released counts reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The counts are per lookup bin, not per cuckoo slot.
    pub per_bin: bool,
    /// Whether a total follows the counts, and if not why.
    pub total: TotalKind,
}

/// Compress released `counts` (per-slot or per-bin counts, then the total if
/// `layout.total` is [`TotalKind::Released`]; each `bits / 2` fresh blocks) of set `set` into
/// one sealed object.
pub fn seal(
    id: KeyId,
    set: SetId,
    bits: usize,
    counts: &[RadixCiphertext],
    layout: Layout,
    key: &CompressionKey,
) -> Result<Vec<u8>> {
    let total = usize::from(layout.total == TotalKind::Released);
    if counts.len() <= total || counts.iter().any(|c| c.blocks().len() != bits / 2) {
        return Err(Error::InvalidInput(format!(
            "released counts need {} blocks each{}",
            bits / 2,
            if total == 1 { " and a total" } else { "" }
        )));
    }
    let blocks: Vec<Ciphertext> = counts.iter().flat_map(|c| c.blocks().to_vec()).collect();
    let released = ReleasedCounts {
        set: u64::from_le_bytes(set),
        bits: bits as u32,
        slots: (counts.len() - total) as u32,
        per_bin: layout.per_bin,
        summed_total: layout.total == TotalKind::Summed,
        uncounted_total: layout.total == TotalKind::Uncounted,
        list: key.compress_ciphertexts_into_list(&blocks),
    };
    envelope::seal(Kind::Released, id, &released, MAX_RELEASED_BYTES)
}

/// Read released counts (size limit and conformance checked).
pub fn open(bytes: &[u8]) -> Result<(KeyId, ReleasedCounts)> {
    envelope::unseal(
        bytes,
        Kind::Released,
        MAX_RELEASED_BYTES,
        &ReleasedConformance,
    )
}
