"""Scan a Spark DataFrame: the clear part on the cluster, the FHE partitions on the executors.

``iocz.spark.scan(df, query, columns, ...)`` takes the arguments of :func:`iocz.scan`. The
filter, projection, normalisation and de-duplication run in Spark; the de-duplicated pairs
come to the driver, which checks them and cuts each job into partitions exactly as a local
scan does (sorted distinct canonical values, so the cut is deterministic and a checkpoint is
valid whichever engine resumes it). Then one Spark job runs one task per partition: each
executor's Python worker loads the query bundle once (the file is shipped with the job by
``SparkContext.addFile``, never a pickled key or set), computes the partition's encrypted
partial counts, writes them as a checkpoint bundle (atomically: a retried or speculative task
rewrites the same counts) and returns them; the driver adds them and releases the result.
On a cluster the checkpoint folder must be storage every executor can write.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

import polars as pl

from iocz.bundles import Query, Result
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.engines.spark_frame import SparkSource
from iocz.expr import Bits, KernelName
from iocz.partition import count_partition
from iocz.progress import Progress
from iocz.scan import scan_source
from iocz.scan_runner import resume
from iocz.scan_types import ScanOptions, ScanSettings, Task

log = logging.getLogger("iocz.scan")

#: Seconds between two looks at the Spark job's progress.
POLL_SECONDS = 0.5
#: Seconds to wait for a ``spark://`` master to accept a connection.
MASTER_TIMEOUT = 5.0
#: Seconds the executors have to answer :func:`check_executors` (they may have to start first).
PROBE_SECONDS = 180.0


def _check_java() -> None:
    """A clear error when Spark cannot start for want of Java."""
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (home and (Path(home) / "bin" / "java").exists()):
        raise OSError(
            "Spark needs a Java runtime (17): install it (Debian: apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )


#: Hosts that make a ``spark://`` master a loopback-only cluster (the driver binds there too).
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _check_master(master: str) -> None:
    """A clear one-line error when no master of a ``spark://h1:p1,h2:p2`` URL answers."""
    import socket

    reasons = []
    for hostport in master.removeprefix("spark://").split(","):
        host, _, port = hostport.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=MASTER_TIMEOUT).close()
            return
        except (OSError, ValueError) as e:
            reasons.append(getattr(e, "strerror", None) or str(e) or type(e).__name__)
    raise OSError(f"cannot reach the Spark master {master}: {'; '.join(reasons)} (is it running? check --master)")


def session(master: str = "local[2]", *, app: str = "iocz", config: Mapping[str, str] | None = None) -> Any:
    """A Spark session for scanning: ``local[N]`` runs N executor slots in this machine,
    bound to the loopback interface only (no port listens outside), as does a standalone
    master on ``spark://127.0.0.1:PORT``; any other ``master`` is used as given (an
    unreachable ``spark://`` master is one clear error). Executors run this Python interpreter
    with this ``PYTHONPATH`` (``spark.executorEnv.PYTHONPATH``): right for ``local[N]`` and for
    workers that share this installation (same paths on every worker)."""
    _check_java()
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise ImportError("Spark input needs the spark extra: pip install 'iocz[spark]'") from e
    import sys

    if master.startswith("spark://"):
        _check_master(master)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app).config("spark.ui.enabled", "false")
    if master.startswith("local") or master.removeprefix("spark://").rpartition(":")[0] in _LOOPBACK:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    if os.environ.get("PYTHONPATH"):
        builder = builder.config("spark.executorEnv.PYTHONPATH", os.environ["PYTHONPATH"])
    for k, v in (config or {}).items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


#: Applications whose executors were found to import iocz.
_PROBED: set[str] = set()


def check_executors(spark: Any, timeout: float | None = None) -> None:
    """Before any FHE work: one tiny Spark job checks that the executors' Python imports the
    same iocz as this driver. A clear one-line error says what to do when it does not (install
    iocz on every worker, or point ``PYSPARK_PYTHON`` at an interpreter that has it, or put it
    on the executors' path with ``spark.executorEnv.PYTHONPATH`` / ``spark.archives``), and
    when no executor runs the job within ``timeout`` seconds (default :data:`PROBE_SECONDS`)."""
    from iocz._version import __version__

    sc = spark.sparkContext
    wait = PROBE_SECONDS if timeout is None else timeout
    if sc.applicationId in _PROBED:
        return
    group = f"iocz-probe-{time.time_ns()}"
    answers: list[str] = []
    failure: list[BaseException] = []

    def probe() -> None:
        try:
            sc.setJobGroup(group, "iocz: can the executors import iocz?", interruptOnCancel=True)
            # A lambda is pickled by value: unpickling it on an executor needs no iocz.
            answers.extend(sc.parallelize([0], 1).map(lambda _: str(__import__("iocz").__version__)).collect())
        except BaseException as e:  # re-raised in the calling thread
            failure.append(e)

    worker = threading.Thread(target=probe, name="iocz-spark-probe", daemon=True)
    worker.start()
    worker.join(wait)
    if worker.is_alive():
        sc.cancelJobGroup(group)
        raise OSError(
            f"no Spark executor ran a task within {wait:g} s on "
            f"{sc.master}: does the cluster have a worker with a free core and spark.executor.memory "
            f"({sc.getConf().get('spark.executor.memory', '1g')}) free?"
        )
    if failure:
        raise ImportError(
            f"Spark executors cannot run iocz ({_task_error(failure[0])}): install iocz on every worker, "
            "or set PYSPARK_PYTHON (before the session starts) to an interpreter that has it at the same path on "
            "every worker, or put it on their path with spark.executorEnv.PYTHONPATH or spark.archives "
            "(docs/ENGINES.md)"
        ) from failure[0]
    if answers != [__version__]:
        raise ImportError(f"Spark executors run iocz {answers[0]}, this driver iocz {__version__}: install one version")
    _PROBED.add(sc.applicationId)


@dataclass(frozen=True)
class _Shared:
    """What every task of a scan needs besides its pairs (all plain data: it is pickled)."""

    query_file: str
    server_key_file: str | None
    checkpoint: str | None
    signature: str
    grouped: bool
    bits: Bits
    threads: int


_QUERIES: dict[str, Query] = {}


def _query(shared: _Shared) -> Query:
    """The query bundle shipped with the job, loaded once per executor process."""
    from pyspark import SparkFiles

    if shared.query_file not in _QUERIES:
        start = time.perf_counter()
        key = SparkFiles.get(shared.server_key_file) if shared.server_key_file else None
        _QUERIES[shared.query_file] = Query.load(SparkFiles.get(shared.query_file), server_key=key)
        _LOAD_SECONDS[shared.query_file] = time.perf_counter() - start
    return _QUERIES[shared.query_file]


#: Seconds each query bundle (and its server key) took to load in this executor process.
_LOAD_SECONDS: dict[str, float] = {}


@dataclass(frozen=True)
class TaskStats:
    """Where and how long one task ran: the executor's Python process, the seconds it spent
    loading the query bundle (0 when that process had it already) and computing the counts."""

    pid: int
    load_seconds: float
    fhe_seconds: float


@dataclass(frozen=True)
class TaskOutcome:
    """What one task sends back to the driver (pickled): the partition, its counts and stats."""

    job: int
    part: int
    counts: PartitionCounts
    stats: TaskStats


@dataclass(frozen=True)
class TaskPayload:
    """What the driver sends for one task (pickled): the partition, its set, the plan's kernel,
    bin range and total decision, and its ``(value, group, weight)`` pairs as Arrow IPC bytes."""

    job: int
    part: int
    set_index: int
    kernel: KernelName
    pairs: bytes
    bins: tuple[int, int] | None
    any_total: bool

    @classmethod
    def of(cls, task: Task) -> TaskPayload:
        """The payload of a planned task."""
        ipc = task.pairs.write_ipc(None).getvalue()
        return cls(task.job_index, task.part, task.job.set_index, task.kernel, ipc, task.bins, task.any_total)


def run_task(shared: _Shared, task: TaskPayload) -> TaskOutcome:
    """On an executor: the counts of one partition (from its checkpoint if already there)."""
    job, part = task.job, task.part
    loaded = shared.query_file in _QUERIES
    os.environ.setdefault("RAYON_NUM_THREADS", str(shared.threads))  # before the first FHE work
    ckpt = Checkpoint(Path(shared.checkpoint) if shared.checkpoint else None, shared.signature, claim=False)
    done = ckpt.load(job, part)
    if done is not None:
        return TaskOutcome(job, part, done, TaskStats(os.getpid(), 0.0, 0.0))
    query = _query(shared)
    load = 0.0 if loaded else _LOAD_SECONDS[shared.query_file]
    start = time.perf_counter()
    frame = pl.read_ipc(task.pairs)
    qset = query.sets[task.set_index]
    counts = count_partition(frame, qset, shared.grouped, shared.bits, task.kernel, task.bins, task.any_total)
    ckpt.save(job, part, counts)
    return TaskOutcome(job, part, counts, TaskStats(os.getpid(), load, time.perf_counter() - start))


class SparkRunner:
    """One Spark job, one task per partition not yet in the checkpoint."""

    def __init__(self, spark: Any, query: Query, threads_per_task: int | None = None) -> None:
        if query.path is None:
            raise ValueError("iocz.spark.scan needs a query loaded from its bundle file (iocz.Query.load)")
        self.spark = spark
        self.query = query
        conf = spark.sparkContext.getConf()
        self.threads = threads_per_task or int(conf.get("spark.task.cpus", "1"))
        #: Per task of the last run: executor process, bundle load and FHE seconds.
        self.stats: list[TaskStats] = []

    @staticmethod
    def _ship(sc: Any, path: Path) -> str:
        """Add ``path`` to the job under a name made of its SHA-256; returns that name."""
        import hashlib
        import tempfile

        data = path.read_bytes()
        name = f"iocz-{hashlib.sha256(data).hexdigest()[:32]}{path.suffix}"
        copy = Path(tempfile.gettempdir()) / name
        if not copy.exists():
            copy.write_bytes(data)
        sc.addFile(str(copy))
        return name

    def run(
        self, tasks: list[Task], settings: ScanSettings, ckpt: Checkpoint, bar: Progress
    ) -> dict[tuple[int, int], PartitionCounts]:
        """Resume what the checkpoint holds, run the rest on the executors."""
        out, todo = resume(tasks, ckpt, bar, runs_on="Spark")
        if not todo:
            return out
        sc = self.spark.sparkContext
        # Shipped under names unique to their content: a session may ship several queries.
        names = [self._ship(sc, p) for p in (self.query.path, self.query.server_key_path) if p]
        shared = _Shared(
            names[0],
            names[1] if len(names) > 1 else None,
            str(ckpt.folder.resolve()) if ckpt.folder else None,
            settings.signature,
            settings.grouped,
            settings.bits,
            self.threads,
        )
        payloads = [TaskPayload.of(t) for t in todo]
        group = f"iocz-{settings.signature}-{time.time_ns()}"
        results: list[TaskOutcome] = []
        failure: list[BaseException] = []

        def collect() -> None:
            try:
                sc.setJobGroup(group, "iocz: encrypted counts of the scan's partitions", interruptOnCancel=True)
                rdd = sc.parallelize(payloads, numSlices=len(payloads))
                results.extend(rdd.map(lambda p: run_task(shared, p)).collect())
            except BaseException as e:  # re-raised in the calling thread
                failure.append(e)

        worker = threading.Thread(target=collect, name="iocz-spark-collect", daemon=True)
        worker.start()
        seen = 0
        mean_rows = sum(t.rows for t in todo) // len(todo)
        mean_pbs = sum(t.planned_pbs for t in todo) // len(todo)
        try:
            while worker.is_alive():
                worker.join(POLL_SECONDS)
                finished = _completed_tasks(sc, group)
                for _ in range(max(0, min(finished, len(todo)) - seen)):
                    bar.advance(rows=mean_rows, pbs=mean_pbs, resumed=False, planned=mean_pbs)
                seen = max(seen, finished)
        except KeyboardInterrupt:
            sc.cancelJobGroup(group)
            raise
        if failure:
            raise ValueError(f"a Spark task failed: {_task_error(failure[0])}") from failure[0]
        for _ in range(len(todo) - seen):
            bar.advance(rows=mean_rows, pbs=mean_pbs, resumed=False, planned=mean_pbs)
        self.stats = [r.stats for r in results]
        loads = [st.load_seconds for st in self.stats if st.load_seconds]
        log.info(
            "%d tasks on %d executor processes; query bundle loaded %d times (%.1f s), FHE %.1f s",
            len(self.stats), len({st.pid for st in self.stats}), len(loads), sum(loads),
            sum(st.fhe_seconds for st in self.stats),
        )  # fmt: skip
        for r in results:
            out[(r.job, r.part)] = r.counts
        return out


def _task_error(e: BaseException) -> str:
    """The Python error line inside a Spark failure (its Java stack trace left out)."""
    lines = [line.strip() for line in str(e).splitlines()]
    python = [line for line in lines if re.match(r"^[\w.]*(Error|Exception): ", line) and "Py4J" not in line]
    return python[-1] if python else (lines[0] if lines else type(e).__name__)


def _completed_tasks(sc: Any, group: str) -> int:
    """Tasks finished so far in the jobs of ``group``."""
    tracker = sc.statusTracker()
    total = 0
    for job_id in tracker.getJobIdsForGroup(group):
        info = tracker.getJobInfo(job_id)
        for stage in info.stageIds if info else []:
            s = tracker.getStageInfo(stage)
            total += s.numCompletedTasks if s else 0
    return int(total)


def scan(
    df: Any,
    query: Query,
    columns: Mapping[str, str | Sequence[str]],
    *,
    where: Any = None,
    threads_per_task: int | None = None,
    **options: Unpack[ScanOptions],
) -> Result:
    """:func:`iocz.scan` for a Spark DataFrame ``df`` (same options), its partitions computed on
    the executors (see the module docstring). ``where``: a Spark SQL condition or a Column.
    ``query`` must be loaded from its bundle file (:meth:`iocz.Query.load`): the executors load
    that file. ``threads_per_task``: FHE threads per task (default ``spark.task.cpus``)."""
    _check_java()
    runner = SparkRunner(df.sparkSession, query, threads_per_task)
    check_executors(df.sparkSession)
    return scan_source(SparkSource(df, where), query, columns, runner, where=where, **options)
