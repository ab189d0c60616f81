"""End-to-end matching benchmark: K encrypted IOCs against a plaintext column of N rows with D
distinct values, checked against plaintext Polars.

    python benches/matching.py --rows N --distinct D --iocs K [--bits B] [--hashes H]
                               [--kernel lookup|scan|auto] [--lookup-bits L]
                               [--sample-slots S] [--compare-scan S] [--json]

`--kernel` picks the kernel of the per-IOC counts (`auto`: the service layer's choice by
predicted cost; the set is built with a lookup part unless `scan`). `--compare-scan S` also runs
the scan kernel on about S slots in the same run (extrapolated) and reports the PBS ratio.

The workload uses real SHA-256 digests (Sysmon hash events first, then IOC list hashes, then
synthetic digests if D needs more), tiled to N rows; half of the IOCs are planted (drawn from the
log's values, frequent and rare), half never occur. Measured in the same run: the seed
prototype's PBS per row per IOC on a few rows (encrypt each row, encrypted-vs-encrypted `eq`,
`if_then_else` count) and tfhe's bare PBS throughput with the same parameters.

`--sample-slots S` computes only every (B/S)-th cuckoo slot and scales PBS and time by the
fraction of work done (reported as `extrapolated`): per-slot work is independent, so this is how
runs of hours are estimated on this machine. Correctness is still checked on every computed slot.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import iocz
import polars as pl
from iocz import expr

DATA = Path(os.environ.get("IOCZ_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def digest_pool(distinct: int) -> list[str]:
    """`distinct` real SHA-256 digests: Sysmon log values first, IOC list values next."""
    logs = pl.read_parquet(DATA / "sysmon_hash_events.parquet", columns=["sha256"])["sha256"]
    pool = logs.drop_nulls().str.to_lowercase().value_counts(sort=True)["sha256"].to_list()
    if len(pool) < distinct:
        iocs = pl.read_parquet(DATA / "ioc_hashes.parquet").filter(pl.col("ioc_type") == "sha256")
        seen = set(pool)
        pool += [v for v in iocs["value"].str.to_lowercase().unique(maintain_order=True) if v not in seen]
    i = 0
    while len(pool) < distinct:
        pool.append(hashlib.sha256(f"iocz-bench-{i}".encode()).hexdigest())
        i += 1
    return pool[:distinct]


def workload(rows: int, distinct: int) -> pl.DataFrame:
    """N rows over exactly D distinct digests with the skew of real Sysmon logs: the real column
    (restricted to the first D values) tiled, then every remaining value once."""
    if rows < distinct:
        raise SystemExit(f"--rows ({rows}) must be at least --distinct ({distinct})")
    pool = digest_pool(distinct)
    real = pl.read_parquet(DATA / "sysmon_hash_events.parquet", columns=["sha256"])
    real = real.with_columns(pl.col("sha256").str.to_lowercase()).filter(pl.col("sha256").is_in(pool))
    every = pl.DataFrame({"sha256": pool})
    filler_rows = rows - distinct
    if real.height and filler_rows:
        reps = filler_rows // real.height + 1
        filler = pl.concat([real] * reps).head(filler_rows)
    else:
        filler = every.head(0)
    pad = rows - distinct - filler.height
    parts = [every, filler] + ([every.sample(pad, with_replacement=True, seed=1)] if pad else [])
    return pl.concat(parts).sample(fraction=1.0, shuffle=True, seed=7)


def choose_iocs(df: pl.DataFrame, k: int) -> list[str]:
    counts = df["sha256"].value_counts(sort=True)["sha256"].to_list()
    planted = (k + 1) // 2
    step = max(1, len(counts) // planted)
    present = counts[::step][:planted]  # frequent to rare
    absent = [hashlib.sha256(f"iocz-absent-{i}".encode()).hexdigest() for i in range(k - len(present))]
    return present + absent


def set_count_expr(
    enc: iocz.EncryptedSet,
    bits: int,
    stride: int,
    column: str = "sha256",
    match: str = "exact",
    kernel: expr.KernelName = "scan",
) -> pl.Expr:
    """Per-IOC counts computing every `stride`-th slot only (scan-kernel sampling)."""
    kwargs = {**expr._set_kwargs(enc, match, bits, "auto", kernel), "per_ioc": True, "slot_stride": stride}
    return expr._plugin("fhe_is_in_count", [pl.col(column)], kwargs, scalar=True)


def baseline_pbs_per_row(ck: iocz.ClientKey, pk: iocz.PublicKey, ioc: str, rows: list[str]) -> float:
    """The seed prototype's cost: encrypt each row, compare encrypted-to-encrypted, count with
    if_then_else. Returns PBS per row per IOC (and checks the prototype's count)."""
    cells = pl.DataFrame({"h": rows}).select(pl.col("h").fhe.encrypt(pk))["h"].to_list()
    value = ck.encrypt(ioc).to_bytes()
    iocz.reset_pbs_count()
    count = iocz._iocz._prototype_count(value, cells)
    pbs = iocz.pbs_count()
    assert ck.decrypt_count(count) == rows.count(ioc), "prototype baseline miscounted"
    return pbs / len(rows)


def main() -> int:
    if not hasattr(iocz._iocz, "_planned_pbs"):
        sys.exit("this benchmark needs the bench-only bindings: run `make bench-wheel` first")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--distinct", type=int, required=True)
    p.add_argument("--iocs", type=int, required=True)
    p.add_argument("--bits", type=int, default=256, choices=[64, 128, 256])
    p.add_argument("--hashes", type=int, default=2, choices=[2, 3])
    p.add_argument("--kernel", default="auto", choices=["auto", "lookup", "scan"])
    p.add_argument("--lookup-bits", type=int, default=iocz._iocz.DEFAULT_LOOKUP_BITS)
    p.add_argument("--sample-slots", type=int, default=0, help="scan kernel: compute about this many slots (0 = all)")
    p.add_argument("--compare-scan", type=int, default=0, help="also run the scan kernel on about S slots")
    p.add_argument("--baseline-rows", type=int, default=2)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()

    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    df = workload(args.rows, args.distinct)
    iocs = choose_iocs(df, args.iocs)
    log(f"workload: {df.height} rows, {df['sha256'].n_unique()} distinct, {len(iocs)} IOCs")

    ck = iocz.ClientKey.generate()
    ck.server_key()
    pk = ck.public_key()
    t = time.perf_counter()
    request = "scan" if args.kernel == "scan" else "lookup"
    enc = ck.encrypt_set(iocs, hashes=args.hashes, kernel=request, lookup_bits=args.lookup_bits)
    encrypt_seconds = time.perf_counter() - t
    column = df["sha256"]
    ones = pl.Series([1] * column.len(), dtype=pl.UInt64)
    plan = iocz._iocz.ColumnPlan(column, ones.cast(pl.UInt32) * 0, 1, ones, enc.set_id, args.bits, kernel=args.kernel)
    choice = plan.choice
    kernel, reason, table_bits = choice.kernel, choice.reason, choice.window_bits
    stride = max(1, enc.slots // args.sample_slots) if args.sample_slots and kernel == "scan" else 1
    log(f"set: {enc!r}; kernel {kernel} ({reason}); slot stride {stride}")

    anchor = ck.encrypt(iocs[0]).to_bytes()
    n_raw = 256
    raw_pbs_per_second = n_raw / iocz._iocz._raw_pbs_seconds(anchor, n_raw)
    baseline = baseline_pbs_per_row(ck, pk, iocs[0], df["sha256"].head(args.baseline_rows).to_list())
    log(f"raw PBS/s {raw_pbs_per_second:.1f}; baseline {baseline:.1f} PBS per row per IOC")

    iocz.reset_pbs_count()
    ep_before = iocz._iocz.external_products()
    phases_before = iocz._iocz._lookup_phase_seconds()
    t = time.perf_counter()
    per = df.select(set_count_expr(enc, args.bits, stride, kernel=kernel)).item()  # type: ignore[arg-type]
    if kernel == "lookup":
        # The lookup's gates are its release: compress the per-bin counts (no PBS) as a scan would.
        released = iocz._iocz.release_counts(per, iocz._iocz.total_count(per), 32, df.height)
    seconds = time.perf_counter() - t
    pbs = iocz.pbs_count()
    external_products = iocz._iocz.external_products() - ep_before
    phases = [a - b for a, b in zip(iocz._iocz._lookup_phase_seconds(), phases_before, strict=True)]
    got = ck.decrypt_released(released).counts if kernel == "lookup" else ck.decrypt_counts(per)

    # Truth from plaintext Polars; with sampling only computed slots are compared (others are 0).
    truth = dict(df.filter(pl.col("sha256").is_in(iocs)).group_by("sha256").len().iter_rows())
    truth = {ioc: truth.get(ioc, 0) for ioc in set(iocs)}
    computed = {ioc for ioc in truth if got[ioc] == truth[ioc]}
    correct = computed == set(truth) if stride == 1 else all(got[i] in (0, truth[i]) for i in truth)

    # Work actually done vs the whole job: the kernel's exact PBS plan for both.
    fraction = 1.0
    if stride > 1:
        values = df["sha256"].unique().to_list()
        full, _ = iocz._iocz._planned_pbs(enc.set_id, values, args.bits, 1)
        done, _ = iocz._iocz._planned_pbs(enc.set_id, values, args.bits, stride)
        fraction = done / full
    pbs_total = pbs / fraction
    seconds_total = seconds / fraction
    distinct = df["sha256"].n_unique()
    k = len(set(iocs))
    scan_compare: dict[str, object] = {}
    if args.compare_scan and kernel == "lookup":
        scan_set = ck.encrypt_set(iocs, hashes=args.hashes, kernel="scan")
        s_stride = max(1, scan_set.slots // args.compare_scan)
        values = df["sha256"].unique().to_list()
        full, _ = iocz._iocz._planned_pbs(scan_set.set_id, values, args.bits, 1)
        done, _ = iocz._iocz._planned_pbs(scan_set.set_id, values, args.bits, s_stride)
        iocz.reset_pbs_count()
        t = time.perf_counter()
        df.select(set_count_expr(scan_set, args.bits, s_stride, kernel="scan")).item()
        s_seconds = time.perf_counter() - t
        s_pbs = iocz.pbs_count() / (done / full)
        scan_compare = {
            "scan_pbs_total_extrapolated": round(s_pbs),
            "scan_seconds_extrapolated": round(s_seconds / (done / full), 1),
            "scan_work_fraction_computed": round(done / full, 4),
            "pbs_ratio_scan_over_lookup": round(s_pbs / max(pbs_total, 1), 1),
        }
    lookup_fields: dict[str, object] = {}
    if kernel == "lookup":
        pbs_seconds = phases[2]
        lookup_fields = {
            "lookup_bins": enc.lookup.entries if enc.lookup else None,
            "lookup_part_bytes_per_ioc": round(enc.lookup.bytes / k) if enc.lookup else None,
            "pbs_per_ioc_incl_release": round(pbs_total / k, 1),
            "external_products_per_ioc": round(external_products / k, 1),
            "seconds_split": {
                "pbs": round(pbs_seconds, 1),
                "external_products": round(phases[1], 1),
                "other": round(seconds_total - pbs_seconds - phases[1], 1),
            },
            "pbs_efficiency_in_pbs_phase": round(pbs / max(pbs_seconds, 1e-9) / raw_pbs_per_second, 3),
        }
    result = {
        "kernel": kernel,
        "kernel_reason": reason,
        "rows": df.height,
        "distinct": distinct,
        "iocs": len(set(iocs)),
        "bits": args.bits,
        "hashes": args.hashes,
        "slots": enc.slots,
        "pbs_total": round(pbs_total),
        "pbs_per_distinct": round(pbs_total / distinct, 2),
        "pbs_per_ioc": round(pbs_total / k, 1),
        "external_products": external_products,
        "seconds": round(seconds_total, 1),
        "seconds_per_ioc": round(seconds_total / k, 2),
        "query_bytes": enc.size,
        "window_bits": table_bits,
        "query_bytes_per_ioc": round(enc.size / k),
        **lookup_fields,
        **scan_compare,
        "correct": correct,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "baseline_pbs_per_row_per_ioc": round(baseline, 1),
        "baseline_pbs_total": round(baseline * df.height * len(set(iocs))),
        "pbs_reduction": round(baseline * df.height * len(set(iocs)) / pbs_total, 1),
        "raw_pbs_per_second": round(raw_pbs_per_second, 1),
        "achieved_pbs_per_second": round(pbs / seconds, 1),
        "pbs_efficiency": round(pbs / seconds / raw_pbs_per_second, 3),
        "extrapolated": stride > 1,
        "work_fraction_computed": round(fraction, 4),
        "set_encrypt_seconds": round(encrypt_seconds, 1),
        "set_bytes": enc.size,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
    }
    report(result, args.json)
    return 0 if correct else 1


def report(result: dict, as_json: bool) -> None:
    """Print `result` as one JSON object or as aligned lines."""
    if as_json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>30}: {v}")


if __name__ == "__main__":
    sys.exit(main())
