"""Notebook views and charts: every object people hold shows its public facts as HTML (the same
facts ``iocz inspect`` prints, from one function), never key material or the agency's manifest;
``Decrypted.plot`` draws and saves a bar chart; in IPython, iocz's errors are the CLI's line."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import iocz
import matplotlib
import polars as pl
import pytest
from conftest import SEED_IOC, Keys
from iocz import notebook
from iocz.cli import main
from iocz.describe import Lines, Table, result_facts, text_lines
from iocz.views import ROWS, html_of

matplotlib.use("Agg")  # the tests draw without a display; a notebook uses its inline backend

ABSENT = "5f" * 32
IOCS = [
    iocz.Ioc("sha256", SEED_IOC, "seed dropper"),
    iocz.Ioc("sha256", ABSENT, "never seen"),
    iocz.Ioc("substring", "lsadump::", "mimikatz"),
]


@dataclass(frozen=True)
class Round:
    query: iocz.Query  # the agency's (created here)
    loaded: iocz.Query  # the company's (from the file)
    result: iocz.Result
    path: Path  # the result bundle
    manifest: Path
    out: iocz.Decrypted


@pytest.fixture(scope="module")
def round_trip(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Round:
    """A small grouped scan (two hosts, a few distinct values: little FHE work)."""
    folder = tmp_path_factory.mktemp("views")
    query = iocz.Query.create(keys.client, IOCS, server_key=keys.server, kernel="scan", count_bits=16)
    manifest = query.save(folder / "q.iocz", manifest_dir=folder / "queries")
    loaded = iocz.Query.load(folder / "q.iocz")
    logs = pl.DataFrame({"host": ["a", "a", "b", "b"], "sha256": [SEED_IOC, "-", SEED_IOC, None]})
    result = iocz.scan(logs, loaded, {"sha256": "sha256"}, group_by="host", bits=64, progress=False)
    result.save(folder / "r.iocz")
    out = iocz.Result.load(folder / "r.iocz").decrypt(keys.client, manifest=manifest)
    return Round(query, loaded, result, folder / "r.iocz", manifest, out)


def _secrets(keys: Keys, round_trip: Round, tmp_path: Path) -> list[str]:
    """Texts no view may hold: 24-byte pieces of every key (raw, hex, base64) and the
    manifest's values (IOCs, labels, the slot map)."""
    keys.client.save(tmp_path / "client.key")
    blobs = [(tmp_path / "client.key").read_bytes(), keys.server.to_bytes(), keys.public.to_bytes()]
    out = []
    for blob in blobs:
        body = blob[blob.index(b"\n") + 1 :] if blob.startswith(b"iocz1") else blob
        for i in range(0, len(body) - 24, max(24, len(body) // 200)):
            piece = body[i : i + 24]
            out += [piece.hex(), base64.b64encode(piece).decode()[:24], piece.decode("latin-1")]
    manifest = json.loads(round_trip.manifest.read_text())
    for s in manifest["sets"]:
        out.append(s["manifest"])
        for ioc, info in s["iocs"].items():
            out += [ioc, *info["labels"], *info["values"]]
    return [t for t in out if len(t.strip()) >= 8]


def test_views_hold_no_key_material_nor_manifest(keys: Keys, round_trip: Round, tmp_path: Path) -> None:
    report = iocz.load_iocs(Path(iocz.__file__).parent / "data" / "sample_iocs.stix.json")
    objects: list[Any] = [keys.client, keys.server, keys.public, round_trip.query, round_trip.loaded]
    objects += [round_trip.loaded.sets[0].set, round_trip.result, iocz.Result.load(round_trip.path), report]
    secrets = _secrets(keys, round_trip, tmp_path)
    assert len(secrets) > 1000
    for obj in objects:
        html = html_of(obj)
        assert html.startswith('<div class="iocz-view">'), type(obj)
        leaked = [s for s in secrets if s in html or escape(s) in html]
        assert not leaked, (type(obj).__name__, leaked[:3])
        text = repr(obj)
        assert "\n" not in text and len(text) < 300 and not any(s in text for s in secrets), text


def test_python_objects_have_html_views(round_trip: Round) -> None:
    report = iocz.ImportReport(list(IOCS))
    for obj in (round_trip.query, round_trip.result, round_trip.out, report):
        assert obj._repr_html_() == html_of(obj)
    assert "IOC import: 3 IOCs (sha256 2, substring 1); 0 skipped" in report._repr_html_()
    query = html_of(round_trip.loaded)
    assert "case_sensitive=False" in query and "what the company learns" in query and "16-bit counts" in query


def test_result_view_shows_what_inspect_prints(round_trip: Round, capsys: pytest.CaptureFixture[str]) -> None:
    """One function makes the facts; the CLI prints them, the view renders them."""
    assert main(["inspect", str(round_trip.path)]) == 0
    printed = capsys.readouterr().out
    facts = result_facts(iocz.Result.load(round_trip.path), file_size=round_trip.path.stat().st_size)
    assert printed.startswith("\n".join(text_lines(facts)) + "\n")  # then the signature, if any
    assert "per-IOC counts" in printed and "scan kernel" in printed and "are skipped" in printed
    html = html_of(iocz.Result.load(round_trip.path))
    shown = result_facts(iocz.Result.load(round_trip.path), limit=ROWS)
    cells = [v for _, v in shown.fields]
    for part in shown.parts:
        cells += [c for row in part.rows for c in row] if isinstance(part, Table) else part.lines
    assert cells and all(escape(c) in html for c in cells)
    titles = [p.title for p in shown.parts]
    assert titles[:2] == ["data quality", "kernels"] and titles[-1].startswith("entries")
    assert any(isinstance(p, Lines) and p.code and p.title.startswith("clear part run by polars") for p in shown.parts)


def _decrypted(saturated: bool, groups: int = 2) -> iocz.Decrypted:
    """A decrypted result made by hand (no FHE): two IOCs per group, one scanned column."""
    hosts = [f"host{i}" for i in range(groups)]
    n = 65_535 if saturated else 7
    counts = pl.DataFrame(
        {
            "group": [h for h in hosts for _ in range(2)],
            "type": ["sha256"] * 2 * groups,
            "column": ["sha256"] * 2 * groups,
            "ioc": [SEED_IOC, ABSENT] * groups,
            "label": ["seed dropper", ""] * groups,
            "count": [n, 0] * groups,
            "saturated": [saturated, False] * groups,
        }
    )
    totals = counts.filter(pl.col("ioc") == SEED_IOC).select(
        "group", "type", "column", pl.col("count").alias("rows_matching_any"), "saturated"
    )
    meta = {"query": "q" * 16, "group_by": "host", "count_bits": 16, "rows_scanned": 9, "data_quality": []}
    return iocz.Decrypted(counts, totals, meta)


def test_decrypted_view_marks_saturated_counts_and_cuts_long_tables() -> None:
    html = html_of(_decrypted(saturated=True))
    assert "&gt;= 65,535" in html and "at least 65,535" in html and SEED_IOC in html
    assert "&gt;=" not in html_of(_decrypted(saturated=False))
    long = html_of(_decrypted(saturated=False, groups=ROWS))
    assert "… 50 more rows" in long and long.count("<tr>") < 2 * ROWS + 20
    assert repr(_decrypted(saturated=True)) == (
        f"Decrypted(query {'q' * 16}: 4 IOC counts, 2 totals, 4 saturated, 0 sets not scanned)"
    )


@pytest.mark.parametrize("by", ["ioc", "group"])
def test_plot_draws_and_saves_a_bar_chart(by: str, tmp_path: Path) -> None:
    ax = _decrypted(saturated=True).plot(by=by)  # type: ignore[arg-type]
    bars = ax.patches
    assert len(bars) == (2 if by == "ioc" else 2)
    heights = sorted(b.get_width() for b in bars)
    assert heights == ([0, 2 * 65_535] if by == "ioc" else [65_535, 65_535])
    assert any(b.get_hatch() == "//" for b in bars)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("seed dropper (027cc450") if by == "ioc" else labels == ["host0", "host1"]
    ax.figure.savefig(tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="by must be"):
        _decrypted(saturated=False).plot(by="host")  # type: ignore[arg-type]


def test_plot_of_a_real_result(round_trip: Round) -> None:
    ax = round_trip.out.plot(by="group")
    assert sorted(b.get_width() for b in ax.patches) == [1, 1]


class _Formatter:
    def __init__(self) -> None:
        self.types: dict[type, Any] = {}

    def for_type(self, cls: type, func: Any) -> None:
        self.types[cls] = func


class _Shell:
    """The parts of IPython's shell that :func:`iocz.notebook.register` uses."""

    def __init__(self) -> None:
        self.custom_exceptions: tuple[type, ...] = ()
        self.display_formatter = type("D", (), {"formatters": {"text/html": _Formatter()}})()
        self.shown: list[list[str]] = []
        self.tracebacks = 0
        self.handler: Any = None

    def set_custom_exc(self, exc: tuple[type, ...], handler: Any) -> None:
        self.custom_exceptions, self.handler = exc, handler

    def _showtraceback(self, etype: type, value: BaseException, stb: list[str]) -> None:
        self.shown.append(stb)

    def showtraceback(self, exc_tuple: Any, tb_offset: Any = None) -> None:
        self.tracebacks += 1


def test_notebook_registers_views_and_one_line_errors(keys: Keys, tmp_path: Path) -> None:
    assert not notebook.register()  # no running IPython here: nothing to do
    shell = _Shell()
    assert notebook.register(shell)
    html = shell.display_formatter.formatters["text/html"].types
    assert html[iocz.ServerKey](keys.server) == html_of(keys.server)
    assert set(html) == {iocz.ClientKey, iocz.ServerKey, iocz.PublicKey, iocz.EncryptedSet}
    (tmp_path / "bad.iocz").write_bytes(b"not a bundle")
    for call in (lambda: iocz.Query.load(tmp_path / "bad.iocz"), lambda: int("x")):
        try:
            call()
        except shell.custom_exceptions as e:
            shell.handler(shell, type(e), e, e.__traceback__)
    assert shell.tracebacks == 1  # int("x"): not iocz's, a normal traceback
    ((line,),) = shell.shown
    assert line.startswith("iocz: error: ") and "\n" not in line
    other = _Shell()
    other.custom_exceptions = (KeyError,)
    notebook.register(other)
    assert other.custom_exceptions == (KeyError,)  # someone else's handler stays
