"""Result-side benchmark: what leaves the company and what the agency does with it.

    python benches/results.py [--iocs 16 100 1000] [--groups 50] [--group-rows 2000] [--json]

Measured in one run, with one key pair:
* server key size (compressed, as sent; it now carries the compression and re-randomisation keys);
* result bundle size per IOC count K (one entry: per-IOC counts of every slot + the total), and for
  G groups at the smallest K: released (compressed) now vs the former format (one sealed
  ``FheUint32`` per count, measured from a partial count of the same run), with the release's PBS
  and seconds, and the agency's decrypt seconds;
* grouped scan on real Sysmon rows (the 40 hosts with the fewest distinct hashes, up to
  ``--group-rows`` / 40 rows each): PBS of the ungrouped scan, of the one-pass grouped scan, and of the former per-group
  plugin calls (every comparison redone per group), all counts checked against plaintext Polars.

Sizes do not depend on the log values (only on slots, groups and the count width), so the size
runs scan a one-row frame through the grouped path (no comparison work) and time the release.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import iocz
import polars as pl
from iocz import _iocz

DATA = Path(os.environ.get("IOCZ_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def fake_iocs(k: int) -> list[iocz.Ioc]:
    return [iocz.Ioc("sha256", hashlib.sha256(f"absent {i}".encode()).hexdigest()) for i in range(k)]


def size_run(ck: iocz.ClientKey, sk: iocz.ServerKey, k: int, groups: int, folder: Path) -> dict[str, object]:
    """Result bundle of a K-IOC query over `groups` groups: sizes now and before, release cost."""
    query = iocz.Query.create(ck, fake_iocs(k), server_key=sk)
    manifest = query.save(folder / f"q{k}.iocz", manifest_dir=folder / "queries", overwrite=True)
    slots = query.sets[0].set.slots
    frame = pl.DataFrame({"h": ["00" * 32] * groups, "g": [f"host{i:03}" for i in range(groups)]})
    _iocz.reset_pbs_count()
    t = time.perf_counter()
    result = iocz.scan(frame, query, {"sha256": "h"}, group_by="g", bits=64, progress=False)
    seconds = time.perf_counter() - t
    pbs = _iocz.pbs_count()
    path = folder / f"r{k}-{groups}.iocz"
    result.save(path, overwrite=True)
    t = time.perf_counter()
    out = iocz.Result.load(path).decrypt(ck, manifest=manifest)
    decrypt_s = time.perf_counter() - t
    assert out.counts["count"].sum() == 0 and out.counts.height == k * groups
    # The former format: one sealed FheUint32 per slot count and per total (+ small headers).
    one_row, zero, weight = frame["h"][:1], pl.Series([0], dtype=pl.UInt32), pl.Series([1], dtype=pl.UInt64)
    one = _iocz.ColumnPlan(one_row, zero, 1, weight, query.sets[0].set.set_id, 64)
    count_bytes = len(one.count(0)[0].total)
    before = groups * ((slots + 1) * (count_bytes + 4) + 16)
    after = path.stat().st_size
    counts = groups * (slots + 1)
    return {
        "iocs": k,
        "slots": slots,
        "groups": groups,
        "counts": counts,
        "result_bytes_before": before,
        "result_bytes_after": after,
        "bytes_per_count_after": round(after / counts, 1),
        "ratio": round(before / after, 1),
        "scan_and_release_pbs": pbs,
        "scan_and_release_seconds": round(seconds, 1),
        "agency_decrypt_seconds": round(decrypt_s, 3),
    }


def group_run(ck: iocz.ClientKey, sk: iocz.ServerKey, rows: int) -> dict[str, object]:
    """PBS of the same real rows scanned ungrouped, grouped in one pass, and per-group calls."""
    df = pl.read_parquet(DATA / "sysmon_process_events.parquet", columns=["host", "sha256"]).drop_nulls()
    hosts = df.group_by("host").agg(pl.col("sha256").n_unique().alias("d")).sort("d", "host")["host"]
    small = df.filter(pl.col("host").is_in(hosts.head(40).implode())).sort("host", "sha256")
    frame = small.group_by("host", maintain_order=True).head(max(1, rows // 40))
    common = frame["sha256"].value_counts(sort=True)["sha256"].to_list()
    planted = common[:2] + common[-2:]
    query = iocz.Query.create(ck, [iocz.Ioc("sha256", v) for v in planted], server_key=sk)
    folder = Path(tempfile.mkdtemp())
    manifest = query.save(folder / "q.iocz", manifest_dir=folder / "queries")  # scans need its fingerprint
    figures: dict[str, object] = {
        "rows": frame.height,
        "groups": frame["host"].n_unique(),
        "distinct": frame["sha256"].n_unique(),
        "iocs": len(planted),
    }
    truth = frame.group_by("host").agg(pl.col("sha256").is_in(planted).sum().alias("n"))
    for label, group_by in (("ungrouped", None), ("grouped", "host")):
        _iocz.reset_pbs_count()
        t = time.perf_counter()
        result = iocz.scan(frame, query, {"sha256": "sha256"}, group_by=group_by, bits=64, progress=False)
        figures[f"{label}_seconds"] = round(time.perf_counter() - t, 1)
        figures[f"{label}_pbs"] = _iocz.pbs_count()
        result.save(folder / f"r-{label}.iocz")
        out = iocz.Result.load(folder / f"r-{label}.iocz").decrypt(ck, manifest=manifest)
        got = dict(out.totals.select("group", "rows_matching_any").iter_rows())
        want = dict(truth.iter_rows()) if group_by else {None: int(truth["n"].sum())}
        figures[f"{label}_correct"] = got == want
    # Former grouped path: one plugin call per group, each redoing its comparisons.
    member = pl.col("sha256").fhe.count_per_ioc(query.sets[0].set, bits=64)
    _iocz.reset_pbs_count()
    t = time.perf_counter()
    frame.group_by("host").agg(member)
    figures["per_group_calls_seconds"] = round(time.perf_counter() - t, 1)
    figures["per_group_calls_pbs"] = _iocz.pbs_count()
    figures["grouped_over_ungrouped"] = round(figures["grouped_pbs"] / figures["ungrouped_pbs"], 2)  # type: ignore[operator]
    figures["per_group_calls_over_ungrouped"] = round(
        figures["per_group_calls_pbs"] / figures["ungrouped_pbs"],  # type: ignore[operator]
        2,
    )
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iocs", type=int, nargs="+", default=[16, 100, 1000])
    p.add_argument("--groups", type=int, default=50)
    p.add_argument("--group-rows", type=int, default=2000)
    p.add_argument("--skip-grouped-scan", action="store_true")
    p.add_argument("--skip-sizes", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    t = time.perf_counter()
    ck = iocz.ClientKey.generate()
    sk = ck.server_key()
    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "parameters": iocz.parameter_set(),
        "server_key_bytes": sk.size,
        "keygen_seconds": round(time.perf_counter() - t, 1),
        "sizes": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        runs = [] if args.skip_sizes else [(k, 1) for k in args.iocs] + [(min(args.iocs), args.groups)]
        for k, groups in runs:
            row = size_run(ck, sk, k, groups, Path(tmp))
            report["sizes"].append(row)  # type: ignore[attr-defined]
            print(json.dumps(row), file=sys.stderr)
    if not args.skip_grouped_scan:
        report["grouped_scan"] = group_run(ck, sk, args.group_rows)
    print(json.dumps(report, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
