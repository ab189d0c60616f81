//! Server side: the company's distinct values laid out in the agency's public bins, and per bin
//! and window a solved 4-wise XOR-style filter (binary fuse / ChalametPIR idea): cells `F` with
//! `F[c1(v)] + F[c2(v)] + F[c3(v)] + F[c4(v)] = record(v)` modulo the cell space, found by
//! peeling. Every value goes into all its candidate bins; inside a bin, the low `w` bits of its
//! window word choose one of `2^w` windows of 2048 cells. The server uses, per bin, the
//! smallest `w` (up to the query's maximum) for which every window peels.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::lookup::hashing::Location;
use crate::lookup::{SUMMANDS, WINDOW, WINDOW_CAPACITY};

/// One bin's solved filter: per window, the peeling order `(value, pivot cell)`; cells are
/// assigned in reverse order, each pivot completing its value's sum.
#[derive(Clone, Debug)]
pub struct BinFilter {
    /// Window bits this bin uses (≤ the query's maximum).
    pub window_bits: u32,
    /// Window bits beyond the load-based start that peeling failures forced.
    pub growths: u32,
    /// Per window: `(value index, pivot cell)` in peeling order.
    pub windows: Vec<Vec<(u32, u16)>>,
}

/// The values of each bin: `members[b]` lists the indices of the values with `b` among their
/// candidate bins.
pub fn bin_members(locations: &[Location], bins: usize) -> Vec<Vec<u32>> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); bins];
    for (i, l) in locations.iter().enumerate() {
        for b in l.bins(bins) {
            members[b].push(i as u32);
        }
    }
    members
}

/// Window bits a bin of `values` values starts at: the smallest `w` with
/// `values ≤ 2^w · WINDOW_CAPACITY`.
pub fn start_bits(values: usize) -> u32 {
    let mut w = 0;
    while values > (WINDOW_CAPACITY << w) {
        w += 1;
    }
    w
}

/// Solve the filter of one bin holding `members`, growing `w` from [`start_bits`] on a peeling
/// failure up to `max_bits`; beyond, a one-line error naming the fix.
pub fn solve_bin(members: &[u32], locations: &[Location], max_bits: u32) -> Result<BinFilter> {
    let start = start_bits(members.len());
    for w in start..=max_bits {
        let mut per_window: Vec<Vec<u32>> = vec![Vec::new(); 1 << w];
        for &v in members {
            per_window[locations[v as usize].window(w)].push(v);
        }
        let windows: Option<Vec<Vec<(u32, u16)>>> = per_window
            .iter()
            .map(|values| peel(values, locations))
            .collect();
        if let Some(windows) = windows {
            return Ok(BinFilter {
                window_bits: w,
                growths: w - start,
                windows,
            });
        }
    }
    Err(Error::InvalidInput(format!(
        "a lookup bin of {} values has no solvable filter within the query's {} window bits: \
         ask the agency for a query with a larger lookup size (`iocz query --lookup-bits`) or \
         scan with kernel=\"scan\"",
        members.len(),
        max_bits
    )))
}

/// Peeling order of one window's `values`, or None when a 2-core remains.
fn peel(values: &[u32], locations: &[Location]) -> Option<Vec<(u32, u16)>> {
    let mut count = vec![0u32; WINDOW];
    let mut xor = vec![0u32; WINDOW];
    for &v in values {
        for &c in &locations[v as usize].cells {
            count[c as usize] += 1;
            xor[c as usize] ^= v;
        }
    }
    let mut stack: Vec<usize> = (0..WINDOW).filter(|&c| count[c] == 1).collect();
    let mut order = Vec::with_capacity(values.len());
    while let Some(c) = stack.pop() {
        if count[c] != 1 {
            continue;
        }
        let v = xor[c];
        order.push((v, c as u16));
        for &c2 in &locations[v as usize].cells {
            let c2 = c2 as usize;
            count[c2] -= 1;
            xor[c2] ^= v;
            if count[c2] == 1 {
                stack.push(c2);
            }
        }
    }
    (order.len() == values.len()).then_some(order)
}

impl BinFilter {
    /// The cells of every window for one record block: values in `0..modulus` such that each
    /// value's [`SUMMANDS`] cells add up to `record(value)` modulo `modulus` (a power of two).
    /// Cells no value uses are 0.
    pub fn cells(
        &self,
        locations: &[Location],
        modulus: u64,
        record: impl Fn(u32) -> u64,
    ) -> Vec<Vec<u64>> {
        let mask = modulus - 1;
        self.windows
            .iter()
            .map(|order| {
                let mut cells = vec![0u64; WINDOW];
                for &(v, pivot) in order.iter().rev() {
                    let others = locations[v as usize]
                        .cells
                        .iter()
                        .filter(|&&c| c != pivot)
                        .fold(0u64, |acc, &c| acc.wrapping_add(cells[c as usize]));
                    cells[pivot as usize] = record(v).wrapping_sub(others) & mask;
                }
                cells
            })
            .collect()
    }
}

/// Solve every bin of `range` in parallel.
pub fn solve_bins(
    members: &[Vec<u32>],
    range: std::ops::Range<usize>,
    locations: &[Location],
    max_bits: u32,
) -> Result<Vec<BinFilter>> {
    range
        .into_par_iter()
        .map(|b| solve_bin(&members[b], locations, max_bits))
        .collect()
}

/// Check (tests): every value's cells add up to its record.
pub fn sums_hold(
    filter: &BinFilter,
    cells: &[Vec<u64>],
    locations: &[Location],
    modulus: u64,
    record: impl Fn(u32) -> u64,
) -> bool {
    filter.windows.iter().zip(cells).all(|(order, window)| {
        order.iter().all(|&(v, _)| {
            let sum = locations[v as usize]
                .cells
                .iter()
                .fold(0u64, |acc, &c| acc.wrapping_add(window[c as usize]));
            sum & (modulus - 1) == record(v) & (modulus - 1)
        })
    }) && SUMMANDS == 4
}
