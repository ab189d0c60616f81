"""One vocabulary: the names and limits Python, the stubs and the command line use are the ones
the Rust core exports (``iocz._iocz``), so a rule changed there cannot drift here."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path
from typing import get_args

import iocz
from iocz import _iocz
from iocz.bundles import COUNT_WIDTHS
from iocz.cli_parser import build_parser
from iocz.expr import Bits, KernelName
from iocz.importers.core import IOC_TYPES as IMPORTABLE
from iocz.importers.core import guess


def _stub_literal(name: str) -> tuple[object, ...]:
    """The arguments of ``name = Literal[...]`` in the extension's stub (stub-only aliases)."""
    tree = ast.parse((Path(iocz.__file__).parent / "_iocz.pyi").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            assert isinstance(node.value, ast.Subscript)
            return tuple(ast.literal_eval(node.value.slice))
    raise AssertionError(f"{name} is not in the stub")


def test_stub_literals_are_the_exported_names() -> None:
    assert _stub_literal("IocType") == _iocz.IOC_TYPES
    assert _stub_literal("DomainMatch") == _iocz.DOMAIN_MATCHES
    assert get_args(Bits) == _iocz.COMPARE_BITS
    assert get_args(KernelName) == _iocz.KERNELS
    assert COUNT_WIDTHS == _iocz.RELEASE_WIDTHS and _iocz.COUNT_BITS == max(COUNT_WIDTHS)


def test_types_hashes_and_aliases_come_from_rust() -> None:
    assert set(_iocz.HASH_TYPES) == set(_iocz.HASH_HEX_DIGITS) < set(_iocz.IOC_TYPES)
    assert _iocz.HASH_HEX_DIGITS["sha1"] == 40 and _iocz.HASH_HEX_DIGITS["imphash"] == 32
    assert _iocz.TYPE_ALIASES["ip"] == ("ipv4", "ipv6")
    assert set(IMPORTABLE) == set(_iocz.IOC_TYPES) - {"u256"}
    assert guess("a" * _iocz.HASH_HEX_DIGITS["sha1"]).type == "sha1"  # type: ignore[union-attr]


def test_the_command_line_offers_the_exported_choices() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    choices: dict[str, set[tuple[object, ...]]] = {}
    for sub in subparsers.choices.values():
        for action in sub._actions:
            if action.choices is not None:
                choices.setdefault(action.dest, set()).add(tuple(action.choices))
    assert choices["bits"] == {_iocz.COMPARE_BITS}
    assert choices["kernel"] == {_iocz.KERNELS}
    assert choices["domain_match"] == {_iocz.DOMAIN_MATCHES}
    assert choices["count_bits"] == {_iocz.RELEASE_WIDTHS}
