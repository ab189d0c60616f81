//! Python exceptions of iocz, the mapping from crate errors, and the one way bindings run
//! Rust work: without the GIL, with panics turned into exceptions.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::error::Error;

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

create_exception!(
    iocz,
    ExposedSecretError,
    InvalidInputError,
    "A secret key file is accessible to group or others (it may have been copied)."
);

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::InvalidInput(m) => InvalidInputError::new_err(m),
            Error::Format(m) => FormatError::new_err(m),
            Error::WrongKey(m) => WrongKeyError::new_err(m),
            Error::KeyNotLoaded(m) => KeyNotLoadedError::new_err(m),
            Error::ExposedSecret(m) => ExposedSecretError::new_err(m),
            Error::Interrupted => {
                // The signal handler already ran (its exception, KeyboardInterrupt for Ctrl-C,
                // is pending): re-raise it; else a KeyboardInterrupt.
                Python::attach(|py| {
                    PyErr::take(py).unwrap_or_else(|| {
                        pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted")
                    })
                })
            }
            e @ Error::Io { .. } => IoczError::new_err(e.to_string()),
        }
    }
}

/// Run `f` without the GIL, stoppable by Ctrl-C ([`crate::interrupt::run`]); errors become exceptions, panics a RuntimeError naming the panic's
/// message (one line; the hook of [`quiet_panics`] printed nothing).
pub fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error> + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(|| crate::interrupt::run(f))))
        .map_err(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            let line = message.lines().next().unwrap_or_default().to_string();
            PyRuntimeError::new_err(format!(
                "iocz: internal error (panic: {line}); please report it (IOCZ_DEBUG=1 prints where)"
            ))
        })?
        .map_err(PyErr::from)
}

/// Keep Rust panics off stderr (a notebook cell or a terminal shows the one-line RuntimeError
/// of [`run`] instead); `IOCZ_DEBUG` set: print them as Rust does, with the location.
pub fn quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("IOCZ_DEBUG").is_some() {
            default(info);
        }
    }));
}

/// Add the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("IoczError", py.get_type::<IoczError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add("WrongKeyError", py.get_type::<WrongKeyError>())?;
    m.add("KeyNotLoadedError", py.get_type::<KeyNotLoadedError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("ExposedSecretError", py.get_type::<ExposedSecretError>())?;
    Ok(())
}
