"""Shared pieces of the company-control tests (policy, signing, ledger): small saved queries,
identities and log files, so that each FHE step stays a few IOCs on a few rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import iocz
import polars as pl
from conftest import Keys
from iocz.identity import Identity

#: A sha256 IOC and log rows holding it twice.
SHA = "027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745"
ROWS = {"sha256": [SHA, SHA, "5f" * 32], "host": ["a", "b", "a"]}


def save_query(keys: Keys, folder: Path, iocs: list[iocz.Ioc] | None = None, **options: Any) -> Path:
    """A query of ``iocs`` (default: :data:`SHA`) saved as ``folder/q.iocz`` (scan kernel: no lookup part)."""
    folder.mkdir(parents=True, exist_ok=True)
    options.setdefault("kernel", "scan")
    query = iocz.Query.create(keys.client, iocs or [iocz.Ioc("sha256", SHA)], server_key=keys.server, **options)
    query.save(folder / "q.iocz", manifest_dir=folder / "queries", overwrite=True)
    return folder / "q.iocz"


def new_identity(folder: Path) -> tuple[Path, Path]:
    """A fresh identity in ``folder``: (identity.key, identity.pub)."""
    return Identity.generate().save(folder)


def write_logs(folder: Path, rows: dict[str, list[str]] | None = None) -> Path:
    """:data:`ROWS` (or ``rows``) as ``folder/logs.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows or ROWS).write_parquet(folder / "logs.parquet")
    return folder / "logs.parquet"


def scan_args(query: Path, logs: Path, out: Path, *extra: str) -> list[str]:
    """``iocz scan`` of the sha256 column of ``logs`` (64-bit digests, no progress bar)."""
    return [
        "scan",
        str(query),
        "--logs",
        str(logs),
        "--column",
        "sha256=sha256",
        "--bits",
        "64",
        "--no-progress",
        "--out",
        str(out),
        *extra,
    ]
