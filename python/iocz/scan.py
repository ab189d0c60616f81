"""The company's side: scan logs with a query, resumably, on any engine.

The clear part — filter (``where``), projection, normalisation (hash columns stripped and
lower-cased) and the de-duplication ``GROUP BY value[, group] → rows`` — runs in the engine
that holds the logs (:mod:`iocz.engines`: Polars' streaming engine, an Ibis backend, Spark);
only the ``(group, value, multiplicity)`` pairs reach iocz. iocz checks each column's values
against its set's type (:mod:`iocz.quality`), canonicalises them (merging pairs the engine
left apart, e.g. ``ABC…`` and ``abc…``), and runs the kernels on the distinct values with
their weights.

Each (IOC set, column) job is split into partitions of distinct values (the sorted distinct
canonical values cut into chunks, so a partition never shares a value with another and the
cut depends only on the pairs, not on the engine or its output order). Each partition's
encrypted counts (per IOC and total, per group) are written to a checkpoint folder
atomically as soon as they are done; a rerun of the same scan skips finished partitions, and
the final counts are the encrypted sums of the partitions, so they equal an uninterrupted run.
Partitions run in this process (:class:`LocalRunner`) or on Spark executors
(:func:`iocz.spark.scan`).
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
from typing import Any, Protocol, TypedDict, Unpack

import polars as pl

from iocz import _iocz, timestamps
from iocz._version import __version__
from iocz.bundles import Count, Query, QuerySet, Result
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.engines import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT, Source, source_for
from iocz.expr import Bits, KernelName
from iocz.guard import PolicyLike, admit
from iocz.partition import count_partition
from iocz.progress import Progress
from iocz.quality import HASH_TYPES, ColumnQuality, check_pairs, enforce

log = logging.getLogger("iocz.scan")
#: The scan's decisions a person running it should see (the CLI prints them on the terminal).
decisions = logging.getLogger("iocz.plan")

#: Distinct values per partition (checkpoint granularity) unless told otherwise.
DEFAULT_PARTITION = 2048
#: Column type names accepted in ``columns`` besides the set types: "ip" maps both IP families.
_TYPE_ALIASES = {"ip": ("ipv4", "ipv6"), "cmdline": ("substring",), "command_line": ("substring",)}
_PART = "__part"


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


def _canonical(pairs: pl.DataFrame, ioc_type: str, grouped: bool) -> pl.DataFrame:
    """Hash columns: each value as its canonical text (what the matcher compares), pairs that
    became equal merged. Other types keep their values (the matcher canonicalises them)."""
    if ioc_type not in HASH_TYPES or pairs.schema[PAIR_VALUE] != pl.String or pairs.height == 0:
        return pairs
    distinct = pairs.get_column(PAIR_VALUE).unique()
    canonical = [c for c, _ in _iocz.canonical_iocs(distinct.to_list(), ioc_type)]  # type: ignore[arg-type]
    mapping = pl.DataFrame({PAIR_VALUE: distinct, "__c": pl.Series(canonical, dtype=pl.String)})
    keys = [PAIR_VALUE, PAIR_GROUP] if grouped else [PAIR_VALUE]
    merged = (
        pairs.join(mapping, on=PAIR_VALUE, how="left")
        .with_columns(pl.coalesce("__c", PAIR_VALUE).alias(PAIR_VALUE))
        .group_by(keys)
        .agg(pl.col(PAIR_WEIGHT).sum())
    )
    return merged.sort(keys, nulls_last=True)


def _cleaned(pairs: pl.DataFrame, q: ColumnQuality) -> pl.DataFrame:
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


def _choose_kernel(
    pairs: pl.DataFrame, job: Job, grouped: bool, bits: Bits, kernel: str
) -> tuple[str, str, int | None]:
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


def _signature(query: Query, jobs: list[Job], frames: list[pl.DataFrame], settings: list[Any]) -> str:
    """What a checkpoint is valid for: the query, jobs, filter, grouping, partitioning, kernels
    and rows, and every job's canonical pairs (whatever engine produced them)."""
    h = hashlib.sha256()
    h.update(json.dumps([query.fingerprint, [(j.set_index, j.column) for j in jobs], *settings]).encode())
    for frame in frames:
        h.update(f"{frame.height}:{frame.hash_rows(seed=0x10C2).sum()}".encode())
    return h.hexdigest()[:32]


def _pairs_per_job(
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
    policy: PolicyLike
    ledger: str | os.PathLike[str] | None
    sources: Sequence[str] | None


def scan(
    logs: Any,
    query: Query,
    columns: Mapping[str, str | Sequence[str]],
    *,
    where: Any = None,
    **options: Unpack[ScanOptions],
) -> Result:
    """Scan ``logs`` with ``query``: a Polars LazyFrame or DataFrame (CSV, Parquet, NDJSON,
    partitioned datasets, ``pl.scan_delta``, ``pl.scan_iceberg``) or an Ibis table (DuckDB,
    Polars, SQLite, any SQL backend). A Spark DataFrame goes to :func:`iocz.spark.scan`.

    ``columns`` maps IOC types to log columns (``{"sha256": "TargetProcessSHA256",
    "domain": "query"}``; ``"ip"`` covers IPv4 and IPv6). ``where`` (SQL text, or an
    expression of the logs' library) and the projection, normalisation and de-duplication run
    in the logs' engine before any FHE work; a Polars frame is aggregated on the streaming
    engine and never collected whole. With ``group_by``, counts are per value of that column
    (the group keys go to the agency in the clear). ``checkpoint`` names a folder for
    resumable progress: rerunning the same scan with it skips finished partitions. Returns an
    encrypted :class:`Result`; its metadata records the engine and the queries it ran
    (``clear_part``: SQL for SQL backends, the plan otherwise).

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
    lookup kernel about 35 PBS per IOC at 64 bits (90 at 256), release included, whatever the
    number of values; the choice and its grounds go to the ``iocz.scan`` log and the result
    metadata (``kernels``). ``"scan"`` or ``"lookup"`` force one. A lookup job's partitions
    (checkpoints, Spark tasks) are ranges of its bins.

    The company's control (docs/COMPANY.md): ``policy`` (a :class:`iocz.policy.Policy`, a TOML
    file, or None: no checks) is checked before any FHE work and raises
    :class:`iocz.policy.PolicyRefused` (one violation per broken rule); ``sources`` names the
    tables or paths read, for its ``allowed_sources`` rule. Each released result is appended to
    the ``ledger`` (a JSON Lines file; default ``iocz-ledger.jsonl`` next to the checkpoint
    folder, none without a checkpoint).
    """
    return scan_source(source_for(logs, where), query, columns, LocalRunner(), where=where, **options)


def scan_source(
    source: Source,
    query: Query,
    columns: Mapping[str, str | Sequence[str]],
    runner: Runner,
    *,
    where: Any = None,
    group_by: str | None = None,
    time_column: str | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    partition_size: int = DEFAULT_PARTITION,
    bits: Bits = 256,
    progress: bool | Progress = True,
    force: bool = False,
    strict: bool = False,
    kernel: KernelName = "auto",
    policy: PolicyLike = None,
    ledger: str | os.PathLike[str] | None = None,
    sources: Sequence[str] | None = None,
) -> Result:
    """:func:`scan` on an engine's :class:`~iocz.engines.Source` (already filtered by
    ``where``, recorded as text), its partitions run by ``runner``; the defaults of every option."""
    where_text = None if where is None else str(where)
    if partition_size < 1:
        raise ValueError("partition_size must be at least 1")
    started = time.time()
    guard = admit(
        query,
        columns,
        runner,
        group_by=group_by,
        kernel=kernel,
        checkpoint=checkpoint,
        policy=policy,
        ledger=ledger,
        sources=sources,
    )
    runner, kernel = guard.runner, guard.kernel
    jobs = plan_jobs(query, columns)
    schema = source.schema()
    needed = sorted({j.column for j in jobs} | ({group_by} if group_by else set()))
    missing = [c for c in needed + ([time_column] if time_column else []) if c not in schema]
    if missing:
        raise ValueError(
            f"log column(s) not found: {', '.join(missing)} (have: {', '.join(schema.names())}; engine {source.engine})"
        )
    time_col = time_column or timestamps.time_column(schema)
    grouped = group_by is not None
    clear_started = time.perf_counter()
    raw, queries = _pairs_per_job(source, jobs, schema, group_by)
    stats = source.stats(time_col)
    clear_seconds = time.perf_counter() - clear_started
    quality = [check_pairs(p, j.column, j.qset.ioc_type, j.set_index) for p, j in zip(raw, jobs, strict=True)]
    for q in quality:
        enforce(q, force=force, strict=strict)
    pairs = [_canonical(_cleaned(p, q), j.qset.ioc_type, grouped) for p, q, j in zip(raw, quality, jobs, strict=True)]
    kernels = [_choose_kernel(p, j, grouped, bits, kernel) for p, j in zip(pairs, jobs, strict=True)]
    frames = [
        _partitions(p, partition_size if k[0] != "lookup" else max(1, p.height))
        for p, k in zip(pairs, kernels, strict=True)
    ]
    # A lookup job's partitions are ranges of its bins, each over all the job's pairs.
    bin_ranges = [_bin_ranges(j) if k[0] == "lookup" else None for j, k in zip(jobs, kernels, strict=True)]
    settings = ScanSettings(
        grouped,
        bits,
        _signature(query, jobs, pairs, [where_text, group_by, partition_size, [k[0] for k in kernels], stats.rows]),
    )
    ckpt = Checkpoint(Path(checkpoint) if checkpoint else None, settings.signature)
    tasks = []
    for j_i, (job, (joined, n_parts), k, ranges) in enumerate(zip(jobs, frames, kernels, bin_ranges, strict=True)):
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
    bar = progress if isinstance(progress, Progress) else Progress(enabled=progress)
    bar.start(partitions=len(tasks), rows=sum(t.rows for t in tasks), pbs=sum(t.planned_pbs for t in tasks))
    log.info(
        "scan %s on %s: %d rows after filter, %d jobs, %d partitions",
        query.fingerprint,
        source.engine,
        stats.rows,
        len(jobs),
        len(tasks),
    )
    try:
        done = runner.run(tasks, settings, ckpt, bar)
    finally:
        bar.close()
    merged: dict[tuple[int, str | None], list[tuple[bytes, bytes]]] = {}
    for t in tasks:
        for g, pair in done[(t.job_index, t.part)].items():
            merged.setdefault((t.job_index, g), []).append(pair)
    entries = sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    log.info(
        "releasing %d entries (%d-bit counts, re-randomised, refreshed, compressed)", len(entries), query.count_bits
    )
    counts = []
    for (j_i, g), items in entries:
        job = jobs[j_i]
        per_ioc = items[0][0] if len(items) == 1 else _iocz.add_counts([p[0] for p in items])
        total = items[0][1] if len(items) == 1 else _iocz.add_counts([p[1] for p in items])
        released = _iocz.release_counts(per_ioc, total, query.count_bits, stats.rows)
        counts.append(Count(job.set_index, job.qset.ioc_type, job.column, g, released))
    metadata = {
        "iocz_version": __version__,
        "rows_scanned": stats.rows,
        "where": where_text,
        "group_by": group_by,
        "time_column": time_col,
        "time_range": stats.time_range,
        "count_bits": query.count_bits,
        "columns": [[j.set_index, j.column] for j in jobs],
        "kernels": [[j.set_index, j.column, k[0], k[1]] for j, k in zip(jobs, kernels, strict=True)],
        "engine": source.engine,
        "clear_part": queries,
        "clear_seconds": round(clear_seconds, 2),
        "data_quality": [q.to_meta() for q in quality],
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
    }
    return guard.release(Result(query.fingerprint, query.key_fingerprint, counts, metadata))
