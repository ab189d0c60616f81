"""IOC types on the full real logs: expansion sizes, PBS and time, checked against Polars.

    python benches/ioc_types.py --case {dns,dns-subdomain,imphash,cmdline,ip} [--iocs K]
                                [--bits B] [--sample-slots S] [--rows N] [--total] [--json]

Cases (all rows of the named file; IOCs drawn from the real IOC lists, hits planted where the
lists do not overlap the logs):
- dns / dns-subdomain: dns_events `query` vs ioc_network domains (every domain IOC that matches
  a query exactly or as a parent domain, topped up with IOCs that never match), exact or
  subdomain matching;
- imphash: sysmon_hash_events `imphash` vs ioc_hashes imphash IOCs;
- cmdline: cmdline_events `cmdline` vs K substrings (fragments of real command lines and
  misses) of lengths 6–12, case-insensitive;
- ip: dns_events `dst_ip` vs private ranges, public /24s and single addresses.

Per-IOC counts are computed and checked against plaintext Polars. To estimate runs of hours,
`--sample-slots S` computes only every (B/S)-th slot and `--rows N` only the first N rows; PBS
and time are then scaled to the whole file by the kernel's exact PBS plan (planned work done /
planned work for all rows and slots), as in benches/matching.py. `--total` also computes
rows-with-any-match on the (sampled) rows, unscaled.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import platform
import resource
import sys
import time
from pathlib import Path

import iocz
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from matching import DATA, report, set_count_expr  # noqa: E402


def dns_case(k: int, subdomain: bool) -> tuple[pl.DataFrame, str, list[str], dict]:
    df = pl.read_parquet(DATA / "dns_events.parquet").select("query")
    doms = (
        pl.scan_parquet(DATA / "ioc_network.parquet")
        .filter(pl.col("ioc_type") == "domain")
        .select(pl.col("value").str.to_lowercase())
        # plain names only (the list also holds maltrail's ".suffix" notation)
        .filter(pl.col("value").str.contains(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$"))
        .collect()["value"]
    )
    names = df["query"].drop_nulls().unique()

    def suffixes(name: str) -> list[str]:
        labels = name.lower().rstrip(".").split(".")
        return [".".join(labels[i:]) for i in range(len(labels))] if subdomain else [name.lower()]

    expanded = (
        pl.DataFrame({"q": names})
        .with_columns(pl.col("q").map_elements(suffixes, return_dtype=pl.List(pl.String)).alias("s"))
        .explode("s")
    )
    hits = expanded.filter(pl.col("s").is_in(doms.implode()))["s"].unique().sort().to_list()
    iocs = hits[:k] + [d for d in doms.head(k * 4).to_list() if d not in hits][: max(0, k - len(hits))]
    return df, "query", iocs, {"type": "domain", "match": "subdomain" if subdomain else "exact"}


def imphash_case(k: int) -> tuple[pl.DataFrame, str, list[str], dict]:
    df = pl.read_parquet(DATA / "sysmon_hash_events.parquet").select("imphash")
    ioc = pl.read_parquet(DATA / "ioc_hashes.parquet").filter(pl.col("ioc_type") == "imphash")
    values = ioc.select(pl.col("value").str.to_lowercase())["value"].unique().sort()
    hits = values.filter(values.is_in(df["imphash"].implode())).to_list()
    iocs = hits + [v for v in values.to_list() if v not in hits][: max(0, k - len(hits))]
    return df, "imphash", iocs, {"type": "imphash", "match": "exact"}


SUBSTRINGS = [
    "whoami",
    "mimikatz",
    "lsadump::",
    "key4.db",
    "logins.json",
    "-encodedcommand",
    "vssadmin",
    "procdump",
    "rundll32",
    "comsvcs",
    "sekurlsa",
    "invoke-",
    "bypass",
    "downloadstring",
    "certutil",
    "schtasks",
]


def cmdline_case(k: int) -> tuple[pl.DataFrame, str, list[str], dict]:
    df = pl.read_parquet(DATA / "cmdline_events.parquet").select("cmdline")
    return df, "cmdline", SUBSTRINGS[:k], {"type": "substring", "match": "exact"}


def ip_case(k: int) -> tuple[pl.DataFrame, str, list[str], dict]:
    df = pl.read_parquet(DATA / "dns_events.parquet").select("dst_ip")
    public = [a for a in df["dst_ip"].drop_nulls().unique().sort().to_list() if not ipaddress.ip_address(a).is_private]
    nets = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    nets += [str(ipaddress.ip_network(a + "/24", strict=False)) for a in public[: (k - 3) // 2]]
    nets += public[-(k - len(nets)) :] if k > len(nets) else []
    return df, "dst_ip", list(dict.fromkeys(nets))[:k], {"type": "ipv4", "match": "exact"}


def truth(df: pl.DataFrame, column: str, iocs: list[str], spec: dict) -> tuple[dict[str, int], int]:
    """Plaintext truth: rows per IOC (keyed like the manifest) and rows with any match."""
    col = pl.col(column)
    if spec["type"] == "ipv4":
        addrs = [None if a is None else ipaddress.ip_address(a) for a in df[column]]
        nets = [ipaddress.ip_network(n) for n in iocs]
        per = {
            str(n) if n.prefixlen < 32 else str(n.network_address): sum(1 for a in addrs if a is not None and a in n)
            for n in nets
        }
        anyone = sum(1 for a in addrs if a is not None and any(a in n for n in nets))
        return per, anyone
    if spec["type"] == "domain":
        q = col.str.to_lowercase().str.strip_chars_end(".")
        sub = spec["match"] == "subdomain"
        match = [(q == d) | (q.str.ends_with("." + d) if sub else pl.lit(False)) for d in iocs]
    elif spec["type"] == "substring":
        low = col.str.to_lowercase()
        match = [low.str.contains(f.lower(), literal=True) for f in iocs]
    else:
        match = [col.str.to_lowercase() == i for i in iocs]
    per = {i.lower(): df.select(m.sum()).item() for i, m in zip(iocs, match, strict=True)}
    return per, df.select(pl.any_horizontal(match).sum()).item()


def main() -> int:
    if not hasattr(iocz._iocz, "_planned_pbs"):
        sys.exit("this benchmark needs the bench-only bindings: run `make bench-wheel` first")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", required=True, choices=["dns", "dns-subdomain", "imphash", "cmdline", "ip"])
    p.add_argument("--iocs", type=int, default=16)
    p.add_argument("--bits", type=int, default=256, choices=[64, 128, 256])
    p.add_argument("--sample-slots", type=int, default=0)
    p.add_argument("--rows", type=int, default=0, help="use only the first N rows (0 = all)")
    p.add_argument("--total", action="store_true", help="also compute rows with any match")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    build = {
        "dns": lambda: dns_case(args.iocs, False),
        "dns-subdomain": lambda: dns_case(args.iocs, True),
        "imphash": lambda: imphash_case(args.iocs),
        "cmdline": lambda: cmdline_case(args.iocs),
        "ip": lambda: ip_case(args.iocs),
    }[args.case]
    whole, column, iocs, spec = build()
    ck = iocz.ClientKey.generate()
    ck.server_key()
    enc = ck.encrypt_set(iocs, type=spec["type"])
    stride = max(1, enc.slots // args.sample_slots) if args.sample_slots else 1
    df = whole.head(args.rows) if args.rows else whole
    full, candidates = iocz._iocz._planned_pbs(enc.set_id, whole[column].to_list(), args.bits, 1, spec["match"])
    done, _ = iocz._iocz._planned_pbs(enc.set_id, df[column].to_list(), args.bits, stride, spec["match"])
    log(f"{args.case}: {whole.height} rows, {whole[column].n_unique()} distinct, {candidates} candidates; {enc!r}")
    per_truth, any_truth = truth(df, column, iocs, spec)

    iocz.reset_pbs_count()
    t = time.perf_counter()
    got = ck.decrypt_counts(df.select(set_count_expr(enc, args.bits, stride, column, spec["match"])).item())
    seconds = time.perf_counter() - t
    pbs = iocz.pbs_count()
    correct = got == per_truth if stride == 1 else all(got[i] in (0, per_truth[i]) for i in per_truth)
    fraction = done / full if full else 1.0
    result = {
        "case": args.case,
        "rows": whole.height,
        "distinct_values": whole[column].n_unique(),
        "distinct_candidates": candidates,
        "iocs": len(per_truth),
        "lengths": enc.lengths,
        "slots": enc.slots,
        "bits": args.bits,
        "rows_computed": df.height,
        "matching_rows_per_ioc_computed": sum(per_truth.values()),
        "pbs_per_ioc_counts": round(pbs / fraction),
        "seconds_per_ioc_counts": round(seconds / fraction, 1),
        "pbs_per_candidate": round(pbs / fraction / max(candidates, 1), 2),
        "extrapolated": fraction < 1,
        "work_fraction_computed": round(fraction, 4),
        "correct": correct,
    }
    if args.total:
        member = pl.col(column).fhe.is_in(enc, match=spec["match"], bits=args.bits)  # type: ignore[arg-type]
        iocz.reset_pbs_count()
        t = time.perf_counter()
        total = ck.decrypt_count(df.select(member.fhe.count()).item())
        result["rows_total_computed_on"] = df.height
        result["seconds_total"] = round(time.perf_counter() - t, 1)
        result["pbs_total"] = iocz.pbs_count()
        result["rows_with_any_match"] = total
        result["correct"] = correct and total == any_truth
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["machine"] = f"{platform.machine()} {os.cpu_count()} cpus"
    report(result, args.json)
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
