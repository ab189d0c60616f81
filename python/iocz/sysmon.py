"""Helpers for Sysmon logs."""

from __future__ import annotations

from typing import Any

import polars as pl

from iocz import _iocz

_FIELDS = {t: _iocz.HASH_HEX_DIGITS[t] for t in ("sha1", "md5", "sha256", "imphash")}


def hash_pattern(name: str) -> str:
    """The regular expression whose group 1 is field ``name`` of a ``Hashes`` value (RE2, Java
    and Python syntax alike: the same text works in Polars, DuckDB, SQLite and Spark)."""
    return rf"(?i)(?:^|,)\s*{name}=([0-9a-f]{{{_FIELDS[name]}}})\b"


def split_hashes(hashes: pl.Expr | str) -> pl.Expr:
    """Split Sysmon's ``Hashes`` field (``SHA1=…,MD5=…,SHA256=…,IMPHASH=…``) into a struct with
    String fields ``sha1``, ``md5``, ``sha256`` and ``imphash`` (null where absent), ready for
    ``.fhe.is_in`` with sets of the matching type::

        logs.with_columns(iocz.split_hashes("Hashes").struct.unnest())
    """
    expr = pl.col(hashes) if isinstance(hashes, str) else hashes
    return pl.struct([expr.str.extract(hash_pattern(name), 1).str.to_lowercase().alias(name) for name in _FIELDS])


def split_hashes_ibis(hashes: Any) -> dict[str, Any]:
    """:func:`split_hashes` for an Ibis string column: ``{field: expression}`` with
    ``re_extract`` (run by the backend; absent fields are null or empty, both never match)::

        t = t.mutate(**iocz.split_hashes_ibis(t.Hashes))
    """
    return {name: hashes.re_extract(hash_pattern(name), 1).lower() for name in _FIELDS}


def split_hashes_spark(hashes: str) -> dict[str, Any]:
    """:func:`split_hashes` for a Spark column name: ``{field: Column}`` with ``regexp_extract``::

    df = df.withColumns(iocz.split_hashes_spark("Hashes"))
    """
    from pyspark.sql import functions as F

    return {name: F.lower(F.regexp_extract(F.col(hashes), hash_pattern(name), 1)) for name in _FIELDS}
