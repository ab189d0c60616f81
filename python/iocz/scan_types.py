"""What a scan is made of: its options, its jobs (an IOC set paired with a log column), its
tasks (one partition of a job each), the settings every partition shares, and what a runner
of the tasks provides (:class:`iocz.scan_runner.LocalRunner` in this process; Spark executors
with :func:`iocz.spark.scan`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypedDict

import polars as pl

from iocz import _iocz
from iocz.bundles import Query, QuerySet
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.expr import Bits, KernelName
from iocz.guard import PolicyLike
from iocz.progress import Progress

#: The scan's decisions a person running it should see (the CLI prints them on the terminal).
decisions = logging.getLogger("iocz.plan")

#: Distinct values per partition (checkpoint granularity) unless told otherwise.
DEFAULT_PARTITION = 2048


@dataclass(frozen=True)
class Job:
    """One (IOC set, log column) pair to scan."""

    set_index: int
    qset: QuerySet
    column: str


def plan_jobs(query: Query, columns: Mapping[str, str | Sequence[str]]) -> list[Job]:
    """Pair each set of ``query`` with the log columns given for its type."""
    by_type: dict[str, list[str]] = {}
    for type_name, cols in columns.items():
        for t in _iocz.TYPE_ALIASES.get(type_name, (type_name,)):
            by_type.setdefault(t, []).extend([cols] if isinstance(cols, str) else cols)
    unknown = set(by_type) - set(_iocz.IOC_TYPES)
    if unknown:
        known = sorted(set(_iocz.IOC_TYPES) | set(_iocz.TYPE_ALIASES))
        raise ValueError(f"unknown IOC type(s) in columns: {', '.join(sorted(unknown))} (known: {', '.join(known)})")
    jobs = [Job(i, s, c) for i, s in enumerate(query.sets) for c in by_type.get(s.ioc_type, [])]
    if not jobs:
        held = ", ".join(s.ioc_type for s in query.sets)
        raise ValueError(
            f"no log column given for the query's IOC types ({held}); use e.g. --column {query.sets[0].ioc_type}=COLUMN"
        )
    return jobs


@dataclass(frozen=True)
class KernelPlan:
    """One job's FHE work as planned: the kernel of its per-IOC counts and why, their predicted
    PBS, and the rows matching any IOC when rows have several candidates (subdomains, CIDR,
    substrings): its predicted PBS and whether it is counted."""

    kernel: KernelName
    reason: str
    per_ioc_pbs: int
    #: None: one candidate per row, the total is the sum of the per-IOC counts (nearly free).
    total_pbs: int | None
    any_total: bool


@dataclass(frozen=True)
class PlanChoices:
    """What the caller decides for every job's plan (see :func:`iocz.scan`)."""

    kernel: KernelName
    any_total: bool | None
    partition_size: int
    count_bits: int


@dataclass(frozen=True)
class Task:
    """One partition of one job: its pairs, its plan and what the progress bar expects of it."""

    job_index: int
    job: Job
    part: int
    #: The partition's pairs (a lookup partition: all the job's pairs), for Spark executors.
    pairs: pl.DataFrame
    kernel: KernelName
    planned_pbs: int
    #: Rows the partition stands for (a lookup partition: its share of the job's rows).
    rows: int
    #: The job's plan (counts the partition in this process) and its group keys.
    plan: _iocz.ColumnPlan = field(compare=False, repr=False)
    keys: list[str | None] = field(compare=False, repr=False)
    #: Lookup partitions: the range of lookup bins counted (over all the job's pairs).
    bins: tuple[int, int] | None = None
    #: Count the rows matching any IOC (see :class:`KernelPlan`).
    any_total: bool = True


@dataclass(frozen=True)
class ScanSettings:
    """What every partition of a scan shares."""

    grouped: bool
    bits: Bits
    signature: str


class Runner(Protocol):
    """Runs the partitions not yet in the checkpoint and returns every partition's counts."""

    def run(
        self, tasks: list[Task], settings: ScanSettings, ckpt: Checkpoint, bar: Progress
    ) -> dict[tuple[int, int], PartitionCounts]:
        """Counts per (job index, partition)."""
        ...


class ScanOptions(TypedDict, total=False):
    """The options of :func:`scan` besides ``where`` (also taken by :func:`iocz.spark.scan`)."""

    group_by: str | None
    time_column: str | None
    checkpoint: str | os.PathLike[str] | None
    partition_size: int
    bits: Bits
    progress: bool | Progress
    force: bool
    strict: bool
    kernel: KernelName
    any_total: bool | None
    policy: PolicyLike
    ledger: str | os.PathLike[str] | None
    sources: Sequence[str] | None
