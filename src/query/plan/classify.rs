//! The first step of a plan: each distinct value classified against the set's type (the
//! column's data-quality figures), missing and skipped values left out, the rest merged by key
//! (hash text case and spaces) and sorted.

use rayon::prelude::*;

use crate::ioc::ValueClass;
use crate::kernels::dedup;
use crate::query::membership::SetQuery;
use crate::query::values::LogValue;

/// How many values of a column are of its set's type, in rows and distinct values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnQuality {
    /// Rows with a non-missing value.
    pub rows: u64,
    /// Distinct non-missing values.
    pub distinct: u64,
    /// Rows that are null, empty or whitespace-only.
    pub missing_rows: u64,
    /// Rows whose value is not of the set's type.
    pub bad_rows: u64,
    /// Distinct values not of the set's type.
    pub bad_distinct: u64,
    /// Those values were left out of the scan (hash types).
    pub skipped: bool,
    /// The smallest such value, for a local message (it never leaves the company).
    pub first_bad: Option<String>,
}

/// The distinct values kept for the scan, merged by key and sorted.
pub(super) struct Merged {
    /// Each distinct input value's merged index (None: missing or skipped).
    pub index: Vec<Option<u32>>,
    /// Each merged value's key, first distinct input value and rows.
    pub values: Vec<(Vec<u8>, u32, u64)>,
}

/// Classify `distinct` (its null pairs weigh `nulls` rows) and merge what the scan keeps.
pub(super) fn classify<T: LogValue>(
    q: &SetQuery<'_>,
    distinct: &dedup::Distinct<T>,
    nulls: u64,
) -> (ColumnQuality, Merged) {
    let spec = q.spec();
    let skip_bad = spec.ioc_type.is_hash();
    let classes: Vec<ValueClass> = distinct
        .values
        .par_iter()
        .map(|(v, _, _)| v.class(spec))
        .collect();
    let mut quality = ColumnQuality {
        missing_rows: nulls,
        ..ColumnQuality::default()
    };
    let mut first_bad: Option<(Vec<u8>, String)> = None;
    let mut kept: Vec<(Vec<u8>, u32)> = Vec::new();
    for (i, ((v, _, rows), class)) in distinct.values.iter().zip(&classes).enumerate() {
        if *class == ValueClass::Missing {
            quality.missing_rows += rows;
            continue;
        }
        quality.rows += rows;
        quality.distinct += 1;
        let key = v.key(spec);
        if *class == ValueClass::NotOfType {
            quality.bad_rows += rows;
            quality.bad_distinct += 1;
            if first_bad.as_ref().is_none_or(|(k, _)| key < *k) {
                first_bad = Some((key.clone(), v.shown()));
            }
            if skip_bad {
                continue;
            }
        }
        kept.push((key, i as u32));
    }
    quality.skipped = skip_bad && quality.bad_distinct > 0;
    quality.first_bad = first_bad.map(|(_, shown)| shown);
    kept.par_sort_unstable();
    let mut merged = Merged {
        index: vec![None; distinct.values.len()],
        values: Vec::new(),
    };
    for (key, i) in kept {
        if merged.values.last().is_none_or(|(k, _, _)| *k != key) {
            merged.values.push((key, i, 0));
        }
        let last = merged.values.len() - 1;
        merged.values[last].2 += distinct.values[i as usize].2;
        merged.index[i as usize] = Some(last as u32);
    }
    (quality, merged)
}
