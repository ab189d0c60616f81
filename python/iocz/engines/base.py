"""What every engine provides: the schema, de-duplicated pairs per column, and row figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from iocz import timestamps

#: Column names of a pairs frame: the value, its group (only when grouping) and how many rows hold them.
PAIR_VALUE = "__v"
PAIR_GROUP = "__g"
PAIR_WEIGHT = "__n"


@dataclass(frozen=True)
class Stats:
    """Rows after the filter and the time range of the time column (text), if any."""

    rows: int
    time_range: list[str | None] | None


class Source(Protocol):
    """Logs in some engine, filtered there; iocz asks it for pairs and figures only."""

    #: The engine's name (``polars``, ``duckdb``, ``sqlite``, ``spark``, …).
    engine: str

    def schema(self) -> pl.Schema:
        """Column names and (Polars) types of the filtered logs."""
        ...

    def pairs(self, column: str, group_by: str | None, lower: bool) -> tuple[pl.DataFrame, str]:
        """``(group, value, rows)`` of ``column`` (values stripped and lower-cased in the engine
        when ``lower``; nulls kept as one value), as a frame of :data:`PAIR_VALUE`,
        :data:`PAIR_GROUP` (when grouping) and :data:`PAIR_WEIGHT` (UInt64); with the text of the
        query the engine ran (SQL where it has one, else its plan)."""
        ...

    def stats(self, time_column: str | None) -> Stats:
        """Rows after the filter and the time range of ``time_column``."""
        ...


def text_time_range(lo: Any, hi: Any, string: bool) -> list[str | None] | None:
    """``[lo, hi]`` as text; string timestamps are parsed (as :mod:`iocz.timestamps` does)."""
    if lo is None and hi is None:
        return None
    if string:
        parsed = pl.DataFrame({"t": [lo, hi]}, schema={"t": pl.String}).select(timestamps.parsed(pl.col("t")))
        lo, hi = parsed.to_series().to_list()
        if lo is None and hi is None:
            return None
    return [None if lo is None else str(lo), None if hi is None else str(hi)]


def normalised(frame: pl.DataFrame, grouped: bool) -> pl.DataFrame:
    """A pairs frame with the canonical column names and a UInt64 weight, in a fixed order."""
    keys = [PAIR_VALUE, PAIR_GROUP] if grouped else [PAIR_VALUE]
    out = frame.select(*keys, pl.col(PAIR_WEIGHT).cast(pl.UInt64))
    return out.sort(keys, nulls_last=True)
