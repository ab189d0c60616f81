"""IOC import: STIX 2.1 / 2.0 bundles, MISP JSON (events, attributes, objects, REST search
responses), CSV (type, value[, label]) and plain lists.

Every importer returns an :class:`ImportReport`: the IOCs it understood (type, value, label,
source); for everything else, where it was and why it was skipped; and notes on what was
changed or narrowed (refanged values, URLs counted as their host, STIX ``AND`` terms dropped).
Nothing is dropped silently, and an input that yields nothing at all is an error. Values are
checked with the same canonicalisation the encryption uses, so a query never fails half-way on
a malformed IOC. The readers live in :mod:`iocz.importers`; this module is the public face.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from iocz.importers.core import (
    IOC_TYPES,
    NON_DETECTION,
    ImportReport,
    Ioc,
    Note,
    Skipped,
    refang,
    url_host,
    validate,
)
from iocz.importers.misp import read_misp
from iocz.importers.stix import read_stix
from iocz.importers.text import read_csv, read_list

__all__ = [
    "IOC_TYPES",
    "MAX_IOC_FILE_BYTES",
    "NON_DETECTION",
    "ImportReport",
    "Ioc",
    "IocFormat",
    "Note",
    "Skipped",
    "detect_format",
    "load_iocs",
    "read_csv",
    "read_list",
    "read_misp",
    "read_stix",
    "refang",
    "url_host",
    "validate",
]

IocFormat = Literal["auto", "stix", "misp", "csv", "list"]

#: Largest IOC file read.
MAX_IOC_FILE_BYTES = 256 << 20


def detect_format(path: Path, text: str) -> IocFormat:
    """Format from the content (JSON: STIX if it has a STIX ``type``, else MISP) or extension."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return "list"
        items = data if isinstance(data, list) else [data]
        if any(isinstance(d, dict) and d.get("type") in ("bundle", "indicator") for d in items):
            return "stix"
        return "misp"
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    return "list"


_FORMAT_NAMES = {"stix": "STIX", "misp": "MISP JSON", "csv": "CSV", "list": "a plain list"}


def load_iocs(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: IocFormat = "auto",
    ioc_type: str | None = None,
    case_sensitive: bool = False,
    include_non_detection: bool = False,
) -> ImportReport:
    """Import IOC files and validate every value.

    ``paths``: one path (``str`` or ``os.PathLike``) or an iterable of them. ``format``: the
    format of every file (default: detected per file from its content, then its extension).
    ``ioc_type`` forces the type of plain lists and CSVs without a type column.
    ``case_sensitive`` keeps the case of values (hashes, domains and IPs are compared without).

    ``include_non_detection``: by default, items their source marks as not meant for
    detection are skipped and reported (reason starting with ``"not for detection"``): MISP
    attributes with ``to_ids`` false (context, references; also in objects and MISP CSV
    exports), revoked STIX indicators and those whose ``valid_until`` has passed (UTC). With
    ``True`` they are imported, each with a note.

    Raises ``ValueError`` for a file that cannot be read or parsed, and for one that yields
    no IOC and no skipped item (nothing recognisable: wrong file or format).
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    report = ImportReport()
    for path in map(Path, items):
        if path.stat().st_size > MAX_IOC_FILE_BYTES:
            raise ValueError(f"{path}: larger than the {MAX_IOC_FILE_BYTES >> 20} MiB limit")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        if text.lstrip().startswith("<"):
            raise ValueError(
                f"{path}: XML (STIX 1.x, OpenIOC?) is not supported: use STIX 2.x JSON, MISP JSON, CSV or a list"
            )
        fmt = detect_format(path, text) if format == "auto" else format
        name = path.name
        if fmt in ("stix", "misp"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: invalid JSON: {e}") from None
            if fmt == "stix":
                part = read_stix(data, name, include_non_detection=include_non_detection)
            else:
                part = read_misp(data, name, include_non_detection=include_non_detection)
        elif fmt == "csv":
            part = read_csv(text, name, ioc_type, include_non_detection=include_non_detection)
        else:
            part = read_list(text, name, ioc_type)
        if not part.iocs and not part.skipped:  # the readers raise first; never a silent empty file
            raise ValueError(f"{path}: no IOCs found (read as {_FORMAT_NAMES.get(fmt, fmt)})")
        report.extend(part)
    return validate(report, case_sensitive=case_sensitive)
