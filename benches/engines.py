"""Clear-part benchmark: 10^7 log rows (real Sysmon hash events tiled, IOCs planted) from
Parquet through Polars (streaming) and through DuckDB (Ibis), each scanned in its own process.

    python benches/engines.py [--rows 10000000] [--iocs 4] [--engines polars,duckdb] [--json]

Per engine: clear-part seconds (filter + normalisation + GROUP BY, from the result metadata),
pairs, peak RSS of the whole scan process (clear part and FHE), FHE seconds; then checks that
every engine produced the same pairs and the same decrypted counts, equal to plaintext Polars.
A third of the tiles have their SHA-256 upper-cased (the engines' ``lower()`` merges them), the
filter ``p_date > '2024-05-13'`` keeps about half of the rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import iocz
import polars as pl

DATA = Path(os.environ.get("IOCZ_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
WHERE = "p_date > '2024-05-13'"


def write_logs(path: Path, rows: int) -> None:
    """Tile the real rows to ``rows`` rows, streaming to Parquet (never all in memory)."""
    real = pl.scan_parquet(DATA / "sysmon_hash_events.parquet").select("host", "utc_time", "sha256")
    n = real.select(pl.len()).collect().item()
    tiles = -(-rows // n)
    parts = []
    for i in range(tiles):
        sha = pl.col("sha256").str.to_uppercase() if i % 3 == 0 else pl.col("sha256")
        parts.append(real.with_columns(sha, p_date=pl.lit(f"2024-05-{i * 11 % 28 + 1:02d}")))
    pl.concat(parts).head(rows).sink_parquet(path, row_group_size=256_000)


def plaintext(path: Path, iocs: list[str]) -> dict[str, int]:
    """The truth: rows after the filter holding each IOC (Polars, streaming)."""
    lf = pl.scan_parquet(path).filter(pl.col("p_date") > "2024-05-13")
    got = lf.select(pl.col("sha256").str.to_lowercase().alias("v")).filter(pl.col("v").is_in(iocs))
    counts = dict(got.group_by("v").len().collect(engine="streaming").iter_rows())
    return {i: int(counts.get(i, 0)) for i in iocs}


def run_engine(engine: str, parquet: Path, query: Path, out: Path) -> dict[str, object]:
    """In this (fresh) process: the scan through ``engine``; figures as JSON."""
    import ibis  # noqa: F401  (imported before timing: its import is not part of the clear part)
    from iocz.engines import PAIR_VALUE, source_for

    q = iocz.Query.load(query)
    if engine == "polars":
        logs = pl.scan_parquet(parquet)
    else:
        logs = ibis.duckdb.connect().read_parquet(parquet)
    t0 = time.perf_counter()
    result = iocz.scan(logs, q, {"sha256": "sha256"}, where=WHERE, bits=64, progress=False)
    total = time.perf_counter() - t0
    result.save(out, overwrite=True)
    pairs, _ = source_for(logs, WHERE).pairs("sha256", None, True)
    digest = hashlib.sha256(pairs.sort(PAIR_VALUE, nulls_last=True).write_csv().encode()).hexdigest()[:16]
    meta = result.metadata
    return {
        "engine": engine,
        "rows_scanned": meta["rows_scanned"],
        "pairs": pairs.height,
        "pairs_digest": digest,
        "clear_seconds": meta["clear_seconds"],
        "fhe_seconds": round(total - float(meta["clear_seconds"]), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--iocs", type=int, default=4, help="planted IOCs (half present in the logs)")
    ap.add_argument("--engines", default="polars,duckdb")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--run", nargs=3, metavar=("ENGINE", "PARQUET", "QUERY"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        print(json.dumps(run_engine(args.run[0], Path(args.run[1]), Path(args.run[2]), Path(args.out))))
        return
    work = Path(tempfile.mkdtemp(prefix="iocz-engines-"))
    parquet = work / "logs.parquet"
    t0 = time.perf_counter()
    write_logs(parquet, args.rows)
    made = time.perf_counter() - t0
    values = pl.scan_parquet(DATA / "sysmon_hash_events.parquet").select(pl.col("sha256").str.to_lowercase())
    common = values.group_by("sha256").len().sort("len", "sha256", descending=True).collect()["sha256"]
    present = args.iocs - args.iocs // 2
    iocs = [common[0], *common[5 : 5 + present - 1].to_list()] + [f"{i + 0xA0:02x}" * 32 for i in range(args.iocs // 2)]
    key = iocz.ClientKey.generate()
    query = iocz.Query.create(key, [iocz.Ioc("sha256", v) for v in iocs], kernel="lookup", count_bits=32)
    manifest = query.save(work / "q.iocz", manifest_dir=work / "queries")
    truth = plaintext(parquet, iocs)
    runs = []
    for engine in args.engines.split(","):
        out = work / f"r-{engine}.iocz"
        cmd = [sys.executable, __file__, "--run", engine, str(parquet), str(work / "q.iocz"), "--out", str(out)]
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        counts = iocz.Result.load(out).decrypt(key, manifest=manifest).counts
        run["counts"] = {r["ioc"]: int(r["count"]) for r in counts.iter_rows(named=True)}
        run["correct"] = run["counts"] == truth
        runs.append(run)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "rows": args.rows,
        "parquet_mb": round(parquet.stat().st_size / 2**20),
        "seconds_to_write": round(made, 1),
        "truth": truth,
        "same_pairs": len({r["pairs_digest"] for r in runs}) == 1,
        "same_counts": len({json.dumps(r["counts"], sort_keys=True) for r in runs}) == 1,
        "runs": runs,
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{args.rows:,} rows, Parquet {report['parquet_mb']} MB; filter {WHERE}; truth {truth}")
    for r in runs:
        print(
            f"  {r['engine']:<7} clear part {r['clear_seconds']:>6.1f} s  pairs {r['pairs']:>6,}  "
            f"FHE {r['fhe_seconds']:>6.1f} s  peak RSS {r['peak_rss_mb']:>5,} MB  correct {r['correct']}"
        )
    print(f"same pairs: {report['same_pairs']}, same decrypted counts: {report['same_counts']}")


if __name__ == "__main__":
    main()
