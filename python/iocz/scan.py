"""The company's side: scan a Polars LazyFrame with a query, resumably.

The frame is pre-filtered and projected in the clear (``where``), then each (IOC set, column)
job is split into partitions of distinct values (the sorted distinct values cut into chunks,
so a partition never shares a value with another). Each partition's encrypted counts (per IOC
and total, per group) are written to a checkpoint folder atomically as soon as they are done;
a rerun of the same scan skips finished partitions, and the final counts are the encrypted
sums of the partitions, so they equal an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from iocz import _iocz, timestamps
from iocz._files import write_atomic
from iocz._version import __version__
from iocz.bundles import Count, Query, QuerySet, Result
from iocz.expr import Bits, KernelName
from iocz.progress import Progress
from iocz.quality import ColumnQuality, check_column, enforce

log = logging.getLogger("iocz.scan")

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
        raise ValueError(f"unknown IOC type(s) in columns: {', '.join(sorted(unknown))}")
    jobs = [Job(i, s, c) for i, s in enumerate(query.sets) for c in by_type.get(s.ioc_type, [])]
    if not jobs:
        held = ", ".join(s.ioc_type for s in query.sets)
        raise ValueError(
            f"no log column given for the query's IOC types ({held}); use e.g. --column {query.sets[0].ioc_type}=COLUMN"
        )
    return jobs


def _partitions(df: pl.DataFrame, column: str, size: int) -> tuple[pl.DataFrame, int]:
    """``df`` with a ``__part`` column: the index of the value's chunk among sorted distinct values."""
    distinct = df.select(pl.col(column).drop_nulls().unique().sort()).to_series()
    parts = pl.DataFrame({column: distinct, "__part": pl.int_range(0, distinct.len(), eager=True) // size})
    joined = df.join(parts, on=column, how="left", nulls_equal=False)
    return joined, max(1, -(-distinct.len() // size))


def _job_frames(df: pl.DataFrame, quality: list[ColumnQuality], size: int) -> list[tuple[pl.DataFrame, int]]:
    """Partitioned frame per job; a hash column's values that are not hashes become nulls."""
    cache: dict[str, tuple[pl.DataFrame, int]] = {}
    out = []
    for q in quality:
        if q.bad_values is None:
            if q.column not in cache:
                cache[q.column] = _partitions(df, q.column, size)
            out.append(cache[q.column])
            continue
        c = pl.col(q.column)
        key = c if q.bad_values.dtype == df.schema[q.column] else c.cast(q.bad_values.dtype)
        cleaned = df.with_columns(pl.when(key.is_in(q.bad_values.implode())).then(None).otherwise(c).alias(q.column))
        out.append(_partitions(cleaned, q.column, size))
    return out


def _planned_pbs(joined: pl.DataFrame, n_parts: int, job: Job, bits: Bits) -> list[int]:
    """Comparison bootstraps each partition of a job is expected to take (once for all groups;
    the per-group counting is not included); for the ETA, 0 when unknown."""
    if joined.schema[job.column] != pl.String:
        return [0] * n_parts
    keys = ["__part"]
    distinct = joined.select(job.column, *keys).drop_nulls([job.column, "__part"]).unique()
    passes = 1 if job.qset.set.single_candidate(job.qset.match) else 2
    out = [0] * n_parts
    for key, frame in distinct.partition_by(keys, as_dict=True).items():
        values = frame.get_column(job.column).to_list()
        try:
            pbs, _ = _iocz._planned_pbs(job.qset.set.set_id, values, bits, 1, job.qset.match)
        except (ValueError, RuntimeError):
            pbs = 0
        out[int(key[0])] += pbs * passes
    return out


def _choose_kernels(
    frames: list[tuple[pl.DataFrame, int]], jobs: list[Job], group_by: str | None, bits: Bits, kernel: str
) -> list[tuple[str, str, int | None]]:
    """Per job, the kernel for its per-IOC counts, chosen once on the whole column (so every
    partition runs the same one), why, and the predicted lookup PBS when it is the lookup."""
    out = []
    for job, (joined, _) in zip(jobs, frames, strict=True):
        groups = joined.get_column(group_by).n_unique() if group_by else 1
        name, reason, _, lookup_pbs, _, _ = _iocz.choose_kernel(
            joined.get_column(job.column), job.qset.set.set_id, bits, groups, job.qset.match, kernel
        )
        log.info(
            "job %s (%s set, column %s): %s kernel: %s", job.set_index, job.qset.ioc_type, job.column, name, reason
        )
        out.append((name, reason, lookup_pbs))
    return out


def _one_partition(joined: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """A lookup job runs its whole column at once (its cost is per IOC, not per value)."""
    part = pl.when(pl.col("__part").is_not_null()).then(pl.lit(0, dtype=pl.Int64)).otherwise(None)
    return joined.with_columns(part.alias("__part")), 1


def _signature(
    query: Query,
    jobs: list[Job],
    df: pl.DataFrame,
    where: str | None,
    group_by: str | None,
    size: int,
    kernels: list[str],
) -> str:
    """What a checkpoint is valid for: the query, jobs, filter, grouping, partitioning, kernels and rows."""
    h = hashlib.sha256()
    h.update(
        json.dumps(
            [query.fingerprint, [(j.set_index, j.column) for j in jobs], where, group_by, size, kernels, df.height]
        ).encode()
    )
    for col in df.columns:
        h.update(str(df[col].hash(seed=0x10C2).sum()).encode())
    return h.hexdigest()[:32]


class Checkpoint:
    """A folder of finished partitions, each an atomically written checkpoint bundle."""

    def __init__(self, folder: Path | None, signature: str) -> None:
        self.folder = folder
        self.signature = signature
        if folder is None:
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

    def _path(self, job: int, part: int) -> Path:
        assert self.folder is not None
        return self.folder / f"job{job}-part{part}.iocz"

    def load(self, job: int, part: int) -> dict[str | None, tuple[bytes, bytes]] | None:
        """Partial counts of a finished partition: group → (per-IOC, total), or None."""
        if self.folder is None or not self._path(job, part).exists():
            return None
        meta, sections, _ = _iocz.read_bundle(self._path(job, part), "checkpoint")
        info = json.loads(meta)
        if info.get("signature") != self.signature:
            raise ValueError(f"{self._path(job, part)} belongs to a different scan")
        data = dict(sections)
        return {g: (data[f"g/{i}/per-ioc"], data[f"g/{i}/total"]) for i, g in enumerate(info["groups"])}

    def save(self, job: int, part: int, counts: dict[str | None, tuple[bytes, bytes]]) -> None:
        """Record a finished partition atomically."""
        if self.folder is None:
            return
        groups = list(counts)
        sections: list[tuple[str, bytes]] = []
        for i, g in enumerate(groups):
            sections += [(f"g/{i}/per-ioc", counts[g][0]), (f"g/{i}/total", counts[g][1])]
        meta = json.dumps({"signature": self.signature, "job": job, "part": part, "groups": groups})
        data, _ = _iocz.encode_bundle("checkpoint", meta, sections)
        write_atomic(self._path(job, part), data, overwrite=True)


def _group_key(value: Any) -> str | None:
    return None if value is None else str(value)


def _group_indices(frame: pl.DataFrame, group_by: str) -> tuple[pl.Series, list[str | None]]:
    """Each row's group index (UInt32) and the group keys in index order."""
    keys = frame.get_column(group_by).unique().sort(nulls_last=True)
    lookup = pl.DataFrame({group_by: keys, "__group": pl.int_range(0, keys.len(), eager=True, dtype=pl.UInt32)})
    joined = frame.select(group_by).join(lookup, on=group_by, how="left", nulls_equal=True, maintain_order="left")
    return joined.get_column("__group"), [_group_key(k) for k in keys.to_list()]


def _scan_partition(
    frame: pl.DataFrame, job: Job, group_by: str | None, bits: Bits, kernel: KernelName
) -> dict[str | None, tuple[bytes, bytes]]:
    """Encrypted (per-IOC, total) partial counts of one partition, per group key. With
    ``group_by`` every comparison runs once for all groups (each group only weighs them)."""
    qset = job.qset
    if group_by:
        groups, keys = _group_indices(frame, group_by)
        counts = _iocz.count_grouped(
            frame.get_column(job.column), groups, len(keys), qset.set.set_id, bits, 0, qset.match, kernel
        )
        return dict(zip(keys, counts, strict=True))
    col = pl.col(job.column).fhe
    per_ioc = col.count_per_ioc(qset.set, match=qset.match, bits=bits, kernel=kernel).alias("per_ioc")
    single = qset.set.single_candidate(qset.match)
    any_ioc = col.count_in(qset.set, match=qset.match, bits=bits, kernel=kernel).alias("total")
    row = frame.select([per_ioc] if single else [per_ioc, any_ioc]).row(0, named=True)
    # One candidate per row: rows matching any IOC = Σ per-IOC counts (no second pass).
    total = _iocz.total_count(row["per_ioc"]) if single else row["total"]
    return {None: (row["per_ioc"], total)}


def scan(
    logs: pl.LazyFrame | pl.DataFrame,
    query: Query,
    columns: Mapping[str, str | Sequence[str]],
    *,
    where: str | pl.Expr | None = None,
    group_by: str | None = None,
    time_column: str | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    partition_size: int = DEFAULT_PARTITION,
    bits: Bits = 256,
    progress: bool | Progress = True,
    force: bool = False,
    strict: bool = False,
    kernel: KernelName = "auto",
) -> Result:
    """Scan ``logs`` (any LazyFrame: CSV, Parquet, NDJSON, partitioned datasets) with ``query``.

    ``columns`` maps IOC types to log columns (``{"sha256": "TargetProcessSHA256",
    "domain": "query"}``; ``"ip"`` covers IPv4 and IPv6). ``where`` (a SQL condition or a
    Polars expression) and the projection run in the clear before any FHE work. With
    ``group_by``, counts are per value of that column (the group keys go to the agency in the
    clear). ``checkpoint`` names a folder for resumable progress: rerunning the same scan with
    it skips finished partitions. Returns an encrypted :class:`Result`.

    What leaves the company is released: each (set, column, group) entry is one compressed list
    of ``query.count_bits``-bit counts, every block re-randomised and refreshed, so the
    ciphertexts reveal nothing beyond the counts (checkpoints hold unreleased partial counts
    and stay with the company).

    Before any FHE work each column is checked against its set's type (:mod:`iocz.quality`):
    the figures go to the result metadata (``data_quality``) and to the ``iocz.quality``
    logger. A column with values but none of the set's type raises ``ValueError`` unless
    ``force``; values of a hash column that are not hashes (``-``, ``N/A``, wrong length) are
    skipped and counted, or raise ``ValueError`` with ``strict``. String time columns are
    parsed (ISO 8601 and ``%Y-%m-%d %H:%M:%S`` forms) for the reported time range.

    Per-IOC counts run on the kernel the query allows and the company's data make cheaper
    (``kernel="auto"``): the scan kernel costs ~35 PBS per distinct value at 256 bits, the
    lookup kernel a few hundred PBS per IOC whatever the number of values; the choice and its
    grounds go to the ``iocz.scan`` log and the result metadata (``kernels``). ``"scan"`` or
    ``"lookup"`` force one. A lookup job is one partition (its checkpoint is the whole job).
    """
    if partition_size < 1:
        raise ValueError("partition_size must be at least 1")
    started = time.time()
    jobs = plan_jobs(query, columns)
    lf = logs.lazy()
    where_text = where if isinstance(where, str) or where is None else str(where)
    if isinstance(where, str):
        # Polars SQL (unlike sql_expr) compares temporal columns with string literals.
        lf = pl.SQLContext(logs=lf).execute(f"SELECT * FROM logs WHERE {where}")
    elif where is not None:
        lf = lf.filter(where)
    time_col = time_column
    needed = sorted({j.column for j in jobs} | ({group_by} if group_by else set()))
    schema = lf.collect_schema()
    missing = [c for c in needed + ([time_col] if time_col else []) if c not in schema]
    if missing:
        raise ValueError(f"log column(s) not found: {', '.join(missing)} (have: {', '.join(schema.names())})")
    if time_col is None:
        time_col = timestamps.time_column(schema)
    df = lf.select(needed + ([time_col] if time_col and time_col not in needed else [])).collect()
    quality = [check_column(df, j.column, j.qset.ioc_type, j.set_index) for j in jobs]
    for q in quality:
        enforce(q, force=force, strict=strict)
    frames = _job_frames(df, quality, partition_size)
    kernels = _choose_kernels(frames, jobs, group_by, bits, kernel)
    frames = [_one_partition(j) if k[0] == "lookup" else (j, n) for (j, n), k in zip(frames, kernels, strict=True)]
    ckpt = Checkpoint(
        Path(checkpoint) if checkpoint else None,
        _signature(query, jobs, df, where_text, group_by, partition_size, [k[0] for k in kernels]),
    )
    bar = progress if isinstance(progress, Progress) else Progress(enabled=progress)
    planned = sum(n for _, n in frames)
    plan = [
        [k[2] or 0] if k[0] == "lookup" else _planned_pbs(joined, n, job, bits)
        for job, (joined, n), k in zip(jobs, frames, kernels, strict=True)
    ]
    bar.start(partitions=planned, rows=df.height * len(jobs), pbs=sum(map(sum, plan)))
    log.info("scan %s: %d rows after filter, %d jobs, %d partitions", query.fingerprint, df.height, len(jobs), planned)
    merged: dict[tuple[int, str | None], list[tuple[bytes, bytes]]] = {}
    for j_i, job in enumerate(jobs):
        joined, n_parts = frames[j_i]
        for part in range(n_parts):
            frame = joined.filter(pl.col("__part") == part)
            done = ckpt.load(j_i, part)
            resumed = done is not None
            if done is None:
                _iocz.reset_pbs_count()
                done = _scan_partition(frame, job, group_by, bits, kernels[j_i][0])  # type: ignore[arg-type]
                ckpt.save(j_i, part, done)
            for g, pair in done.items():
                merged.setdefault((j_i, g), []).append(pair)
            bar.advance(
                rows=frame.height, pbs=0 if resumed else _iocz.pbs_count(), resumed=resumed, planned=plan[j_i][part]
            )
            log.info(
                "job %d (%s) partition %d/%d %s", j_i, job.column, part + 1, n_parts, "resumed" if resumed else "done"
            )
    counts = []
    entries = sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    log.info(
        "releasing %d entries (%d-bit counts, re-randomised, refreshed, compressed)", len(entries), query.count_bits
    )
    for (j_i, g), pairs in entries:
        job = jobs[j_i]
        per_ioc = pairs[0][0] if len(pairs) == 1 else _iocz.add_counts([p[0] for p in pairs])
        total = pairs[0][1] if len(pairs) == 1 else _iocz.add_counts([p[1] for p in pairs])
        released = _iocz.release_counts(per_ioc, total, query.count_bits, df.height)
        counts.append(Count(job.set_index, job.qset.ioc_type, job.column, g, released))
    bar.close()
    metadata = {
        "iocz_version": __version__,
        "rows_scanned": df.height,
        "where": where_text,
        "group_by": group_by,
        "time_column": time_col,
        "time_range": timestamps.time_range(df, time_col),
        "count_bits": query.count_bits,
        "columns": [[j.set_index, j.column] for j in jobs],
        "kernels": [[j.set_index, j.column, k[0], k[1]] for j, k in zip(jobs, kernels, strict=True)],
        "data_quality": [q.to_meta() for q in quality],
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
    }
    return Result(query.fingerprint, query.key_fingerprint, counts, metadata)
