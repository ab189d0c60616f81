//! `EncryptedSet`: the public part of an encrypted IOC set (for the log holder) and the
//! agency's manifest (slot → IOC), loaded into the process registry.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Error;
use crate::ioc::DomainMatch;
use crate::py::errors::{run, InvalidInputError};
use crate::py::files::{human_size, read_file, write_file};
use crate::py::registry;
use crate::query::sets::IocInput;
use crate::set::{EncryptedSet, Manifest, MAX_MANIFEST_BYTES, MAX_SET_BYTES};

/// A cuckoo-hashed, encrypted set of IOCs. The public part (`save`/`load`) goes to the log
/// holder; the manifest (`save_manifest`/`load_manifest`) maps slots back to IOCs and stays with
/// the agency.
#[pyclass(module = "iocz", name = "EncryptedSet", frozen)]
pub struct PyEncryptedSet {
    inner: Arc<EncryptedSet>,
    manifest: Option<Arc<Manifest>>,
    canonical_inputs: Option<Vec<String>>,
}

impl PyEncryptedSet {
    /// Wrap `set` (and the agency's `manifest`) and load both into the registry.
    pub fn register(set: EncryptedSet, manifest: Option<Manifest>) -> Self {
        let inner = Arc::new(set);
        registry::add_set(inner.clone());
        let manifest = manifest.map(Arc::new);
        if let Some(m) = &manifest {
            registry::add_manifest(m.clone());
        }
        PyEncryptedSet {
            inner,
            manifest,
            canonical_inputs: None,
        }
    }

    /// The same set, with the canonical text of each IOC it was encrypted from (agency side).
    pub fn with_inputs(self, canonical: Vec<String>) -> Self {
        PyEncryptedSet {
            canonical_inputs: Some(canonical),
            ..self
        }
    }
}

/// The lookup part of a set (GGSW-encrypted positions of its IOCs, for the lookup kernel).
#[pyclass(module = "iocz", name = "LookupInfo", frozen, get_all)]
pub struct LookupInfo {
    /// Lookup entries (bins of the agency's cuckoo table; at least the IOCs).
    entries: usize,
    /// Position bits covered: up to about 2^bits distinct company values.
    bits: u32,
    /// Size in bytes of the lookup part.
    bytes: usize,
    /// The kernel the agency asked for: "lookup" (wherever it applies) or "auto".
    kernel: String,
}

#[pymethods]
impl PyEncryptedSet {
    /// Load (and validate) the public part and make it available to `.fhe.is_in`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        run(py, || {
            Ok(Self::register(
                EncryptedSet::from_bytes(&read_file(&path, MAX_SET_BYTES)?)?,
                None,
            ))
        })
    }

    /// Read (and validate) the public part from bytes; see [`PyEncryptedSet::load`].
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Self> {
        run(py, || {
            Ok(Self::register(EncryptedSet::from_bytes(&data)?, None))
        })
    }

    /// Save the public part (no plaintext IOC, no secret key).
    #[pyo3(signature = (path, overwrite = false))]
    fn save(&self, py: Python<'_>, path: PathBuf, overwrite: bool) -> PyResult<()> {
        run(py, || {
            write_file(&path, &self.inner.to_bytes(), false, overwrite)
        })
    }

    /// The public part as bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// The manifest (slot → canonical IOC) as text. Agency side only: it is secret.
    fn manifest_text(&self) -> PyResult<String> {
        self.manifest
            .as_ref()
            .map(|m| m.to_text())
            .ok_or_else(|| InvalidInputError::new_err("this set was loaded without its manifest"))
    }

    /// Agency side: the canonical text of each IOC given to `encrypt_set`, in the order given
    /// (duplicates share one text), to key labels by without canonicalising again.
    #[getter]
    fn canonical_inputs(&self) -> PyResult<Vec<String>> {
        self.canonical_inputs.clone().ok_or_else(|| {
            InvalidInputError::new_err("this set was not encrypted in this process (no inputs)")
        })
    }

    /// Load a manifest from the text of [`PyEncryptedSet::manifest_text`].
    #[staticmethod]
    fn load_manifest_text(text: &str) -> PyResult<()> {
        registry::add_manifest(Arc::new(Manifest::from_text(text)?));
        Ok(())
    }

    /// Save the manifest (slot → IOC; secret, written 0600). Agency side only.
    #[pyo3(signature = (path, overwrite = false))]
    fn save_manifest(&self, py: Python<'_>, path: PathBuf, overwrite: bool) -> PyResult<()> {
        let manifest = self.manifest.clone().ok_or_else(|| {
            InvalidInputError::new_err("this set was loaded without its manifest")
        })?;
        run(py, || {
            write_file(&path, manifest.to_text().as_bytes(), true, overwrite)
        })
    }

    /// Load a manifest so that `ClientKey.decrypt` can name the IOCs of per-IOC counts.
    #[staticmethod]
    fn load_manifest(py: Python<'_>, path: PathBuf) -> PyResult<()> {
        run(py, || {
            let bytes = read_file(&path, MAX_MANIFEST_BYTES)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::Format("manifest is not UTF-8".into()))?;
            registry::add_manifest(Arc::new(Manifest::from_text(&text)?));
            Ok(())
        })
    }

    /// The set id (hex) binding results to this set.
    #[getter]
    fn set_id(&self) -> String {
        hex::encode(self.inner.id)
    }

    /// Fingerprint of the key the set was encrypted under.
    #[getter]
    fn key_fingerprint(&self) -> String {
        self.inner.key.to_string()
    }

    /// Number of slots B (IOCs plus dummies).
    #[getter]
    fn slots(&self) -> usize {
        self.inner.slots.len()
    }

    /// Number of hash functions.
    #[getter]
    fn hashes(&self) -> u8 {
        self.inner.cuckoo.hashes
    }

    /// Size in bytes of the public part.
    #[getter]
    fn size(&self) -> usize {
        self.inner.encoded_len()
    }

    /// The lookup part, if any (see [`LookupInfo`]).
    #[getter]
    fn lookup(&self) -> Option<LookupInfo> {
        self.inner.lookup.as_ref().map(|l| {
            let q = &l.query;
            LookupInfo {
                entries: q.entries(),
                bits: q.max_bits(),
                bytes: l.bytes.len(),
                kernel: if q.forced() { "lookup" } else { "auto" }.to_owned(),
            }
        })
    }

    /// IOC type of the members (`"sha256"`, `"domain"`, ...).
    #[getter]
    fn ioc_type(&self) -> &'static str {
        self.inner.spec.ioc_type.name()
    }

    /// Substring sets: whether matching is case-sensitive (always true for other types).
    #[getter]
    fn case_sensitive(&self) -> bool {
        self.inner.spec.case_sensitive
    }

    /// True when every log value has at most one candidate under `match` (plain equality):
    /// rows matching any IOC are then the sum of the per-IOC counts.
    #[pyo3(signature = (r#match = "exact"))]
    fn single_candidate(&self, r#match: &str) -> PyResult<bool> {
        Ok(self
            .inner
            .spec
            .single_candidate(DomainMatch::from_name(r#match)?))
    }

    /// Declared lengths (public): substring lengths in characters, or CIDR prefix lengths.
    #[getter]
    fn lengths(&self) -> Vec<u16> {
        self.inner.spec.lengths.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "EncryptedSet(id={}, key_fingerprint={}, type={}, slots={}, hashes={}, {})",
            self.set_id(),
            self.inner.key,
            self.ioc_type(),
            self.slots(),
            self.hashes(),
            human_size(self.size())
        )
    }
}

/// An IOC argument: text, or raw bytes (hash types).
pub struct IocArg(pub IocInput);

impl<'a, 'py> FromPyObject<'a, 'py> for IocArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.extract::<String>() {
            return Ok(IocArg(IocInput::Text(s)));
        }
        if let Ok(b) = obj.extract::<&[u8]>() {
            return Ok(IocArg(IocInput::Bytes(b.to_vec())));
        }
        Err(InvalidInputError::new_err(format!(
            "an IOC must be a str (or bytes for hashes), not {}",
            obj.get_type().name()?
        )))
    }
}

/// Add the class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEncryptedSet>()?;
    m.add_class::<LookupInfo>()
}
