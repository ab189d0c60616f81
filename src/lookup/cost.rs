//! Predicted work of the lookup kernel, for choosing between it and the scan kernel before
//! anything runs.

use crate::lookup::eval::Plan;
use crate::lookup::table::table_bits_for;
use crate::lookup::{query, CANDIDATES, LOW_BITS};

/// One external product costs about this many PBS (measured with the pinned parameters on
/// this project's machines: 20–26 µs against 20–30 ms, single thread).
pub const PBS_PER_EXTERNAL_PRODUCT: f64 = 1.0 / 1000.0;

/// Bytes of one seeded GGSW and one seeded tag GLWE with the pinned parameters (bodies only:
/// (k+1)·N coefficients, resp. N, of 8 bytes).
pub const GGSW_BYTES: u64 = 2 * 2048 * 8;
/// See [`GGSW_BYTES`].
pub const TAG_BYTES: u64 = 2048 * 8;

/// Predicted lookup work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LookupCost {
    /// Sub-table position bits the server's values need.
    pub table_bits: u32,
    /// Programmable bootstraps.
    pub pbs: u64,
    /// External products (CMux steps and rotations).
    pub external_products: u64,
}

impl LookupCost {
    /// Work in PBS equivalents.
    pub fn pbs_equivalent(&self) -> f64 {
        self.pbs as f64 + self.external_products as f64 * PBS_PER_EXTERNAL_PRODUCT
    }
}

/// PBS of an AND over `n` booleans (⌈(n − 1)/4⌉, see [`crate::kernels::and_tree`]).
pub fn and_pbs(n: usize) -> u64 {
    n.saturating_sub(1).div_ceil(4) as u64
}

/// Work of counting `entries` IOCs over `distinct` server values in `groups` groups, the
/// largest multiplicity `max_weight`, comparing `bits` bits.
pub fn predict(
    entries: usize,
    distinct: usize,
    groups: usize,
    max_weight: u64,
    bits: usize,
) -> LookupCost {
    let plan = Plan::new(table_bits_for(distinct), bits, groups, max_weight);
    if distinct == 0 {
        return LookupCost {
            table_bits: plan.table_bits,
            pbs: 0,
            external_products: 0,
        };
    }
    let c = CANDIDATES as u64;
    let gm = (groups * plan.mult_blocks) as u64;
    let per_entry_pbs = c * (plan.tag_nibbles as u64 + and_pbs(plan.tag_nibbles)) + gm * (c + 1);
    let per_entry_ep = c * plan.blocks() as u64 * (1u64 << (plan.table_bits - LOW_BITS));
    LookupCost {
        table_bits: plan.table_bits,
        pbs: entries as u64 * per_entry_pbs,
        external_products: entries as u64 * per_entry_ep,
    }
}

/// Bytes of a lookup query of `entries` entries covering `max_bits` position bits (ciphertext
/// bodies; seeds and framing add well under 1%).
pub fn query_bytes(entries: usize, max_bits: u32) -> u64 {
    entries as u64
        * (TAG_BYTES + CANDIDATES as u64 * query::per_candidate(max_bits) as u64 * GGSW_BYTES)
}
