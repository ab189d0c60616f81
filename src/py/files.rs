//! File I/O of the bindings: size-limited reads, and the one atomic writer used for keys,
//! sets, manifests, bundles and checkpoints (secret files owner-only from the start).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use pyo3::prelude::*;

use crate::error::Error;
use crate::py::errors::run;

fn io_error(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let context = format!("cannot {what} {}", path.display());
    move |source| Error::Io { context, source }
}

/// Read a whole file, refusing one larger than `limit` before reading it.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let len = std::fs::metadata(path)
        .map_err(io_error("read", path))?
        .len();
    if len > limit + 64 {
        return Err(Error::Format(format!(
            "{} is {len} bytes, larger than the {limit}-byte limit for this kind of file",
            path.display()
        )));
    }
    std::fs::read(path).map_err(io_error("read", path))
}

/// Write `bytes` to `path` atomically: a temporary file in the same folder (owner-only when
/// `secret`, from its creation), fsync, then a rename (`overwrite`) or a hard link that fails if
/// `path` exists. A crash leaves the old file or the new one, never a mix.
pub fn write_file(path: &Path, bytes: &[u8], secret: bool, overwrite: bool) -> Result<(), Error> {
    if !overwrite && path.exists() {
        return Err(exists(path));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = write_new(&tmp, bytes, secret).and_then(|()| {
        if overwrite {
            std::fs::rename(&tmp, path).map_err(io_error("write", path))
        } else {
            std::fs::hard_link(&tmp, path).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => exists(path),
                _ => io_error("write", path)(e),
            })
        }
    });
    let _ = std::fs::remove_file(&tmp);
    result?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn exists(path: &Path) -> Error {
    Error::Io {
        context: format!(
            "cannot write {}: it exists (pass overwrite=True / --force to replace it)",
            path.display()
        ),
        source: std::io::ErrorKind::AlreadyExists.into(),
    }
}

fn write_new(tmp: &Path, bytes: &[u8], secret: bool) -> Result<(), Error> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(tmp).map_err(io_error("write", tmp))?;
    file.write_all(bytes).map_err(io_error("write", tmp))?;
    file.sync_all().map_err(io_error("write", tmp))
}

/// Fail when a secret file is readable or writable by group or others.
pub fn check_owner_only(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io_error("read", path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::ExposedSecret(format!(
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

/// What the file at `path` holds, from its first bytes: `"query bundle"`, `"result bundle"`,
/// `"checkpoint bundle"`, an object such as `"a client key"`, or None (not an iocz file, or
/// unreadable: the caller's own read reports why).
#[pyfunction]
fn file_kind(path: PathBuf) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::with_capacity(128);
    std::fs::File::open(&path)
        .and_then(|f| f.take(128).read_to_end(&mut head))
        .ok()?;
    if let Some(kind) = crate::wire::bundle::Bundle::kind_of(&head) {
        return Some(format!("{} bundle", kind.name()));
    }
    crate::wire::envelope::peek(&head)
        .ok()
        .map(|(h, _)| h.kind.describe().to_string())
}

/// A size in bytes for reprs ("24.1 KiB").
pub fn human_size(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// Write `data` to `path` atomically (see the Rust `write_file`); `secret` files are created
/// owner-only (0600). Refuses to replace a file unless `overwrite`.
#[pyfunction]
#[pyo3(signature = (path, data, *, secret = false, overwrite = false))]
fn write_atomic(
    py: Python<'_>,
    path: PathBuf,
    data: Vec<u8>,
    secret: bool,
    overwrite: bool,
) -> PyResult<()> {
    run(py, || write_file(&path, &data, secret, overwrite))
}

/// Add the file functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(write_atomic, m)?)?;
    m.add_function(wrap_pyfunction!(file_kind, m)?)
}
