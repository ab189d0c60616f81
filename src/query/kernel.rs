//! Which kernel counts a (set, column): the scan kernel (≈ 35 PBS per distinct value at 256
//! bits, whatever the number of IOCs) or the lookup kernel (cost per IOC, nearly independent of
//! the number of values), predicted from the values before anything runs.

use crate::error::{Error, Result};
use crate::lookup::cost::{self, LookupCost};
use crate::lookup::query::LookupOptions;
use crate::set::EncryptedSet;

/// What the agency asks for when it builds a query (`Query.create(kernel=…)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelRequest {
    /// Send a lookup part and let the server run whichever is predicted cheaper.
    Auto,
    /// Send a lookup part and ask the server to use it wherever it applies.
    Lookup,
    /// No lookup part: the scan kernel only (smaller query).
    Scan,
}

impl KernelRequest {
    /// Names accepted by the Python API and the CLI.
    pub const NAMES: [&'static str; 3] = ["auto", "lookup", "scan"];

    /// Parse `auto`, `lookup` or `scan`.
    pub fn from_name(name: &str) -> Result<KernelRequest> {
        match name {
            "auto" => Ok(KernelRequest::Auto),
            "lookup" => Ok(KernelRequest::Lookup),
            "scan" => Ok(KernelRequest::Scan),
            other => Err(Error::InvalidInput(format!(
                "kernel must be one of auto, lookup, scan, not {other:?}"
            ))),
        }
    }

    /// The lookup part to build, if any, covering about 2^max_bits distinct values and
    /// releasing `count_bits`-bit counts.
    pub fn lookup_options(self, max_bits: u32, count_bits: usize) -> Option<LookupOptions> {
        match self {
            KernelRequest::Scan => None,
            KernelRequest::Auto | KernelRequest::Lookup => Some(LookupOptions {
                max_bits,
                count_bits,
                forced: self == KernelRequest::Lookup,
            }),
        }
    }
}

/// A kernel that counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Compare every distinct value with its candidate slots.
    Scan,
    /// Look every IOC up in the server's own table.
    Lookup,
}

impl Kernel {
    /// `scan` or `lookup`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scan => "scan",
            Kernel::Lookup => "lookup",
        }
    }

    /// Parse [`Kernel::name`].
    pub fn from_name(name: &str) -> Result<Kernel> {
        match name {
            "scan" => Ok(Kernel::Scan),
            "lookup" => Ok(Kernel::Lookup),
            other => Err(Error::InvalidInput(format!(
                "kernel must be scan or lookup, not {other:?}"
            ))),
        }
    }
}

/// The decision and its grounds (shown by the scan's log and recorded in the result).
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The kernel that runs.
    pub kernel: Kernel,
    /// One line: why.
    pub reason: String,
    /// Predicted scan-kernel PBS (selector builds and comparisons).
    pub scan_pbs: u64,
    /// Predicted lookup work, when the query has a lookup part.
    pub lookup: Option<LookupCost>,
}

/// Choose the kernel for per-IOC counts of `set` over `distinct` server values in `groups`
/// groups, comparing `bits` bits, given the scan kernel's predicted `scan_pbs` (selector builds
/// and comparisons; its release, one refresh per released block, is added here: the lookup's
/// prediction includes its release, done by its gates).
pub fn choose(
    set: &EncryptedSet,
    distinct: usize,
    groups: usize,
    bits: usize,
    scan_pbs: u64,
) -> Choice {
    let Some(lookup) = &set.lookup else {
        return Choice {
            kernel: Kernel::Scan,
            reason: "the query has no lookup part (made with kernel=\"scan\")".into(),
            scan_pbs,
            lookup: None,
        };
    };
    let q = &lookup.query;
    let count_blocks = q.count_bits() as u64 / 2;
    let scan_pbs = scan_pbs + groups as u64 * (set.slots.len() as u64 + 1) * count_blocks;
    let predicted = cost::predict(q.entries(), distinct, groups, bits, q.count_bits());
    let fits = predicted.window_bits <= q.window_bits();
    let (kernel, reason) = if q.forced() {
        (
            Kernel::Lookup,
            "the query asks for the lookup kernel".to_string(),
        )
    } else if !fits {
        (
            Kernel::Scan,
            format!(
                "{distinct} distinct values exceed the query's lookup size (about 2^{} values)",
                q.max_bits()
            ),
        )
    } else if distinct > 0 && predicted.pbs_equivalent() < scan_pbs as f64 {
        (
            Kernel::Lookup,
            format!(
                "predicted {} PBS + {} external products for {} lookup bins against {scan_pbs} PBS for {distinct} distinct values (releases included)",
                predicted.pbs, predicted.external_products, q.entries()
            ),
        )
    } else {
        (
            Kernel::Scan,
            format!(
                "predicted {scan_pbs} PBS for {distinct} distinct values against {} PBS + {} external products for {} lookup bins (releases included)",
                predicted.pbs, predicted.external_products, q.entries()
            ),
        )
    };
    Choice {
        kernel,
        reason,
        scan_pbs,
        lookup: Some(predicted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_build_lookup_options() {
        assert_eq!(
            KernelRequest::from_name("auto").unwrap(),
            KernelRequest::Auto
        );
        assert!(KernelRequest::from_name("fast").is_err());
        assert_eq!(KernelRequest::Scan.lookup_options(20, 32), None);
        assert!(KernelRequest::Lookup.lookup_options(20, 32).unwrap().forced);
        assert!(!KernelRequest::Auto.lookup_options(20, 32).unwrap().forced);
        assert_eq!(Kernel::from_name("lookup").unwrap().name(), "lookup");
    }
}
