"""Helpers for Sysmon logs."""

from __future__ import annotations

import polars as pl

_FIELDS = {"sha1": 40, "md5": 32, "sha256": 64, "imphash": 32}


def split_hashes(hashes: pl.Expr | str) -> pl.Expr:
    """Split Sysmon's ``Hashes`` field (``SHA1=…,MD5=…,SHA256=…,IMPHASH=…``) into a struct with
    String fields ``sha1``, ``md5``, ``sha256`` and ``imphash`` (null where absent), ready for
    ``.fhe.is_in`` with sets of the matching type::

        logs.with_columns(iocz.split_hashes("Hashes").struct.unnest())
    """
    expr = pl.col(hashes) if isinstance(hashes, str) else hashes
    return pl.struct(
        [
            expr.str.extract(rf"(?i)(?:^|,)\s*{name}=([0-9a-f]{{{digits}}})\b", 1).str.to_lowercase().alias(name)
            for name, digits in _FIELDS.items()
        ]
    )
