//! The plan of one (IOC set, log column) job of a scan. From the column's `(value, group,
//! weight)` pairs it classifies the values once (the data-quality figures), merges, sorts and
//! expands them once, chooses the kernel with its grounds, decides whether the rows matching
//! any IOC are counted, cuts the partitions (chunks of sorted distinct values, or ranges of
//! lookup bins) with the PBS each is predicted to take, and counts one partition. Partial
//! counts are then added and released with [`crate::combine`]. Python builds one plan per
//! (set, column) and calls it per partition, so the values cross into Rust once.

use std::collections::HashMap;
use std::ops::Range;

use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::kernels::dedup;
use crate::kernels::row_matching::Expanded;
use crate::kernels::set_matching;
use crate::params;
use crate::query::kernel::{Choice, Kernel};
use crate::query::membership::SetQuery;
use crate::query::values::{at_row, LogValue};

pub use classify::ColumnQuality;
use classify::{classify, Merged};

/// Sealed `(group, per-IOC counts, rows matching any IOC)` partial counts.
pub type GroupCounts = Vec<(u32, Vec<u8>, Vec<u8>)>;

/// `any_total: None` counts the rows matching any IOC (rows with several candidates) when that
/// costs at most twice the per-IOC counts, or at most this many PBS (about a minute on 2 cores).
pub const AUTO_TOTAL_PBS: u64 = 4000;

/// A job's pairs: one entry per `(value, group)` pair, as the engine's `GROUP BY` gave them.
pub struct Pairs<T> {
    /// Each pair's log value (None: null).
    pub values: Vec<Option<T>>,
    /// Each pair's group index, below `n_groups` (ungrouped: all 0).
    pub groups: Vec<u32>,
    /// Each pair's rows (its multiplicity).
    pub weights: Vec<u64>,
    /// Number of groups (ungrouped: 1).
    pub n_groups: usize,
}

/// What the caller decides about a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// Distinct values per scan-kernel partition (the checkpoint granularity).
    pub partition_size: usize,
    /// Count the rows matching any IOC where rows have several candidates: `Some` forces the
    /// answer, `None` applies the [`AUTO_TOTAL_PBS`] rule.
    pub any_total: Option<bool>,
    /// Width of the released counts (bits).
    pub count_bits: usize,
    /// Lookup bins per lookup-kernel partition (default [`crate::lookup::BINS_PER_PARTITION`]).
    pub bins_per_partition: usize,
}

/// One partition of a job: a unit of work, checkpointed and scheduled on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The plan's distinct values it counts (all of them for a lookup partition).
    pub values: Range<usize>,
    /// The lookup bins it counts (lookup kernel only).
    pub bins: Option<Range<usize>>,
    /// Rows it stands for (a lookup partition: its share of the job's rows).
    pub rows: u64,
    /// Predicted PBS: its comparisons and its share of the rows-matching-any total.
    pub pbs: u64,
}

/// The plan of one (set, column) job; see the module documentation.
pub struct ColumnPlan {
    /// The column's data-quality figures.
    pub quality: ColumnQuality,
    /// The kernel of the per-IOC counts and why.
    pub choice: Choice,
    /// Predicted PBS of the rows-matching-any total where rows have several candidates
    /// (None: one candidate per row, the total is the sum of the per-IOC counts).
    pub total_pbs: Option<u64>,
    /// Whether the rows-matching-any total is counted.
    pub any_total: bool,
    /// Predicted PBS of adding the partitions' counts and releasing them.
    pub release_pbs: u64,
    /// The partitions, in order.
    pub partitions: Vec<Partition>,
    /// Hex SHA-256 of what the counts depend on: the merged values and their pairs, the kernel,
    /// the total's decision and the cut (a checkpoint is valid for one fingerprint).
    pub fingerprint: String,
    expanded: Expanded,
    pair_values: Vec<Option<u32>>,
    groups: Vec<u32>,
    weights: Vec<u64>,
    n_groups: usize,
}

impl ColumnPlan {
    /// Plan a job: `column` names the log column in errors.
    pub fn new<T: LogValue>(
        q: &SetQuery<'_>,
        column: &str,
        pairs: Pairs<T>,
        options: PlanOptions,
    ) -> Result<ColumnPlan> {
        let Pairs {
            values,
            groups,
            weights,
            n_groups,
        } = pairs;
        if groups.len() != values.len() || weights.len() != values.len() {
            return Err(Error::InvalidInput(format!(
                "column {column:?}: one group and one weight per pair are needed (got {} and {} for {} pairs)",
                groups.len(),
                weights.len(),
                values.len()
            )));
        }
        if n_groups == 0 || groups.iter().any(|&g| g as usize >= n_groups) {
            return Err(Error::InvalidInput(format!(
                "column {column:?}: group indices must be below the number of groups ({n_groups})"
            )));
        }
        if options.partition_size == 0 || options.bins_per_partition == 0 {
            return Err(Error::InvalidInput(
                "partitions must hold at least one value or bin".into(),
            ));
        }
        let distinct = dedup::index_weighted(values.iter().copied().zip(weights.iter().copied()));
        let nulls = distinct
            .rows
            .iter()
            .zip(&weights)
            .filter(|(r, _)| r.is_none())
            .map(|(_, w)| w)
            .sum();
        let (quality, merged) = classify(q, &distinct, nulls);
        let lists = merged
            .values
            .par_iter()
            .map(|&(_, first, rows)| {
                let (value, row, _) = distinct.values[first as usize];
                value
                    .candidates(q.spec(), q.mode())
                    .map(|c| (c, rows))
                    .map_err(|e| at_row(column, row, e))
            })
            .collect::<Result<Vec<_>>>()?;
        let expanded = Expanded::new(lists);
        let pair_values: Vec<Option<u32>> = distinct
            .rows
            .iter()
            .map(|r| r.and_then(|d| merged.index[d as usize]))
            .collect();
        let kept_pairs = pair_values.iter().flatten().count();
        let choice = q.choice(&expanded.candidate_rows(), n_groups)?;
        let total_pbs = q.total_pbs(&expanded, kept_pairs);
        let mut plan = ColumnPlan {
            quality,
            any_total: true,
            choice,
            total_pbs,
            release_pbs: 0,
            partitions: Vec::new(),
            fingerprint: String::new(),
            expanded,
            pair_values,
            groups,
            weights,
            n_groups,
        };
        plan.any_total = match (total_pbs, options.any_total) {
            (None, _) => true,
            (Some(_), Some(asked)) => asked,
            (Some(total), None) => total <= (2 * plan.per_ioc_pbs()).max(AUTO_TOTAL_PBS),
        };
        plan.partitions = plan.cut(q, &options);
        plan.release_pbs = plan.predict_release(q, options.count_bits);
        plan.fingerprint = plan.fingerprint_of(&merged);
        Ok(plan)
    }

    /// Predicted PBS of the per-IOC counts on the chosen kernel (the lookup's include its
    /// release).
    pub fn per_ioc_pbs(&self) -> u64 {
        match (self.choice.kernel, &self.choice.lookup) {
            (Kernel::Lookup, Some(l)) => l.pbs,
            _ => self.choice.scan_pbs,
        }
    }

    /// PBS the plan spends on the rows-matching-any total (0: free or not counted).
    pub fn total_work(&self) -> u64 {
        if self.any_total {
            self.total_pbs.unwrap_or(0)
        } else {
            0
        }
    }

    /// Predicted PBS of the whole job: every partition, the additions and the release.
    pub fn pbs(&self) -> u64 {
        self.partitions.iter().map(|p| p.pbs).sum::<u64>() + self.release_pbs
    }

    fn cut(&self, q: &SetQuery<'_>, options: &PlanOptions) -> Vec<Partition> {
        let (size, step) = (options.partition_size, options.bins_per_partition);
        let n = self.expanded.values.len();
        let rows_of =
            |r: Range<usize>| -> u64 { self.expanded.values[r].iter().map(|v| v.1).sum() };
        let total = self.total_work();
        if self.choice.kernel == Kernel::Lookup {
            let bins = q
                .set()
                .lookup
                .as_ref()
                .map_or(1, |l| l.query.entries())
                .max(1);
            let (rows, per_ioc) = (rows_of(0..n), self.per_ioc_pbs());
            let share = |x: u64, end: usize| x * end as u64 / bins as u64;
            return (0..bins)
                .step_by(step)
                .map(|start| {
                    let end = (start + step).min(bins);
                    Partition {
                        values: 0..n,
                        bins: Some(start..end),
                        rows: share(rows, end) - share(rows, start),
                        pbs: share(per_ioc, end) - share(per_ioc, start)
                            + if start == 0 { total } else { 0 },
                    }
                })
                .collect();
        }
        (0..n.max(1))
            .step_by(size)
            .map(|start| {
                let values = start..(start + size).min(n);
                let compare = set_matching::planned_pbs(
                    &q.set().cuckoo,
                    &self.expanded.subset(values.clone()).candidate_rows(),
                    None,
                    q.bits(),
                    1,
                );
                let total_share = total * values.len() as u64 / n.max(1) as u64;
                Partition {
                    rows: rows_of(values.clone()),
                    pbs: compare + total_share,
                    values,
                    bins: None,
                }
            })
            .collect()
    }

    /// Adding the partitions (one radix sum per slot and group) and releasing (one refresh per
    /// released block); the lookup's release is in its prediction and its merge takes no PBS.
    fn predict_release(&self, q: &SetQuery<'_>, count_bits: usize) -> u64 {
        if self.choice.kernel == Kernel::Lookup {
            return 0;
        }
        let counts = self.n_groups as u64 * (q.set().slots.len() as u64 + 1);
        let adds = (self.partitions.len() as u64 - 1) * counts * params::COUNT_BLOCKS as u64;
        adds + counts * (count_bits / params::BLOCK_BITS) as u64
    }

    fn fingerprint_of(&self, merged: &Merged) -> String {
        let mut pairs: Vec<(u32, u32, u64)> = self
            .pair_values
            .iter()
            .zip(self.groups.iter().zip(&self.weights))
            .filter_map(|(v, (&g, &w))| v.map(|v| (v, g, w)))
            .collect();
        pairs.sort_unstable();
        let mut h = Sha256::new();
        h.update(format!(
            "{}:{}:{:?}:{}\n",
            self.choice.kernel.name(),
            self.any_total,
            self.partitions
                .iter()
                .map(|p| (p.values.clone(), p.bins.clone()))
                .collect::<Vec<_>>(),
            self.n_groups
        ));
        for (key, _, _) in &merged.values {
            h.update((key.len() as u64).to_le_bytes());
            h.update(key);
        }
        for (v, g, w) in pairs {
            h.update(format!("{v},{g},{w};"));
        }
        hex::encode(h.finalize())
    }

    /// Each input pair's partition (None: its value is missing or skipped); every pair of a
    /// lookup job is in every partition (given as 0).
    pub fn pair_partitions(&self) -> Vec<Option<u32>> {
        let size = self.partitions.first().map_or(1, |p| p.values.len().max(1));
        let lookup = self.choice.kernel == Kernel::Lookup;
        self.pair_values
            .iter()
            .map(|v| v.map(|v| if lookup { 0 } else { v / size as u32 }))
            .collect()
    }

    /// Sealed partial counts of partition `part`: `(group, per-IOC counts, rows matching any
    /// IOC)` for each group with pairs in it (ungrouped: group 0, always); an empty total is
    /// summed by the agency, or not counted (see [`crate::combine::release`]). `q` must be the
    /// query the plan was made with.
    pub fn count(&self, q: &SetQuery<'_>, part: usize) -> Result<GroupCounts> {
        let p = self.partitions.get(part).ok_or_else(|| {
            Error::InvalidInput(format!(
                "partition {part} does not exist (the plan has {})",
                self.partitions.len()
            ))
        })?;
        let (mut rows, mut groups, mut weights) = (Vec::new(), Vec::new(), Vec::new());
        let start = p.values.start as u32;
        for (i, v) in self.pair_values.iter().enumerate() {
            if let Some(v) = v.filter(|v| p.values.contains(&(*v as usize))) {
                rows.push(Some(v - start));
                groups.push(self.groups[i]);
                weights.push(self.weights[i]);
            }
        }
        // Only the groups present are counted; their indices are made local.
        let mut present: Vec<u32> = if self.n_groups == 1 {
            vec![0]
        } else {
            groups.clone()
        };
        present.sort_unstable();
        present.dedup();
        let local: HashMap<u32, u32> = present
            .iter()
            .enumerate()
            .map(|(i, &g)| (g, i as u32))
            .collect();
        let groups: Vec<u32> = groups.iter().map(|g| local[g]).collect();
        // A lookup partition reads every value (its bins cut the work); a scan one its own.
        let subset;
        let (expanded, kernel) = match &p.bins {
            Some(_) => (&self.expanded, Kernel::Lookup),
            None => {
                subset = self.expanded.subset(p.values.clone());
                (&subset, Kernel::Scan)
            }
        };
        let counts = q.count_grouped(
            &rows,
            &groups,
            Some(&weights),
            present.len(),
            expanded,
            kernel,
            p.bins.clone(),
            self.any_total,
        )?;
        Ok(present
            .into_iter()
            .zip(counts)
            .map(|(g, (per_ioc, total))| (g, per_ioc, total))
            .collect())
    }
}

mod classify;
#[cfg(test)]
mod tests;
