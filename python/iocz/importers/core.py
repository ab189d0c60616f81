"""What every importer shares: IOC types, the import report, type resolution and refanging.

Every importer returns an :class:`ImportReport`: the IOCs it understood (type, value, label,
source), every item it did not import with where it was and why (:class:`Skipped`), and notes on
items it imported but changed or narrowed (:class:`Note`: refanged, a URL counted as its host,
terms of a STIX ``AND`` dropped, …). Nothing is dropped or changed silently.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from iocz import _iocz
from iocz._iocz import canonical_iocs
from iocz.netaddr import is_ip

if TYPE_CHECKING:
    from iocz._iocz import IocType

#: IOC types a query can hold (one encrypted set per type).
IOC_TYPES = tuple(t for t in _iocz.IOC_TYPES if t != "u256")

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
    **{alias: types[0] for alias, types in _iocz.TYPE_ALIASES.items() if len(types) == 1},
}

#: Reasons of items skipped because their source marks them as not meant for detection (MISP
#: ``to_ids: false``, a revoked or expired STIX indicator) start with this; ``load_iocs(...,
#: include_non_detection=True)`` imports them.
NON_DETECTION = "not for detection"

# Note kinds (the groups of ImportReport.summary_lines()).
NOTE_REFANGED = "defanged value refanged"
NOTE_URL_HOST = "URL counted as its host (path, query or port dropped)"
NOTE_INCLUDED = "imported although not for detection (include_non_detection)"


@dataclass(frozen=True)
class Ioc:
    """One indicator: its iocz type, value as given, label and where it came from."""

    type: str
    value: str
    label: str = ""
    source: str = ""


@dataclass(frozen=True)
class Skipped:
    """An input item that is not imported: where it was, its value, why (``reason``, the same
    text for every item skipped for the same cause) and item-specific ``detail``."""

    where: str
    value: str
    reason: str
    detail: str = ""

    @property
    def group(self) -> str:
        """The reason without what is specific to the item (validation messages quote the
        value and give its length), to group items skipped for the same cause."""
        return re.sub(r"\b\d+ characters\b", "N characters", re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', self.reason))


@dataclass(frozen=True)
class Note:
    """Something done to an imported item that changes or narrows it (``kind``, the same text
    for every item of that kind), with item-specific ``detail``."""

    where: str
    value: str
    kind: str
    detail: str = ""


def _filled(group: str, items: list[Skipped]) -> str:
    """A grouped reason with its ``N characters`` filled in from the items (``got 31 or 40
    characters``)."""
    if "N characters" not in group:
        return group
    found = sorted({int(n) for s in items for n in re.findall(r"\b(\d+) characters\b", s.reason)})
    shown = [str(n) for n in found[:5]] + (["…"] if len(found) > 5 else [])
    return group.replace("N characters", f"{' or '.join(shown) or 'N'} characters", 1)


def _example(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:79] + "…")


@dataclass
class ImportReport:
    """What an import produced: IOCs, every skipped item with its reason, and notes."""

    iocs: list[Ioc] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def extend(self, other: ImportReport) -> None:
        """Append another report's IOCs, skipped items and notes."""
        self.iocs.extend(other.iocs)
        self.skipped.extend(other.skipped)
        self.notes.extend(other.notes)

    def by_type(self) -> dict[str, int]:
        """Number of IOCs per type."""
        out: dict[str, int] = {}
        for ioc in self.iocs:
            out[ioc.type] = out.get(ioc.type, 0) + 1
        return out

    def skipped_by_reason(self) -> dict[str, list[Skipped]]:
        """Skipped items grouped by reason, largest group first."""
        groups: dict[str, list[Skipped]] = {}
        for s in self.skipped:
            groups.setdefault(s.group, []).append(s)
        return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))

    def notes_by_kind(self) -> dict[str, list[Note]]:
        """Notes grouped by kind, largest group first."""
        groups: dict[str, list[Note]] = {}
        for n in self.notes:
            groups.setdefault(n.kind, []).append(n)
        return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))

    def summary(self) -> str:
        """One line: counts per type and skipped items."""
        types = ", ".join(f"{t} {n}" for t, n in sorted(self.by_type().items())) or "none"
        return f"{len(self.iocs)} IOCs ({types}); {len(self.skipped)} skipped"

    def summary_lines(self) -> list[str]:
        """Short, grouped account of what was skipped or changed: one line per skip reason and
        per note kind, with its count and one example (the per-item list is :meth:`detail_lines`)."""
        lines = []
        for reason, items in self.skipped_by_reason().items():
            s = items[0]
            lines.append(f"skipped {len(items)}: {_filled(reason, items)} (e.g. {s.where}: {_example(s.value)})")
        if any(s.reason.startswith(NON_DETECTION) for s in self.skipped):
            lines.append("  (items not for detection are imported with include_non_detection=True)")
        for kind, notes in self.notes_by_kind().items():
            n = notes[0]
            detail = f" {n.detail}" if n.detail else ""
            lines.append(f"note {len(notes)}: {kind} (e.g. {n.where}:{detail})")
        return lines

    def detail_lines(self) -> list[str]:
        """Every skipped item and every note, one line each (for a log file)."""
        lines = []
        for s in self.skipped:
            detail = f" ({s.detail})" if s.detail else ""
            lines.append(f"skipped {s.where}: {s.reason}{detail}: {s.value[:200]!r}")
        for n in self.notes:
            detail = f": {n.detail}" if n.detail else ""
            lines.append(f"note {n.where}: {n.kind}{detail}")
        return lines

    def __repr__(self) -> str:
        return f"ImportReport({self.summary()}, {len(self.notes)} notes)"

    def _repr_html_(self) -> str:
        """Notebook view: IOCs imported per type, skipped items per reason, notes per kind."""
        from iocz.views import html_of

        return html_of(self)


@dataclass(frozen=True)
class Resolved:
    """A value resolved to an iocz type, with notes on what resolution changed."""

    type: str
    value: str
    notes: tuple[tuple[str, str], ...] = ()

    def with_notes(self, notes: Iterable[tuple[str, str]]) -> Resolved:
        return Resolved(self.type, self.value, (*self.notes, *notes))


# Defanging conventions (https://github.com/ioc-fang/ioc_fanger and common practice): schemes
# hxxp / hxxps / fxp, bracketed separators [.] (.) {.} [dot] [:] [://] [/] [@] [at].
_REFANG = [
    (re.compile(r"^\s*(?:h[x]{2}p|h[x]{2}ps|fxp)(?=[\[(]?:)", re.IGNORECASE), None),
    (re.compile(r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}", re.IGNORECASE), "."),
    (re.compile(r"\[\s*:\s*\]|\(\s*:\s*\)"), ":"),
    (re.compile(r"\[(:?/+)\]"), r"\1"),
    (re.compile(r"\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)", re.IGNORECASE), "@"),
]


def _scheme(match: re.Match[str]) -> str:
    word = match.group(0).strip().lower()
    return {"hxxp": "http", "hxxps": "https", "fxp": "ftp"}[word]


def refang(value: str) -> str:
    """Undo common defanging: ``hxxp[:]//evil[.]example[/]x`` → ``http://evil.example/x``,
    ``1.2.3[.]4``, ``evil(.)com``, ``evil[dot]com``, ``user[@]evil.com``."""
    out = value
    for pattern, replacement in _REFANG:
        out = pattern.sub(_scheme if replacement is None else replacement, out)
    return out


def url_host(url: str) -> str | None:
    """The host of a URL (with or without a scheme), without port or brackets."""
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def _url_drops_something(url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        port = parts.port
    except ValueError:
        return False
    return parts.path not in ("", "/") or bool(parts.query or parts.fragment) or port is not None


def resolve(type_name: str, value: str) -> Resolved | str:
    """Map a type name (iocz, MISP or alias) and value to a :class:`Resolved`, or return the
    reason it is not supported. Domain, IP and URL values are refanged (with a note)."""
    name = _ALIASES.get(type_name.strip().lower())
    value = value.strip()
    if name is None:
        return f"unsupported IOC type {type_name!r}"
    notes: list[tuple[str, str]] = []
    if name in ("url", "ip", "domain", "ipv4", "ipv6"):
        fanged = refang(value).strip()
        if fanged != value:
            notes.append((NOTE_REFANGED, f"{value!r} → {fanged!r}"))
            value = fanged
    if name == "url":
        host = url_host(value)
        if host is None:
            return "URL without a host name"
        if _url_drops_something(value):
            notes.append((NOTE_URL_HOST, f"{value!r} → {host!r}"))
        inner = resolve("ip", host) if is_ip(host) else Resolved("domain", host)
        return inner if isinstance(inner, str) else inner.with_notes(notes)
    if name == "ip":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return "not an IP address or CIDR"
        return Resolved("ipv4" if net.version == 4 else "ipv6", value, tuple(notes))
    return Resolved(name, value, tuple(notes))


_HEX = re.compile(r"^[0-9a-fA-F]+$")
#: Hex length → the hash type a bare value of that length is taken for.
_GUESSED_HASHES = {_iocz.HASH_HEX_DIGITS[t]: t for t in ("md5", "sha1", "sha256")}


def guess(value: str) -> Resolved | str:
    """Type of a bare value: hashes by hex length (32 → md5; imphash needs an explicit type),
    IPs and CIDRs, URLs (their host), otherwise a domain if it looks like one. Defanged values
    are refanged first."""
    v = value.strip()
    if _HEX.match(v) and len(v) in _GUESSED_HASHES:
        return Resolved(_GUESSED_HASHES[len(v)], v)
    fanged = refang(v).strip()
    notes = [(NOTE_REFANGED, f"{v!r} → {fanged!r}")] if fanged != v else []
    if "://" in fanged:
        r = resolve("url", fanged)
    else:
        r = resolve("ip", fanged)
        if isinstance(r, str) and "." in fanged and not any(c.isspace() or c in "/\\:@" for c in fanged):
            r = Resolved("domain", fanged)
    if isinstance(r, str):
        return "type not recognised (give the type explicitly)" if "://" not in fanged else r
    return Resolved(r.type, r.value, (*notes, *r.notes))


def is_false_flag(value: Any) -> bool:
    """Whether a MISP-style boolean (``false``, ``0``, ``"0"``, ``"false"``) is false; absent
    (``None``) is not false."""
    if isinstance(value, str):
        return value.strip().lower() in ("0", "false", "no", "n", "f")
    return value is False or (isinstance(value, int) and value == 0)


def add(
    report: ImportReport,
    resolved: Resolved | str,
    raw: str,
    label: str,
    where: str,
    notes: Iterable[tuple[str, str]] = (),
) -> None:
    """Record a resolved IOC (and its notes) or, for a reason, a skipped item."""
    if isinstance(resolved, str):
        report.skipped.append(Skipped(where, raw, resolved))
        return
    report.iocs.append(Ioc(resolved.type, resolved.value, label, where))
    for kind, detail in (*resolved.notes, *notes):
        report.notes.append(Note(where, raw, kind, detail))


def validate(report: ImportReport, *, case_sensitive: bool = False) -> ImportReport:
    """Keep only IOCs the encryption accepts; move the others to ``skipped`` with the reason."""
    out = ImportReport(skipped=list(report.skipped), notes=list(report.notes))
    for ioc_type in sorted({i.type for i in report.iocs}):
        group = [i for i in report.iocs if i.type == ioc_type]
        checked = canonical_iocs([i.value for i in group], cast("IocType", ioc_type), case_sensitive)
        for ioc, c in zip(group, checked, strict=True):
            if c.error is None:
                out.iocs.append(ioc)
            else:
                out.skipped.append(Skipped(ioc.source, ioc.value, c.error))
    return out
