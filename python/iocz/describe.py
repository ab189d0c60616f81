"""What each iocz object shows a person: one set of facts for the terminal and for notebooks.

``iocz inspect`` prints :func:`text_lines` of :func:`query_facts` / :func:`result_facts`; the
notebook views (:mod:`iocz.views`) render the very same :class:`Facts` as HTML. Facts are
public by construction: fingerprints, sizes, options and scan metadata, never key material
or a manifest (the agency's slot → IOC map). Building them does no FHE work: released counts
are only opened to check their header (width, slots).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from iocz import _iocz
from iocz.quality import describe as quality_line

if TYPE_CHECKING:
    import polars as pl

    from iocz._iocz import ClientKey, EncryptedSet, LookupInfo, PublicKey, ServerKey


# What the facts read of the package's objects (:class:`iocz.Query`, :class:`iocz.Result`,
# :class:`iocz.Decrypted`, :class:`iocz.ImportReport`): protocols, so that this module does not
# import the modules whose ``_repr_html_`` show these facts.


class QuerySet(Protocol):
    """An encrypted set of a query and its match mode."""

    @property
    def set(self) -> EncryptedSet: ...
    @property
    def ioc_type(self) -> str: ...
    @property
    def match(self) -> str: ...


class Query(Protocol):
    """What a query bundle reveals."""

    @property
    def sets(self) -> Sequence[QuerySet]: ...
    @property
    def server_key(self) -> ServerKey | None: ...
    @property
    def key_fingerprint(self) -> str: ...
    @property
    def created(self) -> str: ...
    @property
    def count_bits(self) -> int: ...
    @property
    def bundle_fingerprint(self) -> str: ...


class Entry(Protocol):
    """One released entry of a result."""

    @property
    def set_index(self) -> int: ...
    @property
    def ioc_type(self) -> str: ...
    @property
    def column(self) -> str: ...
    @property
    def group(self) -> str | None: ...
    @property
    def released(self) -> bytes: ...


class Result(Protocol):
    """A result bundle: its entries and scan metadata."""

    @property
    def query(self) -> str: ...
    @property
    def key_fingerprint(self) -> str: ...
    @property
    def counts(self) -> Sequence[Entry]: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    @property
    def bundle_fingerprint(self) -> str: ...


class Decrypted(Protocol):
    """Decrypted counts, totals and metadata, and the sets never scanned."""

    @property
    def counts(self) -> pl.DataFrame: ...
    @property
    def totals(self) -> pl.DataFrame: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    @property
    def unscanned(self) -> Sequence[object]: ...
    def unscanned_lines(self) -> list[str]: ...


class Located(Protocol):
    """A skipped item or a note: where its first instance was."""

    @property
    def where(self) -> str: ...


class ImportReport(Protocol):
    """An IOC import's figures."""

    def by_type(self) -> dict[str, int]: ...
    def skipped_by_reason(self) -> Mapping[str, Sequence[Located]]: ...
    def notes_by_kind(self) -> Mapping[str, Sequence[Located]]: ...
    def summary(self) -> str: ...


@dataclass(frozen=True)
class Table:
    """Rows of text cells under column names; ``more``: rows left out (shown as a count)."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    more: int = 0


@dataclass(frozen=True)
class Lines:
    """Lines of text under a title; ``code``: shown as is (SQL, query plans)."""

    title: str
    lines: list[str]
    code: bool = False


@dataclass(frozen=True)
class Facts:
    """A heading, labelled one-line fields, then titled parts (tables and lines)."""

    heading: str
    fields: list[tuple[str, str]]
    parts: list[Table | Lines] = field(default_factory=list)


def human_size(n: int) -> str:
    """A size in bytes below 1 KiB, in KiB below 1 MiB, else in MiB."""
    if n < 2**10:
        return f"{n} B"
    return f"{n / 2**10:.1f} KiB" if n < 2**20 else f"{n / 2**20:.1f} MiB"


def lookup_text(lookup: LookupInfo | None) -> str:
    """A set's lookup part (see :attr:`EncryptedSet.lookup`) in words."""
    if lookup is None:
        return "kernel=scan (no lookup part)"
    return (
        f"kernel={lookup.kernel}: lookup part {lookup.entries} entries, "
        f"3 x 2^{lookup.bits} positions at most, {human_size(lookup.bytes)}"
    )


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], limit: int | None) -> Table:
    shown = rows if limit is None else rows[:limit]
    return Table(title, tuple(columns), [tuple(r) for r in shown], len(rows) - len(shown))


def _set_row(s: EncryptedSet, match: str) -> tuple[str, ...]:
    case = f"case_sensitive={s.case_sensitive}" if s.ioc_type == "substring" else "-"
    lengths = ", ".join(map(str, s.lengths)) or "-"
    return (s.ioc_type, str(s.slots), str(s.hashes), match, case, lengths, lookup_text(s.lookup), human_size(s.size))


_SET_COLUMNS = ("type", "slots", "hashes", "match", "case", "declared lengths", "kernel", "size")


def query_facts(q: Query) -> Facts:
    """What a query bundle reveals to the company (``iocz inspect q.iocz``)."""
    sets = [s.set for s in q.sets]
    size = sum(s.size for s in sets) + (q.server_key.size if q.server_key else 0)
    fields = [
        ("key", q.key_fingerprint),
        ("created", q.created or "?"),
        ("server key", "embedded" if q.server_key else "referenced"),
        ("counts returned", f"{q.count_bits}-bit counts"),
        ("size", f"{human_size(size)} (sets and server key)"),
    ]
    learns = Lines(
        "what the company learns",
        [
            f"IOC types ({', '.join(s.ioc_type for s in q.sets)}), each set's slots (an upper bound on its IOCs; "
            "pad_to / --pad-to hides the count) and the options above",
            "no IOC, no label, no secret key: the manifest (slot -> IOC) stays with the agency",
        ],
    )
    rows = [_set_row(s.set, s.match) for s in q.sets]
    return Facts(f"query {q.bundle_fingerprint or '(unsaved)'}", fields, [Table("sets", _SET_COLUMNS, rows), learns])


def _time_range(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"{value[0]} to {value[1]}"
    return "-" if value is None else str(value)


def scan_fields(meta: dict[str, Any], groups: int | None = None) -> list[tuple[str, str]]:
    """The scan metadata of a result (or a decrypted one) as labelled fields."""
    rows = meta.get("rows_scanned")
    group_by = meta.get("group_by")
    grouping = "-" if group_by is None else f"{group_by}" + ("" if groups is None else f" ({groups} groups)")
    return [
        ("rows scanned", f"{rows:,}" if isinstance(rows, int) else "?"),
        ("time range", _time_range(meta.get("time_range"))),
        ("filter", repr(meta.get("where"))),
        ("group by", grouping),
        ("counts", f"{meta.get('count_bits', '?')}-bit counts"),
        ("iocz", str(meta.get("iocz_version", "?"))),
    ]


def quality_lines(meta: dict[str, Any]) -> Lines:
    """Data-quality figures of every scanned column (checked in the clear before FHE work)."""
    return Lines("data quality", [quality_line(q) for q in meta.get("data_quality", [])])


def result_facts(r: Result, file_size: int | None = None, limit: int | None = None) -> Facts:
    """Everything a result bundle holds, each entry checked (``iocz inspect r.iocz``): scan
    metadata, data quality, kernels and their grounds, the clear part's queries and every
    released entry. ``file_size``: the bundle's size if it is a file; ``limit``: most entries
    listed (the rest are counted)."""
    meta = r.metadata
    size = file_size if file_size is not None else sum(len(c.released) for c in r.counts)
    where = "in all (the file)" if file_size is not None else "of released counts"
    fields = [
        ("key", r.key_fingerprint),
        *scan_fields(meta, len({c.group for c in r.counts})),
        ("entries", f"{len(r.counts)} encrypted, {human_size(size)} {where}"),
    ]
    kernels = [(str(s), repr(c), f"{k} kernel", str(why)) for s, c, k, why in meta.get("kernels", [])]
    parts: list[Table | Lines] = [
        quality_lines(meta),
        Table("kernels", ("set", "column", "kernel", "grounds"), kernels),
    ]
    if meta.get("engine"):
        title = f"clear part run by {meta['engine']} in {meta.get('clear_seconds', '?')} s; the agency sees its queries"
        parts.append(Lines(title, [str(t).strip() for t in meta.get("clear_part", [])], code=True))
    grouped = meta.get("group_by") is not None
    columns = ("set", "type", "column", *(("group",) if grouped else ()), "counts", "width", "compressed")
    shown = r.counts if limit is None else r.counts[:limit]
    rows = []
    for c in shown:
        info = _iocz.EncryptedValue.from_bytes(c.released).released_info()
        group = (repr(c.group),) if grouped else ()
        if info.get("uncounted_total"):
            total = "rows matching any IOC not counted (opt-in: --any-total)"
        elif info.get("summed_total"):
            total = "rows matching any IOC summed by the agency"
        else:
            total = "rows matching any IOC"
        per_bin = info.get("per_bin")
        kind = "per-bin lookup counts (dummy bins included)" if per_bin else "per-IOC counts (dummy slots included)"
        counts = f"{info['slots']} {kind} + {total}"
        rows.append(
            (
                str(c.set_index),
                c.ioc_type,
                repr(c.column),
                *group,
                counts,
                f"{info['bits']}-bit",
                human_size(len(c.released)),
            )
        )
    title = "entries (what the agency will decrypt; with the metadata above, all the file holds)"
    parts.append(Table(title, columns, rows, len(r.counts) - len(shown)))
    return Facts(f"result {r.bundle_fingerprint or '(unsaved)'} for query {r.query}", fields, parts)


def _count(n: int | None, saturated: bool) -> str:
    if n is None:
        return "not counted (opt-in: --any-total)"
    return f">= {n:,}" if saturated else f"{n:,}"


def _frame_rows(df: pl.DataFrame, columns: Sequence[str], count: str) -> list[tuple[str, ...]]:
    return [
        tuple(_count(row[c], row["saturated"]) if c == count else str(row[c]) for c in columns)
        for row in df.iter_rows(named=True)
    ]


def decrypted_facts(d: Decrypted, limit: int | None = None) -> Facts:
    """Decrypted counts: the scan metadata, data quality, sets never scanned, then totals and
    per-IOC counts (largest first; a saturated count shows as ``>= 2^bits - 1``)."""
    meta = d.metadata
    keys = ("group",) if meta.get("group_by") is not None else ()
    parts: list[Table | Lines] = [quality_lines(meta)]
    if d.unscanned:
        parts.append(Lines("not scanned", d.unscanned_lines()))
    total_columns = (*keys, "type", "column", "rows_matching_any")
    parts.append(
        _table("rows matching any IOC", total_columns, _frame_rows(d.totals, total_columns, total_columns[-1]), limit)
    )
    count_columns = (*keys, "type", "column", "ioc", "label", "count")
    counts = d.counts.sort("count", descending=True, maintain_order=True)
    parts.append(_table("counts per IOC", count_columns, _frame_rows(counts, count_columns, "count"), limit))
    fields = scan_fields(meta)
    if d.counts["saturated"].any() or d.totals["saturated"].any():
        fields.append(
            ("saturated", f">= marks counts of at least {2 ** meta.get('count_bits', 32) - 1:,} (the count width)")
        )
    return Facts(f"decrypted result of query {meta.get('query', '?')}", fields, parts)


def import_facts(report: ImportReport) -> Facts:
    """An IOC import: IOCs per type, skipped items per reason and notes per kind."""
    by_type = [(t, f"{n:,}") for t, n in sorted(report.by_type().items())]
    skipped = [(str(len(items)), reason, items[0].where) for reason, items in report.skipped_by_reason().items()]
    notes = [(str(len(items)), kind, items[0].where) for kind, items in report.notes_by_kind().items()]
    return Facts(
        f"IOC import: {report.summary()}",
        [],
        [
            Table("imported per type", ("type", "IOCs"), by_type),
            Table("skipped per reason", ("items", "reason", "first at"), skipped),
            Table("notes per kind", ("items", "note", "first at"), notes),
        ],
    )


def key_facts(key: ClientKey | ServerKey | PublicKey) -> Facts:
    """A key's fingerprint, parameters and size (a client key: only that it is secret)."""
    kind = type(key).__name__
    fields = [("fingerprint", key.fingerprint), ("parameters", _iocz.parameter_set())]
    if isinstance(key, _iocz.ClientKey):
        fields.append(("secret", "the agency's secret key: save it 0600, never send it"))
    else:
        fields.append(("size", human_size(key.size)))
    return Facts(kind, fields)


def set_facts(s: EncryptedSet) -> Facts:
    """An encrypted IOC set: its public options and size (the manifest is not part of it)."""
    fields = [("set id", s.set_id), ("key", s.key_fingerprint)]
    return Facts("EncryptedSet", fields, [Table("set", _SET_COLUMNS, [_set_row(s, "-")])])


def _aligned(table: Table) -> list[str]:
    rows = [table.columns, *table.rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(table.columns))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return out + ([f"... {table.more} more"] if table.more else [])


def text_lines(facts: Facts) -> list[str]:
    """The facts as terminal lines: heading, aligned fields, then each part indented."""
    width = max((len(label) for label, _ in facts.fields), default=0)
    out = [facts.heading] + [f"  {label + ':':<{width + 1}} {value}" for label, value in facts.fields]
    for part in facts.parts:
        body = _aligned(part) if isinstance(part, Table) else part.lines
        if not (part.rows if isinstance(part, Table) else part.lines):
            continue
        out.append(f"  {part.title}:")
        out += ["    " + line for text in body for line in (text.splitlines() or [""])]
    return out
