//! `EncryptedValue` (any iocz ciphertext as bytes with a short repr) and the argument types
//! that accept ciphertexts and digests from Python.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::ciphertexts::MAX_COUNT_BYTES;
use crate::digest::Digest;
use crate::error::Error;
use crate::py::errors::{run, InvalidInputError};
use crate::py::files::{human_size, read_file, write_file};
use crate::wire::envelope::{self, Kind};

/// Any iocz ciphertext (value, cell, match or count) as bytes with a short repr.
#[pyclass(module = "iocz", name = "EncryptedValue", frozen)]
pub struct EncryptedValue {
    bytes: Vec<u8>,
    header: envelope::Header,
}

impl EncryptedValue {
    /// Wrap sealed bytes, refusing keys (only ciphertexts are values).
    pub fn from_bytes_checked(bytes: Vec<u8>) -> Result<Self, Error> {
        let (header, _) = envelope::peek(&bytes)?;
        if matches!(
            header.kind,
            Kind::ClientKey | Kind::ServerKey | Kind::PublicKey
        ) {
            return Err(Error::Format(format!(
                "expected a ciphertext, found {}",
                header.kind.describe()
            )));
        }
        Ok(EncryptedValue { bytes, header })
    }
}

#[pymethods]
impl EncryptedValue {
    /// Wrap bytes from an encrypted column or count (the header is checked, not the payload).
    #[staticmethod]
    fn from_bytes(data: Vec<u8>) -> PyResult<Self> {
        Ok(Self::from_bytes_checked(data)?)
    }

    /// Load from a file written by `save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        run(py, || {
            Self::from_bytes_checked(read_file(&path, MAX_COUNT_BYTES)?)
        })
    }

    /// Save to `path`.
    #[pyo3(signature = (path, overwrite = false))]
    fn save(&self, py: Python<'_>, path: PathBuf, overwrite: bool) -> PyResult<()> {
        run(py, || write_file(&path, &self.bytes, false, overwrite))
    }

    /// The serialized ciphertext (what Polars columns hold).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.bytes)
    }

    /// "value", "cell", "match", "count", "counts" or "released".
    #[getter]
    fn kind(&self) -> &'static str {
        self.header.kind.token()
    }

    /// Fingerprint of the key it was made under.
    #[getter]
    fn key_fingerprint(&self) -> String {
        self.header.key.to_string()
    }

    /// For released counts: `{"set": hex id, "bits": width, "slots": per-IOC counts, "per_bin":
    /// counts per lookup bin, "summed_total": no released total (the agency sums the counts),
    /// "uncounted_total": no total (rows matching any IOC not counted, opt-in)}`
    /// after checking size and conformance (what a company inspects before sending a result).
    fn released_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let (_, released) = run(py, || crate::released::open(&self.bytes))?;
        let out = pyo3::types::PyDict::new(py);
        out.set_item("set", hex::encode(released.set()))?;
        out.set_item("bits", released.bits())?;
        out.set_item("slots", released.slots())?;
        out.set_item("per_bin", released.per_bin())?;
        let total = released.total();
        out.set_item("summed_total", total == crate::released::TotalKind::Summed)?;
        out.set_item(
            "uncounted_total",
            total == crate::released::TotalKind::Uncounted,
        )?;
        Ok(out)
    }

    /// Size in bytes.
    #[getter]
    fn size(&self) -> usize {
        self.bytes.len()
    }

    fn __len__(&self) -> usize {
        self.bytes.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "EncryptedValue(kind={}, key_fingerprint={}, {})",
            self.kind(),
            self.header.key,
            human_size(self.bytes.len())
        )
    }
}

/// Argument accepting hex text or 32 raw bytes.
pub struct DigestArg(pub Result<Digest, Error>);

impl<'a, 'py> FromPyObject<'a, 'py> for DigestArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.extract::<&str>() {
            return Ok(DigestArg(Digest::from_hex(s)));
        }
        if let Ok(b) = obj.extract::<&[u8]>() {
            return Ok(DigestArg(Digest::from_bytes(b)));
        }
        Err(InvalidInputError::new_err(
            "expected a hex string or 32 bytes",
        ))
    }
}

/// Argument accepting bytes or an `EncryptedValue`.
pub struct CiphertextArg(pub Vec<u8>);

impl<'a, 'py> FromPyObject<'a, 'py> for CiphertextArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(v) = obj.cast::<EncryptedValue>() {
            return Ok(CiphertextArg(v.get().bytes.clone()));
        }
        if let Ok(b) = obj.extract::<Vec<u8>>() {
            return Ok(CiphertextArg(b));
        }
        if obj.is_none() {
            return Err(InvalidInputError::new_err(
                "cannot decrypt None (a null count or cell)",
            ));
        }
        Err(InvalidInputError::new_err(
            "expected bytes or an iocz.EncryptedValue",
        ))
    }
}

/// Add the class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<EncryptedValue>()
}
