//! The agency's manifest of an encrypted IOC set: which IOC sits in each cuckoo slot (and, with
//! a lookup part, in which bin), to name decrypted counts. Secret: it holds the plaintext IOCs;
//! it never leaves the agency. Text format: `iocz1 manifest <set id>`, an optional
//! `lookup-bins` line, then one line per slot.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::params;
use crate::wire::ids::SetId;

/// The agency-side mapping from slots to IOCs (secret: it holds the plaintext IOCs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The set it describes.
    pub id: SetId,
    /// `slots[s]`: the IOC in slot `s` (digest, canonical text), None for a dummy.
    pub slots: Vec<Option<(Digest, String)>>,
    /// With a lookup part: the bin (lookup entry) of each real IOC, in slot order.
    pub bins: Option<Vec<u32>>,
}

impl Manifest {
    /// Name decrypted per-slot counts: `(canonical IOC, count)` for every real slot, in slot
    /// order. Checks what an honest server cannot produce: a count list of another length, or
    /// a non-zero count in a dummy slot (it holds a random digest no log value can equal).
    pub fn name_counts(&self, per_slot: &[u64]) -> Result<Vec<(String, u64)>> {
        if per_slot.len() != self.slots.len() {
            return Err(Error::Format(format!(
                "{} per-IOC counts do not match the set's manifest ({} slots)",
                per_slot.len(),
                self.slots.len(),
            )));
        }
        let mut named = Vec::with_capacity(self.slots.len());
        for (slot, &count) in self.slots.iter().zip(per_slot) {
            match slot {
                Some((_, ioc)) => named.push((ioc.clone(), count)),
                None if count != 0 => {
                    return Err(Error::Format(
                        "a dummy slot has a non-zero count: the result was tampered with".into(),
                    ))
                }
                None => {}
            }
        }
        Ok(named)
    }

    /// Name decrypted per-bin counts of the lookup kernel: `(canonical IOC, count of its bin)`
    /// for every real IOC, in slot order. Every other bin holds a dummy or padding entry (a
    /// random digest) whose count must be 0.
    pub fn name_bin_counts(&self, per_bin: &[u64]) -> Result<Vec<(String, u64)>> {
        let bins = self.bins.as_ref().ok_or_else(|| {
            Error::Format("per-bin lookup counts, but the manifest has no lookup bins".into())
        })?;
        let real: Vec<&String> = self.slots.iter().flatten().map(|s| &s.1).collect();
        if bins.len() != real.len() || bins.iter().any(|&b| b as usize >= per_bin.len()) {
            return Err(Error::Format(format!(
                "{} lookup counts do not match the set's manifest ({} IOCs)",
                per_bin.len(),
                real.len()
            )));
        }
        let mut used = vec![false; per_bin.len()];
        for &b in bins {
            used[b as usize] = true;
        }
        if per_bin.iter().zip(&used).any(|(&c, &u)| !u && c != 0) {
            return Err(Error::Format(
                "a dummy lookup bin has a non-zero count: the result was tampered with".into(),
            ));
        }
        Ok(real
            .into_iter()
            .zip(bins)
            .map(|(ioc, &b)| (ioc.clone(), per_bin[b as usize]))
            .collect())
    }

    /// Serialize (secret: holds plaintext IOCs): `id hex` line, then one line per slot: the
    /// digest hex, a tab and the canonical IOC as a JSON string, or `-` for a dummy.
    pub fn to_text(&self) -> String {
        let mut out = format!("iocz1 manifest {}\n", hex::encode(self.id));
        if let Some(bins) = &self.bins {
            let list: Vec<String> = bins.iter().map(u32::to_string).collect();
            out.push_str(&format!("lookup-bins {}\n", list.join(",")));
        }
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
        let mut lines = lines.peekable();
        let bins = match lines.peek().and_then(|l| l.strip_prefix("lookup-bins ")) {
            Some(list) => {
                let bins = list
                    .split(',')
                    .filter(|b| !b.is_empty())
                    .map(|b| b.parse::<u32>())
                    .collect::<std::result::Result<Vec<u32>, _>>()
                    .map_err(|_| Error::Format("manifest line 2: bad lookup bins".into()))?;
                lines.next();
                Some(bins)
            }
            None => None,
        };
        let first = if bins.is_some() { 3 } else { 2 };
        let slots = lines
            .enumerate()
            .map(|(i, l)| {
                let bad = |e: &dyn std::fmt::Display| {
                    Error::Format(format!("manifest line {}: {e}", i + first))
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
        Ok(Manifest { id, slots, bins })
    }
}
