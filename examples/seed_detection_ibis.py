"""The seed detection with Ibis on DuckDB (any Ibis backend works the same way): read the
table, lower-case the SHA-256 column, keep the rows after a date, count the rows per host
holding each encrypted IOC. The clear part runs in DuckDB; its SQL is in the result metadata.

    python examples/seed_detection_ibis.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import ibis
import iocz

sys.path.insert(0, str(Path(__file__).parent))
from agency import AFTER, LOGS, decrypt, make_query  # noqa: E402


def detect(query: iocz.Query) -> iocz.Result:
    """Company: the clear part as an Ibis expression run by DuckDB, the counts encrypted."""
    con = ibis.duckdb.connect()
    t = con.read_csv(LOGS, types={"utc_time": "VARCHAR"})
    t = t.mutate(sha256=t.sha256.lower())
    detection = t.filter(t.utc_time > AFTER)
    return iocz.scan(detection, query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False)


def main(work: Path) -> dict[tuple[str, str], int]:
    """Both sides; returns the decrypted non-zero counts {(host, IOC): rows}."""
    key, bundle, manifest = make_query(work)
    return decrypt(key, detect(iocz.Query.load(bundle)), manifest, work)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for (host, ioc), n in sorted(main(Path(tmp)).items()):
            print(f"{host:<30} {ioc[:16]}…  {n}")
