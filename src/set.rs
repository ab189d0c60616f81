//! Encrypted IOC sets: K IOCs cuckoo-hashed into B slots, every slot encrypted with the client
//! key. The public part ([`EncryptedSet`]) goes to the server; the [`Manifest`] mapping slots back
//! to IOCs stays with the agency.
//!
//! Wire format of the public part (after the `iocz1 set <key>` header line):
//! `set_id[8] ‖ seed[16] ‖ hashes u8 ‖ slots u32le ‖ type u8 ‖ case_sensitive u8 ‖
//! lengths u16le ‖ (length u16le) × lengths ‖ (len u32le ‖ value envelope) × slots
//! [‖ len u32le ‖ lookup envelope]`. The optional last part is the set's lookup query
//! ([`crate::lookup::query`]): sets without one (`kernel="scan"`, or older iocz) end after the
//! slots.

use std::sync::Arc;

use rayon::prelude::*;

use crate::ciphertexts;
use crate::cuckoo::{self, CuckooParams};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::ioc::{CanonicalIoc, IocType, SetSpec};
use crate::keys::ClientKey;
use crate::lookup::query::{LookupOptions, LookupQuery, MAX_LOOKUP_BYTES};
use crate::params;
use crate::wire::envelope::{self, check_key, Kind};
use crate::wire::ids::{KeyId, SetId};
use crate::wire::reader::Reader;

pub use crate::manifest::Manifest;

/// Largest encrypted IOC set accepted (every slot at the ciphertext limit).
pub const MAX_SET_BYTES: u64 = params::MAX_SET_SLOTS as u64 * params::MAX_CIPHERTEXT_BYTES;
/// Largest manifest accepted (slot lines hold canonical IOC text).
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;
/// Bytes of the fixed part after the header: id, seed, hashes, slots, type, case rule, count
/// of declared lengths.
const FIXED_BYTES: usize = 8 + 16 + 1 + 4 + 1 + 1 + 2;

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
    /// The lookup query for the same IOCs, if the agency allowed the lookup kernel.
    pub lookup: Option<Arc<SetLookup>>,
}

/// A set's lookup query, sealed as it travels and parsed.
pub struct SetLookup {
    /// The sealed `lookup` envelope.
    pub bytes: Vec<u8>,
    /// Its content.
    pub query: LookupQuery,
}

impl EncryptedSet {
    /// Cuckoo-hash the canonical `iocs` (duplicates merged) with `hashes` hash functions (2 or
    /// 3) into slots for at least `pad_to` IOCs (hides the real count), and encrypt every slot
    /// under `key` (dummy slots get random digests). Agency side.
    pub fn encrypt(
        key: &ClientKey,
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
        let slots = manifest_slots
            .par_iter()
            .map(|slot| {
                let digest = slot
                    .as_ref()
                    .map_or_else(|| Digest(rand::random()), |s| s.0);
                key.encrypt_value(&digest)
            })
            .collect::<Result<Vec<_>>>()?;
        let id: SetId = rand::random();
        Ok((
            EncryptedSet {
                key: key.id(),
                id,
                cuckoo: layout.params,
                spec,
                slots,
                lookup: None,
            },
            Manifest {
                id,
                slots: manifest_slots,
                bins: None,
            },
        ))
    }

    /// Add a lookup query for the set's IOCs: its real IOCs in public bins (at least `pad_to`
    /// entries), one entry per bin; the manifest learns each IOC's bin ([`Manifest::bins`]).
    /// Agency side.
    pub fn with_lookup(
        mut self,
        key: &ClientKey,
        manifest: &mut Manifest,
        options: LookupOptions,
        pad_to: usize,
    ) -> Result<EncryptedSet> {
        let digests: Vec<Digest> = manifest.slots.iter().flatten().map(|s| s.0).collect();
        let (query, bins) =
            LookupQuery::encrypt(&key.glwe_secret_key(), &digests, pad_to, options)?;
        let bytes = query.seal(self.key)?;
        self.lookup = Some(Arc::new(SetLookup { bytes, query }));
        manifest.bins = Some(bins);
        Ok(self)
    }

    /// Length of [`EncryptedSet::to_bytes`], without building it.
    pub fn encoded_len(&self) -> usize {
        envelope::header(Kind::Set, self.key).len()
            + FIXED_BYTES
            + 2 * self.spec.lengths.len()
            + self.slots.iter().map(|s| 4 + s.len()).sum::<usize>()
            + self.lookup.as_ref().map_or(0, |l| 4 + l.bytes.len())
    }

    /// Serialize the public part.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = envelope::header(Kind::Set, self.key);
        out.reserve(self.encoded_len());
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
        if let Some(lookup) = &self.lookup {
            out.extend_from_slice(&(lookup.bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(&lookup.bytes);
        }
        out
    }

    /// Parse and validate: header, limits, every slot a conformant value under the set's key.
    pub fn from_bytes(bytes: &[u8]) -> Result<EncryptedSet> {
        let (key, body) = envelope::open(bytes, Kind::Set)?;
        let what = format!("encrypted IOC set (key {key})");
        let mut r = Reader::new(body, &what);
        let id: SetId = r.array()?;
        let seed: [u8; 16] = r.array()?;
        let hashes = r.u8()?;
        let slots = r.u32()?;
        if !(2..=3).contains(&hashes) {
            return Err(r.corrupted("hash count must be 2 or 3"));
        }
        if slots == 0 || slots as usize > params::MAX_SET_SLOTS {
            return Err(Error::Format(format!(
                "encrypted IOC set has {slots} slots; between 1 and {} are allowed",
                params::MAX_SET_SLOTS
            )));
        }
        let ioc_type = IocType::from_code(r.u8()?)?;
        let case_sensitive = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(r.corrupted("case rule must be 0 or 1")),
        };
        let declared = r.u16()? as usize;
        if declared > crate::ioc::MAX_DECLARED_LENGTHS {
            return Err(r.corrupted("too many declared lengths"));
        }
        let lengths = (0..declared)
            .map(|_| r.u16())
            .collect::<Result<Vec<u16>>>()?;
        let spec = SetSpec {
            ioc_type,
            case_sensitive,
            lengths,
        };
        spec.validate()
            .map_err(|e| r.corrupted(&format!("invalid query description: {e}")))?;
        let mut values = Vec::with_capacity(slots as usize);
        for _ in 0..slots {
            let value = r.prefixed(params::MAX_CIPHERTEXT_BYTES)?.to_vec();
            let (found, _) = envelope::open(&value, Kind::Value)?;
            check_key(found, key, Kind::Value)?;
            values.push(value);
        }
        let lookup = if r.position() < body.len() {
            let bytes = r.prefixed(MAX_LOOKUP_BYTES)?.to_vec();
            let (found, query) = LookupQuery::open(&bytes)?;
            check_key(found, key, Kind::Lookup)?;
            if query.entries() >= slots as usize {
                return Err(r.corrupted("lookup query has more entries than the set has slots"));
            }
            Some(Arc::new(SetLookup { bytes, query }))
        } else {
            None
        };
        r.finish()?;
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
            lookup,
        };
        // Conformance of every slot against the pinned parameters (decompression checks it).
        set.slots
            .par_iter()
            .try_for_each(|v| ciphertexts::value_radix(v).map(|_| ()))?;
        Ok(set)
    }

    /// Slot `slot` as the 128-block radix ciphertext kernels work on.
    pub fn slot_radix(&self, slot: usize) -> tfhe::integer::RadixCiphertext {
        ciphertexts::value_radix(&self.slots[slot])
            .expect("slots are validated when a set is built or loaded")
            .1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::{digest, keys, sha_set};

    #[test]
    fn set_wire_format_round_trips_and_rejects_tampering() {
        let k = keys();
        let (set, manifest) = sha_set(&[digest(30)], 3).unwrap();
        let bytes = set.to_bytes();
        let back = EncryptedSet::from_bytes(&bytes).unwrap();
        assert_eq!(
            (back.id, back.cuckoo, back.slots.len(), &back.spec),
            (set.id, set.cuckoo, set.slots.len(), &set.spec)
        );
        assert!(EncryptedSet::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(EncryptedSet::from_bytes(&extra).is_err());
        assert_eq!(Manifest::from_text(&manifest.to_text()).unwrap(), manifest);
        assert!(sha_set(&[], 2).is_err());
        // A typed set keeps its type, case rule and declared lengths; IOC text with tabs and
        // newlines survives the manifest.
        let spec = SetSpec::new(IocType::Substring, false);
        let iocs = vec![spec.canonical_ioc("a\tb\nc").unwrap()];
        let spec = spec.with_lengths(&iocs, &[9]).unwrap();
        let (typed, manifest) =
            EncryptedSet::encrypt(&k.client, spec.clone(), &iocs, 2, 5).unwrap();
        assert!(typed.slots.len() >= 11, "padded to 5 IOCs");
        let typed_bytes = typed.to_bytes();
        assert_eq!(EncryptedSet::from_bytes(&typed_bytes).unwrap().spec, spec);
        assert_eq!(Manifest::from_text(&manifest.to_text()).unwrap(), manifest);
        // An unknown type or an invalid declared length is refused on load (body: id 8, seed 16,
        // hashes 1, slots 4, then type, case rule, length count, lengths).
        let body = typed_bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
        let mut bad = typed_bytes.clone();
        bad[body + 29] = 99;
        assert!(EncryptedSet::from_bytes(&bad).is_err());
        let mut bad = typed_bytes.clone();
        bad[body + 33..body + 35].copy_from_slice(&0u16.to_le_bytes());
        assert!(EncryptedSet::from_bytes(&bad).is_err());
    }

    #[test]
    fn encoded_len_is_the_serialized_length() {
        let (set, _) = sha_set(&[digest(31), digest(32)], 2).unwrap();
        assert_eq!(set.encoded_len(), set.to_bytes().len());
    }

    #[test]
    fn manifest_names_counts_and_catches_tampering() {
        let d = digest(33);
        let mut manifest = Manifest {
            id: [1; 8],
            slots: vec![None, Some((d, "ioc".into())), None],
            bins: None,
        };
        assert_eq!(
            manifest.name_counts(&[0, 4, 0]).unwrap(),
            [("ioc".to_string(), 4)]
        );
        let e = manifest.name_counts(&[1, 4, 0]).unwrap_err();
        assert!(e.to_string().contains("tampered"), "{e}");
        assert!(manifest.name_counts(&[0, 4, 0, 0]).is_err());
        assert!(manifest.name_bin_counts(&[0, 4]).is_err(), "no bins");
        // Lookup counts: one per bin; the IOC's bin names its count, every other bin is 0.
        manifest.bins = Some(vec![1]);
        assert_eq!(
            manifest.name_bin_counts(&[0, 4]).unwrap(),
            [("ioc".to_string(), 4)]
        );
        assert!(manifest.name_bin_counts(&[1, 4]).is_err());
        assert!(manifest.name_bin_counts(&[4]).is_err());
        assert_eq!(Manifest::from_text(&manifest.to_text()).unwrap(), manifest);
    }
}
