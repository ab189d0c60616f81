//! Diagnostics of the production module: the pinned parameter set's name, FHE work counters
//! (PBS, external products, lookup phase seconds) read by the progress bar, the CLI and the
//! benchmarks, and a forced panic (the tests check it becomes an exception, not an abort).

use pyo3::prelude::*;

use crate::error::Error;
use crate::py::errors::run;

/// The pinned tfhe parameter set, as a name.
#[pyfunction]
fn parameter_set() -> &'static str {
    crate::params::PARAMETER_SET
}

/// Raise a panic inside the extension (tests check it becomes an exception, not an abort).
#[pyfunction]
fn _force_panic(py: Python<'_>) -> PyResult<()> {
    run(py, || -> Result<(), Error> {
        panic!("forced panic for testing")
    })
}

/// Reset tfhe's PBS counter.
#[pyfunction]
fn reset_pbs_count() {
    tfhe::reset_pbs_count();
}

/// Programmable bootstraps performed in this process since the last reset.
#[pyfunction]
fn pbs_count() -> u64 {
    tfhe::get_pbs_count()
}

/// External products (CMux steps, rotations) run by lookups in this process.
#[pyfunction]
fn external_products() -> u64 {
    crate::lookup::eval::external_products()
}

/// Wall seconds lookups spent in this process in `(filters, reads, bootstraps)`: peeling and
/// cell building, CMux trees and external products, tag tests + ANDs + gates.
#[pyfunction]
fn _lookup_phase_seconds() -> (f64, f64, f64) {
    crate::lookup::eval::phase_seconds()
}

/// Add the diagnostics to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parameter_set, m)?)?;
    m.add_function(wrap_pyfunction!(_force_panic, m)?)?;
    m.add_function(wrap_pyfunction!(reset_pbs_count, m)?)?;
    m.add_function(wrap_pyfunction!(pbs_count, m)?)?;
    m.add_function(wrap_pyfunction!(external_products, m)?)?;
    m.add_function(wrap_pyfunction!(_lookup_phase_seconds, m)?)
}
