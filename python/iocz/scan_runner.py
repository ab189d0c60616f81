"""The resume loop: a scan's partitions one after another in this process, each one resumed
from the checkpoint when it is there, else computed (parallel over the cores) and checkpointed
as soon as it is done."""

from __future__ import annotations

import logging

from iocz import _iocz
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.partition import count_partition
from iocz.progress import Progress
from iocz.scan_types import ScanSettings, Task, decisions

log = logging.getLogger("iocz.scan")


class LocalRunner:
    """Partitions one after another in this process (each one parallel over the cores)."""

    def run(
        self, tasks: list[Task], settings: ScanSettings, ckpt: Checkpoint, bar: Progress
    ) -> dict[tuple[int, int], PartitionCounts]:
        """Compute or resume each task in order, checkpointing as it goes."""
        out: dict[tuple[int, int], PartitionCounts] = {}
        for t in tasks:
            done = ckpt.load(t.job_index, t.part)
            resumed = done is not None
            if done is None:
                _iocz.reset_pbs_count()
                bar.watch(_iocz.pbs_count)
                try:
                    done = count_partition(t.pairs, t.job.qset, settings.grouped, settings.bits, t.kernel, t.bins)
                finally:
                    bar.watch(None)
                ckpt.save(t.job_index, t.part, done)
            out[(t.job_index, t.part)] = done
            bar.advance(rows=t.rows, pbs=0 if resumed else _iocz.pbs_count(), resumed=resumed, planned=t.planned_pbs)
            log.info("job %d (%s) partition %d %s", t.job_index, t.job.column, t.part, "resumed" if resumed else "done")
        if bar.resumed:
            decisions.info("%d of %d partitions resumed from the checkpoint", bar.resumed, len(tasks))
        return out
