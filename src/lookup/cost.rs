//! Predicted work and size of the lookup kernel, for choosing between it and the scan kernel
//! before anything runs and for showing the agency what a query costs to send.

use crate::lookup::gates::Plan;
use crate::lookup::query::{window_bits_for, ENTRIES_PER_TAG_GLWE};
use crate::lookup::{bins, filter};

/// One external product costs about this many PBS (measured with the pinned parameters on
/// this project's machines: 13–26 µs against 20–30 ms, single thread).
pub const PBS_PER_EXTERNAL_PRODUCT: f64 = 1.0 / 1000.0;

/// Bytes of one packed seeded GGSW and one seeded GLWE with the pinned parameters (bodies
/// only: (k+1)·N coefficients of 6 bytes ([`crate::lookup::packed`]), resp. N of 8 bytes).
pub const GGSW_BYTES: u64 = 2 * 2048 * 6;
/// See [`GGSW_BYTES`].
pub const GLWE_BYTES: u64 = 2048 * 8;

/// Predicted lookup work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LookupCost {
    /// Window bits of the fullest bin (before any growth forced by peeling).
    pub window_bits: u32,
    /// Programmable bootstraps, the release of every count included.
    pub pbs: u64,
    /// External products (CMux steps and cell reads).
    pub external_products: u64,
}

impl LookupCost {
    /// Work in PBS equivalents.
    pub fn pbs_equivalent(&self) -> f64 {
        self.pbs as f64 + self.external_products as f64 * PBS_PER_EXTERNAL_PRODUCT
    }
}

/// Work of counting over `distinct` server values with a query of `entries` bins, in `groups`
/// groups, comparing `bits` bits and releasing `count_bits`-bit counts.
pub fn predict(
    entries: usize,
    distinct: usize,
    groups: usize,
    bits: usize,
    count_bits: usize,
) -> LookupCost {
    let plan = Plan::new(bits, count_bits, groups);
    let mean = bins::bins_per_value(entries) * distinct as f64 / entries.max(1) as f64;
    // The fullest bin: mean + 4 standard deviations (bin loads are about Poisson).
    let fullest = (mean + 4.0 * mean.sqrt()).ceil() as usize;
    let window_bits = filter::start_bits(fullest);
    let per_entry_ep = plan.blocks() as u64 * (1u64 << window_bits);
    LookupCost {
        window_bits,
        pbs: entries as u64 * plan.pbs(),
        external_products: entries as u64 * per_entry_ep,
    }
}

/// Bins of a query for `iocs` IOCs (at least `pad_to` entries).
pub fn entries_for(iocs: usize, pad_to: usize) -> usize {
    bins::bins_for(iocs.max(pad_to))
}

/// Bytes of a lookup query with `entries` bins covering 2^max_bits distinct values (ciphertext
/// bodies; seeds and framing add well under 1 %).
pub fn query_bytes(entries: usize, max_bits: u32) -> u64 {
    let ggsws = 1 + u64::from(window_bits_for(max_bits, entries));
    entries as u64 * ggsws * GGSW_BYTES + entries.div_ceil(ENTRIES_PER_TAG_GLWE) as u64 * GLWE_BYTES
}
