"""The pairs of a scan, made ready for the FHE work: each job's ``(group, value, rows)`` pairs
from the engine, planned once in Rust (:class:`iocz._iocz.ColumnPlan`: values classified,
cleaned, canonicalised and expanded, the kernel chosen, the partitions cut with their
predicted cost), the tasks (one per partition), and the signature a checkpoint is valid for.

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
from iocz.engines import Source
from iocz.expr import Bits
from iocz.partition import plan_pairs
from iocz.scan_types import Job, KernelPlan, PlanChoices, Task, decisions

log = logging.getLogger("iocz.scan")
_PART = "__part"

#: ``any_total=None`` counts the rows matching any IOC (several candidates per row) when that
#: costs at most twice the per-IOC counts, or at most this many PBS (about a minute on 2 cores).
AUTO_TOTAL_PBS = _iocz.AUTO_TOTAL_PBS


def plan_job(
    pairs: pl.DataFrame, job: Job, grouped: bool, bits: Bits, options: PlanChoices
) -> tuple[_iocz.ColumnPlan, list[str | None], KernelPlan]:
    """A job's plan, made once on the whole column (so every partition runs the same): the
    values classified, merged and expanded, the kernel of its per-IOC counts and why, whether
    the rows matching any IOC are counted, and the partitions; with its group keys."""
    plan, keys = plan_pairs(
        pairs,
        job.qset,
        grouped,
        bits,
        options.kernel,
        any_total=options.any_total,
        partition_size=options.partition_size,
        count_bits=options.count_bits,
    )
    c = plan.choice
    decisions.info("%s set, column %s: %s kernel (%s)", job.qset.ioc_type, job.column, c.kernel, c.reason)
    total = plan.total_pbs
    if total is not None and plan.any_total:
        decisions.info("column %s: rows matching any IOC counted (~%d PBS)", job.column, total)
    elif total is not None:
        decisions.warning(
            "column %s: rows matching any IOC not counted: it would take ~%d PBS more than the per-IOC counts' "
            "~%d (rows have several candidates); ask for it with --any-total (Python: any_total=True)",
            job.column,
            total,
            c.per_ioc_pbs,
        )
    kernel = KernelPlan(c.kernel, c.reason, c.per_ioc_pbs, total, plan.any_total)  # type: ignore[arg-type]
    return plan, keys, kernel


def signature(query: Query, jobs: list[Job], plans: list[_iocz.ColumnPlan], settings: list[Any]) -> str:
    """What a checkpoint is valid for: the query, jobs, filter, grouping and rows, and every
    job's plan (its canonical pairs, kernel and cut, whatever engine produced the pairs)."""
    h = hashlib.sha256()
    h.update(json.dumps([query.bundle_fingerprint, [(j.set_index, j.column) for j in jobs], *settings]).encode())
    for plan in plans:
        h.update(plan.fingerprint.encode())
    return h.hexdigest()[:32]


def pairs_per_job(
    source: Source, jobs: list[Job], schema: pl.Schema, group_by: str | None
) -> tuple[list[pl.DataFrame], list[str]]:
    """Each job's pairs (one engine query per column and normalisation) and the queries' text."""
    cache: dict[tuple[str, bool], pl.DataFrame] = {}
    queries: list[str] = []
    out = []
    for job in jobs:
        key = (job.column, job.qset.ioc_type in _iocz.HASH_TYPES and schema[job.column] == pl.String)
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


def make_tasks(
    jobs: list[Job], pairs: list[pl.DataFrame], plans: list[tuple[_iocz.ColumnPlan, list[str | None], KernelPlan]]
) -> list[Task]:
    """One task per partition of every job, with its pairs (what a Spark executor counts) and
    the bootstraps it is planned to take."""
    tasks = []
    for j_i, (job, frame, (plan, keys, k)) in enumerate(zip(jobs, pairs, plans, strict=True)):
        parts = frame.with_columns(plan.pair_partitions().alias(_PART)).filter(pl.col(_PART).is_not_null())
        lookup = k.kernel == "lookup"
        for p in plan.partitions:
            mine = parts if lookup else parts.filter(pl.col(_PART) == p.index)
            tasks.append(
                Task(j_i, job, p.index, mine.drop(_PART), k.kernel, p.pbs, p.rows, plan, keys, p.bins, k.any_total)
            )
    return tasks
