"""Data quality of a scanned column, checked in the clear before any FHE work.

Each distinct non-null value of a (set, column) job is classified against the set's IOC type
by the job's plan in Rust (:class:`iocz._iocz.ColumnPlan`, with the matcher's own parsers):

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
from dataclasses import dataclass
from typing import Any

from iocz import _iocz

log = logging.getLogger("iocz.quality")

_WHAT = {
    "domain": "domain names",
    "ipv4": "IPv4 addresses",
    "ipv6": "IP addresses",
    "substring": "text",
    **{t: f"{t} values" for t in _iocz.HASH_TYPES},
}


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

    @classmethod
    def of(cls, set_index: int, ioc_type: str, column: str, figures: _iocz.QualityFigures) -> ColumnQuality:
        """A job's figures, as its plan classified the values (:class:`iocz._iocz.ColumnPlan`)."""
        f = figures
        return cls(
            set_index,
            ioc_type,
            column,
            f.rows,
            f.distinct,
            f.missing_rows,
            f.bad_rows,
            f.bad_distinct,
            f.skipped,
            f.first_bad,
        )

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
