//! Cuckoo hashing of IOC digests into slots (plaintext, agency side; the layout is public).
//!
//! Each digest may live in one of `hashes` candidate slots `H_j(d) = SHA-256(seed ‖ j ‖ d) mod B`.
//! The agency places every distinct IOC in one of its candidates; the server compares each
//! distinct log value only with the slots its own candidates point at. A value equals an IOC only
//! in the slot that IOC occupies, so per-slot counts are exact. Empty slots get random dummy
//! digests (they match nothing).

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::error::{Error, Result};

/// Public parameters of a cuckoo layout: everything the server needs to find candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CuckooParams {
    /// Public random seed of the hash functions.
    pub seed: [u8; 16],
    /// Number of hash functions (2 or 3).
    pub hashes: u8,
    /// Number of slots B.
    pub slots: u32,
}

impl CuckooParams {
    /// Distinct candidate slots of `digest`, in hash order.
    pub fn candidates(&self, digest: &Digest) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::with_capacity(self.hashes as usize);
        for j in 0..self.hashes {
            let h = Sha256::new()
                .chain_update(self.seed)
                .chain_update([j])
                .chain_update(digest.0)
                .finalize();
            let slot =
                (u64::from_le_bytes(h[..8].try_into().unwrap()) % u64::from(self.slots)) as usize;
            if !out.contains(&slot) {
                out.push(slot);
            }
        }
        out
    }

    /// Slot count for `items` IOCs with `hashes` hash functions: about 2.2·K for 2 hashes and
    /// 1.3·K for 3 (below the load thresholds 0.5 and 0.92), at least 2 slots.
    pub fn slots_for(items: usize, hashes: u8) -> u32 {
        let factor = if hashes == 2 { 2.2 } else { 1.3 };
        ((items as f64 * factor).ceil() as u32).max(2)
    }
}

/// A placed layout: `slot_of[i]` is the slot of the i-th IOC.
#[derive(Clone, Debug)]
pub struct CuckooLayout {
    /// Public parameters.
    pub params: CuckooParams,
    /// `occupant[s]`: index of the IOC in slot `s`, or None for a dummy slot.
    pub occupant: Vec<Option<usize>>,
}

/// Reseeds tried at one table size before growing the table by 10%.
const RESEEDS: usize = 16;
/// Table growths tried before giving up.
const GROWTHS: usize = 8;
/// Evictions per insertion before declaring a cycle.
const MAX_KICKS: usize = 500;

/// Place distinct `items` with `hashes` hash functions (2 or 3) in a table sized for
/// `max(items, pad_to)` items. On an insertion cycle the table is
/// rebuilt with a fresh seed (up to 16 times), then grown by 10% (up to 8 times); only then does
/// it fail with an error (practically unreachable at the default sizes).
pub fn place(
    items: &[Digest],
    hashes: u8,
    pad_to: usize,
    mut random_seed: impl FnMut() -> [u8; 16],
) -> Result<CuckooLayout> {
    if !(2..=3).contains(&hashes) {
        return Err(Error::InvalidInput(format!(
            "hashes must be 2 or 3, not {hashes}"
        )));
    }
    let mut slots = CuckooParams::slots_for(items.len().max(pad_to), hashes);
    for _ in 0..=GROWTHS {
        for _ in 0..RESEEDS {
            let params = CuckooParams {
                seed: random_seed(),
                hashes,
                slots,
            };
            if let Some(occupant) = try_place(items, &params) {
                return Ok(CuckooLayout { params, occupant });
            }
        }
        slots = slots + slots / 10 + 1;
    }
    Err(Error::InvalidInput(format!(
        "could not place {} IOCs in a cuckoo table (last size {slots})",
        items.len()
    )))
}

fn try_place(items: &[Digest], params: &CuckooParams) -> Option<Vec<Option<usize>>> {
    let candidates: Vec<Vec<usize>> = items.iter().map(|d| params.candidates(d)).collect();
    let mut occupant: Vec<Option<usize>> = vec![None; params.slots as usize];
    'items: for start in 0..items.len() {
        let mut item = start;
        let mut evicted_from: Option<usize> = None;
        for kick in 0..MAX_KICKS {
            let cands = &candidates[item];
            if let Some(&free) = cands.iter().find(|&&s| occupant[s].is_none()) {
                occupant[free] = Some(item);
                continue 'items;
            }
            // Move into one of the item's other candidates (never back where it was just
            // evicted from), evicting that slot's occupant in turn.
            let others: Vec<usize> = cands
                .iter()
                .copied()
                .filter(|s| Some(*s) != evicted_from)
                .collect();
            let slot = *others.get(kick % others.len().max(1))?;
            item = occupant[slot].replace(item).expect("occupied");
            evicted_from = Some(slot);
        }
        return None;
    }
    Some(occupant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(i: u32) -> Digest {
        Digest(Sha256::digest(i.to_le_bytes()).into())
    }

    #[test]
    fn every_item_sits_in_one_of_its_candidates() {
        for (k, hashes) in [
            (1usize, 2u8),
            (10, 2),
            (100, 2),
            (1000, 2),
            (100, 3),
            (1000, 3),
        ] {
            let items: Vec<Digest> = (0..k as u32).map(digest).collect();
            let mut n = 0u8;
            let layout = place(&items, hashes, 0, || {
                n = n.wrapping_add(1);
                [n; 16]
            })
            .unwrap();
            let mut seen = vec![false; k];
            for (slot, occ) in layout.occupant.iter().enumerate() {
                if let Some(i) = occ {
                    assert!(layout.params.candidates(&items[*i]).contains(&slot));
                    assert!(!seen[*i]);
                    seen[*i] = true;
                }
            }
            assert!(seen.iter().all(|s| *s), "k={k} hashes={hashes}");
            // Placement succeeds at the nominal size (no growth) for these loads.
            assert_eq!(
                layout.params.slots,
                CuckooParams::slots_for(k, hashes),
                "k={k} hashes={hashes}"
            );
        }
    }

    #[test]
    fn candidates_are_deterministic_and_distinct() {
        let p = CuckooParams {
            seed: [7; 16],
            hashes: 3,
            slots: 2,
        };
        let c = p.candidates(&digest(1));
        assert!(c.len() <= 2 && c.iter().all(|s| *s < 2));
        assert_eq!(c, p.candidates(&digest(1)));
        assert!(place(&[digest(1)], 4, 0, || [0; 16]).is_err());
    }
}
