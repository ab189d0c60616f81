//! Benchmark-only bindings, built with the `bench-bindings` feature (`make bench-wheel`), never
//! in the production module: raw PBS throughput, the seed prototype's count, and the planned PBS
//! of a set count with sampled slots.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tfhe::integer::IntegerCiphertext;

use crate::ciphertexts;
use crate::error::Error;
use crate::ioc::DomainMatch;
use crate::kernels::encrypted;
use crate::kernels::set_matching;
use crate::py::errors::run;
use crate::py::registry;
use crate::query::values;
use crate::wire::ids::parse_set_id;

/// Benchmark helper: PBS throughput. Runs `n` bootstraps of one block of `value` on all cores
/// and returns the seconds taken.
#[pyfunction]
fn _raw_pbs_seconds(py: Python<'_>, value: Vec<u8>, n: usize) -> PyResult<f64> {
    run(py, || {
        let (id, radix) = ciphertexts::value_radix(&value)?;
        let sk = registry::server_key(id)?;
        Ok(encrypted::raw_pbs_seconds(
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
        let (id, radix) = ciphertexts::value_radix(&value)?;
        let sk = registry::server_key(id)?;
        let cells = cells
            .iter()
            .map(|c| sk.expand_cell(c))
            .collect::<Result<Vec<_>, Error>>()?;
        let count = encrypted::prototype_count(sk.integer(), &radix, &cells);
        ciphertexts::seal_count(id, &count)
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
    let set = registry::set(parse_set_id(set_id)?)?;
    let mode = DomainMatch::from_name(r#match)?;
    let (_, expanded) = values::expand(
        "values",
        &set.spec,
        mode,
        values.iter().map(|v| v.as_deref()),
    )?;
    let rows = expanded.candidate_rows();
    let planned = set_matching::planned_pbs(&set.cuckoo, &rows, None, bits, slot_stride);
    Ok((planned, expanded.candidates.len()))
}

/// Add the benchmark functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_raw_pbs_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(_prototype_count, m)?)?;
    m.add_function(wrap_pyfunction!(_planned_pbs, m)?)
}
