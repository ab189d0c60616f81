"""Every ```python block of README.md runs as written, in order and in one namespace (the later
blocks say they continue the earlier ones), in a temporary folder; a line ``expr  # -> literal``
must evaluate to that literal. A second run (without the FHE work, to stay cheap) checks that
the examples can be run twice. The cheap agency lines of the CLI block
(keygen, query, inspect) run too, with the shipped STIX sample as ``iocs.stix.json``; scan and
decrypt are covered by test_workflow.py. The README uses only shipped sample data (and small
frames it builds), so nothing is mapped from ../shared/data/."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import iocz
import pytest
from iocz.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
_EXPECT = re.compile(r"^(?P<expr>[^#]+?)\s+# -> (?P<want>.+)$")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(), flags=re.M | re.S)


def _with_checks(code: str) -> str:
    """``expr  # -> literal`` lines become assertions (when the right side is a literal)."""
    out = []
    for line in code.splitlines():
        m = _EXPECT.match(line)
        if m and not line.startswith((" ", "#")):
            try:
                ast.literal_eval(m["want"])
            except (ValueError, SyntaxError):
                pass
            else:
                line = f"assert ({m['expr']}) == ({m['want']}), {m['expr']!r}"
        out.append(line)
    return "\n".join(out)


_FHE_WORK = (".fhe.", "iocz.scan(", "decrypt(", ".decrypt_")


def _without_fhe_work(code: str) -> str:
    """``code`` less its top-level statements that compute or decrypt (the second run keeps
    their results from the first: it checks that writing the files again works)."""
    lines = code.splitlines()
    kept = []
    for node in ast.parse(code).body:
        text = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        if not any(word in text for word in _FHE_WORK):
            kept.append(text)
    return "\n".join(kept)


def test_python_blocks_run_as_written_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    after: list[dict[str, Any]] = []  # the namespace after each block
    for i, code in enumerate(blocks):
        exec(compile(_with_checks(code), f"README.md python block {i}", "exec"), namespace)
        after.append(dict(namespace))
    assert namespace["result"].metadata["data_quality"][0]["not_of_type_rows"] == 0
    assert namespace["result"].metadata["time_range"] is not None  # string timestamps parsed
    for i, code in enumerate(blocks):  # again: no "File exists" (FHE results kept from the first run)
        exec(compile(_without_fhe_work(code), f"README.md python block {i}, second run", "exec"), dict(after[i]))


def test_agency_shell_lines_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = [b for b in _blocks("bash") if "iocz keygen" in b]
    monkeypatch.chdir(tmp_path)
    shutil.copy(Path(iocz.__file__).parent / "data" / "sample_iocs.stix.json", "iocs.stix.json")
    ran = 0
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words[:3] == ["iocz", "inspect", "r.iocz"]:
            continue  # a result: made by the company's scan, not by these agency lines
        if words[:2] in (["iocz", "keygen"], ["iocz", "query"], ["iocz", "inspect"]):
            assert main(words[1:]) == 0, line
            ran += 1
    assert ran == 3
