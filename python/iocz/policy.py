"""The company's policy: what an agency may ask, checked before any FHE work.

A policy is a TOML file of three sections (``iocz policy template`` prints the default, every
rule explained); a rule left out keeps its default, an unknown key or a value of the wrong type
is an error naming it. :class:`Policy` holds the rules; its ``check_*`` methods return one
:class:`Violation` per broken rule (rule, value, limit); :mod:`iocz.guard` applies them to a
scan and :class:`PolicyRefused` carries them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iocz import _iocz
from iocz.bundles import COUNT_WIDTHS
from iocz.identity import PublicIdentity, Signature, SignatureError
from iocz.profile import QueryProfile

_CLEAR_PART = ("full", "redacted", "none")
_KERNELS = tuple(k for k in _iocz.KERNELS if k != "auto")


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, what the query or scan has, and the limit."""

    rule: str
    value: str
    limit: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.value} (allowed: {self.limit})"


class PolicyRefused(ValueError):
    """A query or scan the policy refuses; ``violations`` has one entry per broken rule."""

    def __init__(self, violations: Sequence[Violation], source: str) -> None:
        self.violations = list(violations)
        self.source = source
        super().__init__(f"refused by the policy ({source}): " + "; ".join(map(str, self.violations)))


class PolicyError(ValueError):
    """A policy file that cannot be used (unreadable, unknown key, wrong type)."""


@dataclass(frozen=True)
class Policy:
    """The rules (defaults: :meth:`default`); ``source`` names where they come from."""

    allowed_types: tuple[str, ...] = tuple(t for t in _iocz.IOC_TYPES if t != "u256")
    allowed_match: tuple[str, ...] = tuple(_iocz.DOMAIN_MATCHES)
    max_entries_per_set: int = 50_000
    max_entries_per_query: int = 50_000
    min_substring_length: int = 4
    min_ipv4_prefix: int = 16
    min_ipv6_prefix: int = 32
    allowed_kernels: tuple[str, ...] = _KERNELS
    allowed_count_bits: tuple[int, ...] = COUNT_WIDTHS
    allowed_columns: tuple[str, ...] = ("*",)
    allowed_sources: tuple[str, ...] = ("*",)
    allowed_group_by: tuple[str, ...] = ("*",)
    max_groups: int = 1_000
    clear_part: str = "full"
    trusted: tuple[PublicIdentity, ...] = ()
    allow_unsigned: bool = False
    allow_unknown_signers: bool = False
    max_queries_per_day: int = 100
    source: str = "built-in default policy"

    @classmethod
    def default(cls) -> Policy:
        """The built-in policy: refuses obvious probes, trusts no signer (so needs none)."""
        return cls()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Policy:
        """Read a policy file; trusted key paths are relative to it."""
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as e:
            raise PolicyError(f"cannot read policy {p}: {e.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise PolicyError(f"policy {p} is not valid TOML: {e}") from None
        return cls.from_dict(doc, source=str(p), base=p.parent)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "policy", base: Path | None = None) -> Policy:
        """Rules from a parsed TOML document (sections as in :data:`SECTIONS`)."""
        values: dict[str, Any] = {}
        for section, table in doc.items():
            if section not in SECTIONS:
                raise PolicyError(f"{source}: unknown section [{section}] (known: {', '.join(SECTIONS)})")
            if not isinstance(table, dict):
                raise PolicyError(f"{source}: [{section}] must be a table")
            for key, value in table.items():
                if key not in SECTIONS[section]:
                    known = ", ".join(SECTIONS[section])
                    raise PolicyError(f"{source}: unknown key [{section}] {key} (known in [{section}]: {known})")
                values[key] = _field_value(f"{source}: [{section}] {key}", key, value, base or Path("."))
        return dataclasses.replace(cls(), **values, source=source)

    def with_trusted(self, identities: Iterable[PublicIdentity]) -> Policy:
        """This policy trusting ``identities`` too (``iocz scan --trust``)."""
        return dataclasses.replace(self, trusted=self.trusted + tuple(identities))

    # --- checks ------------------------------------------------------------------------------

    def check_query(self, profile: QueryProfile) -> list[Violation]:
        """The rules a query's public profile must meet."""
        out: list[Violation] = []
        if profile.count_bits not in self.allowed_count_bits:
            out.append(Violation("[query] allowed_count_bits", f"{profile.count_bits}-bit counts", _list(self)))
        if profile.entries > self.max_entries_per_query:
            out.append(
                Violation(
                    "[query] max_entries_per_query", f"{profile.entries:,} entries", f"{self.max_entries_per_query:,}"
                )
            )
        for s in profile.sets:
            name = f"set {s.index} ({s.ioc_type})"
            if s.ioc_type not in self.allowed_types:
                out.append(Violation("[query] allowed_types", f"{name}", ", ".join(self.allowed_types) or "none"))
            if s.match not in self.allowed_match:
                out.append(Violation("[query] allowed_match", f"{name} match={s.match}", ", ".join(self.allowed_match)))
            if s.entries > self.max_entries_per_set:
                limit = f"{self.max_entries_per_set:,}"
                out.append(Violation("[query] max_entries_per_set", f"{name} has {s.entries:,} entries", limit))
            if s.kernel == "lookup" and "lookup" not in self.allowed_kernels:
                out.append(Violation("[query] allowed_kernels", f"{name} asks for the lookup kernel", "scan"))
            out += self._length_violations(name, s.ioc_type, s.lengths)
        return out

    def _length_violations(self, name: str, ioc_type: str, lengths: tuple[int, ...]) -> list[Violation]:
        minimum = {
            "substring": ("min_substring_length", self.min_substring_length, "characters"),
            "ipv4": ("min_ipv4_prefix", self.min_ipv4_prefix, "prefix bits"),
            "ipv6": ("min_ipv6_prefix", self.min_ipv6_prefix, "prefix bits"),
        }.get(ioc_type)
        if minimum is None or not lengths or min(lengths) >= minimum[1]:
            return []
        rule, limit, unit = minimum
        return [Violation(f"[query] {rule}", f"{name} declares length {min(lengths)}", f"at least {limit} {unit}")]

    def check_scan(
        self, columns: Iterable[str], group_by: str | None, sources: Sequence[str] | None, kernel: str
    ) -> list[Violation]:
        """The rules the company's own scan request must meet."""
        out = [
            Violation("[scan] allowed_columns", f"column {c!r}", _patterns(self.allowed_columns))
            for c in sorted(set(columns))
            if not _matches(c, self.allowed_columns)
        ]
        if group_by is not None and not _matches(group_by, self.allowed_group_by):
            out.append(Violation("[scan] allowed_group_by", f"group by {group_by!r}", _patterns(self.allowed_group_by)))
        if self.allowed_sources != ("*",):
            if not sources:
                out.append(Violation("[scan] allowed_sources", "the scan names no table or path", "named sources"))
            out += [
                Violation("[scan] allowed_sources", f"source {s!r}", _patterns(self.allowed_sources))
                for s in sources or ()
                if not _matches(s, self.allowed_sources)
            ]
        if kernel == "lookup" and "lookup" not in self.allowed_kernels:
            out.append(Violation("[query] allowed_kernels", "--kernel lookup", "scan"))
        return out

    def check_groups(self, groups: int) -> list[Violation]:
        """The group count, known once the clear part ran (still before any FHE work)."""
        if groups <= self.max_groups:
            return []
        return [Violation("[scan] max_groups", f"{groups:,} groups", f"at most {self.max_groups:,}")]

    def check_signature(self, signature: Signature | None) -> list[Violation]:
        """Who signed the query, once trusted agencies are configured."""
        if not self.trusted:
            return []
        if signature is None and not self.allow_unsigned:
            return [Violation("[agencies] allow_unsigned", "the query is unsigned", "signed by a trusted agency")]
        if signature is not None and not signature.trusted and not self.allow_unknown_signers:
            names = ", ".join(t.name for t in self.trusted)
            return [Violation("[agencies] trusted", f"the query is signed by unknown {signature.signer}", names)]
        return []

    def check_rate(self, agency: str, answered: int) -> list[Violation]:
        """Queries answered to ``agency`` in the last 24 hours (from the ledger)."""
        if not self.max_queries_per_day or answered < self.max_queries_per_day:
            return []
        limit = f"{self.max_queries_per_day} per agency per day"
        return [Violation("[agencies] max_queries_per_day", f"{answered} answered to {agency} in the last 24 h", limit)]


def _list(policy: Policy) -> str:
    return ", ".join(map(str, policy.allowed_count_bits))


def _patterns(patterns: tuple[str, ...]) -> str:
    return ", ".join(patterns) or "none"


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _field_value(where: str, key: str, value: Any, base: Path) -> Any:
    """``value`` checked against the type and choices of the field ``key``."""
    default = getattr(Policy(), key)
    if key == "trusted":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"{where} must be a list of public key files, not {value!r}")
        try:
            return tuple(PublicIdentity.load(base / v) for v in value)
        except SignatureError as e:
            raise PolicyError(f"{where}: {e}") from None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise PolicyError(f"{where} must be true or false, not {value!r}")
        return value
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PolicyError(f"{where} must be a non-negative integer, not {value!r}")
        return value
    if isinstance(default, str):
        if value not in _CHOICES[key]:
            raise PolicyError(f"{where} must be one of {', '.join(map(str, _CHOICES[key]))}, not {value!r}")
        return value
    item = int if default and isinstance(default[0], int) else str
    if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
        raise PolicyError(f"{where} must be a list of {'integers' if item is int else 'strings'}, not {value!r}")
    unknown = [v for v in value if key in _CHOICES and v not in _CHOICES[key]]
    if unknown:
        raise PolicyError(f"{where}: unknown {unknown[0]!r} (known: {', '.join(map(str, _CHOICES[key]))})")
    return tuple(value)


_CHOICES: dict[str, tuple[Any, ...]] = {
    "allowed_types": tuple(_iocz.IOC_TYPES),
    "allowed_match": tuple(_iocz.DOMAIN_MATCHES),
    "allowed_kernels": _KERNELS,
    "allowed_count_bits": COUNT_WIDTHS,
    "clear_part": _CLEAR_PART,
}

#: Each section's rules and what they mean (the template's comments).
SECTIONS: dict[str, dict[str, str]] = {
    "query": {
        "allowed_types": "IOC types the company answers (" + ", ".join(_iocz.IOC_TYPES) + ").",
        "allowed_match": 'Domain match modes: "exact" (the name only), "subdomain" (the name and its subdomains).',
        "max_entries_per_set": "Most IOCs in one set: its lookup part's entry count, else the most IOCs its\n"
        "slot count can hold (slots / 2.2). A set of tens of thousands of guesses is a probe.",
        "max_entries_per_query": "Most IOCs in all sets of a query together.",
        "min_substring_length": "Shortest substring (characters) a substring set may declare: a 1-3 character\n"
        "substring counts rows, not compromise.",
        "min_ipv4_prefix": "Shortest IPv4 prefix a set may declare (CIDR /N; an address is /32).",
        "min_ipv6_prefix": "Shortest IPv6 prefix a set may declare (an address is /128).",
        "allowed_kernels": 'Kernels the company runs: "scan", "lookup". Without "lookup", a set that asks\n'
        'for the lookup kernel is refused and "auto" sets are scanned with the scan kernel.',
        "allowed_count_bits": "Count widths (bits) the company returns.",
    },
    "scan": {
        "allowed_columns": 'Log columns that may be scanned (shell-style patterns; "*": any).',
        "allowed_sources": "Tables (--table) and log paths (--logs) that may be scanned; a Python scan\n"
        'names them with sources=[...]. "*": any.',
        "allowed_group_by": 'Columns that may be grouped on (the group keys go to the agency); "*": any.',
        "max_groups": "Most groups in one scan (checked after the clear part, before any FHE work).",
        "clear_part": 'What of the clear part\'s queries goes to the agency: "full" (SQL or plan, with\n'
        'table names and file paths), "redacted" (paths and tables replaced by <path>, <table>) or\n'
        '"none". The ledger always keeps the full text.',
    },
    "agencies": {
        "trusted": "Public identity files (identity.pub, relative to this file) of the agencies whose\n"
        "signed queries are answered. Empty: no signature is required (and every scan says so).",
        "allow_unsigned": "With trusted agencies: answer unsigned queries too.",
        "allow_unknown_signers": "With trusted agencies: answer queries signed by other keys too.",
        "max_queries_per_day": "Most queries answered per agency (its signer, else its FHE key) in any 24\n"
        "hours, read from the ledger; 0: no limit.",
    },
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def template() -> str:
    """The default policy as a TOML file, every rule explained (``iocz policy template``)."""
    lines = [
        "# iocz company policy (iocz scan --policy FILE, iocz inspect QUERY --policy FILE).",
        "# Checked before any FHE work: a query or scan that breaks a rule is refused, one line per",
        "# broken rule. These are the defaults; a rule left out keeps its default.",
    ]
    default = Policy()
    for section, rules in SECTIONS.items():
        lines += ["", f"[{section}]"]
        for key, help in rules.items():
            lines += [f"# {line}" for line in help.splitlines()]
            value = () if key == "trusted" else getattr(default, key)
            lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"
