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
Partitions run in this process (:class:`~iocz.scan_runner.LocalRunner`) or on Spark executors
(:func:`iocz.spark.scan`).

This module runs the steps in order; :mod:`iocz.scan_types` holds the options, jobs and tasks,
:mod:`iocz.scan_pairs` prepares the pairs and partitions, :mod:`iocz.scan_runner` is the resume
loop and :mod:`iocz.scan_release` releases the summed counts.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Unpack

from iocz import _iocz, timestamps
from iocz._version import __version__
from iocz.bundles import Query, Result
from iocz.checkpoint import Checkpoint
from iocz.engines import Source, source_for
from iocz.expr import Bits, KernelName
from iocz.guard import PolicyLike, admit
from iocz.progress import Progress
from iocz.quality import ColumnQuality, enforce
from iocz.scan_pairs import make_tasks, pairs_per_job, plan_job, signature
from iocz.scan_release import released_counts
from iocz.scan_runner import LocalRunner, pbs_since
from iocz.scan_types import DEFAULT_PARTITION, PlanChoices, Runner, ScanOptions, ScanSettings, plan_jobs

log = logging.getLogger("iocz.scan")


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

    Rows matching any IOC: free where every row has one candidate (hashes, IPs, exact
    domains: the sum of the per-IOC counts). Where rows have several (subdomains, CIDR,
    substrings) it takes a scan over every distinct candidate, which can cost far more than
    the per-IOC counts: ``any_total=None`` (default) counts it when that costs at most twice the
    per-IOC counts or at most ``AUTO_TOTAL_PBS`` PBS, else logs its cost on ``iocz.plan`` and
    leaves it out (the result says "not counted", metadata ``uncounted_totals``);
    ``any_total=True`` always counts it, ``False`` never.

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
    any_total: bool | None = None,
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
    raw, queries = pairs_per_job(source, jobs, schema, group_by)
    stats = source.stats(time_col)
    clear_seconds = time.perf_counter() - clear_started
    choices = PlanChoices(kernel, any_total, partition_size, query.count_bits)
    plans = [plan_job(p, j, grouped, bits, choices) for p, j in zip(raw, jobs, strict=True)]
    quality = [
        ColumnQuality.of(j.set_index, j.qset.ioc_type, j.column, plan.quality)
        for j, (plan, _, _) in zip(jobs, plans, strict=True)
    ]
    for q in quality:
        enforce(q, force=force, strict=strict)
    kernels = [k for _, _, k in plans]
    settings = ScanSettings(
        grouped,
        bits,
        signature(query, jobs, [p for p, _, _ in plans], [where_text, group_by, partition_size, stats.rows]),
    )
    ckpt = Checkpoint(Path(checkpoint) if checkpoint else None, settings.signature)
    tasks = make_tasks(jobs, raw, plans)
    release_pbs = sum(p.release_pbs for p, _, _ in plans)
    bar = progress if isinstance(progress, Progress) else Progress(enabled=progress)
    # The release is the bar's last step: its PBS are in the plan and the ETA.
    planned = sum(t.planned_pbs for t in tasks) + release_pbs
    bar.start(partitions=len(tasks) + 1, rows=sum(t.rows for t in tasks), pbs=planned)
    log.info(
        "scan %s on %s: %d rows after filter, %d jobs, %d partitions, ~%d PBS planned (%d of them adding and "
        "releasing the counts)",
        query.bundle_fingerprint,
        source.engine,
        stats.rows,
        len(jobs),
        len(tasks),
        planned,
        release_pbs,
    )
    try:
        done = runner.run(tasks, settings, ckpt, bar)
        start = _iocz.pbs_count()
        bar.watch(functools.partial(pbs_since, start))
        counts = released_counts(tasks, done, jobs, query.count_bits, stats.rows)
        bar.released(pbs=pbs_since(start), planned=release_pbs)
    finally:
        bar.close()
    metadata = {
        "iocz_version": __version__,
        "rows_scanned": stats.rows,
        "where": where_text,
        "group_by": group_by,
        "time_column": time_col,
        "time_range": stats.time_range,
        "count_bits": query.count_bits,
        "columns": [[j.set_index, j.column] for j in jobs],
        "kernels": [[j.set_index, j.column, k.kernel, k.reason] for j, k in zip(jobs, kernels, strict=True)],
        "uncounted_totals": [
            [j.set_index, j.column, k.total_pbs] for j, k in zip(jobs, kernels, strict=True) if not k.any_total
        ],
        "engine": source.engine,
        "clear_part": queries,
        "clear_seconds": round(clear_seconds, 2),
        "data_quality": [q.to_meta() for q in quality],
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
    }
    return guard.release(Result(query.bundle_fingerprint, query.key_fingerprint, counts, metadata))
