"""The company's ledger: one hash-chained JSON line per released result.

Each entry holds ``seq``, ``time`` (UTC), ``prev`` (the previous entry's hash; 64 zeros for the
first) and what was answered (agency, query profile, columns, clear part, rows, groups, result,
verdict), and ``hash``: the SHA-256 of the entry's canonical JSON without ``hash``. Editing,
removing or reordering any entry breaks the chain from there on (:meth:`Ledger.verify` names the
first broken entry); rewriting the whole tail consistently is caught only against a head hash
kept elsewhere (``iocz ledger verify --head``).

Appends hold an exclusive ``flock`` on the file (two concurrent scans queue), write the whole
line with one ``O_APPEND`` write and ``fsync`` it. A crash mid-append can leave an incomplete
last line: readers ignore it and report it, and the next append removes it first (it was never
committed).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("iocz.ledger")

#: The ``prev`` of the first entry.
GENESIS = "0" * 64
#: The default ledger's file name (next to the scan's checkpoint folder).
DEFAULT_NAME = "iocz-ledger.jsonl"


class LedgerError(ValueError):
    """A ledger that cannot be read or appended to."""


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    """The hash an entry must carry: SHA-256 of its canonical JSON without ``hash``."""
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


@dataclass
class Reading:
    """A ledger's entries (in file order) and what was skipped: lines that are not entries
    (``bad``: line number, why) and an incomplete last line left by a crash (``torn``)."""

    entries: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    torn: int | None = None

    def notes(self) -> list[str]:
        """One line per skipped line."""
        out = [f"line {n}: {why}; skipped" for n, why in self.bad]
        if self.torn is not None:
            out.append(f"line {self.torn}: incomplete last line (an append interrupted by a crash); ignored")
        return out


@dataclass(frozen=True)
class Verification:
    """The outcome of :meth:`Ledger.verify`: entries checked, the head hash, the first broken
    entry (None: the chain is whole) and notes."""

    entries: int
    head: str
    broken: str | None
    notes: tuple[str, ...] = ()


def _parse(lines: list[bytes]) -> Reading:
    out = Reading()
    for n, raw in enumerate(lines, 1):
        try:
            entry = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            out.bad.append((n, "not JSON"))
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            out.bad.append((n, "not a ledger entry"))
            continue
        out.entries.append((n, entry))
    return out


class Ledger:
    """An append-only, hash-chained JSON Lines file (created 0600 on the first append)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[int]:
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND if exclusive else os.O_RDONLY
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as e:
            raise LedgerError(f"cannot open ledger {self.path}: {e.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield fd
        finally:
            os.close(fd)  # also releases the lock

    @staticmethod
    def _content(fd: int) -> bytes:
        size = os.fstat(fd).st_size
        return os.pread(fd, size, 0) if size else b""

    def read(self) -> Reading:
        """Every complete entry; an incomplete last line is ignored and reported."""
        if not self.path.exists():
            return Reading()
        with self._locked(exclusive=False) as fd:
            data = self._content(fd)
        lines = data.split(b"\n")
        reading = _parse(lines[:-1])
        if lines[-1]:
            reading.torn = len(lines)
        return reading

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append ``record`` as the next entry (atomically, fsync'd, under the file lock)."""
        created = not self.path.exists()
        with self._locked(exclusive=True) as fd:
            data = self._content(fd)
            if data and not data.endswith(b"\n"):
                keep = data.rfind(b"\n") + 1
                log.warning("ledger %s: removing an incomplete last line left by an interrupted append", self.path)
                os.ftruncate(fd, keep)
                data = data[:keep]
            last = data[:-1].rsplit(b"\n", 1)[-1] if data else b""
            prev, seq = GENESIS, 0
            if last:
                reading = _parse([last])
                if not reading.entries:
                    raise LedgerError(f"ledger {self.path}: its last line is not an entry (iocz ledger verify)")
                prev, seq = reading.entries[0][1]["hash"], int(reading.entries[0][1].get("seq", 0))
            entry = {**record, "seq": seq + 1, "time": datetime.now(UTC).isoformat(timespec="seconds"), "prev": prev}
            entry["hash"] = entry_hash(entry)
            line = _canonical(entry) + b"\n"
            written = 0
            while written < len(line):
                written += os.write(fd, line[written:])
            os.fsync(fd)
        if created:
            _fsync_dir(self.path.parent)
        return entry

    def verify(self, head: str | None = None) -> Verification:
        """Recompute the chain; ``head``: a hash recorded elsewhere that must be in it."""
        reading = self.read()
        prev, seq, broken = GENESIS, 0, None
        first_bad = reading.bad[0] if reading.bad else None
        hashes = set()
        for n, entry in reading.entries:
            if first_bad is not None and n > first_bad[0]:
                break
            name = f"entry {entry.get('seq')} (line {n})"
            if entry_hash(entry) != entry["hash"]:
                broken = f"{name}: its hash does not match its content (the entry was edited)"
                break
            if entry.get("prev") != prev or entry.get("seq") != seq + 1:
                broken = f"{name}: does not follow entry {seq} (entries were removed, inserted or reordered)"
                break
            prev, seq = entry["hash"], seq + 1
            hashes.add(prev)
        if broken is None and first_bad is not None:
            broken = f"line {first_bad[0]}: {first_bad[1]} (the line was edited)"
        if broken is None and head is not None and head not in hashes:
            broken = f"the recorded head {head} is not in the ledger (entries were removed or the chain rewritten)"
        notes = tuple(reading.notes()[len(reading.bad) :])
        return Verification(seq, prev, broken, notes)

    def answered(self, agency: str, within: timedelta = timedelta(days=1)) -> int:
        """Entries for ``agency`` in the last ``within``."""
        since = datetime.now(UTC) - within
        return sum(1 for _, e in self.read().entries if e.get("agency") == agency and _time(e) >= since)

    def since(self, since: datetime | None) -> list[dict[str, Any]]:
        """Entries at or after ``since`` (all with None)."""
        return [e for _, e in self.read().entries if since is None or _time(e) >= since]


def _time(entry: dict[str, Any]) -> datetime:
    try:
        t = datetime.fromisoformat(str(entry.get("time")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
