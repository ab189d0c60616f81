//! `pl.col(x).fhe.is_in(set)` and its fused counts (`.fhe.count()`, `.fhe.count_per_ioc()`).

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

use super::columns::{binary_column, expand, guarded, weights_of};
use crate::error::Error;
use crate::py::registry;
use crate::query::membership::{SetCount, SetQuery};

/// Kwargs of the set-membership plugins.
#[derive(Deserialize)]
struct SetKwargs {
    /// Hex id of a loaded encrypted IOC set.
    set: String,
    /// Lowest bits compared (64, 128, 256).
    bits: usize,
    /// Selector digit width: 2 or 4, or 0 for the cheapest per slot.
    digit_bits: usize,
    /// True: one count per IOC slot; false: rows matching any IOC.
    per_ioc: bool,
    /// Domain sets: "exact" or "subdomain".
    #[serde(rename = "match", default = "exact")]
    mode: String,
    /// Kernel for per-IOC counts: "auto" (cheaper predicted), "scan" or "lookup".
    #[serde(default = "auto")]
    kernel: String,
    /// Counts only: the second input is each row's multiplicity (pre-aggregated pairs).
    #[serde(default)]
    weighted: bool,
    /// Benchmarks only (`bench-bindings` wheel): compute every n-th slot.
    #[cfg(feature = "bench-bindings")]
    #[serde(default = "one")]
    slot_stride: usize,
}

#[cfg(feature = "bench-bindings")]
fn one() -> usize {
    1
}

impl SetKwargs {
    /// Every slot is computed, except in benchmark wheels asked to sample.
    fn slot_stride(&self) -> usize {
        #[cfg(feature = "bench-bindings")]
        return self.slot_stride;
        #[cfg(not(feature = "bench-bindings"))]
        1
    }
}

fn exact() -> String {
    "exact".into()
}

fn auto() -> String {
    "auto".into()
}

/// Run `f` on the query the kwargs name (set, its server key, match mode, options).
fn with_query<T>(
    kw: &SetKwargs,
    f: impl FnOnce(SetQuery<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    registry::with_set_query(&kw.set, kw.bits, kw.digit_bits, &kw.mode, &kw.kernel, f)
}

/// Rows matching at least one IOC (`per_ioc` false) or rows containing each IOC (true).
#[polars_expr(output_type=Binary)]
fn fhe_is_in_count(inputs: &[Series], kwargs: SetKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let what = if kwargs.per_ioc {
        SetCount::PerIoc
    } else {
        SetCount::AnyIoc
    };
    let out = guarded("is_in", || {
        let weights = match (kwargs.weighted, inputs.get(1)) {
            (true, Some(w)) => Some(weights_of(w, s.name(), s.len())?),
            (true, None) => return Err(Error::InvalidInput("missing weights column".into())),
            (false, _) => None,
        };
        with_query(&kwargs, |q| {
            let expanded = expand(s, q.spec(), q.mode(), weights.as_deref())?.1;
            q.count(&expanded, what, kwargs.slot_stride())
        })
    })?;
    Ok(binary_column(s.name().clone(), vec![Some(out)]))
}

/// One encrypted boolean per row: the row matches at least one IOC (null stays null).
#[polars_expr(output_type=Binary)]
fn fhe_is_in(inputs: &[Series], kwargs: SetKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let out = guarded("is_in", || {
        with_query(&kwargs, |q| {
            let (rows, expanded) = expand(s, q.spec(), q.mode(), None)?;
            q.rows(&rows, &expanded)
        })
    })?;
    Ok(binary_column(s.name().clone(), out))
}
