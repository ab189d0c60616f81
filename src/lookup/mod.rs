//! The lookup kernel: cost per IOC, not per log value (DESIGN.md §6).
//!
//! The company lays its own distinct values out in a clear cuckoo table ([`table`]); the agency
//! sends, per IOC ("entry") and per candidate sub-table, GGSW ciphertexts of the IOC's position
//! there ([`ggsw`], [`query`]) and its tag; the server looks each candidate's record up with a
//! CMux tree over the high position bits and one external product by an encrypted monomial
//! `X^-low` for the low 11 bits ([`eval`]), compares the record's tag with the IOC's, gates the
//! record's multiplicity by the result and adds the three candidates: `Enc(count of this IOC)`.
//! [`cost`] predicts the work so the service layer can pick the cheaper kernel.
//!
//! Layer: core_crypto + shortint with an explicit server key; no Polars, no Python.

pub mod cost;
pub mod eval;
pub mod ggsw;
pub mod hashing;
pub mod query;
pub mod table;

#[cfg(test)]
mod tests;

/// Candidate positions per value: one in each of the three sub-tables.
pub const CANDIDATES: usize = 3;
/// Position bits handled by the monomial rotation (N = 2048 coefficients per polynomial).
pub const LOW_BITS: u32 = 11;
/// Smallest sub-table: one polynomial (2^11 positions).
pub const MIN_TABLE_BITS: u32 = LOW_BITS;
/// Default largest sub-table the agency's query covers: 3 · 2^20 positions, about 2.6 million
/// distinct values at the placement load.
pub const DEFAULT_MAX_BITS: u32 = 20;
/// Largest `max_bits` a query may declare (3 · 2^24 positions).
pub const MAX_MAX_BITS: u32 = 24;
/// Tag nibbles every entry carries per sub-table (all of its 256-bit table hash); a scan with
/// `bits` compares nibbles `b/4 .. bits/4` (the lower ones are implied by the position).
pub const TAG_NIBBLES: usize = 64;
/// Highest fill of the three sub-tables aimed at before growing them.
pub const TARGET_LOAD: f64 = 0.85;
