//! Test hook: a plugin that panics inside [`guarded`]; tests check that Polars gets an error
//! (no panic crosses into Polars or Python).

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;

use super::columns::guarded;
use crate::error::Error;

/// Panics, inside the same guard every plugin uses.
#[polars_expr(output_type=Binary)]
fn fhe_force_panic(_inputs: &[Series]) -> PolarsResult<Series> {
    guarded("force_panic", || -> Result<Series, Error> {
        panic!("forced panic for testing")
    })
}
