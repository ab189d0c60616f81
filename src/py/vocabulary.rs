//! The vocabulary Python and the command line read from Rust, so each rule has one home: IOC
//! types and their aliases, hash lengths, domain match modes, compared bits, count widths,
//! kernel names, and the limits of a query and a scan. `tests/test_typing.py` checks the
//! stub's literal types against them.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::ioc::{DomainMatch, IocType, TYPE_ALIASES};

/// Add the vocabulary to the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let names = |types: &[IocType]| types.iter().map(|t| t.name()).collect::<Vec<_>>();
    m.add("IOC_TYPES", PyTuple::new(py, names(&IocType::ALL))?)?;
    let hashes: Vec<IocType> = IocType::ALL.into_iter().filter(|t| t.is_hash()).collect();
    m.add("HASH_TYPES", PyTuple::new(py, names(&hashes))?)?;
    let digits = PyDict::new(py);
    for t in &hashes {
        digits.set_item(t.name(), 2 * t.hash_bytes().expect("a hash type"))?;
    }
    m.add("HASH_HEX_DIGITS", digits)?;
    let aliases = PyDict::new(py);
    for (alias, types) in TYPE_ALIASES {
        aliases.set_item(alias, PyTuple::new(py, names(types))?)?;
    }
    m.add("TYPE_ALIASES", aliases)?;
    let matches: Vec<&str> = DomainMatch::ALL.iter().map(|d| d.name()).collect();
    m.add("DOMAIN_MATCHES", PyTuple::new(py, matches)?)?;
    m.add(
        "COMPARE_BITS",
        PyTuple::new(py, crate::query::options::COMPARE_BITS)?,
    )?;
    m.add(
        "RELEASE_WIDTHS",
        PyTuple::new(py, crate::params::RELEASE_WIDTHS)?,
    )?;
    m.add("COUNT_BITS", crate::params::COUNT_BITS)?;
    m.add(
        "KERNELS",
        PyTuple::new(py, crate::query::kernel::KernelRequest::NAMES)?,
    )?;
    m.add("MAX_SETS", crate::query::sets::MAX_SETS)?;
    m.add("DEFAULT_LOOKUP_BITS", crate::lookup::DEFAULT_MAX_BITS)?;
    m.add(
        "LOOKUP_BINS_PER_PARTITION",
        crate::lookup::BINS_PER_PARTITION,
    )?;
    m.add("AUTO_TOTAL_PBS", crate::query::plan::AUTO_TOTAL_PBS)?;
    m.add("PUBLIC_SUFFIX_LIST", crate::ioc::PUBLIC_SUFFIX_LIST)?;
    Ok(())
}
