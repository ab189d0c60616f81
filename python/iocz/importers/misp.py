"""MISP JSON: events (``{"Event": …}``, lists of them, feeds), single attributes and objects,
and every form a REST ``restSearch`` returns (``{"response": [{"Event": …}]}``,
``{"response": {"Attribute": […]}}``, ``{"response": [{"Object": …}]}``).

Attributes with ``to_ids`` false (context, references) are not for detection: skipped and
reported unless ``include_non_detection``. Deleted attributes are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iocz.importers.core import (
    NOTE_INCLUDED,
    ImportReport,
    Resolved,
    Skipped,
    add,
    is_false_flag,
    resolve,
)
from iocz.importers.text import MISP_TO_IDS_FALSE

# MISP composite types "a|b": the type of each part that is an IOC (None: not an IOC, e.g. a
# file name or a port), and whether the IOC part is the last one (file names may hold "|").
_COMPOSITE: dict[str, tuple[str | None, str | None]] = {
    "filename|md5": (None, "md5"),
    "filename|sha1": (None, "sha1"),
    "filename|sha256": (None, "sha256"),
    "filename|imphash": (None, "imphash"),
    "malware-sample": (None, "md5"),
    "ip-dst|port": ("ip", None),
    "ip-src|port": ("ip", None),
    "domain|ip": ("domain", "ip"),
    "hostname|port": ("domain", None),
}

_MAX_DEPTH = 12


@dataclass
class _Walk:
    """Attributes found in a MISP document, with where they were and their context."""

    attributes: list[tuple[str, Any, str]] = field(default_factory=list)  # where, attribute, event info
    events: int = 0
    objects: int = 0
    containers: int = 0
    responses: int = 0


def _is_attribute(node: dict[str, Any]) -> bool:
    return "type" in node and "value" in node and not isinstance(node.get("Attribute"), list)


def _event_info(node: dict[str, Any], default: str) -> str:
    event = node.get("Event")
    if isinstance(event, dict) and event.get("info"):
        return str(event["info"])
    return default


def _container(node: dict[str, Any], path: str, info: str, walk: _Walk, depth: int) -> None:
    """An event or object body: its attributes and objects."""
    walk.containers += 1
    if "info" in node:
        info = str(node.get("info") or "")
    attributes = node.get("Attribute")
    if isinstance(attributes, dict):
        attributes = [attributes]
    for i, attr in enumerate(attributes if isinstance(attributes, list) else []):
        walk.attributes.append(
            (f"{path}Attribute[{i}]", attr, _event_info(attr, info) if isinstance(attr, dict) else info)
        )
    objects = node.get("Object")
    if isinstance(objects, dict):
        objects = [objects]
    for j, obj in enumerate(objects if isinstance(objects, list) else []):
        if isinstance(obj, dict) and depth < _MAX_DEPTH:
            walk.objects += 1
            _container(obj, f"{path}Object[{j}].", _event_info(obj, info), walk, depth + 1)


def _walk(node: Any, path: str, info: str, walk: _Walk, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, f"{path}[{i}]", info, walk, depth + 1)
        return
    if not isinstance(node, dict):
        return
    dot = f"{path}." if path else ""
    if _is_attribute(node):  # a bare attribute (a list of them, or an attribute search result)
        walk.attributes.append((path or "Attribute", node, _event_info(node, info)))
    elif "response" in node:
        walk.responses += 1
        _walk(node["response"], f"{dot}response", info, walk, depth + 1)
    elif isinstance(node.get("Event"), dict | list):
        events = node["Event"] if isinstance(node["Event"], list) else [node["Event"]]
        for e, event in enumerate(events):
            if isinstance(event, dict):
                walk.events += 1
                at = f"{dot}Event[{e}]." if isinstance(node["Event"], list) else f"{dot}Event."
                _container(event, at, info, walk, depth + 1)
    elif isinstance(node.get("Object"), dict) and "Attribute" not in node:  # {"Object": {...}}
        walk.objects += 1
        obj = node["Object"]
        _container(obj, f"{dot}Object.", _event_info(obj, info), walk, depth + 1)
    elif isinstance(node.get("Attribute"), dict) and "Object" not in node:  # {"Attribute": {...}}
        _walk(node["Attribute"], f"{dot}Attribute", info, walk, depth + 1)
    elif isinstance(node.get("Attribute"), list) or isinstance(node.get("Object"), list):
        if "info" in node:
            walk.events += 1
        elif "name" in node:
            walk.objects += 1
        _container(node, dot, info, walk, depth + 1)


def _is_true_flag(value: Any) -> bool:
    return value is True or value in (1, "1", "true", "True")


def _parts(type_name: str, value: str) -> list[tuple[str, str]] | str:
    """The IOC parts of an attribute as ``(type, value)``, or why it has none."""
    if type_name not in _COMPOSITE:
        return [(type_name, value)]
    if "|" not in value:
        return f"{type_name} needs two parts separated by '|'"
    first, second = value.rsplit("|", 1) if _COMPOSITE[type_name][0] is None else value.split("|", 1)
    return [(t, part) for t, part in zip(_COMPOSITE[type_name], (first, second), strict=True) if t is not None]


def _attribute(report: ImportReport, attr: Any, where: str, info: str, include_non_detection: bool) -> None:
    if not isinstance(attr, dict):
        report.skipped.append(Skipped(where, str(attr)[:120], "MISP attribute is not an object"))
        return
    type_name = str(attr.get("type") or "")
    value = str(attr.get("value") or "")
    if _is_true_flag(attr.get("deleted")):
        report.skipped.append(Skipped(where, value, "MISP attribute is marked deleted"))
        return
    label = str(attr.get("comment") or "") or info
    parts = _parts(type_name, value)
    if isinstance(parts, str):
        report.skipped.append(Skipped(where, value, parts))
        return
    resolved: list[Resolved | str] = [resolve(t, v) for t, v in parts]
    notes = []
    if is_false_flag(attr.get("to_ids")) and any(not isinstance(r, str) for r in resolved):
        if not include_non_detection:
            report.skipped.append(Skipped(where, value, MISP_TO_IDS_FALSE, f"type {type_name}"))
            return
        notes.append((NOTE_INCLUDED, "MISP to_ids is false"))
    for r in resolved:
        add(report, r, value, label, where, notes)


def read_misp(data: Any, source: str, *, include_non_detection: bool = False) -> ImportReport:
    """MISP JSON: one event, a list of events, a single attribute or object, or a REST search
    ``response`` with events, attributes or objects. Every attribute whose type iocz supports
    (in events and in objects); composite types (``filename|sha256``, ``malware-sample``,
    ``domain|ip``, ``ip-dst|port``) give their IOC parts. Attributes with ``to_ids`` false are
    skipped as not for detection unless ``include_non_detection``."""
    walk = _Walk()
    _walk(data, "", "", walk, 0)
    if not walk.attributes and not walk.containers and walk.responses:
        raise ValueError(f"{source}: no IOCs found (read as MISP JSON: a REST search response with no results)")
    if not walk.attributes and not walk.containers:
        raise ValueError(
            f"{source}: no MISP event, attribute or object found "
            "(expected 'Event', 'Attribute', 'Object' or a REST 'response' holding them)"
        )
    report = ImportReport()
    for where, attr, info in walk.attributes:
        _attribute(report, attr, f"{source}:{where}", info, include_non_detection)
    if not report.iocs and not report.skipped:
        raise ValueError(
            f"{source}: no IOCs found (read as MISP JSON: {walk.events} event(s), {walk.objects} object(s), "
            f"{len(walk.attributes)} attribute(s))"
        )
    return report
