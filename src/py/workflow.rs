//! Python bindings of the two-party workflow: server-side addition of partial counts, release
//! of final counts, lookup sizing and canonicalisation for importers. Thin wrappers over
//! [`crate::combine`], [`crate::lookup::cost`] and [`crate::query::sets`].

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::combine;
use crate::error::Error;
use crate::ioc::IocType;
use crate::py::errors::run;
use crate::py::registry;
use crate::query::sets;

/// Encrypted element-wise sum of sealed counts (all `count`, or all per-IOC `counts` of one
/// set), with the loaded server key they were made under; gated per-bin lookup counts of
/// several bin ranges are merged. Empty items (totals the agency sums itself) give empty.
#[pyfunction]
fn add_counts<'py>(py: Python<'py>, items: Vec<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = run(py, || {
        if !items.is_empty() && items.iter().all(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let first = items
            .first()
            .ok_or_else(|| Error::InvalidInput("add_counts needs at least one count".into()))?;
        let key = registry::server_key(combine::key_of(first)?)?;
        combine::add(&key, &items)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Encrypted sum of every slot of sealed per-IOC counts (a sealed count).
#[pyfunction]
fn total_count<'py>(py: Python<'py>, counts: Vec<u8>) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = run(py, || {
        let key = registry::server_key(combine::key_of(&counts)?)?;
        combine::total(&key, &counts)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Release the final counts of one (set, column, group): sealed per-IOC counts and their sealed
/// total → one compressed object of `bits`-bit counts, re-randomised and refreshed;
/// `max_rows` (rows scanned) decides saturation.
/// An empty `total` releases none: summed by the agency if `one_candidate`, else not counted.
#[pyfunction]
#[pyo3(signature = (per_ioc, total, bits, max_rows, one_candidate = true))]
fn release_counts<'py>(
    py: Python<'py>,
    per_ioc: Vec<u8>,
    total: Vec<u8>,
    bits: usize,
    max_rows: u64,
    one_candidate: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = run(py, || {
        let key = registry::server_key(combine::key_of(&per_ioc)?)?;
        combine::release(&key, &per_ioc, &total, bits, max_rows, one_candidate)
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Predicted bytes of a lookup query for `entries` IOCs covering about 2^max_bits distinct
/// company values.
#[pyfunction]
fn lookup_query_bytes(entries: usize, max_bits: u32) -> u64 {
    let lookup = crate::lookup::cost::entries_for(entries, 0);
    crate::lookup::cost::query_bytes(lookup, max_bits)
}

/// One IOC checked by [`canonical_iocs`]: its canonical text, or why it is refused.
#[pyclass(module = "iocz", name = "CanonicalIoc", frozen, get_all)]
pub struct CanonicalIoc {
    /// The canonical text (what `encrypt_set` stores), None when refused.
    text: Option<String>,
    /// Why the IOC is refused, None when accepted.
    error: Option<String>,
}

/// Canonical text of each IOC of `type` (as `encrypt_set` would store it), or the reason it is
/// refused: one [`CanonicalIoc`] per input, never raising for a bad IOC (importers report them).
#[pyfunction]
#[pyo3(signature = (values, r#type, case_sensitive = false))]
fn canonical_iocs(
    values: Vec<String>,
    r#type: &str,
    case_sensitive: bool,
) -> PyResult<Vec<CanonicalIoc>> {
    let texts = sets::canonical_texts(&values, IocType::from_name(r#type)?, case_sensitive);
    Ok(texts
        .into_iter()
        .map(|r| CanonicalIoc {
            error: r.as_ref().err().map(ToString::to_string),
            text: r.ok(),
        })
        .collect())
}

/// Register the workflow functions in the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add_counts, m)?)?;
    m.add_function(wrap_pyfunction!(total_count, m)?)?;
    m.add_function(wrap_pyfunction!(release_counts, m)?)?;
    m.add_function(wrap_pyfunction!(lookup_query_bytes, m)?)?;
    m.add_class::<CanonicalIoc>()?;
    m.add_function(wrap_pyfunction!(canonical_iocs, m)?)?;
    Ok(())
}
