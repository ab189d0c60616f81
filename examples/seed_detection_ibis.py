"""The seed detection with Ibis on DuckDB (any Ibis backend works the same way): read the
table, lower-case the SHA-256 column, keep the rows after a date, count the rows per host
holding each encrypted IOC. The clear part runs in DuckDB; its SQL is in the result metadata.

    python examples/seed_detection_ibis.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import ibis
import iocz

sys.path.insert(0, str(Path(__file__).parent))
from agency import AFTER, LOGS, print_counts, round_trip  # noqa: E402


def detect(query: iocz.Query) -> iocz.Result:
    """Company: the clear part as an Ibis expression run by DuckDB, the counts encrypted."""
    con = ibis.duckdb.connect()
    t = con.read_csv(LOGS, types={"utc_time": "VARCHAR"})
    t = t.mutate(sha256=t.sha256.lower())
    detection = t.filter(t.utc_time > AFTER)
    return iocz.scan(detection, query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False)


def main(work: Path) -> dict[tuple[str, str], int]:
    """Both sides; returns the decrypted non-zero counts {(host, IOC): rows}."""
    return round_trip(work, detect)


if __name__ == "__main__":
    print_counts(main)
