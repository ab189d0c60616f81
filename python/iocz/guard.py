"""A scan under the company's control: policy checks before any FHE work, the record of the
public-suffix rule, the clear part's disclosure, and the ledger entry of every released result.

:func:`admit` runs at the start of a scan: it checks the query's signature, its public profile,
the scan request and the agency's answered queries (from the ledger), and wraps the scan's
runner in a :class:`GuardedRunner` that checks the group count once the clear part ran, before
any FHE work. (Subdomain matching never reaches a public suffix: the Rust core leaves those
candidates out, whatever the policy.) At the end,
:meth:`Admission.release` redacts the clear part as the policy says and appends the ledger
entry. :func:`iocz.plan.plan_scan` uses the same path without raising (``--dry-run``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from iocz import _iocz
from iocz.bundles import Query, Result
from iocz.checkpoint import Checkpoint, PartitionCounts
from iocz.engines.base import PAIR_GROUP
from iocz.identity import Signature, read_signature
from iocz.ledger import DEFAULT_NAME, Ledger
from iocz.policy import Policy, PolicyRefused, Violation
from iocz.profile import QueryProfile
from iocz.progress import Progress

log = logging.getLogger("iocz.policy")

#: What :func:`admit` accepts as a policy: the rules, a TOML file, or None (no policy).
PolicyLike = Policy | str | os.PathLike[str] | None


class _Runner(Protocol):
    def run(self, tasks: list[Any], settings: Any, ckpt: Checkpoint, bar: Progress) -> dict[Any, PartitionCounts]: ...


def resolve(policy: PolicyLike) -> Policy | None:
    """The rules ``policy`` names (a path is read)."""
    return policy if isinstance(policy, Policy) or policy is None else Policy.load(policy)


def ledger_path(ledger: str | os.PathLike[str] | None, checkpoint: str | os.PathLike[str] | None) -> Path | None:
    """``ledger``, or by default ``iocz-ledger.jsonl`` next to the checkpoint folder (None without one)."""
    if ledger is not None:
        return Path(ledger)
    return Path(checkpoint).resolve().parent / DEFAULT_NAME if checkpoint is not None else None


def agency_of(query: Query, signature: Signature | None) -> str:
    """Who asks: the query's signer, else its FHE key."""
    return signature.signer if signature is not None else f"key:{query.key_fingerprint}"


@dataclass
class Admission:
    """What :func:`admit` decided, and what :meth:`release` records."""

    query: Query
    policy: Policy | None
    profile: QueryProfile
    signature: Signature | None
    ledger: Ledger | None
    kernel: Any
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    groups: int = 0
    runner: Any = None

    @property
    def agency(self) -> str:
        """The agency this scan answers."""
        return agency_of(self.query, self.signature)

    def release(self, result: Result) -> Result:
        """Record the released ``result`` in the ledger and disclose the clear part as the policy says."""
        meta = result.metadata
        full = list(meta.get("clear_part", []))
        if any(s.ioc_type == "domain" and s.match == "subdomain" for s in self.query.sets):
            meta["public_suffix_list"] = _iocz.PUBLIC_SUFFIX_LIST
        if self.policy is not None and self.policy.clear_part != "full":
            meta["clear_part"] = [redact(t) for t in full] if self.policy.clear_part == "redacted" else []
            meta["clear_part_disclosure"] = self.policy.clear_part
        if self.ledger is None:
            return result
        data = result.to_bytes()
        entry = {
            "agency": self.agency,
            "signer": None if self.signature is None else self.signature.signer,
            "signer_name": None if self.signature is None else self.signature.name,
            "signer_trusted": self.signature is not None and self.signature.trusted,
            "query": self.query.bundle_fingerprint,
            "profile": self.profile.to_json(),
            "columns": meta.get("columns"),
            "kernels": meta.get("kernels"),
            "engine": meta.get("engine"),
            "where": meta.get("where"),
            "clear_part": full,
            "rows_scanned": meta.get("rows_scanned"),
            "group_by": meta.get("group_by"),
            "groups": self.groups,
            "result": result.bundle_fingerprint,
            "result_sha256": hashlib.sha256(data).hexdigest(),
            "result_bytes": len(data),
            "policy": None if self.policy is None else self.policy.source,
            "verdict": "allowed" if self.policy is not None else "no policy",
            "notes": self.notes,
        }
        self.ledger.append(entry)
        return result


_PATH = re.compile(r"""(?:[A-Za-z]:)?(?:[\w.~-]*[/\\])+[\w.*?\[\]~-]+""")
_TABLE = re.compile(r"""\b(FROM|JOIN|INTO|TABLE)\s+("[^"]+"|`[^`]+`|[\w.]+)""", re.IGNORECASE)


def redact(text: str) -> str:
    """The clear part's text with file paths and table names replaced by ``<path>``, ``<table>``."""
    return _TABLE.sub(lambda m: f"{m.group(1)} <table>", _PATH.sub("<path>", str(text)))


def admit(
    query: Query,
    columns: Mapping[str, str | Sequence[str]],
    runner: _Runner,
    *,
    group_by: str | None,
    kernel: Any,
    checkpoint: str | os.PathLike[str] | None,
    policy: PolicyLike,
    ledger: str | os.PathLike[str] | None,
    sources: Sequence[str] | None,
) -> Admission:
    """Check everything known before the clear part runs; raises :class:`PolicyRefused` with
    one violation per broken rule (a planning runner, one with an ``admission`` attribute, gets
    them instead)."""
    rules = resolve(policy)
    path = ledger_path(ledger, checkpoint)
    book = Ledger(path) if path is not None else None
    signature = None
    if query.path is not None:
        trusted = rules.trusted if rules is not None else ()
        signature = read_signature(query.path, "query", trusted, fingerprint=query.bundle_fingerprint)
    adm = Admission(query, rules, QueryProfile.of(query), signature, book, kernel)
    if rules is not None:
        _check(adm, rules, columns, group_by, sources)
    adm.runner = GuardedRunner(runner, adm)
    if adm.violations and not _planning(runner):
        raise PolicyRefused(adm.violations, rules.source if rules else "")
    return adm


def _check(
    adm: Admission,
    rules: Policy,
    columns: Mapping[str, str | Sequence[str]],
    group_by: str | None,
    sources: Sequence[str] | None,
) -> None:
    names = [c for cols in columns.values() for c in ([cols] if isinstance(cols, str) else cols)]
    adm.violations += rules.check_query(adm.profile)
    adm.violations += rules.check_scan(names, group_by, sources, str(adm.kernel))
    adm.violations += rules.check_signature(adm.signature)
    if rules.max_queries_per_day:
        if adm.ledger is None:
            adm.violations.append(
                Violation("[agencies] max_queries_per_day", "no ledger to count answered queries", "pass ledger=")
            )
        else:
            adm.violations += rules.check_rate(adm.agency, adm.ledger.answered(adm.agency))
    if not rules.trusted:
        adm.notes.append(
            "no trusted agency is configured ([agencies] trusted, --trust): the query's origin is unchecked"
        )
    if "lookup" not in rules.allowed_kernels and adm.kernel == "auto":
        adm.kernel = "scan"
        adm.notes.append("the policy allows only the scan kernel: lookup parts are not used")
    for note in adm.notes:
        log.warning("policy: %s", note)


def _planning(runner: object) -> bool:
    """Whether ``runner`` only plans (``--dry-run``): it then collects violations instead of raising."""
    return hasattr(runner, "admission")


class GuardedRunner:
    """Runs the scan's partitions through ``inner`` after the checks that need the clear part
    (group count), before any FHE work."""

    def __init__(self, inner: _Runner, admission: Admission) -> None:
        self.inner = inner
        self.admission = admission

    def run(self, tasks: list[Any], settings: Any, ckpt: Checkpoint, bar: Progress) -> dict[Any, PartitionCounts]:
        """Check, then run ``inner``."""
        adm = self.admission
        if settings.grouped:
            keys: set[Any] = set()
            for t in tasks:
                keys.update(t.pairs.get_column(PAIR_GROUP).unique().to_list())
            adm.groups = len(keys)
        else:
            adm.groups = 1
        if adm.policy is not None:
            found = adm.policy.check_groups(adm.groups)
            adm.violations += found
            if found and not _planning(self.inner):
                raise PolicyRefused(found, adm.policy.source)
        if _planning(self.inner):
            self.inner.admission = adm  # type: ignore[attr-defined]
        return self.inner.run(tasks, settings, ckpt, bar)
