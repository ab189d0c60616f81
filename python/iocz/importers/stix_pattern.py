"""STIX patterns (2.1 and 2.0) as IOCs, parsed with ``stix2-patterns`` through ``stix2``.

A pattern is brought to an OR of conjunctions (``IN`` lists become ORs). Each conjunction gives
IOCs when its terms identify one observable:

* one countable comparison (``file:hashes.*``, PE imphash, ``domain-name:value``,
  ``ipv4-addr`` / ``ipv6-addr`` (``=``, ``ISSUBSET``), ``url:value`` (its host),
  ``network-traffic:dst_ref.value`` / ``src_ref.value``, ``process:command_line LIKE '%…%'``);
* plus terms that only describe it, dropped with a note (``file:name``, ``file:size``, the
  file's other properties, ``network-traffic:dst_ref.type``, ports and protocols, custom
  ``x_…`` properties): MISP's own STIX export writes ``filename|md5``, ``ip-dst``,
  ``hostname|port`` and file objects that way;
* several identifiers of one object are each imported (the MD5, SHA-1 and SHA-256 of one
  file; a domain and the address ``resolves_to_refs`` gives, as MISP's ``domain|ip``).

Conjunctions that need several conditions on one row are refused with the reason: two values
for the same property, a source and a destination address, terms on unrelated objects.
Observation-level ``AND`` / ``FOLLOWEDBY`` and qualifiers are refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from iocz.importers.core import Resolved, resolve

NOTE_DROPPED = "STIX AND: terms that only describe the IOC dropped (the count ignores them)"
NOTE_SPLIT = "STIX AND of identifiers of one object: each imported as its own IOC"

# Hash algorithm names as STIX defines them (hash-algorithm-ov, plus MISP's IMPHASH), matched
# case-insensitively with or without '-' / '_'.
_HASHES = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "IMPHASH": "imphash"}
_PE_EXT = "windows-pebinary-ext"
_MAX_CONJUNCTIONS = 256


def parse_pattern(pattern: str, version: str) -> Any:
    """The pattern's parse tree (``stix2``'s pattern objects); raises on an invalid pattern."""
    from stix2.pattern_visitor import create_pattern_object

    # stix2's hook: classes named <Class>For<suffix> in module_name replace its own.
    return create_pattern_object(
        pattern, module_suffix="Iocz", module_name="iocz.importers._stix_hook", version=version
    )


@dataclass(frozen=True)
class Leaf:
    """One comparison: object type, property path, operator, constant."""

    obj: str
    path: tuple[str, ...]
    op: str
    value: Any
    negated: bool = False

    def __str__(self) -> str:
        value = (
            repr(self.value)
            if not isinstance(self.value, str) or len(self.value) <= 64
            else repr(self.value[:60] + "…")
        )
        return f"{self.obj}:{'.'.join(self.path)} {'NOT ' if self.negated else ''}{self.op} {value}"


def _path(lhs: Any) -> tuple[str, ...]:
    out = []
    for p in lhs.property_path:
        name = str(getattr(p, "property_name", ""))
        index = getattr(p, "index", None)
        out.append(f"{name}[{index}]" if index is not None else name)
    return tuple(out)


def _constant(rhs: Any) -> Any:
    value = getattr(rhs, "value", None)
    if isinstance(value, list):
        return [_constant(v) for v in value]
    return value


def _leaves(comparison: Any) -> list[Leaf]:
    """A comparison as leaves to OR (an ``IN`` list gives one equality per element)."""
    kind = type(comparison).__name__
    obj, path = str(comparison.lhs.object_type_name), _path(comparison.lhs)
    negated = bool(getattr(comparison, "negated", False))
    value = _constant(comparison.rhs)
    if kind == "InComparisonExpression" and not negated and isinstance(value, list):
        return [Leaf(obj, path, "=", v) for v in value]
    op = str(getattr(comparison, "operator", kind))
    return [Leaf(obj, path, op, value, negated)]


def dnf(node: Any) -> list[list[Leaf]] | str:
    """The pattern as an OR of conjunctions of comparisons, or why it cannot be split so."""
    kind = type(node).__name__
    if kind in ("OrObservationExpression", "OrBooleanExpression"):
        out: list[list[Leaf]] = []
        for operand in node.operands:
            sub = dnf(operand)
            if isinstance(sub, str):
                return sub
            out.extend(sub)
        return out
    if kind == "ObservationExpression":
        return dnf(node.operand)
    if kind == "ParentheticalExpression":
        return dnf(node.expression)
    if kind.endswith("ComparisonExpression"):
        return [[leaf] for leaf in _leaves(node)]
    if kind.startswith("AndBooleanExpression"):
        product: list[list[Leaf]] = [[]]
        for operand in node.operands:
            sub = dnf(operand)
            if isinstance(sub, str):
                return sub
            product = [a + b for a in product for b in sub]
            if len(product) > _MAX_CONJUNCTIONS:
                return f"pattern too complex (more than {_MAX_CONJUNCTIONS} alternatives)"
        return product
    if kind.startswith("And") or kind.startswith("FollowedBy"):
        return "AND / FOLLOWEDBY of observations cannot be counted per IOC (several events must be seen)"
    if kind.startswith("Qualified"):
        return "qualified patterns (WITHIN, REPEATS, START/STOP) are not supported"
    return f"pattern element {kind} is not supported"


@dataclass(frozen=True)
class _Countable:
    key: str  # the property it identifies; one value per key in a conjunction
    resolved: Resolved | str  # a reason: the term is on a countable path but cannot be counted


def _countable(leaf: Leaf) -> _Countable | None:
    """The IOC a comparison gives (None: the term is not an IOC, it may only describe one)."""
    obj, path = leaf.obj, leaf.path
    key: str | None = None
    ioc_type = ""
    if obj == "file" and len(path) == 2 and path[0] == "hashes":
        name = re.sub(r"[-_\s]", "", path[1]).upper()
        if name not in _HASHES:
            return _Countable(f"file:hashes.{name}", f"file hash {path[1]!r} is not supported")
        key, ioc_type = f"file:hashes.{name}", _HASHES[name]
    elif obj == "file" and len(path) == 3 and path[0] == "extensions" and path[1].lower() == _PE_EXT:
        if path[2].lower() != "imphash":
            return None
        key, ioc_type = "file:imphash", "imphash"
    elif obj in ("domain-name", "ipv4-addr", "ipv6-addr", "url") and path == ("value",):
        key, ioc_type = f"{obj}:value", obj
    elif obj == "domain-name" and path == ("resolves_to_refs[*]", "value"):
        key, ioc_type = "domain-name:resolves_to_refs[*].value", "ip"
    elif obj == "network-traffic" and path in (("dst_ref", "value"), ("src_ref", "value")):
        key, ioc_type = f"network-traffic:{path[0]}.value", "ip-or-domain"
    elif obj == "process" and path == ("command_line",):
        key, ioc_type = "process:command_line", "substring"
    else:
        return None
    where = f"{obj}:{'.'.join(path)} {leaf.op}"
    if leaf.negated:
        return _Countable(key, "negated comparisons cannot be counted")
    if not isinstance(leaf.value, str):
        return _Countable(key, f"{obj}:{'.'.join(path)} compares with a non-string constant")
    value = leaf.value
    like_only = f"{where}: only process:command_line LIKE '%fragment%' is supported"
    if leaf.op == "LIKE":
        inner = value[1:-1] if len(value) > 2 and value[0] == value[-1] == "%" else None
        if ioc_type == "substring" and inner and not re.search(r"[%_]", inner):
            return _Countable(key, Resolved("substring", inner))
        return _Countable(key, like_only)
    if leaf.op == "ISSUBSET" and obj in ("ipv4-addr", "ipv6-addr"):
        return _Countable(key, resolve(obj, value))
    if leaf.op != "=":
        return _Countable(key, f"{where}: operator not supported (=, IN, LIKE '%…%' and ISSUBSET are)")
    if ioc_type == "substring":
        return _Countable(key, like_only)
    if ioc_type == "ip-or-domain":
        r = resolve("ip", value)
        return _Countable(key, r if not isinstance(r, str) else resolve("domain", value))
    return _Countable(key, resolve(ioc_type, value))


def _describes(leaf: Leaf, anchors: set[str]) -> bool:
    """Whether a non-countable term only describes the observable the countable terms name."""
    if leaf.obj in anchors:
        return True
    # ports and protocols of the connection to a host, domain or address
    return leaf.obj == "network-traffic" and leaf.path[0] in ("dst_port", "src_port", "protocols", "protocols[*]")


@dataclass
class Outcome:
    """The IOCs of one conjunction and the notes on what was dropped or split."""

    iocs: list[Resolved]
    notes: list[tuple[str, str]]


def conjunction(leaves: list[Leaf]) -> Outcome | tuple[str, str]:
    """The IOCs of one conjunction (with notes), or ``(reason, detail)``."""
    terms = [(leaf, _countable(leaf)) for leaf in leaves]
    countable = [(leaf, c.key, c.resolved) for leaf, c in terms if c is not None and isinstance(c.resolved, Resolved)]
    detail = " AND ".join(str(leaf) for leaf in leaves)
    if not countable:
        reasons = [c.resolved for _, c in terms if c is not None and isinstance(c.resolved, str)]
        if reasons:
            return reasons[0], detail if len(leaves) > 1 else ""
        first = leaves[0]
        return f"{first.obj}:{'.'.join(first.path)}: object path not supported", detail if len(leaves) > 1 else ""
    anchors = {leaf.obj for leaf, _, _ in countable}
    if len(anchors) > 1:
        return f"AND of {' and '.join(sorted(anchors))} terms needs both on one row (each IOC is counted alone)", detail
    values: dict[str, set[str]] = {}
    for _, key, resolved in countable:
        values.setdefault(key, set()).add(resolved.value)
    for key, vals in values.items():
        if len(vals) > 1:
            return f"AND gives {key} {len(vals)} different values that must all hold on one row", detail
    if {"network-traffic:dst_ref.value", "network-traffic:src_ref.value"} <= values.keys():
        return "AND of a source and a destination address needs both on one row (each IOC is counted alone)", detail
    extra = [leaf for leaf, c in terms if c is None or isinstance(c.resolved, str)]
    unrelated = [leaf for leaf in extra if not _describes(leaf, anchors)]
    if unrelated:
        objs = " and ".join(sorted(anchors | {leaf.obj for leaf in unrelated}))
        return f"AND of {objs} terms needs both on one row (each IOC is counted alone)", detail
    notes: list[tuple[str, str]] = []
    if extra:
        notes.append((NOTE_DROPPED, "; ".join(str(leaf) for leaf in extra)))
    iocs: list[Resolved] = []
    for _, _, resolved in countable:
        if all((r.type, r.value) != (resolved.type, resolved.value) for r in iocs):
            iocs.append(resolved)
    if len(iocs) > 1:
        notes.append((NOTE_SPLIT, "; ".join(f"{r.type} {r.value}" for r in iocs)))
    return Outcome(iocs, notes)
