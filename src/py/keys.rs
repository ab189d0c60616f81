//! Key bindings: the agency's `ClientKey` (secret), the `ServerKey` (evaluation key) and the
//! compact `PublicKey`; loaded keys go into the process registry.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::error::Error;
use crate::ioc::IocType;
use crate::keys::{ClientKey, Decrypted, PublicKey, ServerKey};
use crate::params;
use crate::py::errors::run;
use crate::py::files::{check_owner_only, human_size, read_file, write_file};
use crate::py::registry;
use crate::py::sets::{IocArg, PyEncryptedSet};
use crate::py::values::{CiphertextArg, DigestArg, EncryptedValue};
use crate::query::kernel::KernelRequest;
use crate::query::sets::{self, IocInput, SetOptions};

/// The agency's secret key (pinned 128-bit parameters). Never give it to the other party.
#[pyclass(module = "iocz", name = "ClientKey", frozen)]
struct PyClientKey {
    inner: Arc<ClientKey>,
}

#[pymethods]
impl PyClientKey {
    /// Generate a new key pair.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        run(py, || {
            Ok(PyClientKey {
                inner: Arc::new(ClientKey::generate()),
            })
        })
    }

    /// Load a client key saved with `save`. A file readable by group or others is refused
    /// (someone else may hold a copy) unless `force`.
    #[staticmethod]
    #[pyo3(signature = (path, force = false))]
    fn load(py: Python<'_>, path: PathBuf, force: bool) -> PyResult<Self> {
        run(py, || {
            if !force {
                check_owner_only(&path)?;
            }
            let bytes = read_file(&path, params::MAX_CLIENT_KEY_BYTES)?;
            Ok(PyClientKey {
                inner: Arc::new(ClientKey::from_bytes(&bytes)?),
            })
        })
    }

    /// Save to `path`, readable by the owner only (0600). Refuses to overwrite unless asked.
    #[pyo3(signature = (path, overwrite = false))]
    fn save(&self, py: Python<'_>, path: PathBuf, overwrite: bool) -> PyResult<()> {
        run(py, || {
            write_file(&path, &self.inner.to_bytes()?, true, overwrite)
        })
    }

    /// The key fingerprint shared by every object made with this key pair.
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.id().to_string()
    }

    /// Build the evaluation key for the other party; it is also loaded in this process.
    fn server_key(&self, py: Python<'_>) -> PyResult<PyServerKey> {
        run(py, || Ok(PyServerKey::register(self.inner.server_key()?)))
    }

    /// Build the compact public key; it is also loaded in this process.
    fn public_key(&self, py: Python<'_>) -> PyResult<PyPublicKey> {
        run(py, || Ok(PyPublicKey::register(self.inner.public_key())))
    }

    /// Encrypt one SHA-256 (64 hex digits) or 32-byte digest.
    fn encrypt(&self, py: Python<'_>, value: DigestArg) -> PyResult<EncryptedValue> {
        let digest = value.0?;
        run(py, || {
            EncryptedValue::from_bytes_checked(self.inner.encrypt_value(&digest)?)
        })
    }

    /// Canonicalise, cuckoo-hash and encrypt a set of IOCs of one `type` (duplicates after
    /// canonicalisation are merged) with `hashes` hash functions (2 or 3). Substrings use
    /// `case_sensitive`; `extra_lengths` declares decoy substring/prefix lengths and `pad_to`
    /// sizes the table for at least that many IOCs, to hide the real ones. The result is loaded
    /// in this process, with its manifest.
    /// `kernel` (`auto`, `lookup`, `scan`) decides whether a lookup part covering about
    /// 2^`lookup_bits` distinct company values is added (not for `scan`); its gates release
    /// `count_bits`-bit counts (the query's declared width).
    #[pyo3(signature = (iocs, r#type = "sha256", *, case_sensitive = false, extra_lengths = Vec::new(), pad_to = 0, hashes = 2, kernel = "auto", lookup_bits = crate::lookup::DEFAULT_MAX_BITS, count_bits = crate::params::DEFAULT_RELEASE_BITS))]
    #[allow(clippy::too_many_arguments)]
    fn encrypt_set(
        &self,
        py: Python<'_>,
        iocs: Vec<IocArg>,
        r#type: &str,
        case_sensitive: bool,
        extra_lengths: Vec<u16>,
        pad_to: usize,
        hashes: u8,
        kernel: &str,
        lookup_bits: u32,
        count_bits: usize,
    ) -> PyResult<PyEncryptedSet> {
        let options = SetOptions {
            ioc_type: IocType::from_name(r#type)?,
            case_sensitive,
            extra_lengths,
            pad_to,
            hashes,
            lookup: KernelRequest::from_name(kernel)?.lookup_options(lookup_bits, count_bits),
        };
        let iocs: Vec<IocInput> = iocs.into_iter().map(|i| i.0).collect();
        run(py, || {
            let made = sets::encrypt_iocs(&self.inner, &iocs, &options)?;
            Ok(PyEncryptedSet::register(made.set, Some(made.manifest)).with_inputs(made.canonical))
        })
    }

    /// Decrypt an encrypted count.
    fn decrypt_count(&self, py: Python<'_>, obj: CiphertextArg) -> PyResult<u64> {
        match run(py, || self.inner.decrypt(&obj.0))? {
            Decrypted::Count(n) => Ok(n),
            other => Err(not_a("an encrypted count", &other)),
        }
    }

    /// Decrypt an encrypted match boolean.
    fn decrypt_match(&self, py: Python<'_>, obj: CiphertextArg) -> PyResult<bool> {
        match run(py, || self.inner.decrypt(&obj.0))? {
            Decrypted::Match(b) => Ok(b),
            other => Err(not_a("an encrypted match boolean", &other)),
        }
    }

    /// Decrypt an encrypted value (→ its digest in lower-case hex).
    fn decrypt_value(&self, py: Python<'_>, obj: CiphertextArg) -> PyResult<String> {
        match run(py, || self.inner.decrypt(&obj.0))? {
            Decrypted::Value(d) => Ok(d.to_hex()),
            other => Err(not_a("an encrypted value", &other)),
        }
    }

    /// Decrypt unreleased per-IOC counts (or gated per-bin lookup counts) → `{IOC: count}`;
    /// needs the set's manifest, created or loaded in this process.
    fn decrypt_counts<'py>(
        &self,
        py: Python<'py>,
        obj: CiphertextArg,
    ) -> PyResult<Bound<'py, PyDict>> {
        match run(py, || self.inner.decrypt(&obj.0))? {
            Decrypted::Counts { set, per_slot } => {
                named_dict(py, registry::manifest(set)?.name_counts(&per_slot)?)
            }
            Decrypted::BinCounts { set, per_bin } => {
                named_dict(py, registry::manifest(set)?.name_bin_counts(&per_bin)?)
            }
            other => Err(not_a("per-IOC counts", &other)),
        }
    }

    /// Decrypt released counts (what a result bundle holds); needs the set's manifest.
    fn decrypt_released(&self, py: Python<'_>, obj: CiphertextArg) -> PyResult<ReleasedCounts> {
        match run(py, || self.inner.decrypt(&obj.0))? {
            Decrypted::Released {
                set,
                bits,
                per_bin,
                per_slot,
                total,
            } => {
                let manifest = registry::manifest(set)?;
                let named = if per_bin {
                    manifest.name_bin_counts(&per_slot)?
                } else {
                    manifest.name_counts(&per_slot)?
                };
                Ok(ReleasedCounts { named, total, bits })
            }
            other => Err(not_a("released counts", &other)),
        }
    }

    fn __repr__(&self) -> String {
        format!("ClientKey(fingerprint={}, secret)", self.inner.id())
    }
}

/// Released counts of one (set, column, group), decrypted and named.
#[pyclass(frozen, module = "iocz._iocz")]
pub struct ReleasedCounts {
    /// Count of each IOC in the manifest's order (`2^bits − 1`: at least that many).
    named: Vec<(String, u64)>,
    /// Rows matching any IOC; None when the company did not count them.
    #[pyo3(get)]
    total: Option<u64>,
    /// Width of every count.
    #[pyo3(get)]
    bits: usize,
}

#[pymethods]
impl ReleasedCounts {
    /// `{IOC: count}`, in the manifest's order (`2^bits − 1`: at least that many).
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        named_dict(py, self.named.clone())
    }

    fn __repr__(&self) -> String {
        format!(
            "ReleasedCounts({} IOCs, total={:?}, {}-bit)",
            self.named.len(),
            self.total,
            self.bits
        )
    }
}

/// The error for decrypting `found` with a method meant for `expected`.
fn not_a(expected: &str, found: &Decrypted) -> PyErr {
    let what = match found {
        Decrypted::Count(_) => "an encrypted count",
        Decrypted::Match(_) => "an encrypted match boolean",
        Decrypted::Value(_) => "an encrypted value",
        Decrypted::Counts { .. } | Decrypted::BinCounts { .. } => "per-IOC counts",
        Decrypted::Released { .. } => "released counts",
    };
    Error::InvalidInput(format!("expected {expected}, got {what}")).into()
}

/// `{IOC: count}` of named counts.
fn named_dict(py: Python<'_>, named: Vec<(String, u64)>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for (ioc, count) in named {
        out.set_item(ioc, count)?;
    }
    Ok(out)
}

/// The evaluation key: lets the log holder compute on ciphertexts, not decrypt them.
#[pyclass(module = "iocz", name = "ServerKey", frozen)]
struct PyServerKey {
    inner: Arc<ServerKey>,
}

impl PyServerKey {
    fn register(key: ServerKey) -> Self {
        let inner = Arc::new(key);
        registry::add_server_key(inner.clone());
        PyServerKey { inner }
    }
}

#[pymethods]
impl PyServerKey {
    /// Load (and validate) a server key file and make it available to `.fhe` expressions.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        run(py, || {
            Ok(Self::register(ServerKey::from_bytes(&read_file(
                &path,
                params::MAX_SERVER_KEY_BYTES,
            )?)?))
        })
    }

    /// Same as `load`, from bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Self> {
        run(py, || Ok(Self::register(ServerKey::from_bytes(&data)?)))
    }

    /// Save the compressed key.
    #[pyo3(signature = (path, overwrite = false))]
    fn save(&self, py: Python<'_>, path: PathBuf, overwrite: bool) -> PyResult<()> {
        run(py, || {
            write_file(&path, self.inner.to_bytes(), false, overwrite)
        })
    }

    /// The compressed, serialized key.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.to_bytes())
    }

    /// The key fingerprint.
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.id().to_string()
    }

    /// Size in bytes of the compressed, serialized key.
    #[getter]
    fn size(&self) -> usize {
        self.inner.to_bytes().len()
    }

    fn __repr__(&self) -> String {
        format!(
            "ServerKey(fingerprint={}, {})",
            self.inner.id(),
            human_size(self.size())
        )
    }
}

/// The compact public key: encrypts values for the key owner.
#[pyclass(module = "iocz", name = "PublicKey", frozen)]
struct PyPublicKey {
    inner: Arc<PublicKey>,
    bytes: Vec<u8>,
}

impl PyPublicKey {
    fn register(key: PublicKey) -> Self {
        let bytes = key.to_bytes().expect("a fresh public key serializes");
        let inner = Arc::new(key);
        registry::add_public_key(inner.clone());
        PyPublicKey { inner, bytes }
    }
}

#[pymethods]
impl PyPublicKey {
    /// Load (and validate) a public key file and make it available to `.fhe.encrypt`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        run(py, || {
            Ok(Self::register(PublicKey::from_bytes(&read_file(
                &path,
                params::MAX_PUBLIC_KEY_BYTES,
            )?)?))
        })
    }

    /// Same as `load`, from bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Self> {
        run(py, || Ok(Self::register(PublicKey::from_bytes(&data)?)))
    }

    /// Save the key.
    #[pyo3(signature = (path, overwrite = false))]
    fn save(&self, py: Python<'_>, path: PathBuf, overwrite: bool) -> PyResult<()> {
        run(py, || write_file(&path, &self.bytes, false, overwrite))
    }

    /// The serialized key.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.bytes)
    }

    /// The key fingerprint.
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.id().to_string()
    }

    /// Size in bytes of the serialized key.
    #[getter]
    fn size(&self) -> usize {
        self.bytes.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "PublicKey(fingerprint={}, {})",
            self.inner.id(),
            human_size(self.bytes.len())
        )
    }
}

/// Add the key classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyClientKey>()?;
    m.add_class::<ReleasedCounts>()?;
    m.add_class::<PyServerKey>()?;
    m.add_class::<PyPublicKey>()
}
