"""Replacement classes for ``stix2.pattern_visitor.create_pattern_object`` (its documented hook:
classes named ``<Class>For<suffix>`` in a module given by name replace its own). Imported only
when a STIX pattern is parsed, so that ``import iocz`` does not load ``stix2``."""

from __future__ import annotations

from typing import Any

from stix2.patterns import AndBooleanExpression


class AndBooleanExpressionForIocz(AndBooleanExpression):  # type: ignore[misc]
    """``AND`` inside one observation without stix2's same-object-type check: STIX 2.1 allows
    terms on several objects of one observation (MISP writes ``domain-name:value = … AND
    network-traffic:dst_port = …``); whether they can be counted is decided by the importer."""

    def __init__(self, operands: list[Any]) -> None:
        self.operator = "AND"
        self.operands = list(operands)
        self.root_types = set().union(*(getattr(o, "root_types", set()) for o in self.operands))
