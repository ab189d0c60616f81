//! The `iocz._iocz` Python extension module (behind the `python` feature): thin bindings over
//! the crate, one file per topic, plus the Polars expression plugins in [`expressions`]. Every
//! binding releases the GIL around FHE work and turns errors and panics into Python exceptions
//! ([`errors`]).

#[cfg(feature = "bench-bindings")]
mod bench;
mod bundles;
mod diagnostics;
mod errors;
pub(crate) mod expressions;
mod files;
mod keys;
mod plan;
mod registry;
mod sets;
mod values;
mod vocabulary;
mod workflow;

use pyo3::prelude::*;

#[pymodule]
fn _iocz(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Every binding's FHE work runs beside a poll (every 0.1 s) of Python's signal handlers:
    // Ctrl-C stops it within moments (crate::interrupt).
    crate::interrupt::set_hook(|| Python::attach(|py| py.check_signals().is_err()));
    errors::quiet_panics();
    errors::register(m)?;
    vocabulary::register(m)?;
    files::register(m)?;
    keys::register(m)?;
    values::register(m)?;
    sets::register(m)?;
    bundles::register(m)?;
    workflow::register(m)?;
    plan::register(m)?;
    diagnostics::register(m)?;
    #[cfg(feature = "bench-bindings")]
    bench::register(m)?;
    Ok(())
}
