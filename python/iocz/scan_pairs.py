"""The pairs of a scan, made ready for the FHE work: each job's ``(group, value, rows)`` pairs
from the engine, cleaned (values that cannot match dropped) and canonicalised, the kernel chosen
per job, the pairs cut into partitions (tasks) with their planned cost, and the signature a
checkpoint is valid for.

A partition is a chunk of the sorted distinct canonical values, so a partition never shares a
value with another and the cut depends only on the pairs, not on the engine or its output
order; a lookup job's partitions are ranges of its bins, each over all the job's pairs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

import polars as pl

from iocz import _iocz
from iocz.bundles import Query
from iocz.engines import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT, Source
from iocz.expr import Bits
from iocz.quality import HASH_TYPES, ColumnQuality
from iocz.scan_types import Job, KernelPlan, Task, decisions

log = logging.getLogger("iocz.scan")
_PART = "__part"

#: A job's pairs with their partition index, its number of partitions, and (a lookup job) its bin ranges.
Partitioned = tuple[pl.DataFrame, int, list[tuple[int, int]] | None]
#: ``any_total=None`` counts the rows matching any IOC (several candidates per row) when that
#: costs at most twice the per-IOC counts, or at most this many PBS (about a minute on 2 cores).
AUTO_TOTAL_PBS = 4000


def canonical(pairs: pl.DataFrame, ioc_type: str, grouped: bool) -> pl.DataFrame:
    """Hash columns: each value as its canonical text (what the matcher compares), pairs that
    became equal merged. Other types keep their values (the matcher canonicalises them)."""
    if ioc_type not in HASH_TYPES or pairs.schema[PAIR_VALUE] != pl.String or pairs.height == 0:
        return pairs
    distinct = pairs.get_column(PAIR_VALUE).unique()
    texts = [c for c, _ in _iocz.canonical_iocs(distinct.to_list(), ioc_type)]  # type: ignore[arg-type]
    mapping = pl.DataFrame({PAIR_VALUE: distinct, "__c": pl.Series(texts, dtype=pl.String)})
    keys = [PAIR_VALUE, PAIR_GROUP] if grouped else [PAIR_VALUE]
    merged = (
        pairs.join(mapping, on=PAIR_VALUE, how="left")
        .with_columns(pl.coalesce("__c", PAIR_VALUE).alias(PAIR_VALUE))
        .group_by(keys)
        .agg(pl.col(PAIR_WEIGHT).sum())
    )
    return merged.sort(keys, nulls_last=True)


def cleaned(pairs: pl.DataFrame, q: ColumnQuality) -> pl.DataFrame:
    """The pairs that can match: no nulls, no empty values, no hash values not of the type."""
    out = pairs.filter(pl.col(PAIR_VALUE).is_not_null())
    for drop in (q.blank_values, q.bad_values):
        if drop is not None and drop.len():
            key = pl.col(PAIR_VALUE)
            key = key if drop.dtype == out.schema[PAIR_VALUE] else key.cast(drop.dtype)
            out = out.filter(~key.is_in(drop.implode()))
    return out


def _partitions(pairs: pl.DataFrame, size: int) -> tuple[pl.DataFrame, int]:
    """``pairs`` with a ``__part`` column: the index of the value's chunk among sorted distinct values."""
    distinct = pairs.get_column(PAIR_VALUE).unique().sort()
    parts = pl.DataFrame({PAIR_VALUE: distinct, _PART: pl.int_range(0, distinct.len(), eager=True) // size})
    joined = pairs.join(parts, on=PAIR_VALUE, how="left", maintain_order="left")
    return joined, max(1, -(-distinct.len() // size))


def _bin_ranges(job: Job) -> list[tuple[int, int]]:
    """A lookup job's partitions: consecutive ranges of its bins."""
    lookup = job.qset.set.lookup
    bins = lookup[0] if lookup else 1
    step = _iocz.LOOKUP_BINS_PER_PARTITION
    return [(start, min(start + step, bins)) for start in range(0, bins, step)]


def _planned_pbs(pairs: pl.DataFrame, n_parts: int, job: Job, bits: Bits, plan: KernelPlan) -> list[int]:
    """Bootstraps each partition of a scan-kernel job is expected to take: its comparisons
    (once for all groups) and, when counted, its share of the rows-matching-any total; for the
    ETA, 0 when unknown."""
    distinct = pairs.select(PAIR_VALUE, _PART).unique()
    out = [0] * n_parts
    for key, frame in distinct.partition_by(_PART, as_dict=True).items():
        pbs = plan.total_work * frame.height // max(1, distinct.height)
        if pairs.schema[PAIR_VALUE] == pl.String:
            try:
                pbs += _iocz._planned_pbs(job.qset.set.set_id, frame[PAIR_VALUE].to_list(), bits, 1, job.qset.match)[0]
            except (ValueError, RuntimeError):
                pass
        out[int(key[0])] += pbs
    return out


def choose_kernel(
    pairs: pl.DataFrame, job: Job, grouped: bool, bits: Bits, kernel: str, any_total: bool | None = None
) -> KernelPlan:
    """The plan of a job's FHE work, chosen once on the whole column (so every partition runs
    the same): the kernel of its per-IOC counts, why, and whether the rows matching any IOC
    are counted (``any_total``: True, False, or None for :data:`AUTO_TOTAL_PBS`'s rule)."""
    groups = pairs.get_column(PAIR_GROUP).n_unique() if grouped else 1
    c = _iocz.choose_kernel(
        pairs.get_column(PAIR_VALUE),
        job.qset.set.set_id,
        bits,
        groups,
        job.qset.match,
        kernel,
        pairs.get_column(PAIR_WEIGHT),
        pairs=pairs.height,
    )
    decisions.info("%s set, column %s: %s kernel (%s)", job.qset.ioc_type, job.column, c.kernel, c.reason)
    total = c.total_pbs
    if total is None:
        counted = True
    elif any_total is None:
        counted = total <= max(2 * c.per_ioc_pbs, AUTO_TOTAL_PBS)
    else:
        counted = any_total
    if total is not None and counted:
        decisions.info("column %s: rows matching any IOC counted (~%d PBS)", job.column, total)
    elif total is not None:
        decisions.warning(
            "column %s: rows matching any IOC not counted: it would take ~%d PBS more than the per-IOC counts' "
            "~%d (rows have several candidates); ask for it with --any-total (Python: any_total=True)",
            job.column,
            total,
            c.per_ioc_pbs,
        )
    return KernelPlan(c.kernel, c.reason, c.per_ioc_pbs, total, counted)  # type: ignore[arg-type]


def signature(query: Query, jobs: list[Job], frames: list[pl.DataFrame], settings: list[Any]) -> str:
    """What a checkpoint is valid for: the query, jobs, filter, grouping, partitioning, kernels
    and rows, and every job's canonical pairs (whatever engine produced them)."""
    h = hashlib.sha256()
    h.update(json.dumps([query.fingerprint, [(j.set_index, j.column) for j in jobs], *settings]).encode())
    for frame in frames:
        h.update(f"{frame.height}:{frame.hash_rows(seed=0x10C2).sum()}".encode())
    return h.hexdigest()[:32]


def pairs_per_job(
    source: Source, jobs: list[Job], schema: pl.Schema, group_by: str | None
) -> tuple[list[pl.DataFrame], list[str]]:
    """Each job's pairs (one engine query per column and normalisation) and the queries' text."""
    cache: dict[tuple[str, bool], pl.DataFrame] = {}
    queries: list[str] = []
    out = []
    for job in jobs:
        key = (job.column, job.qset.ioc_type in HASH_TYPES and schema[job.column] == pl.String)
        if key not in cache:
            t0 = time.perf_counter()
            cache[key], text = source.pairs(job.column, group_by, key[1])
            queries.append(text)
            log.info(
                "%s: %d pairs of column %s in %.1f s",
                source.engine,
                cache[key].height,
                job.column,
                time.perf_counter() - t0,
            )
        out.append(cache[key])
    return out, queries


def partitioned(
    pairs: list[pl.DataFrame], jobs: list[Job], kernels: list[KernelPlan], partition_size: int
) -> list[Partitioned]:
    """Each job's pairs cut into partitions of ``partition_size`` distinct values (a lookup
    job: one, then ranges of its bins)."""
    frames = [
        _partitions(p, partition_size if k.kernel != "lookup" else max(1, p.height))
        for p, k in zip(pairs, kernels, strict=True)
    ]
    # A lookup job's partitions are ranges of its bins, each over all the job's pairs.
    bin_ranges = [_bin_ranges(j) if k.kernel == "lookup" else None for j, k in zip(jobs, kernels, strict=True)]
    return [(joined, n_parts, r) for (joined, n_parts), r in zip(frames, bin_ranges, strict=True)]


def make_tasks(jobs: list[Job], frames: list[Partitioned], kernels: list[KernelPlan], bits: Bits) -> list[Task]:
    """One task per partition of every job, with the bootstraps it is planned to take."""
    tasks = []
    for j_i, (job, (joined, n_parts, ranges), k) in enumerate(zip(jobs, frames, kernels, strict=True)):
        if ranges is not None:
            whole = joined.drop(_PART)
            n_bins = ranges[-1][1]
            # A counted total (several candidates per row) runs in the partition of bin 0.
            for part, r in enumerate(ranges):
                planned = k.per_ioc_pbs * (r[1] - r[0]) // n_bins + (k.total_work if r[0] == 0 else 0)
                tasks.append(Task(j_i, job, part, whole, k.kernel, planned, r, k.any_total))
            continue
        plan = _planned_pbs(joined, n_parts, job, bits, k)
        for part in range(n_parts):
            frame = joined.filter(pl.col(_PART) == part).drop(_PART)
            tasks.append(Task(j_i, job, part, frame, k.kernel, plan[part], None, k.any_total))
    return tasks
