//! Python bindings of the two-party workflow: bundle containers, server-side addition of
//! partial counts, release of final counts, and canonicalisation
//! for importers. Thin wrappers over
//! [`crate::wire::bundle`], [`crate::combine`] and [`crate::ioc`].

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::combine;
use crate::error::Error;
use crate::ioc::IocType;
use crate::py::errors::run;
use crate::py::files::read_file;
use crate::py::registry;
use crate::query::sets;
use crate::wire::bundle::{Bundle, BundleKind, MAX_BUNDLE_BYTES};

/// Encode a bundle of `kind` ("query", "result", "checkpoint") from JSON metadata and named
/// sections; returns `(bytes, fingerprint)`.
#[pyfunction]
fn encode_bundle<'py>(
    py: Python<'py>,
    kind: &str,
    meta: String,
    sections: Vec<(String, Vec<u8>)>,
) -> PyResult<(Bound<'py, PyBytes>, String)> {
    let kind = BundleKind::parse(kind)?;
    let (bytes, fingerprint) = run(py, || {
        Bundle {
            kind,
            meta,
            sections,
        }
        .encode()
    })?;
    Ok((PyBytes::new(py, &bytes), fingerprint))
}

type DecodedBundle<'py> = (String, Vec<(String, Bound<'py, PyBytes>)>, String);

fn to_python(py: Python<'_>, bundle: Bundle, fingerprint: String) -> DecodedBundle<'_> {
    let sections = bundle
        .sections
        .into_iter()
        .map(|(name, data)| (name, PyBytes::new(py, &data)))
        .collect();
    (bundle.meta, sections, fingerprint)
}

/// Decode and verify bundle bytes of `kind`: `(meta JSON, [(section, bytes)], fingerprint)`.
#[pyfunction]
fn decode_bundle<'py>(py: Python<'py>, data: Vec<u8>, kind: &str) -> PyResult<DecodedBundle<'py>> {
    let kind = BundleKind::parse(kind)?;
    let (bundle, fingerprint) = run(py, || Bundle::decode(&data, kind))?;
    Ok(to_python(py, bundle, fingerprint))
}

/// Read (size-limited) and verify a bundle file of `kind`; see [`decode_bundle`].
#[pyfunction]
fn read_bundle<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    kind: &str,
) -> PyResult<DecodedBundle<'py>> {
    let kind = BundleKind::parse(kind)?;
    let (bundle, fingerprint) = run(py, || {
        let bytes = read_file(&path, MAX_BUNDLE_BYTES)?;
        Bundle::decode(&bytes, kind).map_err(|e| Error::Format(format!("{}: {e}", path.display())))
    })?;
    Ok(to_python(py, bundle, fingerprint))
}

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

/// Canonical text of each IOC of `type` (as `encrypt_set` would store it), or the reason it is
/// refused: a list of `(canonical or None, error or None)`, one per input, never raising for a
/// bad IOC (importers report them).
#[pyfunction]
#[pyo3(signature = (values, r#type, case_sensitive = false))]
fn canonical_iocs(
    values: Vec<String>,
    r#type: &str,
    case_sensitive: bool,
) -> PyResult<Vec<(Option<String>, Option<String>)>> {
    let texts = sets::canonical_texts(&values, IocType::from_name(r#type)?, case_sensitive);
    Ok(texts
        .into_iter()
        .map(|r| match r {
            Ok(text) => (Some(text), None),
            Err(e) => (None, Some(e.to_string())),
        })
        .collect())
}

/// Register the workflow functions in the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(decode_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(read_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(add_counts, m)?)?;
    m.add_function(wrap_pyfunction!(total_count, m)?)?;
    m.add_function(wrap_pyfunction!(release_counts, m)?)?;
    m.add_function(wrap_pyfunction!(lookup_query_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_iocs, m)?)?;
    Ok(())
}
