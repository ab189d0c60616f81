//! iocz: count matches of secret, FHE-encrypted indicators of compromise (IOCs) in plaintext
//! logs, without revealing the IOCs.
//!
//! Layers (each usable alone): [`params`] (pinned tfhe parameters), [`digest`] (256-bit
//! canonical values), [`ioc`] (IOC types: canonical forms, type-tagged digests, candidate
//! expansion of log values), [`keys`] and [`ciphertexts`] (versioned, size-limited,
//! conformance-checked serialisation inside an [`envelope`]), [`kernels`] (pure FHE algorithms over tfhe's
//! shortint/integer API with an explicit server key). With the `python` feature, [`python`]
//! and the Polars expression adapters build the `iocz._iocz` extension module.

pub mod bundle;
pub mod ciphertexts;
pub mod combine;
pub mod cuckoo;
pub mod digest;
pub mod envelope;
pub mod error;
pub mod ioc;
pub mod kernels;
pub mod keys;
pub mod params;
pub mod registry;
pub mod set;

#[cfg(feature = "python")]
mod expressions;
#[cfg(feature = "python")]
mod py_workflow;
#[cfg(feature = "python")]
pub mod python;

pub use error::{Error, Result};
