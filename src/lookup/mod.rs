//! The lookup kernel (binned filter): cost per IOC, not per log value (docs/LOOKUP.md).
//!
//! The agency cuckoo-hashes its IOCs into public bins, one entry per bin ([`bins`]); per entry
//! it sends one GGSW of the monomial sum `X^-c1 + … + X^-c4` of the entry's four cell positions
//! and GGSWs of its window bits ([`ggsw`], [`query`]), and the negated tag chunks. The company
//! puts every distinct value into all its candidate bins and solves, per bin and window, a
//! 4-wise XOR-style filter whose four cells add up to the value's record (tag chunks, count
//! chunks per group) ([`filter`]). The server reads each entry's record with a CMux tree over
//! the window bits and one external product, tests the tag five bits per bootstrap, and gates
//! each count chunk by the match in one bootstrap of a re-randomised input: the gate's output
//! is the released block ([`eval`] reads, [`gates`] bootstraps). [`cost`] predicts the work for the kernel choice.
//!
//! Layer: core_crypto + shortint with an explicit server key; no Polars, no Python.

pub mod bins;
pub mod cost;
pub mod eval;
pub mod filter;
pub mod gates;
pub mod ggsw;
pub mod hashing;
pub mod packed;
pub mod query;

#[cfg(test)]
mod tests;

/// Candidate bins per value (agency cuckoo hashing; the server inserts into all of them).
pub const BIN_HASHES: usize = 4;
/// Bins per entry: `bins = ⌈BIN_FACTOR · entries⌉` (grown by one on a rare cuckoo failure).
pub const BIN_FACTOR: f64 = 1.1;
/// Cells of one window: one polynomial (N = 2048 coefficients).
pub const WINDOW: usize = 2048;
/// Cells each value adds up (one in each segment of a window).
pub const SUMMANDS: usize = 4;
/// Cells per segment.
pub const SEGMENT: usize = WINDOW / SUMMANDS;
/// Most values a window is given when the server picks its window bits (70 % of the cells:
/// 4-wise peeling succeeds up to about 77 %).
pub const WINDOW_CAPACITY: usize = WINDOW * 7 / 10;
/// 5-bit tag chunks every entry carries (256 bits of the tag hash).
pub const TAG_CHUNKS: usize = 52;
/// Default: the query covers up to 2^20 distinct server values.
pub const DEFAULT_MAX_BITS: u32 = 20;
/// Smallest declared size (2^11 distinct values).
pub const MIN_MAX_BITS: u32 = 11;
/// Largest declared size (2^24 distinct values).
pub const MAX_MAX_BITS: u32 = 24;
/// Bins per scan partition (checkpoint unit, Spark task): about 8,000 PBS at 64 bits.
pub const BINS_PER_PARTITION: usize = 256;
/// Deepest window tree a query may carry (noise is measured at this depth).
pub const MAX_WINDOW_BITS: u32 = 16;
