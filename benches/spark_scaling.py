"""Spark scale-out: the same scan with 1 and 2 executor slots (``local[1]``, ``local[2]``),
or with ``--standalone`` on a real standalone cluster of 1 and then 2 one-core workers
(separate master and worker processes on 127.0.0.1, ``tests/spark_cluster.py``), each scan in
a fresh driver process, one FHE thread per task.

    python benches/spark_scaling.py [--standalone] [--distinct 160] [--partition-size 20] [--iocs 2] [--json]

The job: real Sysmon rows holding ``--distinct`` distinct SHA-256 values, the scan kernel at
64 bits (its cost grows with the distinct values, so the work splits into partitions), cut
into partitions of ``--partition-size`` values. Reports the wall time of ``iocz.spark.scan``
(clear part, partitions, release; session start excluded), the ratio, and checks that both
give the plaintext counts; per run also the executor processes that ran tasks, how often and
how long the query bundle (with its server key) was loaded, the FHE seconds summed over tasks
and the fraction of the slots' time spent outside FHE (``1 - FHE / (slots x wall)``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import iocz
import polars as pl

DATA = Path(os.environ.get("IOCZ_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TESTS = Path(__file__).resolve().parents[1] / "tests"


class _TaskLog(logging.Handler):
    """Keeps the arguments of iocz.spark's per-run task summary."""

    def __init__(self) -> None:
        super().__init__()
        self.args: tuple[object, ...] = ()

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("%d tasks on %d executor processes"):
            self.args = tuple(record.args or ())


def run(master: str, parquet: Path, query: Path, out: Path, partition_size: int) -> dict[str, object]:
    """In this (fresh) process: one Spark scan on ``master``."""
    tasks = _TaskLog()
    logging.getLogger("iocz.scan").addHandler(tasks)
    logging.getLogger("iocz.scan").setLevel(logging.INFO)
    config = {}
    if master.startswith("spark://"):
        sys.path.insert(0, str(TESTS))
        from spark_cluster import EXECUTOR_MEMORY

        config = {"spark.executor.memory": EXECUTOR_MEMORY}
    spark = iocz.spark.session(master, config=config)
    try:
        df = spark.read.parquet(str(parquet))
        q = iocz.Query.load(query)
        t0 = time.perf_counter()
        result = iocz.spark.scan(
            df, q, {"sha256": "sha256"}, kernel="scan", bits=64, partition_size=partition_size, progress=False,
            threads_per_task=1,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
    finally:
        spark.stop()
    result.save(out, overwrite=True)
    n, processes, loads, load_s, fhe_s = (float(x) for x in tasks.args)  # type: ignore[arg-type]
    return {
        "master": master, "seconds": round(seconds, 1),
        "clear_seconds": result.metadata["clear_seconds"], "tasks": int(n), "executor_processes": int(processes),
        "bundle_loads": int(loads), "bundle_load_seconds": round(load_s, 1), "fhe_seconds": round(fhe_s, 1),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--distinct", type=int, default=160)
    ap.add_argument("--partition-size", type=int, default=20)
    ap.add_argument("--iocs", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--standalone", action="store_true", help="a standalone cluster of 1, then 2 one-core workers")
    ap.add_argument("--run", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        master, parquet, query, out = args.run
        print(json.dumps(run(master, Path(parquet), Path(query), Path(out), args.partition_size)))
        return
    work = Path(tempfile.mkdtemp(prefix="iocz-spark-"))
    events = pl.read_parquet(DATA / "sysmon_hash_events.parquet", columns=["host", "sha256"]).drop_nulls()
    keep = events["sha256"].unique().sort().head(args.distinct)
    rows = events.filter(pl.col("sha256").is_in(keep.implode()))
    rows.write_parquet(work / "logs.parquet")
    iocs = keep.head(args.iocs // 2).to_list() + [f"{i + 0xB0:02x}" * 32 for i in range(args.iocs - args.iocs // 2)]
    key = iocz.ClientKey.generate()
    query = iocz.Query.create(key, [iocz.Ioc("sha256", v) for v in iocs], kernel="scan")
    manifest = query.save(work / "q.iocz", manifest_dir=work / "queries")
    truth = {v: rows.filter(pl.col("sha256") == v).height for v in iocs}
    runs = []
    for slots in (1, 2):
        out = work / f"r-{slots}.iocz"
        with _master(args.standalone, slots, work) as (master, env):
            cmd = [sys.executable, __file__, "--partition-size", str(args.partition_size), "--run", master,
                   str(work / "logs.parquet"), str(work / "q.iocz"), str(out)]  # fmt: skip
            proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["slots"] = slots
        r["outside_fhe"] = round(1 - float(r["fhe_seconds"]) / (slots * float(r["seconds"])), 3)
        counts = iocz.Result.load(out).decrypt(key, manifest=manifest).counts
        r["correct"] = {x["ioc"]: int(x["count"]) for x in counts.iter_rows(named=True)} == truth
        runs.append(r)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "rows": rows.height,
        "distinct": args.distinct,
        "partitions": -(-args.distinct // args.partition_size),
        "runs": runs,
        "speedup": round(float(runs[0]["seconds"]) / float(runs[1]["seconds"]), 2),  # type: ignore[arg-type]
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for r in runs:
        print(f"{r['master']} ({r['slots']} slots): {r['seconds']} s (clear part {r['clear_seconds']} s), "
              f"{r['tasks']} tasks on {r['executor_processes']} executor processes, bundle loaded "
              f"{r['bundle_loads']} times ({r['bundle_load_seconds']} s), FHE {r['fhe_seconds']} s, "
              f"outside FHE {r['outside_fhe']:.0%}, correct {r['correct']}")  # fmt: skip
    print(f"{report['rows']:,} rows, {args.distinct} distinct, {report['partitions']} partitions: "
          f"2 slots are {report['speedup']}x 1 slot")  # fmt: skip


@contextmanager
def _master(standalone: bool, slots: int, work: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``local[slots]``, or a standalone cluster of ``slots`` one-core workers (torn down after)."""
    if not standalone:
        yield f"local[{slots}]", dict(os.environ)
        return
    sys.path.insert(0, str(TESTS))
    from spark_cluster import standalone as cluster

    with cluster(work / f"cluster-{slots}", workers=slots) as c:
        yield c.url, c.driver_env()


if __name__ == "__main__":
    main()
