"""Release: every task's partial counts summed per (job, group) entry and released (what
leaves the company): one compressed list of the query's ``count_bits``-bit counts per entry,
every block re-randomised and refreshed, so the ciphertexts reveal nothing beyond the counts."""

from __future__ import annotations

import logging

from iocz import _iocz
from iocz.bundles import Count
from iocz.checkpoint import PartitionCounts
from iocz.scan_types import Job, Task

log = logging.getLogger("iocz.scan")


def released_counts(
    tasks: list[Task], done: dict[tuple[int, int], PartitionCounts], jobs: list[Job], count_bits: int, rows: int
) -> list[Count]:
    """The released entries of a scan, in job then group order (``rows``: the rows scanned)."""
    merged: dict[tuple[int, str | None], list[tuple[bytes, bytes]]] = {}
    for t in tasks:
        for g, pair in done[(t.job_index, t.part)].items():
            merged.setdefault((t.job_index, g), []).append(pair)
    entries = sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    log.info("releasing %d entries (%d-bit counts, re-randomised, refreshed, compressed)", len(entries), count_bits)
    counts = []
    for (j_i, g), items in entries:
        job = jobs[j_i]
        per_ioc = items[0][0] if len(items) == 1 else _iocz.add_counts([p[0] for p in items])
        total = items[0][1] if len(items) == 1 else _iocz.add_counts([p[1] for p in items])
        one_candidate = job.qset.set.single_candidate(job.qset.match)
        released = _iocz.release_counts(per_ioc, total, count_bits, rows, one_candidate=one_candidate)
        counts.append(Count(job.set_index, job.qset.ioc_type, job.column, g, released))
    return counts
