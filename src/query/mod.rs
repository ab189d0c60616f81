//! The service layer: every decision between a caller and the kernels, free of Polars and
//! Python. The Polars plugins, the Python bindings, benches and tests all call these entry
//! points, so a Rust caller gets exactly what a Python user gets: which kernel runs
//! ([`membership`], [`equality`]), how log values become candidate digests (once, in
//! [`values`]), how comparisons are configured ([`options`]) and how selector tables are reused
//! across calls ([`selector_cache`]), and how the agency's IOCs become an encrypted set ([`sets`]). Checks on decrypted results live with the objects they
//! protect (`Manifest::name_counts`).

pub mod equality;
pub mod kernel;
pub mod membership;
pub mod options;
pub mod plan;
pub mod selector_cache;
pub mod sets;
pub mod values;
