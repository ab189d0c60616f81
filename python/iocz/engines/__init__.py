"""Where the clear part of a scan runs: the user's engine turns the logs into de-duplicated
``(group, value, multiplicity)`` pairs, and only those travel to iocz.

* :mod:`iocz.engines.polars_lazy`: Polars LazyFrames (CSV, Parquet, NDJSON, Delta Lake,
  Iceberg), aggregated on Polars' streaming engine;
* :mod:`iocz.engines.ibis_table`: Ibis tables (DuckDB, Polars, SQLite, any SQL backend),
  aggregated in the backend and streamed with ``to_pyarrow_batches``;
* :mod:`iocz.engines.spark_frame`: PySpark DataFrames (used by :func:`iocz.spark.scan`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT, Source
from iocz.engines.polars_lazy import PolarsSource

__all__ = ["PAIR_GROUP", "PAIR_VALUE", "PAIR_WEIGHT", "Source", "source_for"]


def _module_of(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def source_for(logs: Any, where: Any = None) -> Source:
    """The :class:`Source` for ``logs`` (a Polars LazyFrame/DataFrame or an Ibis table), with
    ``where`` (SQL text, or an expression of the same library) applied in that engine."""
    if isinstance(logs, pl.LazyFrame | pl.DataFrame):
        return PolarsSource(logs.lazy(), where)
    if _module_of(logs) == "ibis":
        from iocz.engines.ibis_table import IbisSource

        return IbisSource(logs, where)
    if _module_of(logs) == "pyspark":
        raise TypeError("a Spark DataFrame is scanned with iocz.spark.scan (the FHE work then runs on the executors)")
    raise TypeError(f"logs must be a Polars LazyFrame or DataFrame or an Ibis table, not {type(logs).__name__}")
