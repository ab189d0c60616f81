"""The examples run and agree: the seed detection written with Polars, Ibis (DuckDB) and
PySpark gives the same decrypted counts, equal to plaintext Polars; the walkthrough notebook
executes (nbclient) and shows what a person sees in Jupyter: the objects' HTML views, the
progress bar, the chart inline and an error as the command line's one line."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import iocz
import nbclient
import nbformat
import polars as pl
import pytest
from iocz.cli import EXIT_INVALID, main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _truth() -> dict[tuple[str, str], int]:
    ns = runpy.run_path(str(EXAMPLES / "agency.py"))
    iocs = [i.value.lower() for i in iocz.load_iocs(ns["IOCS"]).iocs]
    logs = pl.read_csv(ns["LOGS"]).with_columns(pl.col("sha256").str.to_lowercase())
    rows = logs.filter((pl.col("utc_time") > ns["AFTER"]) & pl.col("sha256").is_in(iocs)).group_by("host", "sha256")
    return {(h, s): n for h, s, n in rows.len().iter_rows()}


@pytest.mark.parametrize("engine", ["polars", "ibis", "spark"])
def test_seed_detection_examples_agree_with_plaintext(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    example = runpy.run_path(str(EXAMPLES / f"seed_detection_{engine}.py"))
    extra: dict[str, Any] = {"spark": request.getfixturevalue("spark")} if engine == "spark" else {}
    counts = example["main"](tmp_path, **extra)
    assert counts == _truth() and counts


def test_walkthrough_notebook_executes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = nbformat.read(EXAMPLES / "walkthrough.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    last = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "decrypted counts equal the plaintext counts" in last
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    data = [o.get("data", {}) for o in outputs]
    assert any("image/png" in d for d in data), "the chart is shown inline"
    assert any("application/vnd.jupyter.widget-view+json" in d for d in data), "the scan's progress bar"
    views = [d["text/html"] for d in data if 'class="iocz-view"' in d.get("text/html", "")]
    for heading in ("ClientKey", "IOC import", "query ", "result ", "decrypted result"):
        assert any(f"<b>{heading}" in v for v in views), heading
    assert not any("panicked" in o.get("text", "") or "Traceback" in o.get("text", "") for o in outputs)
    (error,) = [o for o in outputs if o.output_type == "error"]
    (line,) = error.traceback  # one line, not a traceback: the same as the command line's
    bundle = re.search(r"\S*tampered\.iocz", line)
    assert bundle and line.startswith("iocz: error: ")
    assert main(["inspect", bundle.group()]) == EXIT_INVALID
    assert capsys.readouterr().err == line + "\n"
