"""Data quality of a scanned column, checked in the clear before any FHE work.

Each distinct non-null value of a (set, column) job is classified against the set's IOC type
with the Rust canonicaliser (the code that encrypts the IOCs):

* empty or whitespace-only values are *missing* (like nulls: they never match);
* hash types: a value of the wrong length or with a non-hex character (``-``, ``N/A``, …) is
  *not of the type*; such values are skipped (they never match) and counted, or an error with
  ``strict``. The all-zero imphash ("no imphash") is of the type and never matches;
* domains: a valid name with at least two labels that is not an IP address;
* IPv4 / IPv6: one address (brackets and zones allowed, as the matcher does); an IPv6 set also
  takes IPv4 addresses (IPv4-mapped);
* substrings: any text.

Domain and IP values not of the type stay in the scan (the matcher gives them no candidate).
A job whose column holds values but none of the type is an error unless forced: it is almost
certainly the wrong column, and its counts would be a believable 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from iocz import _iocz
from iocz.engines.base import PAIR_VALUE, PAIR_WEIGHT
from iocz.netaddr import is_ip

if TYPE_CHECKING:
    from iocz._iocz import IocType

log = logging.getLogger("iocz.quality")

HASH_TYPES = ("u256", "sha256", "sha1", "md5", "imphash")
_HASH_BYTES = {"u256": 32, "sha256": 32, "sha1": 20, "md5": 16, "imphash": 16}
_WHAT = {
    "domain": "domain names",
    "ipv4": "IPv4 addresses",
    "ipv6": "IP addresses",
    "substring": "text",
    **{t: f"{t} values" for t in HASH_TYPES},
}


def _log_address(value: str) -> str:
    """The address part of a log value as the matcher reads it (brackets and zone dropped)."""
    v = value.strip()
    if v.startswith("[") and v.endswith("]"):
        v = v[1:-1]
    return v.split("%", 1)[0]


def _of_type(values: list[str], ioc_type: str) -> list[bool]:
    """Whether each (non-missing) log value is a value of ``ioc_type``."""
    if ioc_type == "substring":
        return [True] * len(values)
    t = cast("IocType", ioc_type)
    if ioc_type in ("ipv4", "ipv6"):
        addrs = [_log_address(v) for v in values]
        checked = _iocz.canonical_iocs(addrs, t)
        return ["/" not in a and c is not None for a, (c, _) in zip(addrs, checked, strict=True)]
    checked = _iocz.canonical_iocs(values, t)
    if ioc_type == "domain":
        return [c is not None and "." in c and not is_ip(c) for c, _ in checked]
    # The all-zero imphash is a valid log value ("no imphash"), refused only as an IOC.
    return [c is not None or "all-zero" in (e or "") for c, e in checked]


@dataclass(frozen=True)
class ColumnQuality:
    """How many values of a job's column are of its set's type (rows and distinct values)."""

    set_index: int
    ioc_type: str
    column: str
    rows: int  # rows with a non-missing value
    distinct: int
    missing_rows: int  # null, empty or whitespace-only
    bad_rows: int  # values not of the set's type
    bad_distinct: int
    skipped: bool  # bad values were removed from the scan (hash types)
    first_bad: str | None = None  # the smallest such value: shown locally, never sent
    bad_values: pl.Series | None = field(default=None, compare=False, repr=False)  # to remove
    blank_values: pl.Series | None = field(default=None, compare=False, repr=False)  # empty: never match

    @property
    def no_match_possible(self) -> bool:
        """The column has values, and none of the set's type."""
        return self.rows > 0 and self.bad_rows == self.rows

    def to_meta(self) -> dict[str, Any]:
        """Figures for the result metadata (counts only: no log value leaves the company)."""
        return {
            "set": self.set_index,
            "type": self.ioc_type,
            "column": self.column,
            "rows": self.rows,
            "distinct": self.distinct,
            "missing_rows": self.missing_rows,
            "not_of_type_rows": self.bad_rows,
            "not_of_type_distinct": self.bad_distinct,
            "skipped": self.skipped,
        }


def describe(meta: dict[str, Any]) -> str:
    """One line for a job's figures (from :meth:`ColumnQuality.to_meta`)."""
    what = _WHAT.get(str(meta["type"]), f"{meta['type']} values")
    rows, bad = meta["rows"], meta["not_of_type_rows"]
    line = f"column {meta['column']} ({meta['type']} set): {rows - bad:,} of {rows:,} values are {what}"
    if rows and bad == rows:
        return line + " — is this the right column?"
    if bad:
        action = "are skipped" if meta.get("skipped") else "cannot match"
        line += f"; {bad:,} rows ({meta['not_of_type_distinct']:,} distinct values) are not and {action}"
    if meta.get("missing_rows"):
        line += f"; {meta['missing_rows']:,} empty or null"
    return line


def check_pairs(pairs: pl.DataFrame, column: str, ioc_type: str, set_index: int) -> ColumnQuality:
    """Classify the values of ``column`` against ``ioc_type`` (see the module docstring), from
    its de-duplicated pairs (:data:`~iocz.engines.PAIR_VALUE`, its rows
    :data:`~iocz.engines.PAIR_WEIGHT`; a value may appear once per group)."""
    counts = pairs.group_by(PAIR_VALUE).agg(pl.col(PAIR_WEIGHT).sum().alias("len")).rename({PAIR_VALUE: "v"})
    nulls = int(counts.filter(pl.col("v").is_null())["len"].sum())
    counts = counts.filter(pl.col("v").is_not_null()).sort("v")
    if counts.schema["v"] == pl.Binary and ioc_type in HASH_TYPES:
        counts = counts.with_columns(ok=pl.col("v").bin.size() == _HASH_BYTES[ioc_type], missing=pl.lit(False))
    else:
        if counts.schema["v"] != pl.String:
            counts = counts.with_columns(pl.col("v").cast(pl.String))
        values = counts["v"].to_list()
        blank = [not v.strip() for v in values]
        ok_list = _of_type([v for v, b in zip(values, blank, strict=True) if not b], ioc_type)
        it = iter(ok_list)
        counts = counts.with_columns(
            ok=pl.Series([False if b else next(it) for b in blank], dtype=pl.Boolean),
            missing=pl.Series(blank, dtype=pl.Boolean),
        )
    missing = nulls + int(counts.filter("missing")["len"].sum())
    present = counts.filter(~pl.col("missing"))
    bad = present.filter(~pl.col("ok"))
    hashes = ioc_type in HASH_TYPES
    return ColumnQuality(
        set_index,
        ioc_type,
        column,
        rows=int(present["len"].sum()),
        distinct=present.height,
        missing_rows=missing,
        bad_rows=int(bad["len"].sum()),
        bad_distinct=bad.height,
        skipped=hashes and bad.height > 0,
        first_bad=str(bad["v"][0]) if bad.height else None,
        bad_values=bad["v"] if hashes and bad.height else None,
        blank_values=counts.filter("missing")["v"] if counts.height else None,
    )


def enforce(q: ColumnQuality, *, force: bool, strict: bool) -> None:
    """Raise ``ValueError`` for a job that cannot match (unless ``force``) or, with ``strict``,
    for a hash column holding values not of the type; log the figures otherwise."""
    line = describe(q.to_meta())
    first = f" (not of the type, e.g. {q.first_bad[:80]!r})" if q.first_bad is not None else ""
    if q.no_match_possible and not force:
        raise ValueError(
            f"{line} No value of it can match the {q.ioc_type} set: check the column, or force the scan "
            "(force=True, --force)"
        )
    if strict and q.bad_rows and q.skipped:
        raise ValueError(
            f"column {q.column!r}: {q.bad_rows:,} rows ({q.bad_distinct:,} distinct) are not "
            f"{_WHAT[q.ioc_type]}{first} and strict is set"
        )
    (log.warning if q.bad_rows else log.info)("%s%s", line, first)
