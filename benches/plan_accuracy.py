"""How close a scan's plan is to the work it does: for a few small real workloads, the PBS the
dry run predicts (:func:`iocz.plan.plan_scan`: partitions, additions, releases) against the PBS the
scan counts (tfhe's ``pbs-stats``), and the seconds the progress bar's starting ETA assumed
against the seconds the scan took.

    python benches/plan_accuracy.py [--json]

The issue's target: the ETA within 2x of the truth from the start.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import iocz
import polars as pl
from iocz.plan import plan_scan

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def workloads() -> list[tuple[str, pl.DataFrame, list[iocz.Ioc], dict[str, str], dict[str, Any]]]:
    """(name, logs, IOCs, columns, scan options) of each case."""
    hashes = pl.read_parquet(DATA / "sysmon_hash_events.parquet", columns=["host", "sha256"]).head(3000)
    top = hashes["sha256"].drop_nulls().value_counts().sort("count", descending=True)["sha256"][:3].to_list()
    sha = [iocz.Ioc("sha256", v) for v in top]
    dns = pl.read_parquet(DATA / "dns_events.parquet", columns=["query"]).head(400)
    doms = [iocz.Ioc("domain", d) for d in ("microsoft.com", "google.com")]
    cmd = pl.read_parquet(DATA / "cmdline_events.parquet", columns=["cmdline"]).head(103)
    frag = [iocz.Ioc("substring", "powershell")]
    return [
        (
            "sha256 scan, grouped, several partitions",
            hashes,
            sha,
            {"sha256": "sha256"},
            {"group_by": "host", "kernel": "scan", "partition_size": 300},
        ),
        ("sha256 lookup", hashes, sha, {"sha256": "sha256"}, {"kernel": "lookup"}),
        ("domain subdomain scan + total", dns, doms, {"domain": "query"}, {"kernel": "scan", "any_total": True}),
        ("cmdline fragment lookup (total auto)", cmd, frag, {"substring": "cmdline"}, {"kernel": "lookup"}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    args = parser.parse_args()
    ck = iocz.ClientKey.generate()
    ck.server_key()
    rows = []
    for name, logs, iocs, columns, options in workloads():
        match = "subdomain" if "subdomain" in name else "exact"
        kernel = "scan" if options.get("kernel") == "scan" else "lookup"
        query = iocz.Query.create(ck, iocs, kernel=kernel, domain_match=match)  # type: ignore[arg-type]
        plan = plan_scan(logs, query, columns, bits=64, **options)
        iocz.reset_pbs_count()
        t = time.perf_counter()
        iocz.scan(logs, query, columns, bits=64, progress=False, **options)
        seconds = time.perf_counter() - t
        counted = iocz.pbs_count()
        row = {
            "case": name,
            "predicted_pbs": plan.pbs,
            "counted_pbs": counted,
            "ratio": round(counted / max(1, plan.pbs), 2),
            "eta_seconds_at_start": round(plan.seconds, 1),
            "seconds": round(seconds, 1),
            "eta_ratio": round(seconds / max(plan.seconds, 1e-9), 2),
        }
        rows.append(row)
        print(json.dumps(row) if args.json else row, flush=True)


if __name__ == "__main__":
    main()
