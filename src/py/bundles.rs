//! Python bindings of the bundle container ([`crate::wire::bundle`]): encode, decode and read
//! query, result and checkpoint bundles, as named objects.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::error::Error;
use crate::py::errors::run;
use crate::py::files::read_file;
use crate::wire::bundle::{Bundle, BundleKind, MAX_BUNDLE_BYTES};

/// An encoded bundle: its bytes and its fingerprint (the first 16 bytes of its SHA-256, hex).
#[pyclass(module = "iocz", name = "EncodedBundle", frozen, get_all)]
pub struct EncodedBundle {
    /// The bundle's bytes, ready to write.
    data: Py<PyBytes>,
    /// The bundle's fingerprint.
    fingerprint: String,
}

/// A decoded, verified bundle: its JSON metadata, its sections by name and its fingerprint.
#[pyclass(module = "iocz", name = "DecodedBundle", frozen)]
pub struct DecodedBundle {
    /// The metadata, a JSON object's text (size-limited).
    #[pyo3(get)]
    meta: String,
    sections: Vec<(String, Py<PyBytes>)>,
    /// The bundle's fingerprint.
    #[pyo3(get)]
    fingerprint: String,
}

#[pymethods]
impl DecodedBundle {
    /// Section name → bytes, in the bundle's order (names are unique: a bundle holding one
    /// twice is refused); a new dict each time.
    #[getter]
    fn sections<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (name, data) in &self.sections {
            out.set_item(name, data.bind(py))?;
        }
        Ok(out)
    }
}

impl DecodedBundle {
    fn new(py: Python<'_>, bundle: Bundle, fingerprint: String) -> Self {
        let sections = bundle
            .sections
            .into_iter()
            .map(|(name, data)| (name, PyBytes::new(py, &data).unbind()))
            .collect();
        DecodedBundle {
            meta: bundle.meta,
            sections,
            fingerprint,
        }
    }
}

/// Encode a bundle of `kind` ("query", "result", "checkpoint") from JSON metadata and named
/// sections (written in the order given).
#[pyfunction]
fn encode_bundle(
    py: Python<'_>,
    kind: &str,
    meta: String,
    sections: Vec<(String, Vec<u8>)>,
) -> PyResult<EncodedBundle> {
    let kind = BundleKind::parse(kind)?;
    let (bytes, fingerprint) = run(py, || {
        Bundle {
            kind,
            meta,
            sections,
        }
        .encode()
    })?;
    Ok(EncodedBundle {
        data: PyBytes::new(py, &bytes).unbind(),
        fingerprint,
    })
}

/// Decode and verify bundle bytes of `kind`.
#[pyfunction]
fn decode_bundle(py: Python<'_>, data: Vec<u8>, kind: &str) -> PyResult<DecodedBundle> {
    let kind = BundleKind::parse(kind)?;
    let (bundle, fingerprint) = run(py, || Bundle::decode(&data, kind))?;
    Ok(DecodedBundle::new(py, bundle, fingerprint))
}

/// Read (size-limited) and verify a bundle file of `kind`; see [`decode_bundle`].
#[pyfunction]
fn read_bundle(py: Python<'_>, path: PathBuf, kind: &str) -> PyResult<DecodedBundle> {
    let kind = BundleKind::parse(kind)?;
    let (bundle, fingerprint) = run(py, || {
        let bytes = read_file(&path, MAX_BUNDLE_BYTES)?;
        Bundle::decode(&bytes, kind).map_err(|e| Error::Format(format!("{}: {e}", path.display())))
    })?;
    Ok(DecodedBundle::new(py, bundle, fingerprint))
}

/// Register the bundle classes and functions in the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<EncodedBundle>()?;
    m.add_class::<DecodedBundle>()?;
    m.add_function(wrap_pyfunction!(encode_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(decode_bundle, m)?)?;
    m.add_function(wrap_pyfunction!(read_bundle, m)?)?;
    Ok(())
}
