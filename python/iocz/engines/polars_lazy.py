"""Polars LazyFrames: the filter, projection, normalisation and de-duplication run lazily on
Polars' streaming engine, so the filtered rows are never collected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

import polars as pl

from iocz import timestamps
from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT, Stats, normalised, text_time_range

_ENGINE: Literal["streaming"] = "streaming"
_T = TypeVar("_T")


class PolarsSource:
    """A LazyFrame (any scan: CSV, Parquet, NDJSON, Delta Lake, Iceberg) filtered by ``where``:
    SQL text (Polars SQL, which compares temporal columns with string literals) or an expression."""

    engine = "polars"

    def __init__(self, lf: pl.LazyFrame, where: str | pl.Expr | None) -> None:
        self.where = where
        if isinstance(where, str):
            lf = self._checked(lambda: pl.SQLContext(logs=lf).execute(f"SELECT * FROM logs WHERE {where}"))
        elif where is not None:
            lf = lf.filter(where)
        self.lf = lf
        self.schema()  # a filter naming a missing column fails here, before any work

    def _checked(self, run: Callable[[], _T]) -> _T:
        """``run()``, a Polars error in the filter (or any query) as one line naming the filter
        (Polars' own message carries the resolved plan on further lines)."""
        try:
            return run()
        except (pl.exceptions.PolarsError, pl.exceptions.SQLInterfaceError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            where = f"the filter {self.where!r}: " if self.where is not None else ""
            raise ValueError(f"{where}{first}") from None

    def schema(self) -> pl.Schema:
        """The filtered frame's schema (no data read)."""
        return self._checked(self.lf.collect_schema)

    def pairs(self, column: str, group_by: str | None, lower: bool) -> tuple[pl.DataFrame, str]:
        """Pairs of ``column`` through a streaming ``group_by(...).len()``."""
        value = pl.col(column)
        if lower and self.schema()[column] == pl.String:
            value = value.str.strip_chars().str.to_lowercase()
        keys = [value.alias(PAIR_VALUE)] + ([pl.col(group_by).alias(PAIR_GROUP)] if group_by else [])
        query = self.lf.group_by(keys).agg(pl.len().alias(PAIR_WEIGHT))
        frame = self._checked(lambda: query.collect(engine=_ENGINE))
        return normalised(frame, group_by is not None), query.explain(engine=_ENGINE)

    def stats(self, time_column: str | None) -> Stats:
        """Row count and time range in one streaming pass."""
        exprs = [pl.len().alias("rows")]
        if time_column:
            t = pl.col(time_column)
            if self.schema()[time_column] == pl.String:
                t = timestamps.parsed(t)
            exprs += [t.min().alias("lo"), t.max().alias("hi")]
        row = self._checked(lambda: self.lf.select(exprs).collect(engine=_ENGINE)).row(0, named=True)
        rng = text_time_range(row.get("lo"), row.get("hi"), string=False) if time_column and row["rows"] else None
        return Stats(int(row["rows"]), rng)
