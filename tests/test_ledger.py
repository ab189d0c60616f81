"""The company's ledger: hash chain, verification naming the first broken entry, concurrent
appends, crash safety (kill -9 mid-append), the CLI (no FHE work)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest
from iocz.cli import EXIT_INVALID, EXIT_OK, main
from iocz.ledger import GENESIS, Ledger, entry_hash


def _fill(path: Path, n: int, agency: str = "ed25519:a") -> Ledger:
    ledger = Ledger(path)
    for i in range(n):
        ledger.append({"agency": agency, "query": f"q{i}", "rows_scanned": i})
    return ledger


def test_entries_chain_and_verify(tmp_path: Path) -> None:
    ledger = _fill(tmp_path / "l.jsonl", 3)
    entries = [e for _, e in ledger.read().entries]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev"] == GENESIS and entries[1]["prev"] == entries[0]["hash"]
    assert all(entry_hash(e) == e["hash"] for e in entries)
    v = ledger.verify()
    assert (v.entries, v.head, v.broken) == (3, entries[-1]["hash"], None)
    assert oct(os.stat(tmp_path / "l.jsonl").st_mode & 0o777) == "0o600"
    assert ledger.answered("ed25519:a") == 3 and ledger.answered("ed25519:b") == 0


@pytest.mark.parametrize("index", range(4))
def test_editing_any_entry_is_named(tmp_path: Path, index: int, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "l.jsonl"
    _fill(path, 4)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[index])
    entry["rows_scanned"] = 999
    lines[index] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    v = Ledger(path).verify()
    assert v.broken is not None and v.broken.startswith(f"entry {index + 1} (line {index + 1}): its hash")
    assert main(["ledger", "verify", "--ledger", str(path)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"entry {index + 1} (line {index + 1})" in err


def test_removed_rehashed_or_garbled_entries_are_named(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    _fill(path, 4)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")  # entry 2 removed
    assert "entry 3 (line 2): does not follow entry 1" in str(Ledger(path).verify().broken)
    forged = json.loads(lines[1])
    forged["rows_scanned"] = 7
    forged["hash"] = entry_hash(forged)  # an insider recomputes the edited entry's own hash
    path.write_text("\n".join([lines[0], json.dumps(forged), *lines[2:]]) + "\n")
    assert "entry 3 (line 3): does not follow entry 2" in str(Ledger(path).verify().broken)
    path.write_text("\n".join([lines[0], "{not json", *lines[2:]]) + "\n")
    assert Ledger(path).verify().broken == "line 2: not JSON (the line was edited)"


def test_a_head_kept_elsewhere_catches_a_truncated_or_rewritten_tail(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    head = _fill(path, 3).verify().head
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2]) + "\n")  # the last entry removed: the chain is still whole
    assert Ledger(path).verify().broken is None
    assert "recorded head" in str(Ledger(path).verify(head=head).broken)
    assert main(["ledger", "verify", "--ledger", str(path), "--head", head]) == EXIT_INVALID


def _append_many(path: str, agency: str, n: int) -> None:
    ledger = Ledger(path)
    for i in range(n):
        ledger.append({"agency": agency, "query": f"{agency}-{i}", "pad": "x" * 5000})


def test_two_concurrent_writers_are_both_recorded(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), a, 25)) for a in ("one", "two")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    ledger = Ledger(path)
    v = ledger.verify()
    assert (v.entries, v.broken) == (50, None)
    assert ledger.answered("one") == ledger.answered("two") == 25


def _killed_mid_append(path: str) -> None:
    real_write = os.write

    def half_then_die(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data)[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
        return 0

    os.write = half_then_die  # type: ignore[assignment]
    Ledger(path).append({"agency": "crash", "query": "never committed"})


def test_kill_9_during_append_leaves_a_readable_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "l.jsonl"
    _fill(path, 2)
    child = multiprocessing.get_context("spawn").Process(target=_killed_mid_append, args=(str(path),))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    assert not path.read_bytes().endswith(b"\n")  # a torn last line
    reading = Ledger(path).read()
    assert [e["seq"] for _, e in reading.entries] == [1, 2] and reading.torn == 3
    v = Ledger(path).verify()
    assert v.broken is None and v.entries == 2 and "incomplete last line" in v.notes[0]
    assert main(["ledger", "show", "--ledger", str(path)]) == EXIT_OK
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2 and "incomplete last line" in err
    entry = Ledger(path).append({"agency": "after", "query": "q"})  # removes the torn line first
    assert entry["seq"] == 3 and Ledger(path).verify().broken is None and Ledger(path).read().torn is None


def test_show_formats_and_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "l.jsonl"
    _fill(path, 2)
    assert main(["ledger", "show", "--ledger", str(path), "--format", "json"]) == EXIT_OK
    shown = json.loads(capsys.readouterr().out)
    assert [e["query"] for e in shown] == ["q0", "q1"]
    assert main(["ledger", "show", "--ledger", str(path), "--since", "2999-01-01"]) == EXIT_OK
    assert capsys.readouterr().out == ""
    assert main(["ledger", "show", "--ledger", str(path), "--since", "yesterday"]) == EXIT_INVALID
    assert "--since takes an ISO date" in capsys.readouterr().err
    assert main(["ledger", "verify", "--ledger", str(tmp_path / "none.jsonl")]) == EXIT_INVALID
    with pytest.raises(SystemExit) as usage:
        main(["ledger", "rewrite"])
    assert usage.value.code == 2
