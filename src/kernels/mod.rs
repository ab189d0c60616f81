//! Pure FHE kernels over tfhe's shortint/integer API with an explicit server key: no Polars,
//! no Python. These are what `cargo test` and `cargo bench` exercise.
//!
//! Matching a plaintext column against one encrypted IOC:
//! 1. [`dedup`]: distinct digests with their multiplicities, in the clear;
//! 2. [`selectors`]: one-hot selectors `digit == t` of the IOC, computed once;
//! 3. [`and_tree`]: equality with a clear digest = AND of the selected booleans (≤ 5 per PBS);
//! 4. [`counter`]: `multiplicity × match` summed straight into encrypted bit counters.
//!
//! [`set_matching`] does the same against a cuckoo-hashed set of K encrypted IOCs, comparing each
//! distinct value with its 2–3 candidate slots only. [`row_matching`] handles log values
//! expanded into several candidates (per-row de-duplication; rows with at least one match).
//! [`encrypted`] holds the encrypted-vs-encrypted path (encrypted columns). [`release`] is the
//! last step before counts leave the company (re-randomise, refresh, narrow, saturate). Every
//! bootstrap goes through [`pbs`], which skips the work once a stop is asked.

pub mod and_tree;
pub mod counter;
pub mod dedup;
pub mod encrypted;
pub mod matching;
pub mod pbs;
pub mod release;
pub mod row_matching;
pub mod selectors;
pub mod set_matching;

#[cfg(test)]
mod tests;
