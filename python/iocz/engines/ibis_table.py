"""Ibis tables (DuckDB by default, Polars, SQLite, Spark, warehouses): the clear part is one
``GROUP BY`` query per column, run by the backend and streamed back as Arrow record batches;
its SQL is what the result's metadata records."""

from __future__ import annotations

from typing import Any

import polars as pl

from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT, Stats, normalised, text_time_range

#: Rows per Arrow record batch read back from the backend.
BATCH_ROWS = 65_536
#: Name the logs take in a ``where`` given as SQL text.
SQL_NAME = "iocz_logs"


def _ibis() -> Any:
    try:
        import ibis
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ImportError("Ibis input needs the ibis extra: pip install 'iocz[ibis]'") from e
    return ibis


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***`` (``postgres://user:***@host/db``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{netloc[0].rpartition(':')[0]}:***@{netloc[2]}").geturl()


def connect(url: str) -> Any:
    """``ibis.connect(url)``; a failure (wrong password, no server, no driver) is one line that
    names the URL without its password."""
    from urllib.parse import unquote, urlsplit

    ibis = _ibis()
    try:
        con = ibis.connect(url)
        con.list_tables()  # backends that connect lazily fail here
    except Exception as e:
        secret = urlsplit(url).password
        lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()] or [type(e).__name__]
        message = " ".join(lines[:2])
        for s in {secret, unquote(secret or "")} - {None, ""}:
            message = message.replace(str(s), "***")
        raise ValueError(f"cannot connect to {redacted(url)}: {message}") from None
    return con


def _backend_error(engine: str, what: str, e: Exception) -> ValueError:
    return ValueError(f"the {engine} backend cannot run {what}: {type(e).__name__}: {e}")


class IbisSource:
    """An Ibis table filtered by ``where``: SQL text (SQL backends; the table is named
    ``iocz_logs`` in it) or an Ibis boolean expression."""

    def __init__(self, table: Any, where: Any) -> None:
        ibis = _ibis()
        self.engine = str(table.get_backend().name)
        self._errors = (ibis.common.exceptions.IbisError, NotImplementedError)
        if isinstance(where, str):
            try:
                table = table.alias(SQL_NAME).sql(f"SELECT * FROM {SQL_NAME} WHERE {where}")
            except (AttributeError, *self._errors) as e:
                raise _backend_error(self.engine, f"the SQL condition {where!r}", e) from e
            except Exception as e:  # the backend's own driver error (duckdb, sqlite3, …)
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ValueError(f"where {where!r} on {self.engine}: {first}") from e
        elif where is not None:
            table = table.filter(where)
        self.table = table

    def schema(self) -> pl.Schema:
        """The filtered table's schema as Polars types."""
        return pl.Schema(self.table.schema().to_polars())

    def sql(self, expr: Any) -> str:
        """The SQL ``expr`` compiles to (for non-SQL backends such as Polars, its plan)."""
        ibis = _ibis()
        try:
            return str(ibis.to_sql(expr))
        except Exception:
            return str(self.table.get_backend().compile(expr).explain())

    def _run(self, expr: Any, what: str) -> pl.DataFrame:
        try:
            frames = [pl.from_arrow(b) for b in expr.to_pyarrow_batches(chunk_size=BATCH_ROWS)]
        except self._errors as e:
            raise _backend_error(self.engine, what, e) from e
        schema = pl.Schema(expr.schema().to_polars())
        kept = [f for f in frames if isinstance(f, pl.DataFrame) and f.height]
        return pl.concat(kept) if kept else pl.DataFrame(schema=schema)

    def pairs(self, column: str, group_by: str | None, lower: bool) -> tuple[pl.DataFrame, str]:
        """Pairs of ``column`` from one ``GROUP BY`` in the backend, ordered by value and group."""
        t = self.table
        value = t[column]
        try:
            if lower and value.type().is_string():
                value = value.strip().lower()
            keys = [value.name(PAIR_VALUE)] + ([t[group_by].name(PAIR_GROUP)] if group_by else [])
            projected = t.select(*keys)
            names = [PAIR_VALUE] + ([PAIR_GROUP] if group_by else [])
            expr = projected.group_by(names).aggregate(**{PAIR_WEIGHT: projected.count()}).order_by(names)
        except self._errors as e:
            raise _backend_error(self.engine, f"the de-duplication of column {column!r}", e) from e
        frame = self._run(expr, f"the de-duplication of column {column!r}")
        return normalised(frame, group_by is not None), self.sql(expr)

    def stats(self, time_column: str | None) -> Stats:
        """Row count and (raw) min/max of the time column in one aggregate; string times are
        compared as text (right for ISO 8601 and ``YYYY-MM-DD HH:MM:SS``) and then parsed."""
        t = self.table
        metrics: dict[str, Any] = {"rows": t.count()}
        if time_column:
            metrics |= {"lo": t[time_column].min(), "hi": t[time_column].max()}
        row = self._run(t.aggregate(**metrics), "the row count and time range").row(0, named=True)
        rows = int(row["rows"] or 0)
        if not time_column or not rows:
            return Stats(rows, None)
        string = self.schema()[time_column] == pl.String
        return Stats(rows, text_time_range(row["lo"], row["hi"], string))
