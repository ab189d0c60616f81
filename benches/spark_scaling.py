"""Spark scale-out: the same scan with 1 and 2 executor slots (``local[1]``, ``local[2]``),
each in a fresh process, one FHE thread per task.

    python benches/spark_scaling.py [--distinct 160] [--partition-size 20] [--iocs 2] [--json]

The job: real Sysmon rows holding ``--distinct`` distinct SHA-256 values, the scan kernel at
64 bits (its cost grows with the distinct values, so the work splits into partitions), cut
into partitions of ``--partition-size`` values. Reports the wall time of ``iocz.spark.scan``
(clear part, partitions, release; session start excluded), the PBS, the ratio, and checks that
both give the plaintext counts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import iocz
import polars as pl

DATA = Path(os.environ.get("IOCZ_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def run(master: str, parquet: Path, query: Path, out: Path, partition_size: int) -> dict[str, object]:
    """In this (fresh) process: one Spark scan on ``master``."""
    spark = iocz.spark.session(master)
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
    return {"master": master, "seconds": round(seconds, 1), "clear_seconds": result.metadata["clear_seconds"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--distinct", type=int, default=160)
    ap.add_argument("--partition-size", type=int, default=20)
    ap.add_argument("--iocs", type=int, default=2)
    ap.add_argument("--json", action="store_true")
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
    for master in ("local[1]", "local[2]"):
        out = work / f"r-{master[6]}.iocz"
        cmd = [sys.executable, __file__, "--partition-size", str(args.partition_size), "--run", master,
               str(work / "logs.parquet"), str(work / "q.iocz"), str(out)]  # fmt: skip
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
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
        print(f"{r['master']}: {r['seconds']} s (clear part {r['clear_seconds']} s), correct {r['correct']}")
    print(f"{report['rows']:,} rows, {args.distinct} distinct, {report['partitions']} partitions: "
          f"local[2] is {report['speedup']}x local[1]")  # fmt: skip


if __name__ == "__main__":
    main()
