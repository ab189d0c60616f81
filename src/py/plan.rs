//! Python bindings of the scan plan's decisions: which kernel a column's per-IOC counts run on,
//! why, and the predicted work of every phase ([`KernelChoice`]).

use pyo3::prelude::*;
use pyo3_polars::PySeries;

use crate::py::errors::run;
use crate::py::expressions::columns::expand;
use crate::py::registry;
use crate::py::workflow;

/// The kernel of one column's per-IOC counts, why, and the predicted work.
#[pyclass(frozen, get_all, module = "iocz._iocz")]
pub struct KernelChoice {
    /// `"scan"` or `"lookup"`.
    kernel: &'static str,
    /// One line: why.
    reason: String,
    /// Predicted PBS of the scan kernel's per-IOC counts.
    scan_pbs: u64,
    /// Predicted PBS of the lookup kernel (releases included), when the set has a lookup part.
    lookup_pbs: Option<u64>,
    /// Predicted external products of the lookup kernel.
    lookup_external_products: Option<u64>,
    /// Window bits of the lookup's fullest bin.
    window_bits: Option<u32>,
    /// Predicted PBS of counting the rows matching any IOC, when rows have several candidates
    /// (None: one candidate per row, the total is the sum of the per-IOC counts).
    total_pbs: Option<u64>,
}

#[pymethods]
impl KernelChoice {
    /// Predicted PBS of the per-IOC counts on the chosen kernel.
    #[getter]
    fn per_ioc_pbs(&self) -> u64 {
        match (self.kernel, self.lookup_pbs) {
            ("lookup", Some(pbs)) => pbs,
            _ => self.scan_pbs,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "KernelChoice(kernel={:?}, per_ioc_pbs={}, total_pbs={:?}, reason={:?})",
            self.kernel,
            self.per_ioc_pbs(),
            self.total_pbs,
            self.reason
        )
    }
}

/// The kernel per-IOC counts of `values` (a whole column) against loaded set `set` will run
/// in `groups` groups, why, and the predicted work. `kernel` is the caller's request (`auto`,
/// `scan`, `lookup`); `weights`: each value's multiplicity; `pairs`: the (value, group) pairs
/// (None: one per value), for the rows-matching-any prediction.
#[pyfunction]
#[pyo3(signature = (values, set, bits, groups = 1, r#match = "exact", kernel = "auto", weights = None, pairs = None))]
#[allow(clippy::too_many_arguments)]
fn choose_kernel(
    py: Python<'_>,
    values: PySeries,
    set: &str,
    bits: usize,
    groups: usize,
    r#match: &str,
    kernel: &str,
    weights: Option<PySeries>,
    pairs: Option<usize>,
) -> PyResult<KernelChoice> {
    let values = values.0;
    run(py, || {
        let weights = workflow::weights(weights, &values)?;
        registry::with_set_query(set, bits, 0, r#match, kernel, |q| {
            let (_, expanded) = expand(&values, q.spec(), q.mode(), weights.as_deref())?;
            let c = q.choice(&expanded.candidate_rows(), groups)?;
            let total_pbs = q.total_pbs(&expanded, pairs.unwrap_or(expanded.values.len()));
            Ok(KernelChoice {
                kernel: c.kernel.name(),
                reason: c.reason,
                scan_pbs: c.scan_pbs,
                lookup_pbs: c.lookup.map(|l| l.pbs),
                lookup_external_products: c.lookup.map(|l| l.external_products),
                window_bits: c.lookup.map(|l| l.window_bits),
                total_pbs,
            })
        })
    })
}

/// Add the plan's bindings to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<KernelChoice>()?;
    m.add_function(wrap_pyfunction!(choose_kernel, m)?)?;
    Ok(())
}
