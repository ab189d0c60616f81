//! Hex hash types (SHA-256, SHA-1, MD5, imphash, raw u256): lower-cased, whitespace trimmed,
//! exact length. SHA-256 and u256 are their own digest; the others are tagged digests of their
//! raw bytes. An all-zero imphash means "no imphash" (Sysmon writes it for files without an
//! import table): it is refused as an IOC and never matches in logs.

use super::{tagged_digest, CanonicalIoc, IocType};
use crate::digest::Digest;
use crate::error::{Error, Result};

/// Raw length in bytes of a hash type.
fn byte_len(t: IocType) -> usize {
    t.hash_bytes()
        .unwrap_or_else(|| unreachable!("{} is not a hash type", t.name()))
}

/// Parse the hex text of a hash of type `t` into its raw bytes.
fn parse_hex(t: IocType, text: &str) -> Result<Vec<u8>> {
    let n = byte_len(t);
    let trimmed = text.trim();
    let what = || format!("expected {} hex digits (a {} value)", 2 * n, t.name());
    if trimmed.len() != 2 * n {
        return Err(Error::InvalidInput(format!(
            "{}, got {} characters",
            what(),
            trimmed.chars().count()
        )));
    }
    hex::decode(trimmed)
        .map_err(|_| Error::InvalidInput(format!("{}, found a non-hex character", what())))
}

/// The digest of raw hash bytes, or None for the all-zero imphash ("no imphash").
fn digest_of(t: IocType, bytes: &[u8]) -> Result<Option<Digest>> {
    let n = byte_len(t);
    if bytes.len() != n {
        return Err(Error::InvalidInput(format!(
            "expected {n} bytes (a {} value), got {}",
            t.name(),
            bytes.len()
        )));
    }
    Ok(match t {
        IocType::U256 | IocType::Sha256 => Some(Digest::from_bytes(bytes)?),
        IocType::Imphash if bytes.iter().all(|b| *b == 0) => None,
        _ => Some(tagged_digest(t.name().as_bytes(), bytes)),
    })
}

fn canonical(t: IocType, bytes: &[u8]) -> Result<CanonicalIoc> {
    let digest = digest_of(t, bytes)?.ok_or_else(|| {
        Error::InvalidInput(
            "an all-zero imphash means \"no imphash\" in Sysmon logs and cannot be an IOC".into(),
        )
    })?;
    Ok(CanonicalIoc {
        digest,
        text: hex::encode(bytes),
        length: None,
    })
}

/// Canonical IOC from hex text.
pub fn canonical_ioc(t: IocType, text: &str) -> Result<CanonicalIoc> {
    canonical(t, &parse_hex(t, text)?)
}

/// Canonical IOC from raw bytes.
pub fn canonical_ioc_bytes(t: IocType, bytes: &[u8]) -> Result<CanonicalIoc> {
    if !t.is_hash() {
        return Err(Error::InvalidInput(format!(
            "{} IOCs are text, not bytes",
            t.name()
        )));
    }
    canonical(t, bytes)
}

/// Digest of a log value in hex (None: the all-zero imphash).
pub fn log_digest(t: IocType, text: &str) -> Result<Option<Digest>> {
    digest_of(t, &parse_hex(t, text)?)
}

/// Digest of a raw-bytes log value (None: the all-zero imphash).
pub fn log_digest_bytes(t: IocType, bytes: &[u8]) -> Result<Option<Digest>> {
    if !t.is_hash() {
        return Err(Error::InvalidInput(format!(
            "a Binary column cannot be matched against {} IOCs; use a String column",
            t.name()
        )));
    }
    digest_of(t, bytes)
}
