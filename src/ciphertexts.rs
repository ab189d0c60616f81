//! Reading and writing the ciphertext kinds (value, cell, match, count), each checked against
//! the pinned parameters on the way in.

use tfhe::conformance::ListSizeConstraint;
use tfhe::integer::RadixCiphertext;
use tfhe::prelude::*;
use tfhe::shortint::Ciphertext;
use tfhe::{
    CompactCiphertextList, CompactCiphertextListConformanceParams, CompressedFheUint256,
    CompressedFheUint256ConformanceParams, FheUint256, FheUint32, FheUint32ConformanceParams,
    FheUint32Id, ReRandomizationMetadata, Tag,
};

use crate::envelope::{self, KeyId, Kind};
use crate::error::{Error, Result};
use crate::keys::ServerKey;
use crate::params;
use crate::set::SetId;
use tfhe::integer::IntegerCiphertext;

/// Number of blocks of an encrypted count.
pub const COUNT_BLOCKS: usize = params::COUNT_BITS / params::BLOCK_BITS;

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

/// Read one encrypted cell (made with the public key) and expand it with the server key.
pub fn cell_radix(bytes: &[u8], key: &ServerKey) -> Result<RadixCiphertext> {
    let conformance = CompactCiphertextListConformanceParams::from_parameters_and_size_constraint(
        params::PKE,
        ListSizeConstraint::exact_size(1),
    );
    let (id, list): (KeyId, CompactCiphertextList) = envelope::unseal(
        bytes,
        Kind::Cell,
        params::MAX_CIPHERTEXT_BYTES,
        &conformance,
    )?;
    check_key(id, key.id(), Kind::Cell)?;
    let expander = list
        .expand_with_key(key.high_level())
        .map_err(|e| Error::Format(format!("cannot expand encrypted cell: {e}")))?;
    let value: FheUint256 = expander
        .get(0)
        .map_err(|e| Error::Format(format!("encrypted cell does not hold a 256-bit value: {e}")))?
        .ok_or_else(|| Error::Format("encrypted cell is empty".into()))?;
    Ok(value.into_raw_parts().0)
}

/// Fail unless an object of `kind` made under `found` may be used with key `expected`.
pub fn check_key(found: KeyId, expected: KeyId, kind: Kind) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::WrongKey(format!(
            "{} was made under key {found}, but the operation uses key {expected}",
            kind.describe()
        )))
    }
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
    envelope::seal(Kind::Count, id, &value, params::MAX_CIPHERTEXT_BYTES * 4)
}

/// Read an encrypted count.
pub fn open_count(bytes: &[u8]) -> Result<(KeyId, FheUint32)> {
    envelope::unseal(
        bytes,
        Kind::Count,
        params::MAX_CIPHERTEXT_BYTES * 4,
        &FheUint32ConformanceParams::from(params::COMPUTE),
    )
}

/// Write per-slot counts of set `set`: `set_id[8] ‖ n u32le ‖ (len u32le ‖ count envelope) × n`.
pub fn seal_counts(id: KeyId, set: SetId, counts: &[RadixCiphertext]) -> Result<Vec<u8>> {
    let mut out = format!("iocz1 {} {id}\n", Kind::Counts.token()).into_bytes();
    out.extend_from_slice(&set);
    out.extend_from_slice(&(counts.len() as u32).to_le_bytes());
    for count in counts {
        let sealed = seal_count(id, count)?;
        out.extend_from_slice(&(sealed.len() as u32).to_le_bytes());
        out.extend_from_slice(&sealed);
    }
    Ok(out)
}

/// Read per-slot counts: the key, the set they belong to, and one count per slot.
pub fn open_counts(bytes: &[u8]) -> Result<(KeyId, SetId, Vec<FheUint32>)> {
    let (id, rest) = envelope::open(bytes, Kind::Counts)?;
    let bad = || {
        Error::Format(format!(
            "encrypted per-IOC counts (key {id}) are corrupted or truncated"
        ))
    };
    let set: SetId = rest.get(..8).ok_or_else(bad)?.try_into().unwrap();
    let n = u32::from_le_bytes(rest.get(8..12).ok_or_else(bad)?.try_into().unwrap()) as usize;
    if n > params::MAX_SET_SLOTS {
        return Err(bad());
    }
    let mut at = 12;
    let mut counts = Vec::with_capacity(n);
    for _ in 0..n {
        let len =
            u32::from_le_bytes(rest.get(at..at + 4).ok_or_else(bad)?.try_into().unwrap()) as usize;
        let item = rest.get(at + 4..at + 4 + len).ok_or_else(bad)?;
        let (found, count) = open_count(item)?;
        check_key(found, id, Kind::Count)?;
        counts.push(count);
        at += 4 + len;
    }
    if at != rest.len() {
        return Err(bad());
    }
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
