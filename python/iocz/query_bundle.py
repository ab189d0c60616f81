"""The query bundle (agency → company): the server key (or only its fingerprint) and one
encrypted IOC set per IOC type with its options. No secret key, no plaintext IOC. The agency
keeps a local manifest (slot → IOC → labels, written 0600 next to its client key) to read
results. Everything read is validated before use (see :mod:`iocz.bundle_format`), then each key
and set against the pinned parameters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from iocz import _iocz
from iocz._files import write_atomic
from iocz._iocz import ClientKey, EncryptedSet, FormatError, ServerKey, WrongKeyError
from iocz._version import __version__
from iocz.bundle_format import COUNT_WIDTHS, META_VERSION, check_meta, require
from iocz.iocs import ImportReport, Ioc

if TYPE_CHECKING:
    from iocz._iocz import DomainMatch, IocType


def _ioc_type(name: str) -> IocType:
    """``name`` checked against the IOC types the core knows."""
    if name not in _iocz.IOC_TYPES:
        raise ValueError(f"unknown IOC type {name!r} (known: {', '.join(_iocz.IOC_TYPES)})")
    return cast("IocType", name)


@dataclass(frozen=True)
class QuerySet:
    """One encrypted IOC set of a query and the options the agency chose for it."""

    set: EncryptedSet
    ioc_type: str
    match: DomainMatch = "exact"
    case_sensitive: bool = False


@dataclass
class Query:
    """An encrypted IOC query. Built by the agency with :meth:`create`; read by the company
    with :meth:`load` (which loads the server key and sets into this process)."""

    sets: list[QuerySet]
    key_fingerprint: str
    server_key: ServerKey | None = None
    bundle_fingerprint: str = ""
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
            enc = key.encrypt_set(
                [i.value for i in group],
                ioc_type,
                case_sensitive=case_sensitive,
                pad_to=pad_to,
                kernel=kernel,
                lookup_bits=lookup_bits,
                count_bits=count_bits,
            )
            # Labels keyed by the canonical text the encryption stored (the manifest's).
            labels: dict[str, dict[str, list[str]]] = {}
            for ioc, text in zip(group, enc.canonical_inputs, strict=True):
                entry = labels.setdefault(text, {"values": [], "labels": [], "sources": []})
                for k, v in (("values", ioc.value), ("labels", ioc.label), ("sources", ioc.source)):
                    if v and v not in entry[k]:
                        entry[k].append(v)
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
        bundle = _iocz.encode_bundle("query", json.dumps(self._meta(embed_server_key)), sections)
        self.bundle_fingerprint = bundle.fingerprint
        folder = Path(manifest_dir)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        manifest = {"query": self.bundle_fingerprint, **self._manifest}
        mpath = write_atomic(
            folder / f"{self.bundle_fingerprint}.json",
            json.dumps(manifest, indent=1).encode(),
            secret=True,
            overwrite=True,
        )
        write_atomic(path, bundle.data, overwrite=overwrite)
        return mpath

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, server_key: ServerKey | str | os.PathLike[str] | None = None
    ) -> Query:
        """Read and validate a query bundle; loads its server key (embedded, or ``server_key``
        when the bundle only references one) and sets for ``.fhe`` expressions."""
        what = str(path)
        bundle = _iocz.read_bundle(path, "query")
        meta = check_meta(bundle.meta, "query", what)
        key_fp = require(meta, "key", str, what)
        if meta.get("parameters") != _iocz.parameter_set():
            raise FormatError(f"{what}: made with parameters {meta.get('parameters')!r}, not iocz's")
        data = bundle.sections
        set_meta = require(meta, "sets", list, what)
        if not set_meta or len(set_meta) > _iocz.MAX_SETS:
            raise FormatError(f"{what}: a query holds 1 to {_iocz.MAX_SETS} IOC sets, not {len(set_meta)}")
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
            if enc.key_fingerprint != key_fp or enc.ioc_type != m.get("type") or enc.set_id != m.get("set_id"):
                raise FormatError(f"{what}: set {i} does not match its metadata (type, id or key)")
            match = m.get("match", "exact")
            if match not in _iocz.DOMAIN_MATCHES or (match == "subdomain" and enc.ioc_type != "domain"):
                raise FormatError(f"{what}: set {i} has an invalid match mode {match!r}")
            sets.append(QuerySet(enc, enc.ioc_type, match, enc.case_sensitive))
        key_path = None if "server-key" in data or isinstance(server_key, ServerKey) else Path(str(server_key))
        return cls(sets, key_fp, sk, bundle.fingerprint, str(meta.get("created", "")), count_bits, Path(path), key_path)

    def __repr__(self) -> str:
        types = ", ".join(f"{s.ioc_type}[{s.set.slots} slots]" for s in self.sets)
        name = self.bundle_fingerprint or "unsaved"
        return f"Query({name}, key {self.key_fingerprint}, {self.count_bits}-bit counts: {types})"

    def _repr_html_(self) -> str:
        """Notebook view: what the query reveals (the facts of ``iocz inspect``)."""
        from iocz.views import html_of

        return html_of(self)
