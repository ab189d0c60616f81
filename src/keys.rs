//! Key generation, (de)serialisation and fingerprints over the pinned parameter set.
//!
//! Every key pair gets a random 8-byte [`KeyId`] at generation; it is stored as tfhe's key tag
//! (so it travels inside tfhe's own serialized keys) and in the iocz envelope header of every
//! object made with the key.

use tfhe::core_crypto::prelude::GlweSecretKeyOwned;
use tfhe::prelude::*;
use tfhe::{
    CompactCiphertextList, CompactPublicKey, CompressedFheUint256, CompressedServerKey, FheUint32,
};

use crate::ciphertexts;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::params;
use crate::released::{self, TotalKind};
use crate::wire::envelope::{self, Kind};
use crate::wire::ids::{KeyId, SetId};

mod server_key;
pub use server_key::ServerKey;

/// The agency's secret key. Never leaves the agency.
#[derive(Clone)]
pub struct ClientKey {
    id: KeyId,
    hl: tfhe::ClientKey,
    int: tfhe::integer::ClientKey,
    /// The GLWE secret key released counts are packed under (the client key's compression
    /// private key).
    packing_key: GlweSecretKeyOwned<u64>,
}

impl ClientKey {
    /// Generate a fresh key pair under the pinned parameters.
    pub fn generate() -> ClientKey {
        let id = KeyId::random();
        let mut hl = tfhe::ClientKey::generate(params::config());
        hl.tag_mut().set_data(&id.0);
        Self::from_hl(id, hl).expect("the pinned configuration enables compression")
    }

    fn from_hl(id: KeyId, hl: tfhe::ClientKey) -> Result<ClientKey> {
        let (int, _, compression, ..) = hl.clone().into_raw_parts();
        let compression = compression.ok_or_else(|| {
            Error::Format(format!(
                "client key {id} was made by an older iocz (no result compression key): \
                 make a new key pair with `iocz keygen`"
            ))
        })?;
        let packing_key = compression.into_raw_parts().post_packing_ks_key;
        Ok(ClientKey {
            id,
            hl,
            int,
            packing_key,
        })
    }

    /// tfhe's decompression key for released counts (one PBS per block; iocz decrypts released
    /// counts directly instead, see [`released::ReleasedCounts::decrypt`]).
    #[cfg(test)]
    pub fn decompression_key(&self) -> tfhe::shortint::list_compression::DecompressionKey {
        let (_, _, compression, ..) = self.hl.clone().into_raw_parts();
        let (_, decompression) = self
            .int
            .new_compression_decompression_keys(&compression.expect("checked at load"));
        decompression.into_raw_parts()
    }

    /// The key fingerprint.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The GLWE secret key of the pinned compute parameters (the bootstrapping key's output
    /// key): lookup queries' GGSWs and tags are encrypted under it.
    pub fn glwe_secret_key(&self) -> GlweSecretKeyOwned<u64> {
        match self.int.clone().into_raw_parts().atomic_pattern {
            tfhe::shortint::client_key::atomic_pattern::AtomicPatternClientKey::KeySwitch32(s) => {
                s.into_raw_parts().0
            }
            _ => unreachable!("the pinned parameters use the KS32 atomic pattern"),
        }
    }

    /// The integer-API client key (for decryption in kernels' tests and benches).
    pub fn integer(&self) -> &tfhe::integer::ClientKey {
        &self.int
    }

    /// Serialize (secret material: the caller must protect the bytes).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        envelope::seal(
            Kind::ClientKey,
            self.id,
            &self.hl,
            params::MAX_CLIENT_KEY_BYTES,
        )
    }

    /// Deserialize and check that the key uses the pinned parameters and matches its header.
    pub fn from_bytes(bytes: &[u8]) -> Result<ClientKey> {
        let (id, hl): (_, tfhe::ClientKey) =
            envelope::unseal_key(bytes, Kind::ClientKey, params::MAX_CLIENT_KEY_BYTES)?;
        let key = Self::from_hl(id, hl)?;
        if key.int.parameters() != params::COMPUTE.into() {
            return Err(Error::Format(format!(
                "client key {id} does not use iocz's pinned parameters ({}): it was made by \
                 an older iocz or another tool; make a new key pair with `iocz keygen`",
                params::PARAMETER_SET
            )));
        }
        Ok(key)
    }

    /// Build the evaluation key for the other party (compressed, as it travels), without the
    /// decompression key: the company only compresses.
    pub fn server_key(&self) -> Result<ServerKey> {
        let (int, ksk, compression, _, ns, nsc, rerand, oprf, tag) =
            CompressedServerKey::new(&self.hl).into_raw_parts();
        let sent = CompressedServerKey::from_raw_parts(
            int,
            ksk,
            compression,
            None,
            ns,
            nsc,
            rerand,
            oprf,
            tag,
        );
        ServerKey::from_compressed(self.id, sent)
    }

    /// Build the compact public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::new(self.id, CompactPublicKey::new(&self.hl))
    }

    /// Encrypt a digest with the secret key (seeded, compressed: a few kilobytes).
    pub fn encrypt_value(&self, digest: &Digest) -> Result<Vec<u8>> {
        let ct = CompressedFheUint256::encrypt(digest.to_u256(), &self.hl);
        envelope::seal(Kind::Value, self.id, &ct, params::MAX_CIPHERTEXT_BYTES)
    }

    /// Decrypt any iocz ciphertext made under this key.
    pub fn decrypt(&self, bytes: &[u8]) -> Result<Decrypted> {
        let (header, _) = envelope::peek(bytes)?;
        if header.key != self.id {
            return Err(Error::WrongKey(format!(
                "{} was made under key {}, but this client key is {}",
                header.kind.describe(),
                header.key,
                self.id
            )));
        }
        Ok(match header.kind {
            Kind::Value => Decrypted::Value(Digest::from_u256(
                ciphertexts::open_value(bytes)?.1.decrypt(&self.hl),
            )),
            Kind::Match => {
                let (_, ct) = ciphertexts::open_match(bytes)?;
                Decrypted::Match(self.int.decrypt_one_block(&ct) == 1)
            }
            Kind::Count => {
                let (_, count) = ciphertexts::open_count(bytes)?;
                let n: u32 = count.decrypt(&self.hl);
                Decrypted::Count(u64::from(n))
            }
            Kind::Counts => {
                let (_, set, counts) = ciphertexts::open_counts(bytes)?;
                Decrypted::Counts {
                    set,
                    per_slot: self.decrypt_counts(&counts),
                }
            }
            Kind::Gated => {
                let (_, set, counts) = ciphertexts::open_gated(bytes)?;
                Decrypted::BinCounts {
                    set,
                    per_bin: self.decrypt_counts(&counts),
                }
            }
            Kind::Released => {
                let (_, released) = released::open(bytes)?;
                let mut values = released.decrypt(&self.packing_key)?;
                let max = (1u64 << released.bits()) - 1;
                let total = match released.total() {
                    // At most one candidate per row: rows matching any IOC = Σ per-IOC counts
                    // (saturating like a released count: "at least" 2^bits − 1).
                    TotalKind::Summed => Some(values.iter().sum::<u64>().min(max)),
                    TotalKind::Released => values.pop(),
                    TotalKind::Uncounted => None,
                };
                Decrypted::Released {
                    set: released.set(),
                    bits: released.bits(),
                    per_bin: released.per_bin(),
                    per_slot: values,
                    total,
                }
            }
            other => {
                return Err(Error::InvalidInput(format!(
                    "cannot decrypt {} (only values, matches and counts)",
                    other.describe()
                )))
            }
        })
    }
}

impl ClientKey {
    /// Each count of a list (None, an empty entry: 0).
    fn decrypt_counts(&self, counts: &[Option<FheUint32>]) -> Vec<u64> {
        counts
            .iter()
            .map(|c| {
                c.as_ref()
                    .map_or(0, |c| u64::from(FheDecrypt::<u32>::decrypt(c, &self.hl)))
            })
            .collect()
    }
}

/// A decrypted iocz ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decrypted {
    /// A 256-bit value.
    Value(Digest),
    /// One comparison result.
    Match(bool),
    /// A count.
    Count(u64),
    /// One count per slot of an encrypted IOC set.
    Counts {
        /// The set the counts belong to.
        set: SetId,
        /// Count of each slot (dummy slots included).
        per_slot: Vec<u64>,
    },
    /// Gated (unreleased) per-bin counts of the lookup kernel.
    BinCounts {
        /// The set the counts belong to.
        set: SetId,
        /// Count of each lookup bin (dummy bins included).
        per_bin: Vec<u64>,
    },
    /// Released counts of one (set, column, group): `2^bits − 1` means "at least that many".
    Released {
        /// The set the counts belong to.
        set: SetId,
        /// Width of every count.
        bits: usize,
        /// The counts are per lookup bin ([`crate::set::Manifest::name_bin_counts`]).
        per_bin: bool,
        /// Count of each slot or bin (dummies included).
        per_slot: Vec<u64>,
        /// Rows matching at least one IOC; None when the company did not count them (rows with
        /// several candidates, opt-in).
        total: Option<u64>,
    },
}

/// The compact public key: lets anyone encrypt values for the key owner.
#[derive(Clone)]
pub struct PublicKey {
    id: KeyId,
    pk: CompactPublicKey,
}

impl PublicKey {
    fn new(id: KeyId, pk: CompactPublicKey) -> PublicKey {
        PublicKey { id, pk }
    }

    /// The key fingerprint.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Serialize.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        envelope::seal(
            Kind::PublicKey,
            self.id,
            &self.pk,
            params::MAX_PUBLIC_KEY_BYTES,
        )
    }

    /// Deserialize with size limit and conformance check.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey> {
        let (id, pk) = envelope::unseal(
            bytes,
            Kind::PublicKey,
            params::MAX_PUBLIC_KEY_BYTES,
            &params::PKE,
        )?;
        Ok(PublicKey::new(id, pk))
    }

    /// Encrypt one digest as a compact list (one cell of an encrypted column).
    pub fn encrypt_cell(&self, digest: &Digest) -> Result<Vec<u8>> {
        let list: CompactCiphertextList = CompactCiphertextList::builder(&self.pk)
            .push(digest.to_u256())
            .build_packed();
        envelope::seal(Kind::Cell, self.id, &list, params::MAX_CIPHERTEXT_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::{digest, keys};

    #[test]
    fn values_round_trip_and_wrong_key_is_refused() {
        let k = keys();
        let d = digest(13);
        let bytes = k.client.encrypt_value(&d).unwrap();
        assert_eq!(k.client.decrypt(&bytes).unwrap(), Decrypted::Value(d));
        let other = ClientKey::generate();
        let err = other.decrypt(&bytes).unwrap_err().to_string();
        assert!(err.contains("was made under key"), "{err}");
    }

    #[test]
    fn keys_round_trip_and_corruption_is_refused() {
        let k = keys();
        let ck = ClientKey::from_bytes(&k.client.to_bytes().unwrap()).unwrap();
        assert_eq!(ck.id(), k.client.id());
        let sk_bytes = k.server.to_bytes();
        let sk = ServerKey::from_bytes(sk_bytes).unwrap();
        assert_eq!(sk.id(), k.server.id());
        let truncated = &sk_bytes[..sk_bytes.len() / 2];
        assert!(ServerKey::from_bytes(truncated).is_err());
        let value = k.client.encrypt_value(&digest(14)).unwrap();
        let mut flipped = value.clone();
        let n = flipped.len();
        flipped[n / 2] ^= 0x40;
        assert!(
            ciphertexts::value_radix(&flipped).is_err()
                || k.client.decrypt(&flipped).unwrap() != Decrypted::Value(digest(14))
        );
        assert!(
            ciphertexts::open_count(&value).is_err(),
            "a value is not a count"
        );
    }

    /// A key whose header names another key id than its own tag is refused, not trusted.
    #[test]
    fn a_key_under_another_header_is_refused() {
        let k = keys();
        let other = KeyId([9; 8]);
        let swap = |bytes: &[u8], kind: Kind| {
            let (_, payload) = envelope::open(bytes, kind).unwrap();
            [envelope::header(kind, other), payload.to_vec()].concat()
        };
        let client = swap(&k.client.to_bytes().unwrap(), Kind::ClientKey);
        let err = ClientKey::from_bytes(&client).err().unwrap().to_string();
        assert!(err.contains("header and key tag disagree"), "{err}");
        let server = swap(k.server.to_bytes(), Kind::ServerKey);
        let err = ServerKey::from_bytes(&server).err().unwrap().to_string();
        assert!(err.contains("header and key tag disagree"), "{err}");
    }
}
