//! Python bindings of the scan plan ([`crate::query::plan`]): one [`ColumnPlan`] per (set,
//! column) job, built from the job's pairs (the values cross into Rust once), with its
//! data-quality figures, kernel choice, partitions and predicted work; Python calls
//! [`ColumnPlan::count`] per partition.

use polars::prelude::{DataType, IntoSeries, Series, UInt32Chunked};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_polars::PySeries;

use crate::error::Error;
use crate::py::errors::run;
use crate::py::expressions::columns::{name, weights_of};
use crate::py::registry;
use crate::query::kernel::Kernel;
use crate::query::membership::SetQuery;
use crate::query::plan::{self, GroupCounts, Pairs, PlanOptions};
use crate::query::values::LogValue;

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
    /// Predicted PBS of the per-IOC counts on the chosen kernel.
    per_ioc_pbs: u64,
}

#[pymethods]
impl KernelChoice {
    fn __repr__(&self) -> String {
        format!(
            "KernelChoice(kernel={:?}, per_ioc_pbs={}, reason={:?})",
            self.kernel, self.per_ioc_pbs, self.reason
        )
    }
}

/// How many values of a column are of its set's type ([`plan::ColumnQuality`]).
#[pyclass(frozen, get_all, module = "iocz._iocz")]
pub struct QualityFigures {
    /// Rows with a non-missing value.
    rows: u64,
    /// Distinct non-missing values.
    distinct: u64,
    /// Rows that are null, empty or whitespace-only.
    missing_rows: u64,
    /// Rows whose value is not of the set's type.
    bad_rows: u64,
    /// Distinct values not of the set's type.
    bad_distinct: u64,
    /// Those values were left out of the scan (hash types).
    skipped: bool,
    /// The smallest such value (shown locally, never sent).
    first_bad: Option<String>,
}

/// One partition of a job: its index, the lookup bins it counts, its rows and predicted PBS.
#[pyclass(frozen, get_all, module = "iocz._iocz")]
pub struct PartitionPlan {
    /// Index among the job's partitions.
    index: usize,
    /// Lookup partitions: the range of bins counted, `(start, end)`.
    bins: Option<(usize, usize)>,
    /// Rows it stands for.
    rows: u64,
    /// Predicted PBS.
    pbs: u64,
}

/// One group's sealed partial counts of a partition.
#[pyclass(module = "iocz", name = "SealedGroupCounts", frozen, get_all)]
pub struct SealedGroupCounts {
    /// Index of the group (ungrouped: 0).
    group: u32,
    /// Sealed per-IOC counts.
    per_ioc: Py<PyBytes>,
    /// Sealed rows matching any IOC; empty: summed by the agency, or not counted.
    total: Py<PyBytes>,
}

/// The plan of one (set, column) job: see [`crate::query::plan`].
#[pyclass(frozen, module = "iocz._iocz")]
pub struct ColumnPlan {
    set: String,
    bits: usize,
    mode: String,
    plan: plan::ColumnPlan,
    /// Why the column cannot be counted (its type), reported when a partition is counted.
    refusal: Option<String>,
}

/// The integers of `series` as `T` (cast), refusing nulls; `what` names it in errors.
fn integers<T: TryFrom<u64>>(series: &Series, what: &str) -> Result<Vec<T>, Error> {
    weights_of(series, what, series.len())?
        .into_iter()
        .map(|v| {
            T::try_from(v).map_err(|_| Error::InvalidInput(format!("{what}: {v} is too large")))
        })
        .collect()
}

fn build<T: LogValue>(
    q: &SetQuery<'_>,
    column: &str,
    values: Vec<Option<T>>,
    groups: Vec<u32>,
    weights: Vec<u64>,
    n_groups: usize,
    options: PlanOptions,
) -> Result<plan::ColumnPlan, Error> {
    let pairs = Pairs {
        values,
        groups,
        weights,
        n_groups,
    };
    plan::ColumnPlan::new(q, column, pairs, options)
}

#[pymethods]
impl ColumnPlan {
    /// Plan the job of `values` (a column's de-duplicated values, one per pair) against loaded
    /// set `set`: `groups` each pair's group index (< `n_groups`), `weights` its rows. `kernel`:
    /// `auto`, `scan` or `lookup`; `any_total`: count the rows matching any IOC where rows have
    /// several candidates (None: when cheap, see `AUTO_TOTAL_PBS`); a scan-kernel partition holds
    /// `partition_size` distinct values, a lookup-kernel one `bins_per_partition` bins.
    #[new]
    #[pyo3(signature = (values, groups, n_groups, weights, set, bits, r#match = "exact", kernel = "auto", any_total = None, partition_size = 2048, count_bits = 32, bins_per_partition = crate::lookup::BINS_PER_PARTITION))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        values: PySeries,
        groups: PySeries,
        n_groups: usize,
        weights: PySeries,
        set: String,
        bits: usize,
        r#match: &str,
        kernel: &str,
        any_total: Option<bool>,
        partition_size: usize,
        count_bits: usize,
        bins_per_partition: usize,
    ) -> PyResult<Self> {
        let (values, groups, weights) = (values.0, groups.0, weights.0);
        let options = PlanOptions {
            partition_size,
            any_total,
            count_bits,
            bins_per_partition,
        };
        let (plan, refusal) = run(py, || {
            let column = name(&values).to_string();
            let groups = integers::<u32>(&groups, "group indices")?;
            let weights = integers::<u64>(&weights, "weights")?;
            registry::with_set_query(&set, bits, 0, r#match, kernel, |q| {
                let ioc_type = q.spec().ioc_type;
                // Other types are classified as text (the quality check names the column) but
                // refused when counted.
                let refusal = match values.dtype() {
                    DataType::String | DataType::Null => None,
                    DataType::Binary if ioc_type.is_hash() => None,
                    other => Some(format!(
                        "column {column:?} has type {other}; expected String{} for {} IOCs",
                        if ioc_type.is_hash() { " or Binary" } else { "" },
                        ioc_type.name()
                    )),
                };
                let plan = if values.dtype() == &DataType::Binary && refusal.is_none() {
                    let v = values.binary().expect("dtype checked").iter().collect();
                    build(&q, &column, v, groups, weights, n_groups, options)?
                } else {
                    let text = values.cast(&DataType::String).map_err(|e| {
                        Error::InvalidInput(refusal.clone().unwrap_or_else(|| e.to_string()))
                    })?;
                    let v = text.str().expect("cast to String").iter().collect();
                    build(&q, &column, v, groups, weights, n_groups, options)?
                };
                Ok((plan, refusal))
            })
        })?;
        Ok(ColumnPlan {
            set,
            bits,
            mode: r#match.to_string(),
            plan,
            refusal,
        })
    }

    /// The kernel of the per-IOC counts, why, and their predicted PBS.
    #[getter]
    fn choice(&self) -> KernelChoice {
        let c = &self.plan.choice;
        KernelChoice {
            kernel: c.kernel.name(),
            reason: c.reason.clone(),
            scan_pbs: c.scan_pbs,
            lookup_pbs: c.lookup.map(|l| l.pbs),
            lookup_external_products: c.lookup.map(|l| l.external_products),
            window_bits: c.lookup.map(|l| l.window_bits),
            per_ioc_pbs: self.plan.per_ioc_pbs(),
        }
    }

    /// The column's data-quality figures.
    #[getter]
    fn quality(&self) -> QualityFigures {
        let q = &self.plan.quality;
        QualityFigures {
            rows: q.rows,
            distinct: q.distinct,
            missing_rows: q.missing_rows,
            bad_rows: q.bad_rows,
            bad_distinct: q.bad_distinct,
            skipped: q.skipped,
            first_bad: q.first_bad.clone(),
        }
    }

    /// Predicted PBS of the rows matching any IOC where rows have several candidates (None:
    /// one candidate per row, the sum of the per-IOC counts).
    #[getter]
    fn total_pbs(&self) -> Option<u64> {
        self.plan.total_pbs
    }

    /// Whether the rows matching any IOC are counted.
    #[getter]
    fn any_total(&self) -> bool {
        self.plan.any_total
    }

    /// Predicted PBS of adding the partitions' counts and releasing them.
    #[getter]
    fn release_pbs(&self) -> u64 {
        self.plan.release_pbs
    }

    /// Predicted PBS of the whole job (partitions, additions, release).
    #[getter]
    fn pbs(&self) -> u64 {
        self.plan.pbs()
    }

    /// What the counts depend on (hex SHA-256): a checkpoint is valid for one fingerprint.
    #[getter]
    fn fingerprint(&self) -> String {
        self.plan.fingerprint.clone()
    }

    /// The partitions, in order.
    #[getter]
    fn partitions(&self) -> Vec<PartitionPlan> {
        self.plan
            .partitions
            .iter()
            .enumerate()
            .map(|(index, p)| PartitionPlan {
                index,
                bins: p.bins.clone().map(|b| (b.start, b.end)),
                rows: p.rows,
                pbs: p.pbs,
            })
            .collect()
    }

    /// Each input pair's partition (UInt32; null: its value is missing or skipped; a lookup
    /// job's pairs are all in partition 0's frame, every bin range counting all of them).
    fn pair_partitions(&self) -> PySeries {
        let parts: UInt32Chunked = self.plan.pair_partitions().into_iter().collect();
        PySeries(parts.with_name("partition".into()).into_series())
    }

    /// Sealed partial counts of partition `part`, one [`SealedGroupCounts`] for each group with
    /// pairs in it (ungrouped: group 0).
    fn count(&self, py: Python<'_>, part: usize) -> PyResult<Vec<SealedGroupCounts>> {
        let kernel = match self.plan.choice.kernel {
            Kernel::Lookup => "lookup",
            Kernel::Scan => "scan",
        };
        if let Some(refusal) = &self.refusal {
            return Err(Error::InvalidInput(refusal.clone()).into());
        }
        let counts: GroupCounts = run(py, || {
            registry::with_set_query(&self.set, self.bits, 0, &self.mode, kernel, |q| {
                self.plan.count(&q, part)
            })
        })?;
        Ok(counts
            .into_iter()
            .map(|(group, per_ioc, total)| SealedGroupCounts {
                group,
                per_ioc: PyBytes::new(py, &per_ioc).unbind(),
                total: PyBytes::new(py, &total).unbind(),
            })
            .collect())
    }

    fn __repr__(&self) -> String {
        format!(
            "ColumnPlan(kernel={:?}, partitions={}, pbs={}, any_total={})",
            self.plan.choice.kernel.name(),
            self.plan.partitions.len(),
            self.plan.pbs(),
            self.plan.any_total
        )
    }
}

/// Add the plan's classes and constants to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<KernelChoice>()?;
    m.add_class::<QualityFigures>()?;
    m.add_class::<PartitionPlan>()?;
    m.add_class::<ColumnPlan>()?;
    m.add_class::<SealedGroupCounts>()?;
    Ok(())
}
