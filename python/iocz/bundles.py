"""Query and result bundles: the files the two parties exchange.

* :class:`Query` (agency → company): the server key (or only its fingerprint), one encrypted
  IOC set per IOC type with its options. No secret key, no plaintext IOC. The agency keeps a
  local manifest (slot → IOC → labels, written 0600 next to its client key) to read results.
* :class:`Result` (company → agency): released counts (per IOC and total, per column and per
  group if asked: one compressed list each, re-randomised and refreshed, at the width the query
  declares) and scan metadata; bound to the query by the query's fingerprint.

Everything read is validated before use: the container (magic, version, checksums, limits) in
the Rust core, then the metadata fields, then each key, set and count against the pinned
parameters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import polars as pl

from iocz import _iocz
from iocz._files import write_atomic
from iocz._iocz import ClientKey, EncryptedSet, EncryptedValue, FormatError, ServerKey, WrongKeyError
from iocz._version import __version__
from iocz.iocs import ImportReport, Ioc

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from iocz._iocz import DomainMatch, IocType

#: Version of the metadata layout inside bundles (the container has its own version).
#: 2: queries declare ``count_bits``; results hold one released (compressed) entry each.
META_VERSION = 2
#: Widths a query may declare for its released counts (bits); a count that does not fit
#: decrypts as ``2**bits - 1`` and is marked saturated.
COUNT_WIDTHS: tuple[int, ...] = tuple(_iocz.RELEASE_WIDTHS)


def _ioc_type(name: str) -> IocType:
    """``name`` checked against the IOC types the core knows."""
    if name not in _iocz.IOC_TYPES:
        raise ValueError(f"unknown IOC type {name!r} (known: {', '.join(_iocz.IOC_TYPES)})")
    return cast("IocType", name)


def _require(meta: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = meta.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise FormatError(f"{what}: metadata field {key!r} is missing or invalid")
    return value


def _check_meta(meta_text: str, bundle: str, what: str) -> dict[str, Any]:
    meta = json.loads(meta_text)
    if not isinstance(meta, dict) or meta.get("format") != bundle:
        raise FormatError(f"{what}: not an iocz {bundle} bundle")
    if meta.get("meta_version") != META_VERSION:
        raise FormatError(
            f"{what}: metadata version {meta.get('meta_version')!r} is not supported (this iocz reads {META_VERSION})"
        )
    return meta


@dataclass(frozen=True)
class QuerySet:
    """One encrypted IOC set of a query and the options the agency chose for it."""

    set: EncryptedSet
    ioc_type: str
    match: DomainMatch = "exact"
    case_sensitive: bool = False


def manifest_dir(client_key_path: str | os.PathLike[str]) -> Path:
    """Where the agency keeps query manifests: ``queries/`` next to its client key."""
    return Path(client_key_path).resolve().parent / "queries"


@dataclass
class Query:
    """An encrypted IOC query. Built by the agency with :meth:`create`; read by the company
    with :meth:`load` (which loads the server key and sets into this process)."""

    sets: list[QuerySet]
    key_fingerprint: str
    server_key: ServerKey | None = None
    fingerprint: str = ""
    created: str = ""
    #: Width of every released count (16 or 32 bits), chosen by the agency.
    count_bits: int = 32
    #: The bundle file and (for a bundle that only references its key) the server key file it
    #: was loaded from: what Spark executors load themselves.
    path: Path | None = None
    server_key_path: Path | None = None
    _manifest: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        key: ClientKey,
        iocs: Sequence[Ioc] | ImportReport,
        *,
        server_key: ServerKey | None = None,
        domain_match: DomainMatch = "exact",
        case_sensitive: bool = False,
        pad_to: int = 0,
        count_bits: int = 32,
        kernel: str = "auto",
        lookup_bits: int = _iocz.DEFAULT_LOOKUP_BITS,
    ) -> Query:
        """Encrypt ``iocs`` (one set per type; duplicates merged, labels kept in the manifest).
        ``count_bits`` (16 or 32) is the width of the counts the company releases: a count
        that does not fit decrypts as ``2**count_bits - 1`` ("at least"), never wraps.

        ``kernel``: ``"auto"`` (default) adds a lookup part (GGSW-encrypted positions, about
        ``lookup_query_bytes(1, lookup_bits)`` per IOC) and lets the company run whichever kernel
        is cheaper for its data; ``"lookup"`` asks for the lookup kernel wherever it applies;
        ``"scan"`` sends no lookup part (smallest query, cost per distinct log value).
        ``lookup_bits``: the lookup part covers up to about 2^lookup_bits distinct company values."""
        if kernel not in _iocz.KERNELS:
            raise ValueError(f"kernel must be one of {tuple(_iocz.KERNELS)}, not {kernel!r}")
        items = list(iocs.iocs if isinstance(iocs, ImportReport) else iocs)
        if not items:
            raise ValueError("a query needs at least one IOC")
        if count_bits not in COUNT_WIDTHS:
            raise ValueError(f"count_bits must be one of {COUNT_WIDTHS}, not {count_bits!r}")
        if domain_match not in _iocz.DOMAIN_MATCHES:
            raise ValueError(f"domain_match must be one of {_iocz.DOMAIN_MATCHES}, not {domain_match!r}")
        sets: list[QuerySet] = []
        manifest_sets: list[dict[str, Any]] = []
        for ioc_type in sorted({_ioc_type(i.type) for i in items}):
            group = [i for i in items if i.type == ioc_type]
            canonical = _iocz.canonical_iocs([i.value for i in group], ioc_type, case_sensitive)
            labels: dict[str, dict[str, list[str]]] = {}
            for ioc, (text, error) in zip(group, canonical, strict=True):
                if text is None:
                    raise ValueError(f"IOC {ioc.value!r} from {ioc.source or 'input'}: {error}")
                entry = labels.setdefault(text, {"values": [], "labels": [], "sources": []})
                for k, v in (("values", ioc.value), ("labels", ioc.label), ("sources", ioc.source)):
                    if v and v not in entry[k]:
                        entry[k].append(v)
            enc = key.encrypt_set(
                [i.value for i in group],
                ioc_type,
                case_sensitive=case_sensitive,
                pad_to=pad_to,
                kernel=kernel,
                lookup_bits=lookup_bits,
                count_bits=count_bits,
            )
            match = domain_match if ioc_type == "domain" else "exact"
            sets.append(QuerySet(enc, ioc_type, match, enc.case_sensitive))
            manifest_sets.append(
                {"type": ioc_type, "set_id": enc.set_id, "manifest": enc.manifest_text(), "iocs": labels}
            )
        query = cls(sets, key.fingerprint, server_key or key.server_key(), count_bits=count_bits)
        query._manifest = {"key": key.fingerprint, "sets": manifest_sets}
        return query

    def ioc_counts(self) -> list[int]:
        """Distinct IOCs per set (agency side: needs the manifest of a query created here)."""
        if self._manifest is None:
            raise ValueError("IOC counts need the query's manifest (a query created in this process)")
        return [len(m["iocs"]) for m in self._manifest["sets"]]

    def _meta(self, embed_server_key: bool) -> dict[str, Any]:
        return {
            "format": "query",
            "meta_version": META_VERSION,
            "iocz_version": __version__,
            "parameters": _iocz.parameter_set(),
            "key": self.key_fingerprint,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "server_key": "embedded" if embed_server_key else "reference",
            "count_bits": self.count_bits,
            "sets": [
                {
                    "type": s.ioc_type,
                    "set_id": s.set.set_id,
                    "slots": s.set.slots,
                    "lengths": s.set.lengths,
                    "match": s.match,
                    "case_sensitive": s.case_sensitive,
                }
                for s in self.sets
            ],
        }

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        manifest_dir: str | os.PathLike[str],
        embed_server_key: bool = True,
        overwrite: bool = False,
    ) -> Path:
        """Write the bundle to ``path`` and the agency's manifest (0600) into ``manifest_dir``
        as ``<fingerprint>.json``; returns the manifest path. Agency side only."""
        if self._manifest is None:
            raise ValueError("only the agency's own query (Query.create) can be saved")
        sections = [(f"set/{i}", s.set.to_bytes()) for i, s in enumerate(self.sets)]
        if embed_server_key:
            if self.server_key is None:
                raise ValueError("no server key to embed")
            sections.insert(0, ("server-key", self.server_key.to_bytes()))
        data, self.fingerprint = _iocz.encode_bundle("query", json.dumps(self._meta(embed_server_key)), sections)
        folder = Path(manifest_dir)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        manifest = {"query": self.fingerprint, **self._manifest}
        mpath = write_atomic(
            folder / f"{self.fingerprint}.json",
            json.dumps(manifest, indent=1).encode(),
            secret=True,
            overwrite=True,
        )
        write_atomic(path, data, overwrite=overwrite)
        return mpath

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, server_key: ServerKey | str | os.PathLike[str] | None = None
    ) -> Query:
        """Read and validate a query bundle; loads its server key (embedded, or ``server_key``
        when the bundle only references one) and sets for ``.fhe`` expressions."""
        what = str(path)
        meta_text, sections, fingerprint = _iocz.read_bundle(path, "query")
        meta = _check_meta(meta_text, "query", what)
        key_fp = _require(meta, "key", str, what)
        if meta.get("parameters") != _iocz.parameter_set():
            raise FormatError(f"{what}: made with parameters {meta.get('parameters')!r}, not iocz's")
        data = dict(sections)
        set_meta = _require(meta, "sets", list, what)
        if not set_meta or len(set_meta) > 16:
            raise FormatError(f"{what}: a query holds 1 to 16 IOC sets, not {len(set_meta)}")
        if set(data) - {"server-key"} != {f"set/{i}" for i in range(len(set_meta))}:
            raise FormatError(f"{what}: sections do not match the declared sets")
        if "server-key" in data:
            sk = ServerKey.from_bytes(data["server-key"])
        elif server_key is None:
            raise FormatError(f"{what}: the bundle references server key {key_fp}; pass it (--server-key)")
        else:
            sk = server_key if isinstance(server_key, ServerKey) else ServerKey.load(server_key)
        if sk.fingerprint != key_fp:
            raise WrongKeyError(f"{what}: server key {sk.fingerprint} is not the query's key {key_fp}")
        count_bits = meta.get("count_bits")
        if count_bits not in COUNT_WIDTHS or isinstance(count_bits, bool):
            raise FormatError(f"{what}: count_bits must be one of {COUNT_WIDTHS}, not {count_bits!r}")
        sets = []
        for i, m in enumerate(set_meta):
            enc = EncryptedSet.from_bytes(data[f"set/{i}"])
            if not isinstance(m, dict):
                raise FormatError(f"{what}: set {i} metadata is invalid")
            if enc.fingerprint != key_fp or enc.ioc_type != m.get("type") or enc.set_id != m.get("set_id"):
                raise FormatError(f"{what}: set {i} does not match its metadata (type, id or key)")
            match = m.get("match", "exact")
            if match not in _iocz.DOMAIN_MATCHES or (match == "subdomain" and enc.ioc_type != "domain"):
                raise FormatError(f"{what}: set {i} has an invalid match mode {match!r}")
            sets.append(QuerySet(enc, enc.ioc_type, match, enc.case_sensitive))
        key_path = None if "server-key" in data or isinstance(server_key, ServerKey) else Path(str(server_key))
        return cls(sets, key_fp, sk, fingerprint, str(meta.get("created", "")), count_bits, Path(path), key_path)

    def __repr__(self) -> str:
        types = ", ".join(f"{s.ioc_type}[{s.set.slots} slots]" for s in self.sets)
        name = self.fingerprint or "unsaved"
        return f"Query({name}, key {self.key_fingerprint}, {self.count_bits}-bit counts: {types})"

    def _repr_html_(self) -> str:
        """Notebook view: what the query reveals (the facts of ``iocz inspect``)."""
        from iocz.views import html_of

        return html_of(self)


@dataclass
class Count:
    """One result entry: the released counts of a (set, column, group) — per IOC slot and the
    rows matching any IOC, in one compressed list (what leaves the company)."""

    set_index: int
    ioc_type: str
    column: str
    group: str | None
    released: bytes = field(repr=False)


@dataclass
class Result:
    """Encrypted scan results and their metadata (no plaintext count)."""

    query: str
    key_fingerprint: str
    counts: list[Count]
    metadata: dict[str, Any]
    fingerprint: str = ""

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the result bundle (atomically)."""
        write_atomic(path, self.to_bytes(), overwrite=overwrite)

    def to_bytes(self) -> bytes:
        """The result bundle's bytes (sets :attr:`fingerprint`; the same bytes every time)."""
        meta = {
            "format": "result",
            "meta_version": META_VERSION,
            "query": self.query,
            "key": self.key_fingerprint,
            "scan": self.metadata,
            "entries": [
                {"set": c.set_index, "type": c.ioc_type, "column": c.column, "group": c.group} for c in self.counts
            ],
        }
        sections = [(f"entry/{i}/released", c.released) for i, c in enumerate(self.counts)]
        data, self.fingerprint = _iocz.encode_bundle("result", json.dumps(meta), sections)
        return data

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Result:
        """Read and validate a result bundle (counts are checked when decrypted)."""
        what = str(path)
        meta_text, sections, fingerprint = _iocz.read_bundle(path, "result")
        meta = _check_meta(meta_text, "result", what)
        data = dict(sections)
        entries = _require(meta, "entries", list, what)
        if set(data) != {f"entry/{i}/released" for i in range(len(entries))}:
            raise FormatError(f"{what}: sections do not match the declared entries")
        counts = []
        for i, e in enumerate(entries):
            if not isinstance(e, dict) or not isinstance(e.get("set"), int) or not isinstance(e.get("column"), str):
                raise FormatError(f"{what}: entry {i} is invalid")
            group = e.get("group")
            if group is not None and not isinstance(group, str):
                raise FormatError(f"{what}: entry {i} has an invalid group key")
            counts.append(Count(e["set"], str(e.get("type")), e["column"], group, data[f"entry/{i}/released"]))
        scan: dict[str, Any] = meta["scan"] if isinstance(meta.get("scan"), dict) else {}
        return cls(_require(meta, "query", str, what), _require(meta, "key", str, what), counts, scan, fingerprint)

    def decrypt(
        self,
        key: ClientKey,
        *,
        manifest: str | os.PathLike[str] | None = None,
        key_path: str | os.PathLike[str] | None = None,
    ) -> Decrypted:
        """Decrypt every count with the agency's key and name each IOC from the query manifest
        (``manifest``, or ``queries/<query>.json`` next to ``key_path``)."""
        if key.fingerprint != self.key_fingerprint:
            raise WrongKeyError(
                f"the result is under key {self.key_fingerprint}, not this client key ({key.fingerprint})"
            )
        if manifest is None:
            if key_path is None:
                raise ValueError("pass manifest= (the query's manifest file) or key_path=")
            manifest = manifest_dir(key_path) / f"{self.query}.json"
        mpath = Path(manifest)
        if not mpath.exists():
            raise FileNotFoundError(
                f"no manifest for query {self.query} at {mpath}: was the query made with this key folder?"
            )
        m = json.loads(mpath.read_text())
        if m.get("query") != self.query:
            raise WrongKeyError(f"manifest {mpath} is for query {m.get('query')}, the result for {self.query}")
        rows: list[dict[str, Any]] = []
        totals: list[dict[str, Any]] = []
        for c in self.counts:
            if not 0 <= c.set_index < len(m["sets"]):
                raise FormatError(f"result refers to set {c.set_index}, the query has {len(m['sets'])}")
            ms = m["sets"][c.set_index]
            EncryptedSet.load_manifest_text(ms["manifest"])
            released = key.decrypt(EncryptedValue.from_bytes(c.released))
            if not isinstance(released, tuple):
                raise FormatError("result entries must hold released counts")
            per_ioc, total, bits = released
            full = 2**bits - 1
            base = {"group": c.group, "type": ms["type"], "column": c.column}
            totals.append({**base, "rows_matching_any": total, "saturated": total >= full})
            for ioc, n in per_ioc.items():
                info = ms["iocs"].get(ioc, {})
                label = "; ".join(info.get("labels", []))
                rows.append({**base, "ioc": ioc, "label": label, "count": n, "saturated": n >= full})
        schema = {"group": pl.String, "type": pl.String, "column": pl.String}
        unscanned = self._unscanned(m["sets"])
        return Decrypted(
            pl.DataFrame(
                rows,
                schema={**schema, "ioc": pl.String, "label": pl.String, "count": pl.Int64, "saturated": pl.Boolean},
            ),
            pl.DataFrame(totals, schema={**schema, "rows_matching_any": pl.Int64, "saturated": pl.Boolean}),
            {"query": self.query, **self.metadata, "unscanned_sets": unscanned},
            unscanned,
        )

    def _unscanned(self, manifest_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Sets of the query that no (set, column) job scanned: their counts are not in the result."""
        jobs = self.metadata.get("columns")
        scanned = {j[0] for j in jobs if isinstance(j, list) and j} if isinstance(jobs, list) else set()
        scanned |= {c.set_index for c in self.counts}
        return [
            {"set": i, "type": ms["type"], "iocs": len(ms.get("iocs", {}))}
            for i, ms in enumerate(manifest_sets)
            if i not in scanned
        ]

    def __repr__(self) -> str:
        meta = self.metadata
        return (
            f"Result({self.fingerprint or 'unsaved'} for query {self.query}, key {self.key_fingerprint}: "
            f"{len(self.counts)} entries, {meta.get('rows_scanned', '?')} rows scanned, "
            f"{meta.get('count_bits', '?')}-bit counts)"
        )

    def _repr_html_(self) -> str:
        """Notebook view: the facts of ``iocz inspect`` (metadata, data quality, kernels, the
        clear part, entries and sizes)."""
        from iocz.views import html_of

        return html_of(self)


@dataclass
class Decrypted:
    """Decrypted result: per-IOC counts, totals, the scan metadata, and the query's sets that
    were never scanned (no column given for their type: no count, which is not a count of 0).
    ``saturated`` marks a count at ``2**count_bits - 1``: at least that many rows."""

    counts: pl.DataFrame
    totals: pl.DataFrame
    metadata: dict[str, Any]
    unscanned: list[dict[str, Any]] = field(default_factory=list)

    def unscanned_lines(self) -> list[str]:
        """One line per set that was never scanned."""
        return [
            f"not scanned: the {u['type']} set ({u['iocs']} IOCs) — no log column was given for it, "
            "so its IOCs have no count"
            for u in self.unscanned
        ]

    def to_json(self) -> str:
        """JSON document with metadata, totals and per-IOC counts."""
        return json.dumps(
            {"metadata": self.metadata, "totals": self.totals.to_dicts(), "counts": self.counts.to_dicts()},
            indent=1,
        )

    def plot(self, by: Literal["ioc", "group"] = "ioc", *, ax: Axes | None = None) -> Axes:
        """Bar chart of the counts per IOC or per group (matplotlib, the ``notebook`` extra):
        inline in Jupyter; save it with ``.figure.savefig(path)``. See :func:`iocz.plot.plot_counts`."""
        from iocz.plot import plot_counts

        return plot_counts(self, by, ax=ax)

    def __repr__(self) -> str:
        saturated = self.counts.filter("saturated").height + self.totals.filter("saturated").height
        return (
            f"Decrypted(query {self.metadata.get('query', '?')}: {self.counts.height} IOC counts, "
            f"{self.totals.height} totals, {saturated} saturated, {len(self.unscanned)} sets not scanned)"
        )

    def _repr_html_(self) -> str:
        """Notebook view: scan metadata, data quality, totals and per-IOC counts (saturated
        ones marked ``>=``)."""
        from iocz.views import html_of

        return html_of(self)
