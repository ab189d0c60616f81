"""Polars LazyFrames: the filter, projection, normalisation and de-duplication run lazily on
Polars' streaming engine, so the filtered rows are never collected."""

from __future__ import annotations

from typing import Literal

import polars as pl

from iocz import timestamps
from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT, Stats, normalised, text_time_range

_ENGINE: Literal["streaming"] = "streaming"


class PolarsSource:
    """A LazyFrame (any scan: CSV, Parquet, NDJSON, Delta Lake, Iceberg) filtered by ``where``:
    SQL text (Polars SQL, which compares temporal columns with string literals) or an expression."""

    engine = "polars"

    def __init__(self, lf: pl.LazyFrame, where: str | pl.Expr | None) -> None:
        if isinstance(where, str):
            lf = pl.SQLContext(logs=lf).execute(f"SELECT * FROM logs WHERE {where}")
        elif where is not None:
            lf = lf.filter(where)
        self.lf = lf

    def schema(self) -> pl.Schema:
        """The filtered frame's schema (no data read)."""
        return self.lf.collect_schema()

    def pairs(self, column: str, group_by: str | None, lower: bool) -> tuple[pl.DataFrame, str]:
        """Pairs of ``column`` through a streaming ``group_by(...).len()``."""
        value = pl.col(column)
        if lower and self.schema()[column] == pl.String:
            value = value.str.strip_chars().str.to_lowercase()
        keys = [value.alias(PAIR_VALUE)] + ([pl.col(group_by).alias(PAIR_GROUP)] if group_by else [])
        query = self.lf.group_by(keys).agg(pl.len().alias(PAIR_WEIGHT))
        return normalised(query.collect(engine=_ENGINE), group_by is not None), query.explain(engine=_ENGINE)

    def stats(self, time_column: str | None) -> Stats:
        """Row count and time range in one streaming pass."""
        exprs = [pl.len().alias("rows")]
        if time_column:
            t = pl.col(time_column)
            if self.schema()[time_column] == pl.String:
                t = timestamps.parsed(t)
            exprs += [t.min().alias("lo"), t.max().alias("hi")]
        row = self.lf.select(exprs).collect(engine=_ENGINE).row(0, named=True)
        rng = text_time_range(row.get("lo"), row.get("hi"), string=False) if time_column and row["rows"] else None
        return Stats(int(row["rows"]), rng)
