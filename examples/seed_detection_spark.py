"""The seed detection with PySpark: read the table, lower-case the SHA-256 column, keep the
rows after a date, count the rows per host holding each encrypted IOC. The clear part runs in
Spark, the FHE partitions on its executors (here ``local[2]``: this machine, loopback only).

    python examples/seed_detection_spark.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import iocz

sys.path.insert(0, str(Path(__file__).parent))
from agency import AFTER, LOGS, print_counts, round_trip  # noqa: E402


def detect(spark: Any, query: iocz.Query, work: Path) -> iocz.Result:
    """Company: the clear part in Spark, the counts encrypted on the executors."""
    from pyspark.sql import functions as F

    df = spark.read.option("header", True).csv(str(LOGS))
    df = df.withColumn("sha256", F.lower("sha256"))
    detection = df.filter(F.col("utc_time") > AFTER)
    return iocz.spark.scan(
        detection, query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False, checkpoint=work / "ckpt"
    )


def main(work: Path, spark: Any | None = None) -> dict[tuple[str, str], int]:
    """Both sides; returns the decrypted non-zero counts {(host, IOC): rows}."""
    session = spark or iocz.spark.session("local[2]")
    try:
        return round_trip(work, lambda query: detect(session, query, work))
    finally:
        if spark is None:
            session.stop()


if __name__ == "__main__":
    print_counts(main)
