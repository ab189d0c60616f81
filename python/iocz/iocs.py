"""IOC import: STIX 2.1 bundles, MISP event JSON, CSV (type, value[, label]) and plain lists.

Every importer returns an :class:`ImportReport`: the IOCs it understood (type, value, label,
source) and, for everything else, where it was and why it was skipped. Nothing is dropped
silently. Values are checked with the same canonicalisation the encryption uses, so a query
never fails half-way on a malformed IOC.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from iocz._iocz import canonical_iocs

IocFormat = Literal["auto", "stix", "misp", "csv", "list"]

#: IOC types a query can hold (one encrypted set per type).
IOC_TYPES = ("sha256", "sha1", "md5", "imphash", "domain", "ipv4", "ipv6", "substring")

#: Largest IOC file read.
MAX_IOC_FILE_BYTES = 256 << 20

# Type names used by MISP, CSV exports and people, mapped to iocz types ("ip" and "url" are
# resolved per value: IPv4 or IPv6; the URL's host).
_ALIASES = {
    **{t: t for t in IOC_TYPES},
    "sha-256": "sha256",
    "sha-1": "sha1",
    "hostname": "domain",
    "domain-name": "domain",
    "fqdn": "domain",
    "ip": "ip",
    "ip-dst": "ip",
    "ip-src": "ip",
    "ipv4-addr": "ipv4",
    "ipv6-addr": "ipv6",
    "url": "url",
    "uri": "url",
    "link": "url",
    "command-line": "substring",
    "command_line": "substring",
    "cmdline": "substring",
}


@dataclass(frozen=True)
class Ioc:
    """One indicator: its iocz type, value as given, label and where it came from."""

    type: str
    value: str
    label: str = ""
    source: str = ""


@dataclass(frozen=True)
class Skipped:
    """An input item that is not imported, with where it was and why."""

    where: str
    value: str
    reason: str


@dataclass
class ImportReport:
    """What an import produced: IOCs, and every skipped item with its reason."""

    iocs: list[Ioc] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def extend(self, other: ImportReport) -> None:
        """Append another report's IOCs and skipped items."""
        self.iocs.extend(other.iocs)
        self.skipped.extend(other.skipped)

    def by_type(self) -> dict[str, int]:
        """Number of IOCs per type."""
        out: dict[str, int] = {}
        for ioc in self.iocs:
            out[ioc.type] = out.get(ioc.type, 0) + 1
        return out

    def summary(self) -> str:
        """One line: counts per type and skipped items."""
        types = ", ".join(f"{t} {n}" for t, n in sorted(self.by_type().items())) or "none"
        return f"{len(self.iocs)} IOCs ({types}); {len(self.skipped)} skipped"


def resolve_type(type_name: str, value: str) -> tuple[str, str] | str:
    """Map a type name (iocz, MISP or alias) and value to ``(iocz type, value)``, or return
    the reason it is not supported."""
    name = _ALIASES.get(type_name.strip().lower())
    value = value.strip()
    if name is None:
        return f"unsupported IOC type {type_name!r}"
    if name == "url":
        host = url_host(value)
        if host is None:
            return "URL without a host name"
        return resolve_type("ip", host) if _is_ip(host) else ("domain", host)
    if name == "ip":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return "not an IP address or CIDR"
        return ("ipv4" if net.version == 4 else "ipv6", value)
    return (name, value)


def url_host(url: str) -> str | None:
    """The host of a URL (with or without a scheme), without port or brackets."""
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_HEX = re.compile(r"^[0-9a-fA-F]+$")


def guess_type(value: str) -> tuple[str, str] | str:
    """Type of a bare value: hashes by hex length (32 → md5; imphash needs an explicit type),
    IPs and CIDRs, URLs (their host), otherwise a domain if it looks like one."""
    v = value.strip()
    if _HEX.match(v) and len(v) in (32, 40, 64):
        return ({32: "md5", 40: "sha1", 64: "sha256"}[len(v)], v)
    if "://" in v:
        return resolve_type("url", v)
    ip = resolve_type("ip", v)
    if isinstance(ip, tuple):
        return ip
    if "." in v and not any(c.isspace() or c in "/\\:@" for c in v):
        return ("domain", v)
    return "type not recognised (give the type explicitly)"


def validate(report: ImportReport, *, case_sensitive: bool = False) -> ImportReport:
    """Keep only IOCs the encryption accepts; move the others to ``skipped`` with the reason."""
    out = ImportReport(skipped=list(report.skipped))
    for ioc_type in sorted({i.type for i in report.iocs}):
        group = [i for i in report.iocs if i.type == ioc_type]
        checked = canonical_iocs([i.value for i in group], ioc_type, case_sensitive)
        for ioc, (_, error) in zip(group, checked, strict=True):
            if error is None:
                out.iocs.append(ioc)
            else:
                out.skipped.append(Skipped(ioc.source, ioc.value, error))
    return out


def _add(report: ImportReport, resolved: tuple[str, str] | str, raw: str, label: str, where: str) -> None:
    if isinstance(resolved, str):
        report.skipped.append(Skipped(where, raw, resolved))
    else:
        report.iocs.append(Ioc(resolved[0], resolved[1], label, where))


def read_list(text: str, source: str, ioc_type: str | None = None) -> ImportReport:
    """One IOC per line (``#`` comments and blank lines ignored); type given or guessed."""
    report = ImportReport()
    for n, line in enumerate(text.splitlines(), 1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        resolved = resolve_type(ioc_type, value) if ioc_type else guess_type(value)
        _add(report, resolved, value, "", f"{source}:{n}")
    return report


def read_csv(text: str, source: str, ioc_type: str | None = None) -> ImportReport:
    """CSV with a header holding ``value`` and ``type`` (or an explicit type), optional ``label``."""
    try:
        return _read_csv(text, source, ioc_type)
    except csv.Error as e:
        raise ValueError(f"{source}: invalid CSV: {e}") from None


def _read_csv(text: str, source: str, ioc_type: str | None) -> ImportReport:
    report = ImportReport()
    rows = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower(): f for f in rows.fieldnames or []}
    if "value" not in fields or ("type" not in fields and ioc_type is None):
        raise ValueError(f"{source}: a CSV of IOCs needs 'type' and 'value' columns")
    for n, row in enumerate(rows, 2):
        value = (row.get(fields["value"]) or "").strip()
        type_name = ioc_type or (row.get(fields["type"]) or "").strip()
        label = (row.get(fields["label"]) or "").strip() if "label" in fields else ""
        if not value:
            report.skipped.append(Skipped(f"{source}:{n}", "", "empty value"))
            continue
        _add(report, resolve_type(type_name, value), value, label, f"{source}:{n}")
    return report


# MISP composite types "a|b": which parts are IOCs, and their types.
_MISP_COMPOSITE = {
    "filename|md5": (None, "md5"),
    "filename|sha1": (None, "sha1"),
    "filename|sha256": (None, "sha256"),
    "filename|imphash": (None, "imphash"),
    "ip-dst|port": ("ip", None),
    "ip-src|port": ("ip", None),
    "domain|ip": ("domain", "ip"),
    "hostname|port": ("domain", None),
}


def _misp_events(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _misp_events(item, depth + 1)
    elif isinstance(data, dict):
        if isinstance(data.get("Event"), dict):
            yield data["Event"]
        elif "response" in data:
            yield from _misp_events(data["response"], depth + 1)
        elif "Attribute" in data or "Object" in data:
            yield data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _misp_attributes(event: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for i, attr in enumerate(_list(event.get("Attribute"))):
        yield f"Attribute[{i}]", attr
    for j, obj in enumerate(_list(event.get("Object"))):
        attrs = _list(obj.get("Attribute")) if isinstance(obj, dict) else []
        for i, attr in enumerate(attrs):
            yield f"Object[{j}].Attribute[{i}]", attr


def read_misp(data: Any, source: str) -> ImportReport:
    """MISP event JSON (one event, a list, or a REST ``response``): every attribute whose type
    iocz supports; composite types (``filename|sha256``, ``domain|ip``, ``ip-dst|port``) give
    their IOC parts."""
    report = ImportReport()
    events = list(_misp_events(data))
    if not events:
        raise ValueError(f"{source}: no MISP event found (expected an 'Event' object)")
    for e, event in enumerate(events):
        info = str(event.get("info") or "")
        for where, attr in _misp_attributes(event):
            where = f"{source}:Event[{e}].{where}"
            if not isinstance(attr, dict):
                report.skipped.append(Skipped(where, str(attr)[:120], "attribute is not an object"))
                continue
            type_name = str(attr.get("type") or "")
            value = str(attr.get("value") or "")
            label = str(attr.get("comment") or "") or info
            if type_name in _MISP_COMPOSITE:
                parts = value.split("|")
                if len(parts) != 2:
                    report.skipped.append(Skipped(where, value, f"{type_name} needs two parts"))
                    continue
                for part_type, part in zip(_MISP_COMPOSITE[type_name], parts, strict=True):
                    if part_type is not None:
                        _add(report, resolve_type(part_type, part), value, label, where)
                continue
            _add(report, resolve_type(type_name, value), value, label, where)
    return report


# STIX object paths → iocz types.
_STIX_HASHES = {
    "md5": "md5",
    "sha-1": "sha1",
    "sha1": "sha1",
    "sha-256": "sha256",
    "sha256": "sha256",
}


def _stix_path(comparison: Any) -> tuple[str, list[str]]:
    lhs = comparison.lhs
    parts = [str(getattr(p, "property_name", "")) for p in lhs.property_path]
    return str(lhs.object_type_name), parts


def _stix_leaf(comparison: Any) -> tuple[str, str] | str:
    """One comparison of a STIX pattern as ``(iocz type, value)`` or a reason."""
    kind = type(comparison).__name__
    if getattr(comparison, "negated", False):
        return "negated comparisons cannot be counted"
    obj, path = _stix_path(comparison)
    value = getattr(comparison.rhs, "value", None)
    if not isinstance(value, str):
        return f"{obj}:{'.'.join(path)} compares with a non-string constant"
    where = f"{obj}:{'.'.join(path)} {getattr(comparison, 'operator', kind)}"
    if kind == "LikeComparisonExpression":
        inner = value[1:-1] if len(value) > 2 and value[0] == value[-1] == "%" else None
        if obj == "process" and path == ["command_line"] and inner and not re.search(r"[%_]", inner):
            return ("substring", inner)
        return f"{where}: only process:command_line LIKE '%fragment%' is supported"
    if kind == "IsSubsetComparisonExpression" and obj in ("ipv4-addr", "ipv6-addr") and path == ["value"]:
        return resolve_type(obj, value)
    if kind != "EqualityComparisonExpression":
        return f"{where}: operator not supported (=, LIKE '%…%' and ISSUBSET are)"
    if obj == "file" and len(path) == 2 and path[0] == "hashes":
        t = _STIX_HASHES.get(path[1].lower())
        return (t, value) if t else f"file hash {path[1]!r} is not supported"
    if obj == "file" and path[-1:] == ["imphash"]:
        return ("imphash", value)
    if obj in ("domain-name", "ipv4-addr", "ipv6-addr", "url") and path == ["value"]:
        return resolve_type(obj, value)
    return f"{where}: object path not supported"


def _stix_comparisons(node: Any) -> list[Any] | str:
    """The comparisons of an OR-only pattern tree, or why the pattern cannot be split."""
    kind = type(node).__name__
    if kind in ("OrObservationExpression", "OrBooleanExpression"):
        out: list[Any] = []
        for operand in node.operands:
            sub = _stix_comparisons(operand)
            if isinstance(sub, str):
                return sub
            out.extend(sub)
        return out
    if kind == "ObservationExpression":
        return _stix_comparisons(node.operand)
    if kind == "ParentheticalExpression":
        return _stix_comparisons(node.expression)
    if kind.endswith("ComparisonExpression"):
        return [node]
    if kind.startswith("And") or kind.startswith("FollowedBy"):
        return "AND / FOLLOWEDBY patterns cannot be counted per IOC"
    if kind.startswith("Qualified"):
        return "qualified patterns (WITHIN, REPEATS, START/STOP) are not supported"
    return f"pattern element {kind} is not supported"


def read_stix(data: Any, source: str) -> ImportReport:
    """STIX 2.1 bundle (or a single indicator / list of objects), parsed with ``stix2``:
    indicators whose STIX patterns are ORs of supported comparisons (file hashes, domain-name,
    ipv4/ipv6-addr, url host, process:command_line LIKE '%…%')."""
    import stix2
    from stix2.pattern_visitor import create_pattern_object

    report = ImportReport()
    objects = data.get("objects", [data]) if isinstance(data, dict) else data
    if not isinstance(objects, list):
        raise ValueError(f"{source}: not a STIX 2.1 bundle")
    for i, raw in enumerate(objects):
        if not isinstance(raw, dict) or raw.get("type") != "indicator":
            continue
        where = f"{source}:{raw.get('id', f'objects[{i}]')}"
        pattern = str(raw.get("pattern", ""))
        try:
            indicator = stix2.parse(raw, allow_custom=True, version="2.1")
        except Exception as e:  # stix2 raises many exception types for invalid objects
            report.skipped.append(Skipped(where, pattern, f"invalid STIX indicator: {e}".splitlines()[0]))
            continue
        label = str(indicator.get("name") or "") or ", ".join(indicator.get("labels") or [])
        if indicator.get("pattern_type", "stix") != "stix":
            report.skipped.append(Skipped(where, pattern, f"pattern_type {indicator.pattern_type!r} is not supported"))
            continue
        try:
            tree = create_pattern_object(pattern, version="2.1")
        except Exception as e:  # the pattern grammar raises its own exception types
            report.skipped.append(Skipped(where, pattern, f"invalid STIX pattern: {e}".splitlines()[0]))
            continue
        comparisons = _stix_comparisons(tree)
        if isinstance(comparisons, str):
            report.skipped.append(Skipped(where, pattern, comparisons))
            continue
        for comparison in comparisons:
            _add(report, _stix_leaf(comparison), pattern, label, where)
    return report


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


def load_iocs(
    paths: Iterable[str | Path],
    *,
    format: IocFormat = "auto",
    ioc_type: str | None = None,
    case_sensitive: bool = False,
) -> ImportReport:
    """Import IOC files (format detected per file unless given) and validate every value.
    ``ioc_type`` forces the type of plain lists and CSVs without a type column."""
    report = ImportReport()
    for path in map(Path, paths):
        if path.stat().st_size > MAX_IOC_FILE_BYTES:
            raise ValueError(f"{path}: larger than the {MAX_IOC_FILE_BYTES >> 20} MiB limit")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        fmt = detect_format(path, text) if format == "auto" else format
        name = path.name
        if fmt in ("stix", "misp"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: invalid JSON: {e}") from None
            report.extend(read_stix(data, name) if fmt == "stix" else read_misp(data, name))
        elif fmt == "csv":
            report.extend(read_csv(text, name, ioc_type))
        else:
            report.extend(read_list(text, name, ioc_type))
    return validate(report, case_sensitive=case_sensitive)
