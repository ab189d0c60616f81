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
from iocz.scan_types import Job, Task, decisions

log = logging.getLogger("iocz.scan")
_PART = "__part"

#: A job's pairs with their partition index, its number of partitions, and (a lookup job) its bin ranges.
Partitioned = tuple[pl.DataFrame, int, list[tuple[int, int]] | None]


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


def _planned_pbs(pairs: pl.DataFrame, n_parts: int, job: Job, bits: Bits) -> list[int]:
    """Comparison bootstraps each partition of a job is expected to take (once for all groups;
    the per-group counting is not included); for the ETA, 0 when unknown."""
    if pairs.schema[PAIR_VALUE] != pl.String:
        return [0] * n_parts
    distinct = pairs.select(PAIR_VALUE, _PART).unique()
    passes = 1 if job.qset.set.single_candidate(job.qset.match) else 2
    out = [0] * n_parts
    for key, frame in distinct.partition_by(_PART, as_dict=True).items():
        try:
            pbs, _ = _iocz._planned_pbs(job.qset.set.set_id, frame[PAIR_VALUE].to_list(), bits, 1, job.qset.match)
        except (ValueError, RuntimeError):
            pbs = 0
        out[int(key[0])] += pbs * passes
    return out


def choose_kernel(pairs: pl.DataFrame, job: Job, grouped: bool, bits: Bits, kernel: str) -> tuple[str, str, int | None]:
    """The kernel for a job's per-IOC counts, chosen once on the whole column (so every
    partition runs the same one), why, and the predicted lookup PBS when it is the lookup."""
    groups = pairs.get_column(PAIR_GROUP).n_unique() if grouped else 1
    name, reason, _, lookup_pbs, _, _ = _iocz.choose_kernel(
        pairs.get_column(PAIR_VALUE),
        job.qset.set.set_id,
        bits,
        groups,
        job.qset.match,
        kernel,
        pairs.get_column(PAIR_WEIGHT),
    )
    decisions.info("%s set, column %s: %s kernel (%s)", job.qset.ioc_type, job.column, name, reason)
    return name, reason, lookup_pbs


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
    pairs: list[pl.DataFrame], jobs: list[Job], kernels: list[tuple[str, str, int | None]], partition_size: int
) -> list[Partitioned]:
    """Each job's pairs cut into partitions of ``partition_size`` distinct values (a lookup
    job: one, then ranges of its bins)."""
    frames = [
        _partitions(p, partition_size if k[0] != "lookup" else max(1, p.height))
        for p, k in zip(pairs, kernels, strict=True)
    ]
    # A lookup job's partitions are ranges of its bins, each over all the job's pairs.
    bin_ranges = [_bin_ranges(j) if k[0] == "lookup" else None for j, k in zip(jobs, kernels, strict=True)]
    return [(joined, n_parts, r) for (joined, n_parts), r in zip(frames, bin_ranges, strict=True)]


def make_tasks(
    jobs: list[Job], frames: list[Partitioned], kernels: list[tuple[str, str, int | None]], bits: Bits
) -> list[Task]:
    """One task per partition of every job, with the bootstraps it is planned to take."""
    tasks = []
    for j_i, (job, (joined, n_parts, ranges), k) in enumerate(zip(jobs, frames, kernels, strict=True)):
        if ranges is not None:
            whole = joined.drop(_PART)
            n_bins = ranges[-1][1]
            for part, r in enumerate(ranges):
                planned = (k[2] or 0) * (r[1] - r[0]) // n_bins
                tasks.append(Task(j_i, job, part, whole, k[0], planned, r))  # type: ignore[arg-type]
            continue
        plan = _planned_pbs(joined, n_parts, job, bits)
        for part in range(n_parts):
            frame = joined.filter(pl.col(_PART) == part).drop(_PART)
            tasks.append(Task(j_i, job, part, frame, k[0], plan[part]))  # type: ignore[arg-type]
    return tasks
