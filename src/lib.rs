//! iocz: count matches of secret, FHE-encrypted indicators of compromise (IOCs) in plaintext
//! logs, without revealing the IOCs.
//!
//! Layers, each using only those before it: [`params`] (pinned tfhe parameters and limits),
//! [`error`], [`digest`] (256-bit canonical values); [`wire`] (ids, bounds-checked reader,
//! envelope header, bundle container); [`ciphertexts`] (versioned, size-limited,
//! conformance-checked ciphertext kinds) → [`keys`] → [`set`] and [`combine`]. Beside them, pure:
//! [`ioc`] (IOC types, canonical forms, candidate expansion), [`cuckoo`] and [`kernels`] (FHE
//! algorithms over tfhe's shortint/integer API with an explicit server key). On top,
//! [`query`] is the Polars-free, Python-free service layer every caller goes through. With the
//! `python` feature, `py` builds the `iocz._iocz` extension module and the Polars plugins.

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
