"""Time range of a scan: temporal columns as they are, string timestamps parsed with Polars."""

from __future__ import annotations

import re

import polars as pl

#: Formats tried for string timestamps (``%.f``: an optional fraction); offsets become UTC.
FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.fZ",
    "%Y-%m-%d",
)
#: Names of string columns taken as the time column when no column is temporal.
_TIME_NAME = re.compile(r"(^|_)(ts|time|timestamp|date|datetime|utctime)($|_)|time$|timestamp$", re.IGNORECASE)


def parsed(expr: pl.Expr) -> pl.Expr:
    """``expr`` (String) as naive UTC datetimes; values in none of :data:`FORMATS` are null."""
    text = expr.str.strip_chars()
    tries = [text.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC") for f in FORMATS]
    return pl.coalesce(tries).dt.replace_time_zone(None)


def time_column(schema: pl.Schema) -> str | None:
    """The first temporal column, else the first String column named like a time."""
    temporal = next((c for c, t in schema.items() if t.is_temporal()), None)
    return temporal or next((c for c, t in schema.items() if t == pl.String and _TIME_NAME.search(c)), None)
