"""The seed detection with Polars: read the table, lower-case the SHA-256 column, keep the rows
after a date, count the rows per host holding each encrypted IOC.

    python examples/seed_detection_polars.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import iocz
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from agency import AFTER, LOGS, print_counts, round_trip  # noqa: E402


def detect(query: iocz.Query) -> iocz.Result:
    """Company: the clear part in Polars (lazy, streaming), the counts encrypted."""
    logs = pl.scan_csv(LOGS).with_columns(pl.col("sha256").str.to_lowercase())
    detection = logs.filter(pl.col("utc_time") > AFTER)
    return iocz.scan(detection, query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False)


def main(work: Path) -> dict[tuple[str, str], int]:
    """Both sides; returns the decrypted non-zero counts {(host, IOC): rows}."""
    return round_trip(work, detect)


if __name__ == "__main__":
    print_counts(main)
