//! The `iocz._iocz` Python module: key, ciphertext and registry bindings. Thin: every method
//! calls into [`crate::keys`] / [`crate::ciphertexts`], releases the GIL around FHE work, and
//! turns errors (and panics) into Python exceptions.

use std::fs::OpenOptions;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::digest::Digest;
use crate::envelope::{self, Kind};
use crate::error::Error;
use crate::ioc::{DomainMatch, IocType, SetSpec};
use crate::keys::{ClientKey, Decrypted, PublicKey, ServerKey};
use crate::set::{EncryptedSet, Manifest};
use crate::{params, registry};
use tfhe::integer::IntegerCiphertext;

/// Largest manifest file accepted (slot lines hold canonical IOC text).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

create_exception!(iocz, IoczError, PyValueError, "Base class of iocz errors.");
create_exception!(
    iocz,
    FormatError,
    IoczError,
    "Bytes or a file are not a valid iocz object."
);
create_exception!(
    iocz,
    WrongKeyError,
    IoczError,
    "Objects from different keys were combined."
);
create_exception!(
    iocz,
    KeyNotLoadedError,
    IoczError,
    "A needed key is not loaded in this process."
);
create_exception!(
    iocz,
    InvalidInputError,
    IoczError,
    "A value is not a valid digest or argument."
);

/// Turn a crate error into the matching Python exception.
pub(crate) fn py_err(e: Error) -> PyErr {
    match e {
        Error::InvalidInput(m) => InvalidInputError::new_err(m),
        Error::Format(m) => FormatError::new_err(m),
        Error::WrongKey(m) => WrongKeyError::new_err(m),
        Error::KeyNotLoaded(m) => KeyNotLoadedError::new_err(m),
        e @ Error::Io { .. } => IoczError::new_err(e.to_string()),
    }
}

/// Run `f` without the GIL; errors become exceptions, panics a RuntimeError.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f)))
        .map_err(|_| PyRuntimeError::new_err("iocz: internal error (panic); please report it"))?
        .map_err(py_err)
}

/// Read a whole file, refusing one larger than `limit` before reading it.
pub(crate) fn read_file(path: &PathBuf, limit: u64) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        context: format!("cannot read {}", path.display()),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > limit + 64 {
        return Err(Error::Format(format!(
            "{} is {len} bytes, larger than the {limit}-byte limit for this kind of file",
            path.display()
        )));
    }
    std::fs::read(path).map_err(io)
}

/// Write `bytes` to `path`; `secret` files are created owner-only (0600) from the start.
fn write_file(path: &PathBuf, bytes: &[u8], secret: bool, overwrite: bool) -> Result<(), Error> {
    let io = |source| Error::Io {
        context: format!("cannot write {}", path.display()),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        if path.exists() && overwrite {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Fail when a secret file is readable or writable by group or others.
fn check_owner_only(path: &PathBuf) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| Error::Io {
                context: format!("cannot read {}", path.display()),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::InvalidInput(format!(
                "{} is accessible to group or others (mode {:o}): the secret key may have been \
                 copied; run chmod 600 {}, or load with force=True",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    Ok(())
}

fn human_size(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

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
        let digest = value.0.map_err(py_err)?;
        run(py, || {
            EncryptedValue::from_bytes_checked(self.inner.encrypt_value(&digest)?)
        })
    }

    /// Canonicalise, cuckoo-hash and encrypt a set of IOCs of one `type` (duplicates after
    /// canonicalisation are merged) with `hashes` hash functions (2 or 3). Substrings use
    /// `case_sensitive`; `extra_lengths` declares decoy substring/prefix lengths and `pad_to`
    /// sizes the table for at least that many IOCs, to hide the real ones. The result is loaded
    /// in this process, with its manifest.
    #[pyo3(signature = (iocs, r#type = "sha256", *, case_sensitive = false, extra_lengths = Vec::new(), pad_to = 0, hashes = 2))]
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
    ) -> PyResult<PyEncryptedSet> {
        let spec = SetSpec::new(IocType::from_name(r#type).map_err(py_err)?, case_sensitive);
        let canonical = iocs
            .iter()
            .enumerate()
            .map(|(i, ioc)| {
                match ioc {
                    IocArg::Text(t) => spec.canonical_ioc(t),
                    IocArg::Bytes(b) => spec.canonical_ioc_bytes(b),
                }
                .map_err(|e| Error::InvalidInput(format!("IOC {i}: {e}")))
            })
            .collect::<Result<Vec<_>, Error>>()
            .map_err(py_err)?;
        let spec = spec
            .with_lengths(&canonical, &extra_lengths)
            .map_err(py_err)?;
        run(py, || {
            let (set, manifest) = self.inner.encrypt_set(spec, &canonical, hashes, pad_to)?;
            Ok(PyEncryptedSet::register(set, Some(manifest)))
        })
    }

    /// Decrypt a count (→ int), a match (→ bool), a value (→ lower-case hex) or per-IOC counts
    /// (→ dict IOC hex → count; needs the set's manifest, created or loaded in this process).
    fn decrypt<'py>(&self, py: Python<'py>, obj: CiphertextArg) -> PyResult<Bound<'py, PyAny>> {
        let decrypted = run(py, || self.inner.decrypt(&obj.0))?;
        Ok(match decrypted {
            Decrypted::Count(n) => n.into_pyobject(py)?.into_any(),
            Decrypted::Match(b) => pyo3::types::PyBool::new(py, b).to_owned().into_any(),
            Decrypted::Value(d) => d.to_hex().into_pyobject(py)?.into_any(),
            Decrypted::Counts { set, per_slot } => {
                let manifest = registry::manifest(set).ok_or_else(|| {
                    KeyNotLoadedError::new_err(format!(
                        "per-IOC counts of set {}: its manifest is not loaded; \
                         call iocz.EncryptedSet.load_manifest(path) first",
                        hex::encode(set)
                    ))
                })?;
                if manifest.slots.len() != per_slot.len() {
                    return Err(FormatError::new_err(
                        "per-IOC counts do not match the set's manifest",
                    ));
                }
                let out = pyo3::types::PyDict::new(py);
                for (slot, count) in manifest.slots.iter().zip(per_slot) {
                    match slot {
                        Some((_, ioc)) => out.set_item(ioc, count)?,
                        // A dummy holds a random digest: a non-zero count means tampering.
                        None if count != 0 => {
                            return Err(FormatError::new_err(
                                "a dummy slot has a non-zero count: the result was tampered with",
                            ))
                        }
                        None => {}
                    }
                }
                out.into_any()
            }
        })
    }

    fn __repr__(&self) -> String {
        format!("ClientKey(fingerprint={}, secret)", self.inner.id())
    }
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

/// Any iocz ciphertext (value, cell, match or count) as bytes with a short repr.
#[pyclass(module = "iocz", name = "EncryptedValue", frozen)]
struct EncryptedValue {
    bytes: Vec<u8>,
    header: envelope::Header,
}

impl EncryptedValue {
    fn from_bytes_checked(bytes: Vec<u8>) -> Result<Self, Error> {
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
        Self::from_bytes_checked(data).map_err(py_err)
    }

    /// Load from a file written by `save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        run(py, || {
            Self::from_bytes_checked(read_file(&path, params::MAX_CIPHERTEXT_BYTES * 4)?)
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

    /// "value", "cell", "match" or "count".
    #[getter]
    fn kind(&self) -> &'static str {
        self.header.kind.token()
    }

    /// Fingerprint of the key it was made under.
    #[getter]
    fn fingerprint(&self) -> String {
        self.header.key.to_string()
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
            "EncryptedValue(kind={}, fingerprint={}, {})",
            self.kind(),
            self.header.key,
            human_size(self.bytes.len())
        )
    }
}

/// A cuckoo-hashed, encrypted set of IOCs. The public part (`save`/`load`) goes to the log
/// holder; the manifest (`save_manifest`/`load_manifest`) maps slots back to IOCs and stays with
/// the agency.
#[pyclass(module = "iocz", name = "EncryptedSet", frozen)]
struct PyEncryptedSet {
    inner: Arc<EncryptedSet>,
    manifest: Option<Arc<Manifest>>,
}

impl PyEncryptedSet {
    fn register(set: EncryptedSet, manifest: Option<Manifest>) -> Self {
        let inner = Arc::new(set);
        registry::add_set(inner.clone());
        let manifest = manifest.map(Arc::new);
        if let Some(m) = &manifest {
            registry::add_manifest(m.clone());
        }
        PyEncryptedSet { inner, manifest }
    }
}

#[pymethods]
impl PyEncryptedSet {
    /// Load (and validate) the public part and make it available to `.fhe.is_in`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        run(py, || {
            let limit = (params::MAX_SET_SLOTS as u64) * params::MAX_CIPHERTEXT_BYTES;
            Ok(Self::register(
                EncryptedSet::from_bytes(&read_file(&path, limit)?)?,
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

    /// Load a manifest from the text of [`PyEncryptedSet::manifest_text`].
    #[staticmethod]
    fn load_manifest_text(text: &str) -> PyResult<()> {
        registry::add_manifest(Arc::new(Manifest::from_text(text).map_err(py_err)?));
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

    /// Key fingerprint.
    #[getter]
    fn fingerprint(&self) -> String {
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
        self.inner.slots.iter().map(|s| s.len() + 4).sum::<usize>() + 60
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

    /// Declared lengths (public): substring lengths in characters, or CIDR prefix lengths.
    #[getter]
    fn lengths(&self) -> Vec<u16> {
        self.inner.spec.lengths.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "EncryptedSet(id={}, fingerprint={}, type={}, slots={}, hashes={}, {})",
            self.set_id(),
            self.inner.key,
            self.ioc_type(),
            self.slots(),
            self.hashes(),
            human_size(self.size())
        )
    }
}

/// Benchmark helper: PBS throughput. Runs `n` bootstraps of one block of `value` on all cores
/// and returns the seconds taken.
#[pyfunction]
fn _raw_pbs_seconds(py: Python<'_>, value: Vec<u8>, n: usize) -> PyResult<f64> {
    run(py, || {
        let (id, radix) = crate::ciphertexts::value_radix(&value)?;
        let sk = registry::server_key(id)?;
        Ok(crate::kernels::encrypted::raw_pbs_seconds(
            sk.integer(),
            &radix.blocks()[0],
            n,
        ))
    })
}

/// Benchmark helper: the seed prototype's count (cells expanded, encrypted `eq`, `if_then_else`).
#[pyfunction]
fn _prototype_count(py: Python<'_>, value: Vec<u8>, cells: Vec<Vec<u8>>) -> PyResult<Py<PyBytes>> {
    let bytes = run(py, || {
        let (id, radix) = crate::ciphertexts::value_radix(&value)?;
        let sk = registry::server_key(id)?;
        let cells = cells
            .iter()
            .map(|c| crate::ciphertexts::cell_radix(c, &sk))
            .collect::<Result<Vec<_>, Error>>()?;
        let count = crate::kernels::encrypted::prototype_count(sk.integer(), &radix, &cells);
        crate::ciphertexts::seal_count(id, &count)
    })?;
    Ok(PyBytes::new(py, &bytes).unbind())
}

/// Benchmark helper: the PBS the per-IOC count plans for log `values` against loaded set
/// `set_id` (values expanded per the set's type; selector builds + comparisons, cheapest
/// widths), computing every `slot_stride`-th slot. Also returns the distinct candidates.
#[pyfunction]
#[pyo3(signature = (set_id, values, bits, slot_stride, r#match = "exact"))]
fn _planned_pbs(
    set_id: &str,
    values: Vec<Option<String>>,
    bits: usize,
    slot_stride: usize,
    r#match: &str,
) -> PyResult<(u64, usize)> {
    let mut id = [0u8; 8];
    hex::decode_to_slice(set_id, &mut id)
        .map_err(|_| InvalidInputError::new_err("invalid set id"))?;
    let set = registry::set(id).map_err(py_err)?;
    let mode = DomainMatch::from_name(r#match).map_err(py_err)?;
    let distinct = crate::kernels::dedup::index(values.iter().map(|v| v.as_deref()));
    let lists = distinct
        .values
        .into_iter()
        .map(|(v, _, m)| set.spec.candidates(v, mode).map(|c| (c, m)))
        .collect::<Result<Vec<_>, Error>>()
        .map_err(py_err)?;
    let expanded = crate::kernels::row_matching::Expanded::new(lists);
    let planned = crate::kernels::set_matching::planned_pbs(
        &set.cuckoo,
        &expanded.candidate_rows(),
        None,
        bits,
        slot_stride,
    );
    Ok((planned, expanded.candidates.len()))
}

/// An IOC argument: text, or raw bytes (hash types).
enum IocArg {
    Text(String),
    Bytes(Vec<u8>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for IocArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.extract::<String>() {
            return Ok(IocArg::Text(s));
        }
        if let Ok(b) = obj.extract::<&[u8]>() {
            return Ok(IocArg::Bytes(b.to_vec()));
        }
        Err(InvalidInputError::new_err(format!(
            "an IOC must be a str (or bytes for hashes), not {}",
            obj.get_type().name()?
        )))
    }
}

/// Argument accepting hex text or 32 raw bytes.
struct DigestArg(Result<Digest, Error>);

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
struct CiphertextArg(Vec<u8>);

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

/// The pinned tfhe parameter set, as a name.
#[pyfunction]
fn parameter_set() -> &'static str {
    params::PARAMETER_SET
}

/// Raise a panic inside the extension (tests check it becomes an exception, not an abort).
#[pyfunction]
fn _force_panic(py: Python<'_>) -> PyResult<()> {
    run(py, || -> Result<(), Error> {
        panic!("forced panic for testing")
    })
}

/// Reset tfhe's PBS counter (0 when iocz is built without `pbs-stats`).
#[pyfunction]
fn reset_pbs_count() {
    tfhe::reset_pbs_count();
}

/// Programmable bootstraps performed in this process since the last reset.
#[pyfunction]
fn pbs_count() -> u64 {
    tfhe::get_pbs_count()
}

#[pymodule]
fn _iocz(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyClientKey>()?;
    m.add_class::<PyServerKey>()?;
    m.add_class::<PyPublicKey>()?;
    m.add_class::<EncryptedValue>()?;
    m.add_class::<PyEncryptedSet>()?;
    m.add_function(wrap_pyfunction!(_raw_pbs_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(_prototype_count, m)?)?;
    m.add_function(wrap_pyfunction!(_planned_pbs, m)?)?;
    m.add("IoczError", py.get_type::<IoczError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add("WrongKeyError", py.get_type::<WrongKeyError>())?;
    m.add("KeyNotLoadedError", py.get_type::<KeyNotLoadedError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add_function(wrap_pyfunction!(parameter_set, m)?)?;
    m.add_function(wrap_pyfunction!(_force_panic, m)?)?;
    m.add_function(wrap_pyfunction!(reset_pbs_count, m)?)?;
    m.add_function(wrap_pyfunction!(pbs_count, m)?)?;
    crate::py_workflow::register(m)?;
    Ok(())
}
