"""Dry run: the policy's verdict and a scan's planned cost, without any FHE work.

:func:`plan_scan` runs everything a scan runs before its first bootstrap — the policy checks,
the clear part, the column checks, the kernel choice, the partitioning — and stops there.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

from iocz.bundles import Query
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.engines import source_for
from iocz.guard import Admission, ledger_path
from iocz.policy import Violation
from iocz.progress import ASSUMED_PBS_SECONDS, Progress
from iocz.scan import scan_source
from iocz.scan_types import ScanOptions

#: Bytes a released count takes in a result bundle (130–180 measured, docs/RESULTS.md).
BYTES_PER_COUNT = 160


@dataclass(frozen=True)
class JobPlan:
    """One (set, column) job: its kernel, partitions, planned PBS (release included) and rows."""

    set_index: int
    ioc_type: str
    column: str
    kernel: str
    partitions: int
    pbs: int
    rows: int
    slots: int


@dataclass
class ScanPlan:
    """The verdict (``violations``, empty: allowed) and the planned cost of a scan."""

    violations: list[Violation]
    notes: list[str]
    jobs: list[JobPlan]
    groups: int
    policy: str
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def allowed(self) -> bool:
        """Whether the policy allows the scan."""
        return not self.violations

    @property
    def pbs(self) -> int:
        """Planned bootstraps: every partition, the additions and the releases."""
        return sum(j.pbs for j in self.jobs)

    @property
    def seconds(self) -> float:
        """Time estimate at the assumed PBS rate on this machine's cores."""
        return self.pbs * ASSUMED_PBS_SECONDS / self.cores

    @property
    def result_bytes(self) -> int:
        """Estimated result size: per job and group, every slot's count and the total."""
        return sum((j.slots + 1) * BYTES_PER_COUNT for j in self.jobs) * max(1, self.groups) + 4096

    def lines(self) -> list[str]:
        """The plan for the terminal."""
        verdict = "allowed" if self.allowed else f"REFUSED ({len(self.violations)} broken rule(s))"
        out = [f"policy ({self.policy}): {verdict}"]
        out += [f"  refused: {v}" for v in self.violations]
        out += [f"  note: {n}" for n in self.notes]
        for j in self.jobs:
            out.append(
                f"  set {j.set_index} ({j.ioc_type}) column {j.column!r}: {j.kernel} kernel, "
                f"{j.partitions} partition(s), {j.rows:,} rows, ~{j.pbs:,} PBS"
            )
        out.append(
            f"planned: ~{self.pbs:,} PBS, ~{self.seconds:,.0f} s on {self.cores} core(s), {self.groups} group(s), "
            f"result ~{self.result_bytes / 1024:,.1f} KiB; nothing was scanned (dry run)"
        )
        return out


class _Planned(Exception):
    def __init__(self, plan: ScanPlan) -> None:
        self.plan = plan


class PlanRunner:
    """A runner that plans instead of running (the guard hands it the admission)."""

    def __init__(self) -> None:
        self.admission: Admission | None = None

    def run(self, tasks: list[Any], settings: Any, ckpt: Checkpoint, bar: Progress) -> dict[Any, PartitionCounts]:
        """Sum up the tasks and stop the scan."""
        adm = self.admission
        jobs: dict[int, JobPlan] = {}
        for t in tasks:
            j = jobs.get(t.job_index) or JobPlan(
                t.job.set_index,
                t.job.qset.ioc_type,
                t.job.column,
                t.kernel,
                0,
                t.plan.release_pbs,
                0,
                t.job.qset.set.slots,
            )
            jobs[t.job_index] = dataclasses.replace(
                j, partitions=j.partitions + 1, pbs=j.pbs + t.planned_pbs, rows=j.rows + t.rows
            )
        source = adm.policy.source if adm is not None and adm.policy is not None else "no policy"
        raise _Planned(
            ScanPlan(
                list(adm.violations) if adm else [],
                list(adm.notes) if adm else [],
                list(jobs.values()),
                adm.groups if adm else 1,
                source,
            )
        )


def plan_scan(
    logs: Any,
    query: Query,
    columns: Mapping[str, str | Sequence[str]],
    *,
    where: Any = None,
    **options: Unpack[ScanOptions],
) -> ScanPlan:
    """What :func:`iocz.scan` with the same arguments would do: the policy's verdict and the
    planned cost (PBS, time, result size), computed without any FHE work. The ledger is read
    (for rate limits), never written."""
    opts: dict[str, Any] = dict(options)
    opts["ledger"] = ledger_path(opts.get("ledger"), opts.pop("checkpoint", None))
    opts["progress"] = False
    try:
        scan_source(source_for(logs, where), query, columns, PlanRunner(), where=where, **opts)
    except _Planned as planned:
        return planned.plan
    raise AssertionError("a planning scan always stops before its partitions")  # pragma: no cover
