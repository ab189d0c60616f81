//! The server's own cuckoo table (clear): every distinct value of the column sits at its hash
//! position in exactly one of three sub-tables of 2^b positions each, so an IOC looked up at its
//! three candidate positions meets its value at most once. Records are read as clear lookup
//! tables, one per output block (tag nibbles, multiplicity blocks per group).

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::lookup::hashing::{position_of, table_hash};
use crate::lookup::{CANDIDATES, MIN_TABLE_BITS, TARGET_LOAD};

/// Evictions per insertion before the table is grown.
const MAX_KICKS: usize = 1000;

/// A placed table: `slots[t][p]` is 1 + the index of the value at position `p` of sub-table
/// `t`, or 0 for an empty position.
#[derive(Clone, Debug)]
pub struct ServerTable {
    /// Position bits b of each sub-table.
    pub bits: u32,
    /// Occupants of each sub-table.
    pub slots: [Vec<u32>; CANDIDATES],
    /// Times the table was grown after a failed placement (for logs).
    pub growths: u32,
    /// `H_t` of every value for each sub-table (positions and tags).
    pub hashes: Vec<[[u8; 32]; CANDIDATES]>,
}

/// Sub-table bits for `values` distinct values: the smallest b ≥ 11 with
/// `values ≤ 3 · 2^b · TARGET_LOAD`.
pub fn table_bits_for(values: usize) -> u32 {
    let mut b = MIN_TABLE_BITS;
    while (values as f64) > CANDIDATES as f64 * (1u64 << b) as f64 * TARGET_LOAD {
        b += 1;
    }
    b
}

/// Place distinct `digests` with the query's `seed`, starting at [`table_bits_for`] and
/// growing b by one on an insertion cycle, up to the query's `max_bits`; beyond, a clear error.
pub fn place(seed: &[u8; 16], max_bits: u32, digests: &[Digest]) -> Result<ServerTable> {
    place_from(seed, table_bits_for(digests.len()), max_bits, digests)
}

/// [`place`] starting at `start` sub-table bits.
pub fn place_from(
    seed: &[u8; 16],
    start: u32,
    max_bits: u32,
    digests: &[Digest],
) -> Result<ServerTable> {
    let hashes: Vec<[[u8; 32]; CANDIDATES]> = digests
        .iter()
        .map(|d| std::array::from_fn(|t| table_hash(seed, t, d)))
        .collect();
    for bits in start..=max_bits {
        let positions: Vec<[usize; CANDIDATES]> = hashes
            .iter()
            .map(|h| std::array::from_fn(|t| position_of(&h[t], bits) as usize))
            .collect();
        if let Some(slots) = try_place(&positions, bits) {
            return Ok(ServerTable {
                bits,
                slots,
                growths: bits - start,
                hashes,
            });
        }
    }
    Err(Error::InvalidInput(format!(
        "{} distinct values do not fit the query's lookup tables (at most 3 × 2^{max_bits} \
         positions, about {} values): ask the agency for a query with a larger lookup size \
         (`iocz query --lookup-bits`) or scan with kernel=\"scan\"",
        digests.len(),
        (CANDIDATES as f64 * (1u64 << max_bits) as f64 * TARGET_LOAD) as u64
    )))
}

fn try_place(positions: &[[usize; CANDIDATES]], bits: u32) -> Option<[Vec<u32>; CANDIDATES]> {
    let size = 1usize << bits;
    let mut slots: [Vec<u32>; CANDIDATES] = std::array::from_fn(|_| vec![0u32; size]);
    // Deterministic random walk (same input, same table): an item that finds no free
    // candidate evicts the occupant of one of its other sub-tables (never the one it was
    // just evicted from), chosen by a fixed-seed generator.
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    for start in 0..positions.len() {
        let mut item = start as u32 + 1;
        let mut from: Option<usize> = None;
        let mut placed = false;
        for _ in 0..MAX_KICKS {
            let cands = &positions[item as usize - 1];
            if let Some(t) = (0..CANDIDATES).find(|&t| slots[t][cands[t]] == 0) {
                slots[t][cands[t]] = item;
                placed = true;
                break;
            }
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let choices: Vec<usize> = (0..CANDIDATES).filter(|&t| Some(t) != from).collect();
            let t = choices[(rng >> 33) as usize % choices.len()];
            std::mem::swap(&mut slots[t][cands[t]], &mut item);
            from = Some(t);
        }
        if !placed {
            return None;
        }
    }
    Some(slots)
}

impl ServerTable {
    /// Positions per sub-table.
    pub fn size(&self) -> usize {
        1 << self.bits
    }

    /// Clear lookup table of sub-table `t` for one output block: `value(i)` of the value with
    /// index `i` at each occupied position (0 where empty), scaled by `delta`. An empty position
    /// has tag 0 and multiplicity 0: a tag match there adds nothing.
    pub fn block_lut(&self, t: usize, delta: u64, value: impl Fn(usize) -> u64) -> Vec<u64> {
        self.slots[t]
            .iter()
            .map(|&o| {
                if o == 0 {
                    0
                } else {
                    value(o as usize - 1).wrapping_mul(delta)
                }
            })
            .collect()
    }
}
