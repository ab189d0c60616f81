"""What the agency's commands print: a query's sizes before it is written and its summary
after, and decrypted counts as a table, JSON or CSV."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from iocz import _iocz
from iocz.bundles import Decrypted, Query
from iocz.describe import human_size, lookup_text, quality_lines, scan_fields


def print_query_sizes(q: Query, lookup_bits: int) -> None:
    """Before writing: the query's size with and without lookup parts (the agency's choice)."""
    scan_only = sum(s.set.size - (s.set.lookup.bytes if s.set.lookup else 0) for s in q.sets)
    lookup = sum(
        s.set.lookup.bytes if s.set.lookup else _iocz.lookup_query_bytes(n, lookup_bits)
        for s, n in zip(q.sets, q.ioc_counts(), strict=True)
    )
    print(
        f"query size: kernel=scan {human_size(scan_only)}; kernel=auto|lookup {human_size(scan_only + lookup)} "
        f"(lookup parts {human_size(lookup)}, --lookup-bits {lookup_bits})"
    )


def print_written_query(q: Query, out: str, seconds: float, mpath: Path) -> None:
    """After writing: the bundle's size and time, each set, and where the (secret) manifest is."""
    size = human_size(Path(out).stat().st_size)
    print(f"query {q.bundle_fingerprint} written to {out} ({size}, {seconds:.1f} s; {q.count_bits}-bit counts)")
    for s in q.sets:
        print(
            f"  {s.ioc_type:<9} {s.set.slots:>6} slots  match={s.match}  lengths={s.set.lengths or '-'}  "
            f"{lookup_text(s.set.lookup)}"
        )
    print(f"manifest (secret, stays here): {mpath}")


def print_decrypted(out: Decrypted, fmt: str) -> None:
    """Decrypted counts as ``json``, ``csv`` (per-IOC rows, then the totals as ioc "*"; an
    empty count: not counted, opt-in) or a ``table`` under the scan's metadata and data quality."""
    if fmt == "json":
        print(out.to_json())
    elif fmt == "csv":
        # Per-IOC rows, then one row per (set, column, group) total: ioc "*".
        totals = out.totals.select(
            "group",
            "type",
            "column",
            pl.lit("*").alias("ioc"),
            pl.lit("rows matching any IOC").alias("label"),
            pl.col("rows_matching_any").alias("count"),
            "saturated",
        )
        print(pl.concat([out.counts, totals], how="vertical_relaxed").write_csv(), end="")
    else:
        meta = out.metadata
        print(f"query {meta['query']}: " + ", ".join(f"{label} {value}" for label, value in scan_fields(meta)))
        for line in quality_lines(meta).lines:
            print(f"  {line}")
        with pl.Config(tbl_rows=-1, fmt_str_lengths=80, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
            totals, counts = out.totals, out.counts
            if meta.get("group_by") is None:
                totals, counts = totals.drop("group"), counts.drop("group")
            if not (totals["saturated"].any() or counts["saturated"].any()):
                totals, counts = totals.drop("saturated"), counts.drop("saturated")
            else:
                print(f"saturated counts are at least {2 ** meta.get('count_bits', 32) - 1} (the query's count width)")
            print(totals)
            print(counts)
