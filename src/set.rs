//! Encrypted IOC sets: K IOCs cuckoo-hashed into B slots, every slot encrypted with the client
//! key. The public part ([`EncryptedSet`]) goes to the server; the [`Manifest`] mapping slots back
//! to IOCs stays with the agency.
//!
//! Wire format of the public part (after the `iocz1 set <key>` header line):
//! `set_id[8] ‖ seed[16] ‖ hashes u8 ‖ slots u32le ‖ type u8 ‖ case_sensitive u8 ‖
//! lengths u16le ‖ (length u16le) × lengths ‖ (len u32le ‖ value envelope) × slots`.

use crate::ciphertexts;
use crate::cuckoo::{self, CuckooParams};
use crate::digest::Digest;
use crate::envelope::{self, KeyId, Kind};
use crate::error::{Error, Result};
use crate::ioc::{CanonicalIoc, IocType, SetSpec};
use crate::keys::ClientKey;
use crate::params;

/// Identifier binding results to the set they were computed from.
pub type SetId = [u8; 8];

/// The server-side (public) part of an encrypted IOC set.
#[derive(Clone)]
pub struct EncryptedSet {
    /// Key the slots are encrypted under.
    pub key: KeyId,
    /// Random identifier of this set.
    pub id: SetId,
    /// Public cuckoo parameters.
    pub cuckoo: CuckooParams,
    /// IOC type, case rule and declared lengths (what the server needs to expand log values).
    pub spec: SetSpec,
    /// One encrypted-value envelope per slot.
    pub slots: Vec<Vec<u8>>,
}

/// The agency-side mapping from slots to IOCs (secret: it holds the plaintext IOCs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The set it describes.
    pub id: SetId,
    /// `slots[s]`: the IOC in slot `s` (digest, canonical text), None for a dummy.
    pub slots: Vec<Option<(Digest, String)>>,
}

impl ClientKey {
    /// Cuckoo-hash the canonical `iocs` (duplicates merged) with `hashes` hash functions (2 or
    /// 3) into slots for at least `pad_to` IOCs (hides the real count), and encrypt every slot
    /// (dummy slots get random digests).
    pub fn encrypt_set(
        &self,
        spec: SetSpec,
        iocs: &[CanonicalIoc],
        hashes: u8,
        pad_to: usize,
    ) -> Result<(EncryptedSet, Manifest)> {
        if iocs.is_empty() {
            return Err(Error::InvalidInput(
                "an IOC set needs at least one IOC".into(),
            ));
        }
        spec.validate()?;
        let mut distinct: Vec<&CanonicalIoc> = Vec::with_capacity(iocs.len());
        let mut seen = std::collections::HashSet::new();
        for ioc in iocs {
            if seen.insert(ioc.digest) {
                distinct.push(ioc);
            }
        }
        let digests: Vec<Digest> = distinct.iter().map(|i| i.digest).collect();
        let layout = cuckoo::place(&digests, hashes, pad_to, rand::random)?;
        if layout.occupant.len() > params::MAX_SET_SLOTS {
            return Err(Error::InvalidInput(format!(
                "{} IOCs need {} slots, more than the limit of {}",
                distinct.len(),
                layout.occupant.len(),
                params::MAX_SET_SLOTS
            )));
        }
        let manifest_slots: Vec<Option<(Digest, String)>> = layout
            .occupant
            .iter()
            .map(|o| o.map(|i| (distinct[i].digest, distinct[i].text.clone())))
            .collect();
        let slots = {
            use rayon::prelude::*;
            manifest_slots
                .par_iter()
                .map(|slot| {
                    let digest = slot
                        .as_ref()
                        .map_or_else(|| Digest(rand::random()), |s| s.0);
                    self.encrypt_value(&digest)
                })
                .collect::<Result<Vec<_>>>()?
        };
        let id: SetId = rand::random();
        Ok((
            EncryptedSet {
                key: self.id(),
                id,
                cuckoo: layout.params,
                spec,
                slots,
            },
            Manifest {
                id,
                slots: manifest_slots,
            },
        ))
    }
}

impl EncryptedSet {
    /// Serialize the public part.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("iocz1 {} {}\n", Kind::Set.token(), self.key).into_bytes();
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&self.cuckoo.seed);
        out.push(self.cuckoo.hashes);
        out.extend_from_slice(&self.cuckoo.slots.to_le_bytes());
        out.push(self.spec.ioc_type.code());
        out.push(u8::from(self.spec.case_sensitive));
        out.extend_from_slice(&(self.spec.lengths.len() as u16).to_le_bytes());
        for length in &self.spec.lengths {
            out.extend_from_slice(&length.to_le_bytes());
        }
        for slot in &self.slots {
            out.extend_from_slice(&(slot.len() as u32).to_le_bytes());
            out.extend_from_slice(slot);
        }
        out
    }

    /// Parse and validate: header, limits, every slot a conformant value under the set's key.
    pub fn from_bytes(bytes: &[u8]) -> Result<EncryptedSet> {
        let (key, mut rest) = envelope::open(bytes, Kind::Set)?;
        let bad = |what: &str| {
            Error::Format(format!(
                "encrypted IOC set (key {key}) is corrupted: {what}"
            ))
        };
        let mut take = |n: usize| -> Result<&[u8]> {
            if rest.len() < n {
                return Err(bad("truncated"));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let id: SetId = take(8)?.try_into().unwrap();
        let seed: [u8; 16] = take(16)?.try_into().unwrap();
        let hashes = take(1)?[0];
        let slots = u32::from_le_bytes(take(4)?.try_into().unwrap());
        if !(2..=3).contains(&hashes) {
            return Err(bad("hash count must be 2 or 3"));
        }
        if slots == 0 || slots as usize > params::MAX_SET_SLOTS {
            return Err(Error::Format(format!(
                "encrypted IOC set has {slots} slots; between 1 and {} are allowed",
                params::MAX_SET_SLOTS
            )));
        }
        let ioc_type = IocType::from_code(take(1)?[0])?;
        let case_sensitive = match take(1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(bad("case rule must be 0 or 1")),
        };
        let declared = u16::from_le_bytes(take(2)?.try_into().unwrap()) as usize;
        if declared > crate::ioc::MAX_DECLARED_LENGTHS {
            return Err(bad("too many declared lengths"));
        }
        let lengths = (0..declared)
            .map(|_| Ok(u16::from_le_bytes(take(2)?.try_into().unwrap())))
            .collect::<Result<Vec<u16>>>()?;
        let spec = SetSpec {
            ioc_type,
            case_sensitive,
            lengths,
        };
        spec.validate()
            .map_err(|e| bad(&format!("invalid query description: {e}")))?;
        let mut values = Vec::with_capacity(slots as usize);
        for _ in 0..slots {
            let len = u32::from_le_bytes(take(4)?.try_into().unwrap()) as u64;
            if len > params::MAX_CIPHERTEXT_BYTES {
                return Err(bad("slot larger than the ciphertext limit"));
            }
            let value = take(len as usize)?.to_vec();
            let (found, _) = envelope::open(&value, Kind::Value)?;
            ciphertexts::check_key(found, key, Kind::Value)?;
            values.push(value);
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let set = EncryptedSet {
            key,
            id,
            cuckoo: CuckooParams {
                seed,
                hashes,
                slots,
            },
            spec,
            slots: values,
        };
        // Conformance of every slot against the pinned parameters (decompression checks it).
        {
            use rayon::prelude::*;
            set.slots
                .par_iter()
                .try_for_each(|v| ciphertexts::value_radix(v).map(|_| ()))?;
        }
        Ok(set)
    }

    /// Slot `slot` as the 128-block radix ciphertext kernels work on.
    pub fn slot_radix(&self, slot: usize) -> tfhe::integer::RadixCiphertext {
        ciphertexts::value_radix(&self.slots[slot])
            .expect("slots are validated when a set is built or loaded")
            .1
    }
}

impl Manifest {
    /// Serialize (secret: holds plaintext IOCs): `id hex` line, then one line per slot: the
    /// digest hex, a tab and the canonical IOC as a JSON string, or `-` for a dummy.
    pub fn to_text(&self) -> String {
        let mut out = format!("iocz1 manifest {}\n", hex::encode(self.id));
        for slot in &self.slots {
            match slot {
                Some((digest, text)) => {
                    out.push_str(&digest.to_hex());
                    out.push('\t');
                    out.push_str(&serde_json::Value::from(text.as_str()).to_string());
                }
                None => out.push('-'),
            }
            out.push('\n');
        }
        out
    }

    /// Parse [`Manifest::to_text`].
    pub fn from_text(text: &str) -> Result<Manifest> {
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let id_hex = header
            .strip_prefix("iocz1 manifest ")
            .ok_or_else(|| Error::Format("not an iocz manifest".into()))?;
        let mut id = [0u8; 8];
        hex::decode_to_slice(id_hex, &mut id)
            .map_err(|_| Error::Format("manifest id is not hex".into()))?;
        let slots = lines
            .enumerate()
            .map(|(i, l)| {
                let bad = |e: &dyn std::fmt::Display| {
                    Error::Format(format!("manifest line {}: {e}", i + 2))
                };
                if l == "-" {
                    return Ok(None);
                }
                let (hexd, text) = l.split_once('\t').ok_or_else(|| bad(&"missing IOC text"))?;
                let digest = Digest::from_hex(hexd).map_err(|e| bad(&e))?;
                let text: String = serde_json::from_str(text).map_err(|e| bad(&e))?;
                Ok(Some((digest, text)))
            })
            .collect::<Result<Vec<_>>>()?;
        if slots.len() > params::MAX_SET_SLOTS {
            return Err(Error::Format("manifest has too many slots".into()));
        }
        Ok(Manifest { id, slots })
    }
}
