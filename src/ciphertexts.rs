//! Reading and writing the ciphertext kinds (value, cell, match, count), each checked against
//! the pinned parameters on the way in.

use tfhe::conformance::ListSizeConstraint;
use tfhe::integer::{IntegerCiphertext, RadixCiphertext};
use tfhe::shortint::Ciphertext;
use tfhe::{
    CompactCiphertextList, CompactCiphertextListConformanceParams, CompressedFheUint256,
    CompressedFheUint256ConformanceParams, FheUint256, FheUint32, FheUint32ConformanceParams,
    FheUint32Id, ReRandomizationMetadata, Tag,
};

use crate::error::Result;
use crate::kernels::counter;
use crate::params::{self, COUNT_BLOCKS};
use crate::wire::envelope::{self, check_key, Kind};
use crate::wire::ids::{KeyId, SetId};
use crate::wire::reader::Reader;

/// Largest encrypted count accepted (an uncompressed `FheUint32`).
pub const MAX_COUNT_BYTES: u64 = params::MAX_CIPHERTEXT_BYTES * 4;

/// Read an encrypted value (made with the client key), still compressed.
pub fn open_value(bytes: &[u8]) -> Result<(KeyId, FheUint256)> {
    let (id, ct): (KeyId, CompressedFheUint256) = envelope::unseal(
        bytes,
        Kind::Value,
        params::MAX_CIPHERTEXT_BYTES,
        &CompressedFheUint256ConformanceParams::from(params::COMPUTE),
    )?;
    Ok((id, ct.decompress()))
}

/// Read an encrypted value as the 128-block radix ciphertext kernels work on.
pub fn value_radix(bytes: &[u8]) -> Result<(KeyId, RadixCiphertext)> {
    let (id, ct) = open_value(bytes)?;
    Ok((id, ct.into_raw_parts().0))
}

/// Read one encrypted cell (made with the public key): a compact list of one 256-bit value,
/// still to be expanded with the server key ([`crate::keys::ServerKey::expand_cell`]).
pub fn open_cell(bytes: &[u8]) -> Result<(KeyId, CompactCiphertextList)> {
    let conformance = CompactCiphertextListConformanceParams::from_parameters_and_size_constraint(
        params::PKE,
        ListSizeConstraint::exact_size(1),
    );
    envelope::unseal(
        bytes,
        Kind::Cell,
        params::MAX_CIPHERTEXT_BYTES,
        &conformance,
    )
}

/// Write one encrypted comparison result.
pub fn seal_match(id: KeyId, ct: &Ciphertext) -> Result<Vec<u8>> {
    envelope::seal(Kind::Match, id, ct, params::MAX_CIPHERTEXT_BYTES)
}

/// Read one encrypted comparison result (a boolean block: degree 1, nominal noise).
pub fn open_match(bytes: &[u8]) -> Result<(KeyId, Ciphertext)> {
    let mut conformance = params::COMPUTE.to_shortint_conformance_param();
    conformance.degree = tfhe::shortint::ciphertext::Degree::new(1);
    envelope::unseal(
        bytes,
        Kind::Match,
        params::MAX_CIPHERTEXT_BYTES,
        &conformance,
    )
}

/// Write an encrypted count (a `COUNT_BLOCKS`-block radix ciphertext) as tfhe's `FheUint32`.
pub fn seal_count(id: KeyId, ct: &RadixCiphertext) -> Result<Vec<u8>> {
    debug_assert_eq!(ct.blocks().len(), COUNT_BLOCKS);
    let mut tag = Tag::default();
    tag.set_data(&id.0);
    let value = FheUint32::from_raw_parts(
        ct.clone(),
        FheUint32Id,
        tag,
        ReRandomizationMetadata::new(&[]),
    );
    envelope::seal(Kind::Count, id, &value, MAX_COUNT_BYTES)
}

/// Read an encrypted count.
pub fn open_count(bytes: &[u8]) -> Result<(KeyId, FheUint32)> {
    envelope::unseal(
        bytes,
        Kind::Count,
        MAX_COUNT_BYTES,
        &FheUint32ConformanceParams::from(params::COMPUTE),
    )
}

/// Write per-slot counts of set `set`: `set_id[8] ‖ n u32le ‖ (len u32le ‖ count envelope) × n`.
/// A count whose blocks are all trivial zeros (a partial count no value of a group reached) is
/// written as length 0: grouped partial counts stay small where groups are sparse.
pub fn seal_counts(id: KeyId, set: SetId, counts: &[RadixCiphertext]) -> Result<Vec<u8>> {
    seal_count_list(Kind::Counts, id, set, counts)
}

/// Write per-bin lookup counts whose blocks the gate already released (same layout as
/// [`seal_counts`], kind `gated-counts`): [`crate::combine`] merges partitions of them and
/// compresses them without another refresh.
pub fn seal_gated(id: KeyId, set: SetId, counts: &[RadixCiphertext]) -> Result<Vec<u8>> {
    seal_count_list(Kind::Gated, id, set, counts)
}

fn seal_count_list(
    kind: Kind,
    id: KeyId,
    set: SetId,
    counts: &[RadixCiphertext],
) -> Result<Vec<u8>> {
    let mut out = envelope::header(kind, id);
    out.extend_from_slice(&set);
    out.extend_from_slice(&(counts.len() as u32).to_le_bytes());
    for count in counts {
        if count.blocks().iter().all(counter::is_trivial_zero) {
            out.extend_from_slice(&0u32.to_le_bytes());
            continue;
        }
        let sealed = seal_count(id, count)?;
        out.extend_from_slice(&(sealed.len() as u32).to_le_bytes());
        out.extend_from_slice(&sealed);
    }
    Ok(out)
}

/// Read per-slot counts: the key, the set they belong to, and one count per slot (None: a
/// trivial zero, see [`seal_counts`]).
pub fn open_counts(bytes: &[u8]) -> Result<(KeyId, SetId, Vec<Option<FheUint32>>)> {
    open_count_list(bytes, Kind::Counts)
}

/// Read gated per-bin lookup counts (see [`seal_gated`]).
pub fn open_gated(bytes: &[u8]) -> Result<(KeyId, SetId, Vec<Option<FheUint32>>)> {
    open_count_list(bytes, Kind::Gated)
}

fn open_count_list(bytes: &[u8], kind: Kind) -> Result<(KeyId, SetId, Vec<Option<FheUint32>>)> {
    let (id, rest) = envelope::open(bytes, kind)?;
    let what = format!("encrypted per-IOC counts (key {id})");
    let mut r = Reader::new(rest, &what);
    let set: SetId = r.array()?;
    let n = r.u32()? as usize;
    if n > params::MAX_SET_SLOTS {
        return Err(r.corrupted("more counts than a set has slots"));
    }
    let mut counts = Vec::with_capacity(n);
    for _ in 0..n {
        let sealed = r.prefixed(MAX_COUNT_BYTES)?;
        if sealed.is_empty() {
            counts.push(None);
            continue;
        }
        let (found, count) = open_count(sealed)?;
        check_key(found, id, Kind::Count)?;
        counts.push(Some(count));
    }
    r.finish()?;
    Ok((id, set, counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfhe::shortint::parameters::v1_7::V1_7_PARAM_MESSAGE_1_CARRY_1_KS_PBS_TUNIFORM_2M128;

    /// A ciphertext made with another (even secure) parameter set is refused on load.
    #[test]
    fn ciphertext_of_other_parameters_is_refused() {
        let (ck, _) = tfhe::shortint::gen_keys(V1_7_PARAM_MESSAGE_1_CARRY_1_KS_PBS_TUNIFORM_2M128);
        let foreign = ck.encrypt(1);
        let sealed = seal_match(KeyId([7; 8]), &foreign).unwrap();
        let e = open_match(&sealed).unwrap_err();
        assert!(
            e.to_string().contains("not made with iocz's parameters"),
            "{e}"
        );
    }
}
