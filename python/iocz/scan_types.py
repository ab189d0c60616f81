"""What a scan is made of: its options, its jobs (an IOC set paired with a log column), its
tasks (one partition of a job each), the settings every partition shares, and what a runner
of the tasks provides (:class:`iocz.scan_runner.LocalRunner` in this process; Spark executors
with :func:`iocz.spark.scan`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypedDict

import polars as pl

from iocz import _iocz
from iocz.bundles import Query, QuerySet
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.engines import PAIR_WEIGHT
from iocz.expr import Bits, KernelName
from iocz.guard import PolicyLike
from iocz.progress import Progress

#: The scan's decisions a person running it should see (the CLI prints them on the terminal).
decisions = logging.getLogger("iocz.plan")

#: Distinct values per partition (checkpoint granularity) unless told otherwise.
DEFAULT_PARTITION = 2048
#: Column type names accepted in ``columns`` besides the set types: "ip" maps both IP families.
_TYPE_ALIASES = {"ip": ("ipv4", "ipv6"), "cmdline": ("substring",), "command_line": ("substring",)}


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
        for t in _TYPE_ALIASES.get(type_name, (type_name,)):
            by_type.setdefault(t, []).extend([cols] if isinstance(cols, str) else cols)
    unknown = set(by_type) - set(_iocz.IOC_TYPES)
    if unknown:
        known = sorted(set(_iocz.IOC_TYPES) | set(_TYPE_ALIASES))
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

    @property
    def total_work(self) -> int:
        """PBS this plan spends on the rows-matching-any total (0: free or not counted)."""
        return (self.total_pbs or 0) if self.any_total else 0


@dataclass(frozen=True)
class Task:
    """One partition of one job: its pairs and what the progress bar expects of it."""

    job_index: int
    job: Job
    part: int
    pairs: pl.DataFrame
    kernel: KernelName
    planned_pbs: int
    #: Lookup partitions: the range of lookup bins counted (over all the job's pairs).
    bins: tuple[int, int] | None = None
    #: Count the rows matching any IOC (see :class:`KernelPlan`).
    any_total: bool = True

    @property
    def rows(self) -> int:
        """Rows the partition's pairs stand for (a lookup partition's share of its job's rows)."""
        rows = int(self.pairs.get_column(PAIR_WEIGHT).sum())
        if self.bins is None:
            return rows
        start, end = self.bins
        total = self.job.qset.set.lookup[0] if self.job.qset.set.lookup else end
        return rows * end // total - rows * start // total


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
