//! `pl.col(x).fhe.encrypt(pk)`.

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use rayon::prelude::*;
use serde::Deserialize;

use super::columns::{binary_column, eq_column, guarded};
use crate::error::Error;
use crate::py::registry;
use crate::query::equality::Column;
use crate::wire::ids::KeyId;

/// Kwargs naming a key by fingerprint.
#[derive(Deserialize)]
struct KeyKwargs {
    key: String,
}

/// Each cell becomes a compact ciphertext under the public key (nulls stay null).
#[polars_expr(output_type=Binary)]
fn fhe_encrypt(inputs: &[Series], kwargs: KeyKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let out = guarded("encrypt", || {
        let pk = registry::public_key(KeyId::parse(&kwargs.key)?)?;
        let Column::Clear(digests) = eq_column(s)? else {
            return Err(Error::InvalidInput(format!(
                "column {:?} is already encrypted",
                s.name().as_str()
            )));
        };
        digests
            .into_par_iter()
            .map(|d| d.map(|d| pk.encrypt_cell(&d)).transpose())
            .collect::<Result<Vec<_>, Error>>()
    })?;
    Ok(binary_column(s.name().clone(), out))
}
