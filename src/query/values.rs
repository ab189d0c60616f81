//! Plaintext log values → digests and candidate digests, in the clear, once per distinct
//! value. Errors name the column and the first row holding a bad value.

use std::hash::Hash;

use rayon::prelude::*;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::ioc::{DomainMatch, SetSpec, ValueClass};
use crate::kernels::dedup;
use crate::kernels::row_matching::Expanded;

/// A plaintext log value: text, or raw bytes (hash types).
pub trait LogValue: Copy + Hash + Eq + Send + Sync {
    /// The value as a 256-bit digest (SHA-256 hex text, or 32 raw bytes).
    fn digest(self) -> Result<Digest>;
    /// The value's candidate digests for a set described by `spec`.
    fn candidates(self, spec: &SetSpec, mode: DomainMatch) -> Result<Vec<Digest>>;
    /// Whether the value is of the set's type ([`SetSpec::classify`]).
    fn class(self, spec: &SetSpec) -> ValueClass;
    /// The value's bytes as a scan plan sorts and merges them: hash text trimmed and
    /// lower-cased (so `ABC…` and `abc…` are one value), anything else as it is.
    fn key(self, spec: &SetSpec) -> Vec<u8>;
    /// The value as text for a local message (bytes in hex).
    fn shown(self) -> String;
}

impl LogValue for &str {
    fn digest(self) -> Result<Digest> {
        Digest::from_hex(self)
    }

    fn candidates(self, spec: &SetSpec, mode: DomainMatch) -> Result<Vec<Digest>> {
        spec.candidates(self, mode)
    }

    fn class(self, spec: &SetSpec) -> ValueClass {
        spec.classify(self)
    }

    fn key(self, spec: &SetSpec) -> Vec<u8> {
        if spec.ioc_type.is_hash() {
            self.trim().to_ascii_lowercase().into_bytes()
        } else {
            self.as_bytes().to_vec()
        }
    }

    fn shown(self) -> String {
        self.to_string()
    }
}

impl LogValue for &[u8] {
    fn digest(self) -> Result<Digest> {
        Digest::from_bytes(self)
    }

    fn candidates(self, spec: &SetSpec, _mode: DomainMatch) -> Result<Vec<Digest>> {
        spec.candidates_bytes(self)
    }

    fn class(self, spec: &SetSpec) -> ValueClass {
        spec.classify_bytes(self)
    }

    fn key(self, _spec: &SetSpec) -> Vec<u8> {
        self.to_vec()
    }

    fn shown(self) -> String {
        hex::encode(self)
    }
}

/// `e`, reworded to name `column` and `row` (the error kind is kept).
pub fn at_row(column: &str, row: usize, e: Error) -> Error {
    let msg = format!("column {column:?} row {row}: {e}");
    match e {
        Error::WrongKey(_) => Error::WrongKey(msg),
        Error::InvalidInput(_) => Error::InvalidInput(msg),
        _ => Error::Format(msg),
    }
}

/// Every row of `column` as a digest (nulls stay None).
pub fn digests<T: LogValue>(
    column: &str,
    values: impl IntoIterator<Item = Option<T>>,
) -> Result<Vec<Option<Digest>>> {
    values
        .into_iter()
        .enumerate()
        .map(|(row, v)| {
            v.map(|v| v.digest().map_err(|e| at_row(column, row, e)))
                .transpose()
        })
        .collect()
}

/// The distinct values of `column` expanded into candidate digests for `spec` (each distinct
/// value once, in parallel), and for every row the index of its distinct value (None: null).
pub fn expand<T: LogValue>(
    column: &str,
    spec: &SetSpec,
    mode: DomainMatch,
    values: impl IntoIterator<Item = Option<T>>,
) -> Result<(Vec<Option<u32>>, Expanded)> {
    expand_weighted(column, spec, mode, values.into_iter().map(|v| (v, 1)))
}

/// [`expand`] for pre-aggregated `(value, multiplicity)` pairs: a value's multiplicity is the
/// sum of its pairs' weights (weight 1 per row is [`expand`]).
pub fn expand_weighted<T: LogValue>(
    column: &str,
    spec: &SetSpec,
    mode: DomainMatch,
    pairs: impl IntoIterator<Item = (Option<T>, u64)>,
) -> Result<(Vec<Option<u32>>, Expanded)> {
    let distinct = dedup::index_weighted(pairs);
    // Every value is expanded, then the first bad one (in row order) is reported: the same
    // error on every run, whatever order the threads finished in.
    let lists = distinct
        .values
        .par_iter()
        .map(|&(v, row, m)| {
            v.candidates(spec, mode)
                .map(|c| (c, m))
                .map_err(|e| at_row(column, row, e))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    Ok((distinct.rows, Expanded::new(lists)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ioc::IocType;

    #[test]
    fn expansion_names_the_bad_row_and_merges_duplicates() {
        let spec = SetSpec::new(IocType::Domain, true);
        let (rows, expanded) = expand(
            "q",
            &spec,
            DomainMatch::Subdomain,
            [
                Some("a.evil.com"),
                None,
                Some("a.evil.com"),
                Some("evil.com"),
            ],
        )
        .unwrap();
        assert_eq!(rows, [Some(0), None, Some(0), Some(1)]);
        assert_eq!(expanded.values[0].1, 2);
        assert_eq!(
            expanded.candidates.len(),
            2,
            "a.evil.com, evil.com (com is public)"
        );
        let sha = SetSpec::new(IocType::Sha256, true);
        let e = expand("h", &sha, DomainMatch::Exact, [Some("ab"), Some("zz")]).unwrap_err();
        assert!(e.to_string().starts_with("column \"h\" row 0:"), "{e}");
        let e = digests("h", [None, Some(&[1u8, 2][..])]).unwrap_err();
        assert!(e.to_string().contains("row 1"), "{e}");
    }
}
