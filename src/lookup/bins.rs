//! Agency side: cuckoo hashing of a set's IOC digests into public bins, at most one per bin.
//! Each IOC may sit in any of its [`BIN_HASHES`] candidate bins; the company inserts every
//! value into all of them, so an IOC meets its value (if present) in the bin it occupies.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::lookup::hashing::location;
use crate::lookup::{BIN_FACTOR, BIN_HASHES};

/// Evictions per insertion before a placement attempt is abandoned.
const MAX_KICKS: usize = 2000;

/// Bins for `entries` IOCs: `⌈1.1 · entries⌉`, at least `entries + 1`.
pub fn bins_for(entries: usize) -> usize {
    ((entries as f64 * BIN_FACTOR).ceil() as usize).max(entries + 1)
}

/// Expected number of distinct candidate bins of a value among `bins` (the server inserts it
/// into each): `bins · (1 − (1 − 1/bins)^4)`, i.e. 4 for many bins, fewer for a handful.
pub fn bins_per_value(bins: usize) -> f64 {
    let b = bins.max(1) as f64;
    b * (1.0 - (1.0 - 1.0 / b).powi(BIN_HASHES as i32))
}

/// Place `digests` (distinct) into bins: `(bins, occupant)` where `occupant[b]` is the index
/// of the digest in bin `b`. Starts at [`bins_for`] and adds a bin on a failed placement
/// (deterministic: the same digests and seed give the same layout).
pub fn place(seed: &[u8; 16], digests: &[Digest]) -> Result<(usize, Vec<Option<usize>>)> {
    let locations: Vec<_> = digests.iter().map(|d| location(seed, d)).collect();
    let start = bins_for(digests.len());
    for bins in start..start + 64 {
        let candidates: Vec<Vec<usize>> = locations.iter().map(|l| l.bins(bins)).collect();
        if let Some(occupant) = try_place(&candidates, bins) {
            return Ok((bins, occupant));
        }
    }
    Err(Error::InvalidInput(format!(
        "{} IOCs could not be placed into lookup bins",
        digests.len()
    )))
}

fn try_place(candidates: &[Vec<usize>], bins: usize) -> Option<Vec<Option<usize>>> {
    let mut occupant: Vec<Option<usize>> = vec![None; bins];
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    for start in 0..candidates.len() {
        let mut item = start;
        let mut from: Option<usize> = None;
        let mut placed = false;
        for _ in 0..MAX_KICKS {
            let cands = &candidates[item];
            if let Some(&b) = cands.iter().find(|&&b| occupant[b].is_none()) {
                occupant[b] = Some(item);
                placed = true;
                break;
            }
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let choices: Vec<usize> = cands.iter().copied().filter(|&b| Some(b) != from).collect();
            let choices = if choices.is_empty() {
                cands.clone()
            } else {
                choices
            };
            let b = choices[(rng >> 33) as usize % choices.len()];
            item = occupant[b].replace(item).expect("full bin");
            from = Some(b);
        }
        if !placed {
            return None;
        }
    }
    Some(occupant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ioc_sits_once_in_one_of_its_bins() {
        let seed = [9u8; 16];
        for k in [1usize, 2, 4, 50, 1024] {
            let digests: Vec<Digest> = (0..k as u32)
                .map(|i| {
                    let mut d = [0u8; 32];
                    d[..4].copy_from_slice(&i.to_le_bytes());
                    Digest(d)
                })
                .collect();
            let (bins, occupant) = place(&seed, &digests).unwrap();
            assert!(
                bins >= bins_for(k) && bins <= bins_for(k) + 3,
                "k {k}: {bins} bins"
            );
            let mut seen = vec![0; k];
            for (b, o) in occupant.iter().enumerate() {
                if let Some(i) = o {
                    seen[*i] += 1;
                    assert!(location(&seed, &digests[*i]).bins(bins).contains(&b));
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "k {k}");
        }
    }
}
