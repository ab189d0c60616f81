//! iocz: count matches of secret, FHE-encrypted indicators of compromise (IOCs) in plaintext
//! logs, without revealing the IOCs.
//!
//! Layers, each module using only those listed before it (no two modules use each other):
//! - foundations: [`error`], [`params`] (pinned tfhe parameters and limits), [`digest`]
//!   (256-bit canonical values), [`interrupt`] (stop requests), [`wire`] (ids, bounds-checked
//!   reader, envelope header, bundle container);
//! - pure, in the clear: [`ioc`] (IOC types, canonical forms, candidate expansion), [`cuckoo`];
//! - FHE algorithms with an explicit server key: [`kernels`] (shortint/integer: the scan
//!   kernel, counters, release; every bootstrap through `kernels::pbs`, stoppable) and
//!   [`lookup`] (core_crypto + shortint: the binned filter kernel and its query format);
//! - objects that travel: [`ciphertexts`] (versioned, size-limited, conformance-checked
//!   ciphertext kinds), [`released`] (released counts), [`keys`], [`manifest`] (the agency's
//!   slot → IOC map), [`set`] (encrypted IOC sets with their lookup part), [`combine`] (sums
//!   and release of sealed counts);
//! - [`query`]: the Polars-free, Python-free service layer every caller goes through.
//!
//! With the `python` feature, `py` builds the `iocz._iocz` extension module and the Polars
//! plugins on top of [`query`].

pub mod ciphertexts;
pub mod combine;
pub mod cuckoo;
pub mod digest;
pub mod error;
pub mod interrupt;
pub mod ioc;
pub mod kernels;
pub mod keys;
pub mod lookup;
pub mod manifest;
pub mod params;
pub mod query;
pub mod released;
pub mod set;
pub mod wire;

#[cfg(feature = "python")]
mod py;

#[cfg(test)]
mod test_keys;

pub use error::{Error, Result};
