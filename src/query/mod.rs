//! The service layer: every decision between a caller and the kernels, free of Polars and
//! Python. The Polars plugins, the Python bindings, benches and tests all call these entry
//! points, so a Rust caller gets exactly what a Python user gets. A scan runs through
//! [`plan`]: one [`plan::ColumnPlan`] per (set, column) classifies, merges and expands the
//! column's values once, chooses the kernel ([`kernel`], [`membership`]) and whether the rows
//! matching any IOC are counted, cuts the partitions with their predicted PBS and counts each;
//! [`crate::combine`] adds the partial counts and releases them (`plan/tests.rs` runs a whole
//! scan this way). Beside it: how log values become candidate digests ([`values`]), how
//! comparisons are configured ([`options`]), how selector tables are reused across calls
//! ([`selector_cache`]), encrypted-value equality ([`equality`]) and how the agency's IOCs
//! become an encrypted set ([`sets`]). Checks on decrypted results live with the objects they
//! protect (`Manifest::name_counts`).

pub mod equality;
pub mod kernel;
pub mod membership;
pub mod options;
pub mod plan;
pub mod selector_cache;
pub mod sets;
pub mod values;
