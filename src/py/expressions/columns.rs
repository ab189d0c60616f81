//! Series ⇄ service-layer types: plaintext and encrypted columns, literal arguments, Binary
//! results; and [`guarded`], which every plugin runs its work in.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use polars::prelude::*;

use crate::error::Error;
use crate::ioc::{DomainMatch, SetSpec};
use crate::kernels::row_matching::Expanded;
use crate::keys::ServerKey;
use crate::py::registry;
use crate::query::equality::Column;
use crate::query::values;
use crate::wire::envelope::{self, Kind};

/// Run `f`, turning iocz errors and panics into Polars errors.
pub fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, Error>) -> PolarsResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(polars_err!(ComputeError: "iocz {}: {}", what, e)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(polars_err!(ComputeError: "iocz {}: internal error: {}", what, msg))
        }
    }
}

/// A Binary column named `name`.
pub fn binary_column(name: PlSmallStr, values: Vec<Option<Vec<u8>>>) -> Series {
    BinaryChunked::from_iter_options(name, values.into_iter()).into_series()
}

/// The column's name, for error messages.
pub fn name(series: &Series) -> &str {
    series.name().as_str()
}

/// The loaded server key of the object `bytes` was sealed under.
pub fn server_key_of(bytes: &[u8]) -> Result<Arc<ServerKey>, Error> {
    registry::server_key(envelope::peek(bytes)?.0.key)
}

/// The first non-null value of Binary input `index` (a literal argument such as an encrypted
/// value), named `what` in errors.
pub fn binary_arg(inputs: &[Series], index: usize, what: &str) -> Result<Vec<u8>, Error> {
    let arg = inputs
        .get(index)
        .ok_or_else(|| Error::InvalidInput(format!("missing {what}")))?;
    let ca = arg
        .binary()
        .map_err(|_| Error::InvalidInput(format!("the {what} must be Binary")))?;
    ca.iter()
        .flatten()
        .next()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Error::InvalidInput(format!("the {what} is null")))
}

/// The non-null cells of a Binary column with their row numbers.
pub fn binary_rows<'a>(series: &'a Series, what: &str) -> Result<Vec<(usize, &'a [u8])>, Error> {
    let ca = series.binary().map_err(|_| {
        Error::InvalidInput(format!(
            "column {:?} is not a column of {what}",
            name(series)
        ))
    })?;
    Ok(ca
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect())
}

/// True when `series` is a column of encrypted cells (made by `.fhe.encrypt`).
pub fn is_encrypted(series: &Series) -> bool {
    series.binary().is_ok_and(|ca| {
        ca.iter()
            .flatten()
            .next()
            .is_some_and(|v| envelope::peek(v).is_ok_and(|(h, _)| h.kind == Kind::Cell))
    })
}

/// The left side of an equality: encrypted cells, or digests of a String (SHA-256 hex) or
/// Binary (32-byte digests) column.
pub fn eq_column(series: &Series) -> Result<Column<'_>, Error> {
    if is_encrypted(series) {
        let cells = binary_rows(series, "encrypted cells")?;
        return Ok(Column::Encrypted {
            len: series.len(),
            cells,
        });
    }
    let n = name(series);
    Ok(Column::Clear(match series.dtype() {
        DataType::String => values::digests(n, series.str().expect("dtype checked").iter())?,
        DataType::Binary => values::digests(n, series.binary().expect("dtype checked").iter())?,
        DataType::Null => vec![None; series.len()],
        other => {
            return Err(Error::InvalidInput(format!(
                "column {n:?} has type {other}; expected String (hex SHA-256) or Binary (32-byte \
                 digests)"
            )))
        }
    }))
}

/// A multiplicity column (`weights`) for the `len` rows of `column`: integers, no nulls, none
/// negative.
pub fn weights_of(weights: &Series, column: &str, len: usize) -> Result<Vec<u64>, Error> {
    let w = weights.name();
    if weights.len() != len {
        return Err(Error::InvalidInput(format!(
            "weights column {w:?} has {} rows, column {column:?} has {len}",
            weights.len()
        )));
    }
    if !weights.dtype().is_integer() {
        return Err(Error::InvalidInput(format!(
            "weights column {w:?} has type {}; expected an integer type (row multiplicities)",
            weights.dtype()
        )));
    }
    let cast = weights
        .cast(&DataType::Int64)
        .map_err(|e| Error::InvalidInput(format!("weights column {w:?}: {e}")))?;
    cast.i64()
        .expect("cast to Int64")
        .iter()
        .enumerate()
        .map(|(row, v)| match v {
            Some(v) if v >= 0 => Ok(v as u64),
            Some(v) => Err(Error::InvalidInput(format!(
                "weights column {w:?} row {row}: {v} is negative"
            ))),
            None => Err(Error::InvalidInput(format!(
                "weights column {w:?} row {row} is null"
            ))),
        })
        .collect()
}

/// The distinct values of a plaintext column expanded into candidates for `spec`, with each
/// row's distinct-value index; each row weighs `weights[row]` (None: 1). Encrypted columns are
/// refused.
pub fn expand(
    series: &Series,
    spec: &SetSpec,
    mode: DomainMatch,
    weights: Option<&[u64]>,
) -> Result<(Vec<Option<u32>>, Expanded), Error> {
    let n = name(series);
    if is_encrypted(series) {
        return Err(Error::InvalidInput(format!(
            "column {n:?} is encrypted; is_in works on plaintext columns (use .fhe.eq per IOC)"
        )));
    }
    let weight = |row: usize| weights.map_or(1, |w| w[row]);
    if weights.is_some_and(|w| w.len() != series.len()) {
        return Err(Error::InvalidInput(format!(
            "column {n:?}: weights must be one per row"
        )));
    }
    match series.dtype() {
        DataType::String => values::expand_weighted(
            n,
            spec,
            mode,
            series
                .str()
                .expect("dtype checked")
                .iter()
                .enumerate()
                .map(|(i, v)| (v, weight(i))),
        ),
        DataType::Binary if spec.ioc_type.is_hash() => values::expand_weighted(
            n,
            spec,
            mode,
            series
                .binary()
                .expect("dtype checked")
                .iter()
                .enumerate()
                .map(|(i, v)| (v, weight(i))),
        ),
        DataType::Null => Ok((vec![None; series.len()], Expanded::default())),
        other => Err(Error::InvalidInput(format!(
            "column {n:?} has type {other}; expected String{} for {} IOCs",
            if spec.ioc_type.is_hash() {
                " or Binary"
            } else {
                ""
            },
            spec.ioc_type.name()
        ))),
    }
}
