"""Checkpoints of a resumable scan: a folder of finished partitions, each an atomically
written checkpoint bundle of partial (unreleased) encrypted counts, valid for one scan."""

from __future__ import annotations

import json
from pathlib import Path

from iocz import _iocz
from iocz._files import write_atomic

#: Partial counts of one partition: group key → (sealed per-IOC counts, sealed rows matching any).
PartitionCounts = dict[str | None, tuple[bytes, bytes]]


class Checkpoint:
    """A folder of finished partitions for the scan ``signature`` (None: nothing is kept).

    The driver opens it with ``claim=True`` (creates it, refuses a folder of another scan,
    removes stale temporary files); workers open the same folder without claiming it."""

    def __init__(self, folder: Path | None, signature: str, *, claim: bool = True) -> None:
        self.folder = folder
        self.signature = signature
        if folder is None or not claim:
            return
        folder.mkdir(parents=True, exist_ok=True)
        stamp = folder / "SCAN"
        if stamp.exists() and stamp.read_text().strip() != signature:
            raise ValueError(
                f"checkpoint folder {folder} belongs to a different scan (query, columns, filter or "
                "data changed); delete it or choose another --checkpoint"
            )
        for stale in folder.glob(".*.tmp-*"):
            stale.unlink()
        write_atomic(stamp, signature.encode(), overwrite=True)

    def path(self, job: int, part: int) -> Path:
        """Where partition ``part`` of job ``job`` is recorded."""
        assert self.folder is not None
        return self.folder / f"job{job}-part{part}.iocz"

    def load(self, job: int, part: int) -> PartitionCounts | None:
        """Partial counts of a finished partition, or None."""
        if self.folder is None or not self.path(job, part).exists():
            return None
        bundle = _iocz.read_bundle(self.path(job, part), "checkpoint")
        info = json.loads(bundle.meta)
        if info.get("signature") != self.signature:
            raise ValueError(f"{self.path(job, part)} belongs to a different scan")
        data = bundle.sections
        return {g: (data[f"g/{i}/per-ioc"], data[f"g/{i}/total"]) for i, g in enumerate(info["groups"])}

    def save(self, job: int, part: int, counts: PartitionCounts) -> None:
        """Record a finished partition atomically (a retried or speculative task rewrites the
        same counts: harmless)."""
        if self.folder is None:
            return
        groups = list(counts)
        sections: list[tuple[str, bytes]] = []
        for i, g in enumerate(groups):
            sections += [(f"g/{i}/per-ioc", counts[g][0]), (f"g/{i}/total", counts[g][1])]
        meta = json.dumps({"signature": self.signature, "job": job, "part": part, "groups": groups})
        bundle = _iocz.encode_bundle("checkpoint", meta, sections)
        write_atomic(self.path(job, part), bundle.data, overwrite=True)
