"""Shared pieces of the engine tests: a small real-rows table with planted IOCs, a query, and
the plaintext Polars truth every engine's decrypted counts are compared with."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import iocz
import polars as pl
from conftest import DATA, Keys

#: The date filter of the tests (rows after it are scanned).
AFTER = "2020-01-01"


@dataclass(frozen=True)
class Case:
    """Rows (with an upper-cased hash column, as some engines store them), a query of planted
    IOCs (two present, one absent) and the agency's manifest."""

    frame: pl.DataFrame
    parquet: Path
    iocs: list[str]
    query: iocz.Query
    manifest: Path


def make_case(keys: Keys, folder: Path, kernel: str = "lookup") -> Case:
    """Three hosts' real Sysmon process events; per-IOC counts small enough for the suite."""
    df = pl.read_parquet(DATA / "sysmon_process_events.parquet")
    hosts = ["ACCT01.pandalab.com", "Pedro01", "WORKSTATION6.theshire.local"]
    frame = (
        df.filter(pl.col("host").is_in(hosts))
        .select("host", pl.col("utc_time").cast(pl.String).str.slice(0, 19), pl.col("sha256").str.to_uppercase())
        .sort("utc_time", "host", "sha256")
    )
    recent = frame.filter(pl.col("utc_time") > AFTER)
    common = recent.group_by("sha256").len().sort("len", "sha256", descending=True)["sha256"]
    iocs = [common[0].lower(), common[3].lower(), "5f" * 32]
    report = iocz.ImportReport([iocz.Ioc("sha256", v, f"planted {i}") for i, v in enumerate(iocs)])
    query = iocz.Query.create(keys.client, report, server_key=keys.server, kernel=kernel, count_bits=16)
    manifest = query.save(folder / "q.iocz", manifest_dir=folder / "queries")
    parquet = folder / "events.parquet"
    frame.write_parquet(parquet)
    return Case(frame, parquet, iocs, iocz.Query.load(folder / "q.iocz"), manifest)


def truth(case: Case, grouped: bool) -> list[tuple[str | None, str, int]]:
    """Plaintext Polars: rows after :data:`AFTER` holding each IOC, per host if ``grouped``."""
    recent = case.frame.filter(pl.col("utc_time") > AFTER).with_columns(pl.col("sha256").str.to_lowercase())
    hosts: list[str | None] = sorted(set(recent["host"])) if grouped else [None]
    out = []
    for h in hosts:
        rows = recent if h is None else recent.filter(pl.col("host") == h)
        out += [(h, ioc, rows.filter(pl.col("sha256") == ioc).height) for ioc in sorted(case.iocs)]
    return out


def decrypted(case: Case, keys: Keys, result: iocz.Result, folder: Path) -> list[tuple[str | None, str, int]]:
    """The result through its bundle file, decrypted by the agency: (group, IOC, count)."""
    path = folder / f"r-{id(result)}.iocz"
    result.save(path)
    out = iocz.Result.load(path).decrypt(keys.client, manifest=case.manifest)
    rows = out.counts.select("group", "ioc", "count").sort("group", "ioc", nulls_last=True).rows()
    return [(g, i, int(c)) for g, i, c in rows]


def small_case(keys: Keys, folder: Path, values: int) -> Case:
    """:func:`make_case` (scan kernel) cut to the ``values`` most common recent hashes: little
    FHE work for tests of services (clusters, database servers)."""
    full = make_case(keys, folder, kernel="scan")
    recent = full.frame.filter(pl.col("utc_time") > AFTER)
    common = recent.group_by("sha256").len().sort("len", "sha256", descending=True)["sha256"].head(values)
    frame = full.frame.filter(pl.col("sha256").is_in(common.implode()))
    parquet = folder / "small.parquet"
    frame.write_parquet(parquet)
    return replace(full, frame=frame, parquet=parquet)
