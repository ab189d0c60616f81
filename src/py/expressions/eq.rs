//! `pl.col(x).fhe.eq(value)`, its fused `.fhe.count()`, and `.fhe.count()` of materialised
//! encrypted booleans.

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

use super::columns::{
    binary_arg, binary_column, binary_rows, eq_column, guarded, name, server_key_of,
};
use crate::error::Error;
use crate::keys::ServerKey;
use crate::py::registry;
use crate::query::equality;
use crate::query::options::MatchOptions;

/// Kwargs of the comparison plugins.
#[derive(Deserialize)]
struct MatchKwargs {
    /// Lowest bits compared: 256 (exact, default), 128 or 64.
    bits: usize,
    /// Selector digit width: 2 or 4, or 0 for the cheapest.
    digit_bits: usize,
}

/// Run `f` with the literal encrypted value (input 1), its loaded server key and the options.
fn with_value<T>(
    inputs: &[Series],
    kwargs: &MatchKwargs,
    f: impl FnOnce(&ServerKey, &[u8], MatchOptions) -> Result<T, Error>,
) -> Result<T, Error> {
    let value = binary_arg(inputs, 1, "encrypted value")?;
    let options = MatchOptions::new(kwargs.bits, kwargs.digit_bits)?;
    f(&*server_key_of(&value)?, &value, options)
}

/// One encrypted boolean per row (null stays null).
#[polars_expr(output_type=Binary)]
fn fhe_eq(inputs: &[Series], kwargs: MatchKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let out = guarded("eq", || {
        with_value(inputs, &kwargs, |sk, value, options| {
            equality::eq_rows(
                sk,
                registry::selectors(),
                name(s),
                value,
                eq_column(s)?,
                options,
            )
        })
    })?;
    Ok(binary_column(s.name().clone(), out))
}

/// `.fhe.eq(value).fhe.count()` fused: one encrypted count, no per-row booleans.
#[polars_expr(output_type=Binary)]
fn fhe_count_eq(inputs: &[Series], kwargs: MatchKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let count = guarded("count", || {
        with_value(inputs, &kwargs, |sk, value, options| {
            equality::count_eq(
                sk,
                registry::selectors(),
                name(s),
                value,
                eq_column(s)?,
                options,
            )
        })
    })?;
    Ok(binary_column(s.name().clone(), vec![Some(count)]))
}

/// Count of a column of encrypted booleans (a materialised `.fhe.eq`); an empty or all-null
/// column gives a null count (there is no key to encrypt under).
#[polars_expr(output_type=Binary)]
fn fhe_count(inputs: &[Series]) -> PolarsResult<Series> {
    let s = &inputs[0];
    let count = guarded("count", || {
        let rows = binary_rows(s, "encrypted matches (use .fhe.eq(...) first)")?;
        let Some(&(_, first)) = rows.first() else {
            return Ok(None);
        };
        equality::count_matches(&*server_key_of(first)?, name(s), &rows)
    })?;
    Ok(binary_column(s.name().clone(), vec![count]))
}
