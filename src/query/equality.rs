//! `column == encrypted value`: per row, or fused into one encrypted count. A plaintext column
//! is de-duplicated and compared through the value's cached selectors; an encrypted column
//! (cells made with the public key) takes the slow encrypted-vs-encrypted path.

use rayon::prelude::*;
use std::collections::HashMap;

use tfhe::integer::{IntegerCiphertext, RadixCiphertext};
use tfhe::shortint::Ciphertext;

use crate::ciphertexts;
use crate::digest::Digest;
use crate::error::Result;
use crate::kernels::{dedup, encrypted, matching};
use crate::keys::ServerKey;
use crate::query::options::MatchOptions;
use crate::query::selector_cache::SelectorCache;
use crate::query::values::at_row;
use crate::wire::envelope::{check_key, Kind};

/// The left side of an equality.
pub enum Column<'a> {
    /// A plaintext column: one digest per row (None: null).
    Clear(Vec<Option<Digest>>),
    /// An encrypted column of `len` rows: its sealed cells with their row numbers (nulls left
    /// out).
    Encrypted {
        /// Rows in the column.
        len: usize,
        /// `(row, sealed cell)` for every non-null row.
        cells: Vec<(usize, &'a [u8])>,
    },
}

/// The encrypted value as a radix ciphertext, checked to be under `sk`'s key.
fn value_radix(sk: &ServerKey, value: &[u8]) -> Result<RadixCiphertext> {
    let (id, radix) = ciphertexts::value_radix(value)?;
    check_key(id, sk.id(), Kind::Value)?;
    Ok(radix)
}

/// The expanded cells of an encrypted column named `name`; errors name the row.
fn expand_cells(
    sk: &ServerKey,
    name: &str,
    cells: &[(usize, &[u8])],
) -> Result<Vec<RadixCiphertext>> {
    cells
        .par_iter()
        .map(|&(row, bytes)| sk.expand_cell(bytes).map_err(|e| at_row(name, row, e)))
        .collect()
}

/// The encrypted value and its encrypted comparison with every cell of an encrypted column.
fn encrypted_matches(
    sk: &ServerKey,
    name: &str,
    value: &[u8],
    cells: &[(usize, &[u8])],
) -> Result<(RadixCiphertext, Vec<Ciphertext>)> {
    let radix = value_radix(sk, value)?;
    let matches = encrypted::match_encrypted(sk.integer(), &radix, &expand_cells(sk, name, cells)?);
    Ok((radix, matches))
}

/// Encrypted `row == value` for every row of `column` (named `name`): sealed booleans, None
/// for nulls.
pub fn eq_rows(
    sk: &ServerKey,
    cache: &SelectorCache,
    name: &str,
    value: &[u8],
    column: Column<'_>,
    options: MatchOptions,
) -> Result<Vec<Option<Vec<u8>>>> {
    let id = sk.id();
    match column {
        Column::Encrypted { len, cells } => {
            let (_, matches) = encrypted_matches(sk, name, value, &cells)?;
            let mut out = vec![None; len];
            for (&(row, _), m) in cells.iter().zip(matches) {
                out[row] = Some(ciphertexts::seal_match(id, &m)?);
            }
            Ok(out)
        }
        Column::Clear(column) => {
            let distinct = dedup::distinct(&column);
            if distinct.is_empty() {
                return Ok(vec![None; column.len()]);
            }
            let selectors = cache.selectors(sk, value, options, distinct.len())?;
            let matches = matching::match_clear(sk.shortint(), &selectors, &distinct, options.bits);
            let sealed: HashMap<Digest, Vec<u8>> = distinct
                .into_iter()
                .zip(matches)
                .map(|(d, m)| ciphertexts::seal_match(id, &m).map(|b| (d, b)))
                .collect::<Result<_>>()?;
            Ok(column
                .into_iter()
                .map(|d| d.map(|d| sealed[&d].clone()))
                .collect())
        }
    }
}

/// Encrypted number of rows of `column` equal to `value`: one sealed count, without per-row
/// ciphertexts for a plaintext column (each distinct value compared once, weighted by its
/// multiplicity).
pub fn count_eq(
    sk: &ServerKey,
    cache: &SelectorCache,
    name: &str,
    value: &[u8],
    column: Column<'_>,
    options: MatchOptions,
) -> Result<Vec<u8>> {
    let count = match column {
        Column::Encrypted { cells, .. } => {
            let (radix, matches) = encrypted_matches(sk, name, value, &cells)?;
            encrypted::count_booleans(sk.integer(), &matches, &radix.blocks()[0])
        }
        Column::Clear(column) => {
            let distinct = dedup::distinct_with_counts(column);
            if distinct.is_empty() {
                // Nothing to compare (empty or all-null): skip the selector bootstraps.
                matching::zero_count(sk.shortint(), &value_radix(sk, value)?.blocks()[0])
            } else {
                let selectors = cache.selectors(sk, value, options, distinct.len())?;
                matching::count_clear(sk.shortint(), &selectors, &distinct, options.bits)
            }
        }
    };
    ciphertexts::seal_count(sk.id(), &count)
}

/// Encrypted number of true booleans among sealed matches `(row, bytes)` of column `name`
/// (a materialised `eq`); None when there are none (no key to encrypt a zero under).
pub fn count_matches(
    sk: &ServerKey,
    name: &str,
    matches: &[(usize, &[u8])],
) -> Result<Option<Vec<u8>>> {
    if matches.is_empty() {
        return Ok(None);
    }
    let booleans = matches
        .par_iter()
        .map(|&(row, bytes)| {
            let (found, ct) = ciphertexts::open_match(bytes).map_err(|e| at_row(name, row, e))?;
            check_key(found, sk.id(), Kind::Match).map_err(|e| at_row(name, row, e))?;
            Ok(ct)
        })
        .collect::<Result<Vec<_>>>()?;
    let count = encrypted::count_booleans(sk.integer(), &booleans, &booleans[0]);
    ciphertexts::seal_count(sk.id(), &count).map(Some)
}
