"""The resume loop: :func:`resume` takes a scan's partitions from the checkpoint where they are
there (both runners start with it); :class:`LocalRunner` then computes the rest one after
another in this process (each one parallel over the cores), checkpointing each as soon as it
is done."""

from __future__ import annotations

import functools
import logging

from iocz import _iocz
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.partition import count_planned
from iocz.progress import Progress
from iocz.scan_types import ScanSettings, Task, decisions

log = logging.getLogger("iocz.scan")


def resume(
    tasks: list[Task], ckpt: Checkpoint, bar: Progress, *, runs_on: str | None = None
) -> tuple[dict[tuple[int, int], PartitionCounts], list[Task]]:
    """The counts the checkpoint holds per (job index, partition), each one advancing ``bar``
    as resumed, and the tasks still to compute (in order). Says once how many were resumed:
    when any were, or always (with how many run there) when ``runs_on`` names where the rest
    run."""
    done: dict[tuple[int, int], PartitionCounts] = {}
    todo: list[Task] = []
    for t in tasks:
        counts = ckpt.load(t.job_index, t.part)
        if counts is None:
            todo.append(t)
            continue
        done[(t.job_index, t.part)] = counts
        bar.advance(rows=t.rows, pbs=0, resumed=True, planned=t.planned_pbs)
    if runs_on is not None:
        decisions.info(
            "%d of %d partitions resumed from the checkpoint; %d run on %s", len(done), len(tasks), len(todo), runs_on
        )
    elif done:
        decisions.info("%d of %d partitions resumed from the checkpoint", len(done), len(tasks))
    return done, todo


def pbs_since(start: int) -> int:
    """PBS this process ran since the counter read ``start``."""
    return _iocz.pbs_count() - start


class LocalRunner:
    """Partitions one after another in this process (each one parallel over the cores)."""

    def run(
        self, tasks: list[Task], settings: ScanSettings, ckpt: Checkpoint, bar: Progress
    ) -> dict[tuple[int, int], PartitionCounts]:
        """Resume what the checkpoint holds, compute the rest in order, checkpointing as it goes."""
        out, todo = resume(tasks, ckpt, bar)
        for t in tasks:
            if (t.job_index, t.part) in out:
                log.info("job %d (%s) partition %d resumed", t.job_index, t.job.column, t.part)
        for t in todo:
            # The process-wide counter is read, never reset: a caller's own count stays whole.
            start = _iocz.pbs_count()
            bar.watch(functools.partial(pbs_since, start))
            try:
                counts = count_planned(t.plan, t.part, t.keys)
            finally:
                bar.watch(None)
            ckpt.save(t.job_index, t.part, counts)
            out[(t.job_index, t.part)] = counts
            bar.advance(rows=t.rows, pbs=_iocz.pbs_count() - start, resumed=False, planned=t.planned_pbs)
            log.info("job %d (%s) partition %d done", t.job_index, t.job.column, t.part)
        return out
