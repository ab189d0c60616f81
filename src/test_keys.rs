//! The key pair shared by every unit test of the crate: generated once per test binary.

use std::sync::OnceLock;

use crate::digest::Digest;
use crate::ioc::{CanonicalIoc, IocType, SetSpec};
use crate::keys::{ClientKey, ServerKey};
use crate::set::{EncryptedSet, Manifest};

/// A client key and its server key.
pub struct Keys {
    /// The agency's key.
    pub client: ClientKey,
    /// Its evaluation key.
    pub server: ServerKey,
}

/// The shared key pair.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let client = ClientKey::generate();
        let server = client.server_key().unwrap();
        Keys { client, server }
    })
}

/// A distinct test digest per seed.
pub fn digest(seed: u8) -> Digest {
    use sha2::{Digest as _, Sha256};
    Digest(Sha256::digest([seed]).into())
}

/// A set of `ioc_type` holding `iocs` (canonicalised), under the shared key, 2 hashes, no padding.
pub fn typed_set(ioc_type: IocType, iocs: &[&str]) -> (EncryptedSet, Manifest) {
    let spec = SetSpec::new(ioc_type, true);
    let canonical: Vec<CanonicalIoc> = iocs
        .iter()
        .map(|i| spec.canonical_ioc(i).unwrap())
        .collect();
    EncryptedSet::encrypt(&keys().client, spec, &canonical, 2, 0).unwrap()
}

/// A SHA-256 set of `iocs` (their digests) under the shared key.
pub fn sha_set(iocs: &[Digest], hashes: u8) -> crate::Result<(EncryptedSet, Manifest)> {
    let canonical: Vec<CanonicalIoc> = iocs.iter().map(|d| CanonicalIoc::sha256(*d)).collect();
    EncryptedSet::encrypt(
        &keys().client,
        SetSpec::new(IocType::Sha256, true),
        &canonical,
        hashes,
        0,
    )
}
