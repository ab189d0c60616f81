"""STIX 2.1 and 2.0 bundles: the indicators with STIX patterns, parsed with ``stix2``.

The bundle (or a single object, or a list of objects) is walked for indicators; each one's
pattern gives IOCs as :mod:`iocz.importers.stix_pattern` describes (an OR of conjunctions, each
giving IOCs when its terms identify one observable, refused with the reason otherwise). Labels
come from the indicator's name, description or labels, else the report or grouping that refers
to it; observed data and cyber observables are counted in a note, not imported.

Revoked indicators and those past ``valid_until`` are not for detection: skipped and reported
unless ``include_non_detection``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from iocz.importers.core import (
    NON_DETECTION,
    NOTE_INCLUDED,
    ImportReport,
    Note,
    Skipped,
    add,
)
from iocz.importers.stix_pattern import Outcome, conjunction, dnf, parse_pattern
from iocz.importers.text import MISP_TO_IDS_FALSE

REVOKED = f"{NON_DETECTION}: STIX indicator is revoked"
EXPIRED = f"{NON_DETECTION}: STIX indicator has expired (valid_until is past)"

NOTE_OBSERVATIONS = "STIX observations not imported (observed-data and cyber observables are not indicators)"

_OBSERVABLES = {
    "observed-data",
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
}


def _label(indicator: Any, containers: dict[str, str]) -> str:
    """The indicator's name, else its description's first line, else its labels (not MISP's
    own ``misp:…`` tags), else the name of a report or grouping that refers to it."""
    name = str(indicator.get("name") or "")
    if name:
        return name
    description = str(indicator.get("description") or "").strip().splitlines()
    if description:
        return description[0][:120]
    labels = ", ".join(str(x) for x in indicator.get("labels") or [] if not str(x).startswith("misp:"))
    return labels or containers.get(str(indicator.get("id")), "")


def _containers(objects: list[Any]) -> dict[str, str]:
    """Object id → name of the report or grouping (MISP: the event) that refers to it."""
    out: dict[str, str] = {}
    for o in objects:
        if isinstance(o, dict) and o.get("type") in ("report", "grouping") and o.get("name"):
            refs = o.get("object_refs")
            for ref in refs if isinstance(refs, list) else []:
                out.setdefault(str(ref), str(o["name"]))
    return out


def _not_for_detection(indicator: Any, now: datetime) -> tuple[str, str] | None:
    if indicator.get("revoked"):
        return REVOKED, ""
    valid_until = indicator.get("valid_until")
    if valid_until is not None and valid_until <= now:
        return EXPIRED, f"valid_until {valid_until}"
    if 'misp:to_ids="False"' in (indicator.get("labels") or []):
        return MISP_TO_IDS_FALSE, 'label misp:to_ids="False"'
    return None


def _version(raw: dict[str, Any], bundle_version: str | None) -> str:
    """An object's STIX version: its own spec_version (2.1 objects carry one), else the
    bundle's (2.0 bundles carry one), else 2.1 if it has a 2.1-only property, else 2.0."""
    own = raw.get("spec_version")
    if own is not None:
        return str(own)
    if bundle_version is not None:
        return bundle_version
    return "2.1" if "pattern_type" in raw else "2.0"


def _objects(data: Any, source: str) -> tuple[list[Any], str | None]:
    if isinstance(data, dict) and data.get("type") == "bundle":
        objects = data.get("objects", [])
        version = data.get("spec_version")
        if not isinstance(objects, list):
            raise ValueError(f"{source}: STIX bundle 'objects' is not a list")
        return objects, None if version is None else str(version)
    if isinstance(data, dict):
        return [data], None
    if isinstance(data, list):
        return data, None
    raise ValueError(f"{source}: not a STIX bundle, object or list of objects")


def _indicator(
    report: ImportReport,
    raw: dict[str, Any],
    where: str,
    version: str,
    include_non_detection: bool,
    now: datetime,
    containers: dict[str, str],
) -> None:
    import stix2

    pattern = str(raw.get("pattern", ""))
    if version not in ("2.0", "2.1"):
        report.skipped.append(Skipped(where, pattern, f"STIX spec_version {version!r} is not supported (2.0, 2.1 are)"))
        return
    try:
        indicator = stix2.parse(raw, allow_custom=True, version=version)
    except Exception as e:  # stix2 raises many exception types for invalid objects
        reason = f"invalid STIX {version} indicator (rejected by stix2)"
        report.skipped.append(Skipped(where, pattern, reason, str(e).splitlines()[0]))
        return
    if indicator.get("pattern_type", "stix") != "stix":
        report.skipped.append(Skipped(where, pattern, f"pattern_type {indicator.pattern_type!r} is not supported"))
        return
    try:
        tree = parse_pattern(pattern, version)
    except Exception as e:  # the pattern grammar raises its own exception types
        report.skipped.append(Skipped(where, pattern, "invalid STIX pattern", str(e).splitlines()[0]))
        return
    alternatives = dnf(tree)
    if isinstance(alternatives, str):
        report.skipped.append(Skipped(where, pattern, alternatives))
        return
    outcomes = [conjunction(leaves) for leaves in alternatives]
    flag = _not_for_detection(indicator, now)
    included: list[tuple[str, str]] = []
    if flag is not None and any(isinstance(o, Outcome) for o in outcomes):
        if not include_non_detection:
            report.skipped.append(Skipped(where, pattern, *flag))
            return
        why = flag[0].removeprefix(f"{NON_DETECTION}: ")
        included.append((NOTE_INCLUDED, f"{why} ({flag[1]})" if flag[1] else why))
    label = _label(indicator, containers)
    seen: set[tuple[str, str]] = set()
    for outcome in outcomes:
        if not isinstance(outcome, Outcome):
            report.skipped.append(Skipped(where, pattern, *outcome))
            continue
        notes = [*included, *outcome.notes]
        for r in outcome.iocs:
            if (r.type, r.value) in seen:
                continue
            seen.add((r.type, r.value))
            add(report, r, pattern, label, where, notes)
            notes = included = []  # an indicator's and a conjunction's notes once, with its first IOC


def read_stix(
    data: Any, source: str, *, include_non_detection: bool = False, now: datetime | None = None
) -> ImportReport:
    """STIX 2.1 or 2.0 bundle (or a single indicator / list of objects), parsed with ``stix2``:
    indicators whose STIX patterns give countable IOCs (see the module documentation).
    Revoked and expired (``valid_until`` before ``now``, default the current UTC time)
    indicators are skipped as not for detection unless ``include_non_detection``."""
    now = now or datetime.now(UTC)
    objects, bundle_version = _objects(data, source)
    report = ImportReport()
    observations: Counter[str] = Counter()
    containers = _containers(objects)
    for i, raw in enumerate(objects):
        kind = raw.get("type") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or kind != "indicator":
            if isinstance(kind, str) and kind in _OBSERVABLES:
                observations[str(kind)] += 1
            continue
        where = f"{source}:{raw.get('id', f'objects[{i}]')}"
        _indicator(report, raw, where, _version(raw, bundle_version), include_non_detection, now, containers)
    seen = ", ".join(f"{k} {n}" for k, n in observations.most_common())
    if not report.iocs and not report.skipped:
        found = f"; it holds {seen}" if seen else ""
        raise ValueError(f"{source}: no IOCs found (read as STIX: no indicator among {len(objects)} object(s){found})")
    if observations:
        report.notes.append(Note(source, "", NOTE_OBSERVATIONS, seen))
    return report
