//! Polars expression plugins: 3–6-line shims from Series to the service layer
//! ([`crate::query`]), one file per topic. [`columns`] decodes columns and arguments and turns
//! errors and panics into Polars errors.

pub(crate) mod columns;
mod encrypt;
mod eq;
mod is_in;
mod testing;
