"""Opening logs in the engine the company chose (the command line's ``--engine``, ``--logs``,
``--connect``, ``--table``): files through Polars (default), DuckDB or Spark; tables of a
database through Ibis; Delta Lake and Iceberg tables through Polars."""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from iocz.sysmon import split_hashes, split_hashes_ibis, split_hashes_spark

#: Engines ``iocz scan --engine`` accepts.
ENGINES = ("polars", "duckdb", "sqlite", "spark")
_POLARS_READERS: dict[str, Callable[[str], pl.LazyFrame]] = {
    "parquet": pl.scan_parquet,
    "csv": pl.scan_csv,
    "ndjson": pl.scan_ndjson,
    "jsonl": pl.scan_ndjson,
    "delta": pl.scan_delta,
    "iceberg": pl.scan_iceberg,
}


def _paths(patterns: list[str]) -> list[str]:
    """Every file (or table folder) the glob patterns name, in order."""
    out: list[str] = []
    for pattern in patterns:
        paths = sorted(glob.glob(pattern)) or [pattern]
        if not Path(paths[0]).exists():
            raise ValueError(f"no log file matches {pattern!r}")
        out.extend(paths)
    return out


def file_format(path: str, fmt: str) -> str:
    """``fmt``, or the format ``path`` looks like: a Delta table (a folder with ``_delta_log``),
    an Iceberg table (its ``metadata/*.metadata.json``), else the file extension."""
    if fmt != "auto":
        return fmt
    p = Path(path)
    if (p / "_delta_log").is_dir():
        return "delta"
    if p.name.endswith(".metadata.json"):
        return "iceberg"
    kind = p.suffix.lower().lstrip(".")
    if kind not in _POLARS_READERS:
        raise ValueError(f"cannot tell the format of {path} (use --logs-format parquet|csv|ndjson|delta|iceberg)")
    return kind


def polars_logs(patterns: list[str], fmt: str = "auto") -> pl.LazyFrame:
    """A LazyFrame over every file (one scan per file: files of different sources may have
    different columns, joined by name)."""
    frames = [_POLARS_READERS[file_format(p, fmt)](p) for p in _paths(patterns)]
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


def _one_format(paths: list[str], fmt: str, engine: str) -> str:
    kinds = {file_format(p, fmt) for p in paths}
    if len(kinds) != 1 or next(iter(kinds)) not in ("parquet", "csv", "ndjson", "jsonl"):
        raise ValueError(f"--engine {engine} reads Parquet, CSV or NDJSON files of one format, not {sorted(kinds)}")
    return kinds.pop()


def duckdb_logs(patterns: list[str], fmt: str = "auto") -> Any:
    """An Ibis table over the files in an in-process DuckDB."""
    import ibis

    paths = _paths(patterns)
    con = ibis.duckdb.connect()
    kind = _one_format(paths, fmt, "duckdb")
    read = {"parquet": con.read_parquet, "csv": con.read_csv, "ndjson": con.read_json, "jsonl": con.read_json}[kind]
    return read(paths)


def database_table(url: str, table: str | None) -> Any:
    """Table ``table`` of the database at ``url`` (``duckdb:///siem.duckdb``, ``sqlite:///x.db``,
    any URL ``ibis.connect`` takes)."""
    from iocz.engines.ibis_table import connect, redacted

    if not table:
        raise ValueError("--connect needs --table (the table to scan)")
    con = connect(url)
    if table not in con.list_tables():
        have = ", ".join(con.list_tables()) or "none"
        raise ValueError(f"table {table!r} not found in {redacted(url)} (have: {have})")
    return con.table(table)


def spark_logs(spark: Any, patterns: list[str], fmt: str = "auto") -> Any:
    """A Spark DataFrame over the files."""
    paths = _paths(patterns)
    kind = _one_format(paths, fmt, "spark")
    reader = spark.read
    if kind == "csv":
        return reader.option("header", True).option("inferSchema", True).csv(paths)
    return reader.parquet(*paths) if kind == "parquet" else reader.json(paths)


def with_split_hashes(logs: Any, column: str) -> Any:
    """``logs`` plus the fields of Sysmon's ``Hashes`` column (``sha1``, ``md5``, ``sha256``,
    ``imphash``), computed in the logs' own engine."""
    if isinstance(logs, pl.LazyFrame):
        return logs.with_columns(split_hashes(column).struct.unnest())
    if type(logs).__module__.startswith("pyspark"):
        return logs.withColumns(split_hashes_spark(column))
    return logs.mutate(**split_hashes_ibis(logs[column]))
