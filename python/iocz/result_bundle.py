"""The result bundle (company → agency) and what the agency decrypts from it.

A :class:`Result` holds released counts (per IOC and total, per column and per group if asked:
one compressed list each, re-randomised and refreshed, at the width the query declares) and the
scan metadata; it is bound to the query by the query's fingerprint. :meth:`Result.decrypt` gives
a :class:`Decrypted`: per-IOC counts and totals named from the agency's query manifest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from iocz import _iocz
from iocz._files import write_atomic
from iocz._iocz import ClientKey, EncryptedSet, EncryptedValue, FormatError, InvalidInputError, WrongKeyError
from iocz.bundle_format import META_VERSION, check_meta, manifest_dir, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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
    bundle_fingerprint: str = ""

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the result bundle (atomically)."""
        write_atomic(path, self.to_bytes(), overwrite=overwrite)

    def to_bytes(self) -> bytes:
        """The result bundle's bytes (sets :attr:`bundle_fingerprint`; the same bytes every time)."""
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
        bundle = _iocz.encode_bundle("result", json.dumps(meta), sections)
        self.bundle_fingerprint = bundle.fingerprint
        return bundle.data

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Result:
        """Read and validate a result bundle (counts are checked when decrypted)."""
        what = str(path)
        bundle = _iocz.read_bundle(path, "result")
        meta = check_meta(bundle.meta, "result", what)
        data = bundle.sections
        entries = require(meta, "entries", list, what)
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
        return cls(require(meta, "query", str, what), require(meta, "key", str, what), counts, scan, bundle.fingerprint)

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
            try:
                released = key.decrypt_released(EncryptedValue.from_bytes(c.released))
            except InvalidInputError as e:
                raise FormatError(f"result entries must hold released counts ({e})") from None
            per_ioc, total, bits = released.counts, released.total, released.bits
            full = 2**bits - 1
            base = {"group": c.group, "type": ms["type"], "column": c.column}
            # None: rows with several candidates whose total the company did not count (opt-in);
            # with one IOC in the set, the rows matching any IOC are that IOC's rows.
            if total is None and len(per_ioc) == 1:
                total = next(iter(per_ioc.values()))
            totals.append({**base, "rows_matching_any": total, "saturated": total is not None and total >= full})
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
            f"Result({self.bundle_fingerprint or 'unsaved'} for query {self.query}, key {self.key_fingerprint}: "
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
