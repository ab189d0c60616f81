"""The public profile of a query: everything the company can see of it without the IOCs.

Types, entries, declared lengths, match modes, kernels, count width: what ``iocz inspect``
prints, what a company policy judges (:mod:`iocz.policy`) and what the ledger records
(:mod:`iocz.ledger`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from iocz.bundles import Query

#: IOCs per slot at most, by hash function count (the cuckoo load limit: slots ≈ 2.2·IOCs with
#: 2 hashes, 1.3·IOCs with 3).
_LOAD = {2: 2.2, 3: 1.3}


@dataclass(frozen=True)
class SetProfile:
    """One encrypted set as the company sees it."""

    index: int
    ioc_type: str
    slots: int
    #: IOCs in the set: its lookup part's entry count (the real count, or ``--pad-to``), else
    #: the most IOCs its slot count can hold.
    entries: int
    #: Declared lengths: substring lengths in characters, IP prefix lengths.
    lengths: tuple[int, ...]
    match: str
    case_sensitive: bool
    #: The kernel the agency allows or asks for: ``scan`` (no lookup part), ``auto`` or ``lookup``.
    kernel: str
    lookup_bits: int | None = None


@dataclass(frozen=True)
class QueryProfile:
    """A query's public profile."""

    fingerprint: str
    key: str
    count_bits: int
    sets: tuple[SetProfile, ...]

    @property
    def entries(self) -> int:
        """Entries of all sets together."""
        return sum(s.entries for s in self.sets)

    @classmethod
    def of(cls, query: Query) -> QueryProfile:
        """The profile of a loaded (or created) query."""
        sets = []
        for i, s in enumerate(query.sets):
            enc = s.set
            lookup = enc.lookup
            entries = lookup.entries if lookup else int(enc.slots / _LOAD.get(enc.hashes, 1.0))
            sets.append(
                SetProfile(
                    i,
                    s.ioc_type,
                    enc.slots,
                    entries,
                    tuple(enc.lengths),
                    s.match,
                    s.case_sensitive,
                    lookup.kernel if lookup else "scan",
                    lookup.bits if lookup else None,
                )
            )
        return cls(query.bundle_fingerprint, query.key_fingerprint, query.count_bits, tuple(sets))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the ledger)."""
        return asdict(self)
