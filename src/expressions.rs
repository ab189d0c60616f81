//! Polars expression plugins: Series ⇄ kernels. No algorithm lives here: columns are decoded
//! into digests or ciphertexts (errors name the column and the first bad row), handed to
//! [`crate::kernels`], and the results encoded back into Binary columns.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use rayon::prelude::*;
use serde::Deserialize;

use tfhe::integer::IntegerCiphertext;

use crate::ciphertexts;
use crate::digest::Digest;
use crate::envelope::{self, KeyId, Kind};
use crate::error::Error;
use crate::ioc::{DomainMatch, IocType, SetSpec};
use crate::kernels::row_matching::{self, Expanded};
use crate::kernels::{counter, dedup, encrypted, matching, selectors::DigitBits, set_matching};
use crate::keys::ServerKey;
use crate::registry;

/// Kwargs naming a key by fingerprint.
#[derive(Deserialize)]
struct KeyKwargs {
    key: String,
}

/// Kwargs of the comparison plugins.
#[derive(Deserialize)]
struct MatchKwargs {
    /// Lowest bits compared: 256 (exact, default), 128 or 64.
    bits: usize,
    /// Selector digit width: 2 or 4, or 0 for the cheapest.
    digit_bits: usize,
}

/// Run `f`, turning iocz errors and panics into Polars errors.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, Error>) -> PolarsResult<T> {
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

fn at_row(series: &Series, row: usize, e: Error) -> Error {
    let msg = format!("column {:?} row {row}: {e}", series.name().as_str());
    match e {
        Error::WrongKey(_) => Error::WrongKey(msg),
        Error::InvalidInput(_) => Error::InvalidInput(msg),
        _ => Error::Format(msg),
    }
}

/// A column as digests: String of SHA-256 hex, or Binary of 32-byte digests. Nulls stay None.
fn digests(series: &Series) -> Result<Vec<Option<Digest>>, Error> {
    let parse =
        |row: usize, r: Result<Digest, Error>| r.map(Some).map_err(|e| at_row(series, row, e));
    match series.dtype() {
        DataType::String => {
            let ca = series.str().expect("dtype checked");
            ca.iter()
                .enumerate()
                .map(|(row, v)| v.map_or(Ok(None), |v| parse(row, Digest::from_hex(v))))
                .collect()
        }
        DataType::Binary => {
            let ca = series.binary().expect("dtype checked");
            ca.iter()
                .enumerate()
                .map(|(row, v)| v.map_or(Ok(None), |v| parse(row, Digest::from_bytes(v))))
                .collect()
        }
        DataType::Null => Ok(vec![None; series.len()]),
        other => Err(Error::InvalidInput(format!(
            "column {:?} has type {other}; expected String (hex SHA-256) or Binary (32-byte digests)",
            series.name().as_str()
        ))),
    }
}

/// True when `series` is a column of encrypted cells (made by `.fhe.encrypt`).
fn is_encrypted(series: &Series) -> bool {
    series.binary().is_ok_and(|ca| {
        ca.iter()
            .flatten()
            .next()
            .is_some_and(|v| envelope::peek(v).is_ok_and(|(h, _)| h.kind == Kind::Cell))
    })
}

/// The encrypted cells of `series`, expanded, with their row numbers (nulls skipped).
fn cells(
    series: &Series,
    key: &ServerKey,
) -> Result<Vec<(usize, tfhe::integer::RadixCiphertext)>, Error> {
    let ca = series
        .binary()
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
    let rows: Vec<(usize, &[u8])> = ca
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    rows.into_par_iter()
        .map(|(row, bytes)| {
            ciphertexts::cell_radix(bytes, key)
                .map(|c| (row, c))
                .map_err(|e| at_row(series, row, e))
        })
        .collect()
}

/// The encrypted value `value` (with its key and server key) and the expanded cells of the
/// encrypted column `s` with their row numbers.
#[allow(clippy::type_complexity)]
fn encrypted_inputs(
    s: &Series,
    value: &[u8],
) -> Result<
    (
        KeyId,
        tfhe::integer::RadixCiphertext,
        Arc<ServerKey>,
        Vec<usize>,
        Vec<tfhe::integer::RadixCiphertext>,
    ),
    Error,
> {
    let (id, radix) = ciphertexts::value_radix(value)?;
    let sk = registry::server_key(id)?;
    let (rows, cells) = cells(s, &sk)?.into_iter().unzip();
    Ok((id, radix, sk, rows, cells))
}

/// Per-row results from per-distinct-value matches: each row gets its value's sealed boolean.
fn per_row(
    column: Vec<Option<Digest>>,
    distinct: Vec<Digest>,
    matches: Vec<tfhe::shortint::Ciphertext>,
    key: KeyId,
) -> Result<Vec<Option<Vec<u8>>>, Error> {
    let sealed: std::collections::HashMap<Digest, Vec<u8>> = distinct
        .into_iter()
        .zip(matches)
        .map(|(d, m)| ciphertexts::seal_match(key, &m).map(|b| (d, b)))
        .collect::<Result<_, Error>>()?;
    Ok(column
        .into_iter()
        .map(|d| d.map(|d| sealed[&d].clone()))
        .collect())
}

/// The encrypted value passed as the second input (a Binary literal).
fn value_arg(inputs: &[Series]) -> Result<Vec<u8>, Error> {
    let arg = inputs
        .get(1)
        .ok_or_else(|| Error::InvalidInput("missing encrypted value".into()))?;
    let ca = arg
        .binary()
        .map_err(|_| Error::InvalidInput("the encrypted value must be Binary".into()))?;
    ca.iter()
        .flatten()
        .next()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Error::InvalidInput("the encrypted value is null".into()))
}

fn digit_bits(kwargs: &MatchKwargs) -> Result<Option<DigitBits>, Error> {
    if ![64, 128, 256].contains(&kwargs.bits) {
        return Err(Error::InvalidInput(format!(
            "bits must be 64, 128 or 256, not {}",
            kwargs.bits
        )));
    }
    match kwargs.digit_bits {
        0 => Ok(None),
        2 => Ok(Some(DigitBits::Two)),
        4 => Ok(Some(DigitBits::Four)),
        n => Err(Error::InvalidInput(format!(
            "digit_bits must be 2 or 4, not {n}"
        ))),
    }
}

fn binary_column(name: PlSmallStr, values: Vec<Option<Vec<u8>>>) -> Series {
    BinaryChunked::from_iter_options(name, values.into_iter()).into_series()
}

/// `pl.col(x).fhe.encrypt(pk)`: each cell becomes a compact ciphertext under the public key.
#[polars_expr(output_type=Binary)]
fn fhe_encrypt(inputs: &[Series], kwargs: KeyKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let out = guarded("encrypt", || {
        let pk = registry::public_key(KeyId::parse(&kwargs.key)?)?;
        digests(s)?
            .into_par_iter()
            .map(|d| d.map(|d| pk.encrypt_cell(&d)).transpose())
            .collect::<Result<Vec<_>, Error>>()
    })?;
    Ok(binary_column(s.name().clone(), out))
}

/// `pl.col(x).fhe.eq(value)`: one encrypted boolean per row (null stays null).
#[polars_expr(output_type=Binary)]
fn fhe_eq(inputs: &[Series], kwargs: MatchKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let out = guarded("eq", || {
        let value = value_arg(inputs)?;
        let bits = digit_bits(&kwargs)?;
        if is_encrypted(s) {
            let (id, radix, sk, rows, cells) = encrypted_inputs(s, &value)?;
            let matches = encrypted::match_encrypted(sk.integer(), &radix, &cells);
            let mut out = vec![None; s.len()];
            for (row, m) in rows.into_iter().zip(matches) {
                out[row] = Some(ciphertexts::seal_match(id, &m)?);
            }
            return Ok(out);
        }
        let column = digests(s)?;
        let distinct: Vec<Digest> = dedup::distinct(&column);
        if distinct.is_empty() {
            return Ok(vec![None; s.len()]);
        }
        let (id, selectors) = registry::selectors(&value, bits, distinct.len(), kwargs.bits)?;
        let sk = registry::server_key(id)?;
        let matches = matching::match_clear(sk.shortint(), &selectors, &distinct, kwargs.bits);
        per_row(column, distinct, matches, id)
    })?;
    Ok(binary_column(s.name().clone(), out))
}

/// `pl.col(x).fhe.eq(value).fhe.count()` fused: one encrypted count, no per-row booleans.
#[polars_expr(output_type=Binary)]
fn fhe_count_eq(inputs: &[Series], kwargs: MatchKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let count = guarded("count", || {
        let value = value_arg(inputs)?;
        let bits = digit_bits(&kwargs)?;
        if is_encrypted(s) {
            let (id, radix, sk, _, cells) = encrypted_inputs(s, &value)?;
            let matches = encrypted::match_encrypted(sk.integer(), &radix, &cells);
            let count = encrypted::count_booleans(sk.integer(), &matches, &radix.blocks()[0]);
            return ciphertexts::seal_count(id, &count);
        }
        let distinct = dedup::distinct_with_counts(digests(s)?);
        if distinct.is_empty() {
            // Nothing to compare (empty or all-null): skip the selector bootstraps.
            let (id, radix) = ciphertexts::value_radix(&value)?;
            let sk = registry::server_key(id)?;
            return ciphertexts::seal_count(
                id,
                &matching::zero_count(sk.shortint(), &radix.blocks()[0]),
            );
        }
        let (id, selectors) = registry::selectors(&value, bits, distinct.len(), kwargs.bits)?;
        let sk = registry::server_key(id)?;
        let count = matching::count_clear(sk.shortint(), &selectors, &distinct, kwargs.bits);
        ciphertexts::seal_count(id, &count)
    })?;
    Ok(binary_column(s.name().clone(), vec![Some(count)]))
}

/// `.fhe.count()` of a column of encrypted booleans (from a materialised `.fhe.eq`).
/// An empty or all-null column gives a null count (there is no key to encrypt under).
#[polars_expr(output_type=Binary)]
fn fhe_count(inputs: &[Series]) -> PolarsResult<Series> {
    let s = &inputs[0];
    let count = guarded("count", || {
        let ca = s.binary().map_err(|_| {
            Error::InvalidInput(format!(
                "column {:?} is not a column of encrypted matches (use .fhe.eq(...) first)",
                s.name().as_str()
            ))
        })?;
        let rows: Vec<(usize, &[u8])> = ca
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .collect();
        let Some(&(_, first)) = rows.first() else {
            return Ok(None);
        };
        let (id, _) = envelope::open(first, Kind::Match).map_err(|e| at_row(s, rows[0].0, e))?;
        let sk: Arc<ServerKey> = registry::server_key(id)?;
        let booleans = rows
            .par_iter()
            .map(|&(row, bytes)| {
                let (found, ct) = ciphertexts::open_match(bytes).map_err(|e| at_row(s, row, e))?;
                ciphertexts::check_key(found, id, Kind::Match).map_err(|e| at_row(s, row, e))?;
                Ok(ct)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let count = encrypted::count_booleans(sk.integer(), &booleans, &booleans[0]);
        ciphertexts::seal_count(id, &count).map(Some)
    })?;
    Ok(binary_column(s.name().clone(), vec![count]))
}

/// Kwargs of the set-membership plugins.
#[derive(Deserialize)]
struct SetKwargs {
    /// Hex id of a loaded encrypted IOC set.
    set: String,
    /// Lowest bits compared (64, 128, 256).
    bits: usize,
    /// Selector digit width: 2 or 4, or 0 for the cheapest per slot.
    digit_bits: usize,
    /// True: one count per IOC slot; false: one total.
    per_ioc: bool,
    /// Domain sets: "exact" or "subdomain".
    #[serde(rename = "match", default = "exact")]
    mode: String,
    /// Benchmarks only: compute every n-th slot (see `set_matching::count_per_slot`).
    #[serde(default = "one")]
    slot_stride: usize,
}

fn one() -> usize {
    1
}

fn exact() -> String {
    "exact".into()
}

/// The distinct values of a plaintext column expanded into candidate digests for `spec`, and
/// for every row the index of its distinct value (None: null). Errors name the first row
/// holding a bad value.
fn expand(
    series: &Series,
    spec: &SetSpec,
    mode: DomainMatch,
) -> Result<(Vec<Option<u32>>, Expanded), Error> {
    /// Expand every distinct value once (in parallel); errors name its first row.
    fn build<T: Copy + Sync>(
        series: &Series,
        distinct: dedup::Distinct<T>,
        candidates: impl Fn(T) -> Result<Vec<Digest>, Error> + Sync,
    ) -> Result<(Vec<Option<u32>>, Expanded), Error> {
        let lists = distinct
            .values
            .par_iter()
            .map(|&(v, row, m)| {
                candidates(v)
                    .map(|c| (c, m))
                    .map_err(|e| at_row(series, row, e))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok((distinct.rows, Expanded::new(lists)))
    }
    match series.dtype() {
        DataType::String => {
            let column = dedup::index(series.str().expect("dtype checked").iter());
            build(series, column, |v| spec.candidates(v, mode))
        }
        DataType::Binary => {
            let column = dedup::index(series.binary().expect("dtype checked").iter());
            build(series, column, |v| spec.candidates_bytes(v))
        }
        DataType::Null => Ok((vec![None; series.len()], Expanded::default())),
        other => Err(Error::InvalidInput(format!(
            "column {:?} has type {other}; expected String{} for {} IOCs",
            series.name().as_str(),
            if spec.ioc_type.is_hash() {
                " or Binary"
            } else {
                ""
            },
            spec.ioc_type.name()
        ))),
    }
}

/// `pl.col(x).fhe.is_in(set).fhe.count()` (rows matching at least one IOC) /
/// `.count_per_ioc()` (rows containing each IOC): plaintext column against a cuckoo-hashed
/// encrypted IOC set, log values expanded into candidates per the set's type.
#[polars_expr(output_type=Binary)]
fn fhe_is_in_count(inputs: &[Series], kwargs: SetKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let out = guarded("is_in", || {
        let (set, sk, bits, mode) = set_args(s, &kwargs)?;
        let (_, expanded) = expand(s, &set.spec, mode)?;
        let tables = registry::CachedSlotSelectors {
            set: &set,
            bits,
            compare_bits: kwargs.bits,
        };
        let anchor = set.slot_radix(0).blocks()[0].clone();
        let per_slot = || {
            set_matching::count_per_slot(
                sk.shortint(),
                &tables,
                &anchor,
                &set.cuckoo,
                &expanded.candidate_rows(),
                kwargs.bits,
                kwargs.slot_stride,
            )
        };
        if kwargs.per_ioc {
            ciphertexts::seal_counts(set.key, set.id, &per_slot())
        } else if set.spec.single_candidate(mode) {
            // One candidate per row: rows with a match = Σ per-IOC counts.
            let total = counter::sum_counts(sk.integer(), &per_slot(), &anchor);
            ciphertexts::seal_count(set.key, &total)
        } else {
            let total = row_matching::count_rows(
                sk.integer(),
                &tables,
                &anchor,
                &set.cuckoo,
                &expanded,
                kwargs.bits,
            );
            ciphertexts::seal_count(set.key, &total)
        }
    })?;
    Ok(binary_column(s.name().clone(), vec![Some(out)]))
}

/// `pl.col(x).fhe.is_in(set)` materialised: one encrypted boolean per row, true when the row
/// matches at least one IOC (null stays null).
#[polars_expr(output_type=Binary)]
fn fhe_is_in(inputs: &[Series], kwargs: SetKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let out = guarded("is_in", || {
        let (set, sk, bits, mode) = set_args(s, &kwargs)?;
        let (rows, expanded) = expand(s, &set.spec, mode)?;
        let tables = registry::CachedSlotSelectors {
            set: &set,
            bits,
            compare_bits: kwargs.bits,
        };
        let any = row_matching::any_per_value(
            sk.shortint(),
            &tables,
            &set.cuckoo,
            &expanded,
            kwargs.bits,
        );
        // Values without candidates never match: one encrypted false, made only if needed.
        let never = any
            .iter()
            .any(Option::is_none)
            .then(|| row_matching::encrypted_false(sk.shortint(), &set.slot_radix(0).blocks()[0]));
        let sealed = any
            .iter()
            .map(|m| {
                let m = m.as_ref().or(never.as_ref()).expect("made when needed");
                ciphertexts::seal_match(set.key, m)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(rows
            .into_iter()
            .map(|r| r.map(|i| sealed[i as usize].clone()))
            .collect::<Vec<_>>())
    })?;
    Ok(binary_column(s.name().clone(), out))
}

/// The loaded set, its server key, the selector width and the domain match mode named by
/// `kwargs`; refuses encrypted columns.
#[allow(clippy::type_complexity)]
fn set_args(
    s: &Series,
    kwargs: &SetKwargs,
) -> Result<
    (
        Arc<crate::set::EncryptedSet>,
        Arc<ServerKey>,
        Option<DigitBits>,
        DomainMatch,
    ),
    Error,
> {
    let bits = digit_bits(&MatchKwargs {
        bits: kwargs.bits,
        digit_bits: kwargs.digit_bits,
    })?;
    let mut set_id = [0u8; 8];
    hex::decode_to_slice(&kwargs.set, &mut set_id)
        .map_err(|_| Error::InvalidInput(format!("invalid set id {:?}", kwargs.set)))?;
    let set = registry::set(set_id)?;
    let sk = registry::server_key(set.key)?;
    if is_encrypted(s) {
        return Err(Error::InvalidInput(format!(
            "column {:?} is encrypted; is_in works on plaintext columns (use .fhe.eq per IOC)",
            s.name().as_str()
        )));
    }
    let mode = DomainMatch::from_name(&kwargs.mode)?;
    if mode != DomainMatch::Exact && set.spec.ioc_type != IocType::Domain {
        return Err(Error::InvalidInput(format!(
            "match={:?} applies to domain sets; this set holds {} IOCs",
            kwargs.mode,
            set.spec.ioc_type.name()
        )));
    }
    Ok((set, sk, bits, mode))
}

/// Test hook: a plugin that panics inside [`guarded`]; tests check that Polars gets an error
/// (no panic crosses into Polars or Python).
#[polars_expr(output_type=Binary)]
fn fhe_force_panic(_inputs: &[Series]) -> PolarsResult<Series> {
    guarded("force_panic", || -> Result<Series, Error> {
        panic!("forced panic for testing")
    })
}
