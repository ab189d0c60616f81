//! The iocz wire envelope: a short readable header naming the object kind and the key it
//! belongs to, followed by tfhe's versioned safe serialization of the payload.
//!
//! ```text
//! iocz1 <kind> <16 hex digits of key fingerprint>\n<tfhe safe-serialized payload>
//! ```
//! The header makes every encrypted cell, value and count self-describing (a Polars frame shows
//! `b"iocz1 count 3f2a…"` instead of opaque bytes) and lets iocz refuse mixed keys with a clear error.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tfhe::conformance::ParameterSetConformant;
use tfhe::named::Named;
use tfhe::prelude::Tagged;
use tfhe::safe_serialization::{
    safe_deserialize_conformant, safe_serialize, DeserializationConfig,
};
use tfhe::Unversionize;
use tfhe::Versionize;

use crate::error::{Error, Result};
use crate::wire::ids::KeyId;

const MAGIC: &str = "iocz1";
/// Longest header accepted: magic, kind, fingerprint, separators.
const MAX_HEADER: usize = 64;

/// The kinds of object iocz reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The agency's secret key.
    ClientKey,
    /// The evaluation key (compressed on disk).
    ServerKey,
    /// The compact public key.
    PublicKey,
    /// A 256-bit value encrypted with the client key (seeded, compressed).
    Value,
    /// A 256-bit value encrypted with the public key (one compact list per cell).
    Cell,
    /// An encrypted boolean: the result of one encrypted comparison.
    Match,
    /// An encrypted count.
    Count,
    /// An encrypted, cuckoo-hashed IOC set.
    Set,
    /// Encrypted per-IOC counts of one set.
    Counts,
    /// Released counts: per-IOC counts and their total, refreshed and list-compressed.
    Released,
    /// A lookup query: GGSW-encrypted positions and tags of a set's IOCs.
    Lookup,
    /// Per-bin counts of the lookup kernel: released blocks (re-randomised and bootstrapped
    /// by the gate), not yet compressed.
    Gated,
}

impl Kind {
    /// The header token of this kind.
    pub fn token(self) -> &'static str {
        match self {
            Kind::ClientKey => "client-key",
            Kind::ServerKey => "server-key",
            Kind::PublicKey => "public-key",
            Kind::Value => "value",
            Kind::Cell => "cell",
            Kind::Match => "match",
            Kind::Count => "count",
            Kind::Set => "set",
            Kind::Counts => "counts",
            Kind::Released => "released",
            Kind::Lookup => "lookup",
            Kind::Gated => "gated-counts",
        }
    }

    /// A phrase for error messages ("an encrypted count").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::ClientKey => "a client key",
            Kind::ServerKey => "a server key",
            Kind::PublicKey => "a public key",
            Kind::Value => "an encrypted value",
            Kind::Cell => "an encrypted cell",
            Kind::Match => "an encrypted match boolean",
            Kind::Count => "an encrypted count",
            Kind::Set => "an encrypted IOC set",
            Kind::Counts => "encrypted per-IOC counts",
            Kind::Released => "released (compressed) counts",
            Kind::Lookup => "a lookup query",
            Kind::Gated => "gated per-bin lookup counts",
        }
    }

    fn from_token(token: &str) -> Option<Kind> {
        [
            Kind::ClientKey,
            Kind::ServerKey,
            Kind::PublicKey,
            Kind::Value,
            Kind::Cell,
            Kind::Match,
            Kind::Count,
            Kind::Set,
            Kind::Counts,
            Kind::Released,
            Kind::Lookup,
            Kind::Gated,
        ]
        .into_iter()
        .find(|k| k.token() == token)
    }
}

/// The parsed header of an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the payload is.
    pub kind: Kind,
    /// The key it belongs to.
    pub key: KeyId,
}

/// Read the header of `bytes` without touching the payload.
pub fn peek(bytes: &[u8]) -> Result<(Header, &[u8])> {
    let end = bytes
        .iter()
        .take(MAX_HEADER)
        .position(|&b| b == b'\n')
        .ok_or_else(|| Error::Format("not an iocz object (no iocz1 header)".into()))?;
    let header = std::str::from_utf8(&bytes[..end])
        .map_err(|_| Error::Format("not an iocz object (header is not text)".into()))?;
    let mut parts = header.split(' ');
    let (Some(MAGIC), Some(kind), Some(key), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Format(format!(
            "not an iocz object or an unsupported version (header {header:?})"
        )));
    };
    let kind = Kind::from_token(kind)
        .ok_or_else(|| Error::Format(format!("unknown iocz object kind {kind:?}")))?;
    Ok((
        Header {
            kind,
            key: KeyId::parse(key)?,
        },
        &bytes[end + 1..],
    ))
}

/// Check that `bytes` holds an object of kind `expected` and return its key id and payload.
pub fn open(bytes: &[u8], expected: Kind) -> Result<(KeyId, &[u8])> {
    let (header, payload) = peek(bytes)?;
    if header.kind != expected {
        return Err(Error::Format(format!(
            "expected {}, found {}",
            expected.describe(),
            header.kind.describe()
        )));
    }
    Ok((header.key, payload))
}

/// The header line `iocz1 <kind> <key>\n` that starts every object: the one place it is written.
pub fn header(kind: Kind, key: KeyId) -> Vec<u8> {
    format!("{MAGIC} {} {key}\n", kind.token()).into_bytes()
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

/// Serialize `value` with tfhe's safe serialization under a header.
pub fn seal<T: Serialize + Versionize + Named>(
    kind: Kind,
    key: KeyId,
    value: &T,
    limit: u64,
) -> Result<Vec<u8>> {
    let mut out = header(kind, key);
    safe_serialize(value, &mut out, limit)
        .map_err(|e| Error::Format(format!("cannot serialize {}: {e}", kind.describe())))?;
    Ok(out)
}

/// Deserialize the payload of an envelope of kind `kind` with a size limit and a conformance
/// check against `params`.
pub fn unseal<T>(
    bytes: &[u8],
    kind: Kind,
    limit: u64,
    params: &T::ParameterSet,
) -> Result<(KeyId, T)>
where
    T: DeserializeOwned + Unversionize + Named + ParameterSetConformant,
{
    let (key, payload) = open(bytes, kind)?;
    let value = safe_deserialize_conformant(payload, limit, params).map_err(|e| {
        Error::Format(format!(
            "{} (key {key}) is corrupted, too large or not made with iocz's parameters: {e}",
            kind.describe()
        ))
    })?;
    Ok((key, value))
}

/// Deserialize the key in an envelope of kind `kind` with a size limit, and check that the
/// key's own tag is the header's key id. Not checked against the pinned parameters: each key
/// kind does that its own way after loading.
pub fn unseal_key<T>(bytes: &[u8], kind: Kind, limit: u64) -> Result<(KeyId, T)>
where
    T: DeserializeOwned + Unversionize + Named + Tagged,
{
    let (key, payload) = open(bytes, kind)?;
    let value: T = DeserializationConfig::new(limit)
        .disable_conformance()
        .deserialize_from(payload)
        .map_err(|e| {
            Error::Format(format!(
                "{} (key {key}) is corrupted or too large: {e}",
                kind.describe()
            ))
        })?;
    if value.tag().data() != key.0 {
        return Err(Error::Format(format!(
            "{} (key {key}): header and key tag disagree",
            kind.describe()
        )));
    }
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_errors() {
        let key = KeyId([1, 2, 3, 4, 5, 6, 7, 8]);
        let bytes = format!("iocz1 count {key}\nPAYLOAD").into_bytes();
        let (h, payload) = peek(&bytes).unwrap();
        assert_eq!(
            h,
            Header {
                kind: Kind::Count,
                key
            }
        );
        assert_eq!(payload, b"PAYLOAD");
        assert!(open(&bytes, Kind::Value)
            .unwrap_err()
            .to_string()
            .contains("expected an encrypted value"));
        assert!(peek(b"garbage").is_err());
        assert!(peek(b"iocz2 count 0102030405060708\n").is_err());
        assert!(peek(b"iocz1 bogus 0102030405060708\n").is_err());
        assert!(peek(b"iocz1 count zz\n").is_err());
    }
}
