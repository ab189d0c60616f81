"""PySpark DataFrames: the filter, projection, normalisation and ``groupBy().count()`` run on
the cluster; the de-duplicated pairs come back to the driver in bounded chunks."""

from __future__ import annotations

from typing import Any

import polars as pl

from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT, Stats, normalised, text_time_range

#: Spark type names → Polars types (what iocz needs to know: strings, bytes, times, numbers).
_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "binary": pl.Binary(),
    "timestamp": pl.Datetime("us"),
    "timestamp_ntz": pl.Datetime("us"),
    "date": pl.Date(),
    "boolean": pl.Boolean(),
    "tinyint": pl.Int8(),
    "smallint": pl.Int16(),
    "int": pl.Int32(),
    "bigint": pl.Int64(),
    "float": pl.Float32(),
    "double": pl.Float64(),
}


class SparkSource:
    """A Spark DataFrame filtered by ``where``: SQL text (a Spark SQL condition) or a Column."""

    engine = "spark"

    def __init__(self, df: Any, where: Any) -> None:
        if where is not None:
            df = df.filter(where)
        self.df = df

    def schema(self) -> pl.Schema:
        """The filtered frame's schema as Polars types (others as Object)."""
        return pl.Schema({f.name: _TYPES.get(f.dataType.simpleString(), pl.Object()) for f in self.df.schema.fields})

    def _collect(self, sdf: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        rows = [tuple(r) for r in sdf.toLocalIterator()]
        return pl.DataFrame(rows, schema=schema, orient="row")

    def pairs(self, column: str, group_by: str | None, lower: bool) -> tuple[pl.DataFrame, str]:
        """Pairs of ``column`` from ``groupBy(value[, group]).count()`` on the cluster."""
        from pyspark.sql import functions as F

        value = F.col(column)
        if lower and self.schema()[column] == pl.String:
            value = F.lower(F.trim(value))
        keys = [value.alias(PAIR_VALUE)] + ([F.col(group_by).alias(PAIR_GROUP)] if group_by else [])
        names = [PAIR_VALUE] + ([PAIR_GROUP] if group_by else [])
        agg = self.df.select(*keys).groupBy(*names).agg(F.count(F.lit(1)).alias(PAIR_WEIGHT)).orderBy(*names)
        schema = self.schema()
        types = {PAIR_VALUE: schema[column], **({PAIR_GROUP: schema[group_by]} if group_by else {})}
        frame = self._collect(agg, {**types, PAIR_WEIGHT: pl.Int64()})
        return normalised(frame, group_by is not None), agg._jdf.queryExecution().optimizedPlan().toString()

    def stats(self, time_column: str | None) -> Stats:
        """Row count and min/max of the time column in one aggregate."""
        from pyspark.sql import functions as F

        metrics = [F.count(F.lit(1)).alias("rows")]
        if time_column:
            metrics += [F.min(time_column).alias("lo"), F.max(time_column).alias("hi")]
        row = self.df.agg(*metrics).collect()[0].asDict()
        rows = int(row["rows"])
        if not time_column or not rows:
            return Stats(rows, None)
        return Stats(rows, text_time_range(row["lo"], row["hi"], self.schema()[time_column] == pl.String))
