"""``iocz scan`` on other engines (in-process): ``--engine duckdb`` over files, ``--connect``
to a database table with ``--where``, Delta Lake folders through Polars, ``--sysmon-hashes``;
and the one-line errors of wrong combinations."""

from __future__ import annotations

from pathlib import Path

import deltalake
import ibis
import iocz
import polars as pl
import pytest
from conftest import DATA, Keys
from engines_support import AFTER, Case, decrypted, make_case, truth
from iocz.cli import EXIT_INVALID, EXIT_OK, main


@pytest.fixture(scope="module")
def case(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Case:
    return make_case(keys, tmp_path_factory.mktemp("cli-engines"))


def _scan(case: Case, out: Path, *args: str) -> int:
    base = ["scan", str(case.query.path), "--column", "sha256=sha256", "--bits", "64", "--no-progress"]
    return main([*base, *args, "--out", str(out)])


def test_engine_duckdb_connect_and_delta_give_the_plaintext_counts(
    case: Case, keys: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    want = truth(case, grouped=False)
    where = f"utc_time > '{AFTER}'"
    assert _scan(case, tmp_path / "a.iocz", "--engine", "duckdb", "--logs", str(case.parquet), "--where", where) == 0
    db = tmp_path / "siem.duckdb"
    con = ibis.duckdb.connect(db)
    con.create_table("process_events", case.frame.to_arrow())
    con.disconnect()
    assert (
        _scan(case, tmp_path / "b.iocz", "--connect", f"duckdb:///{db}", "--table", "process_events", "--where", where)
        == 0
    )
    deltalake.write_deltalake(tmp_path / "delta", case.frame.to_arrow())
    assert _scan(case, tmp_path / "c.iocz", "--logs", str(tmp_path / "delta"), "--where", where) == EXIT_OK
    for name in ("a", "b", "c"):
        result = iocz.Result.load(tmp_path / f"{name}.iocz")
        assert decrypted(case, keys, result, tmp_path) == want, name
    meta = iocz.Result.load(tmp_path / "b.iocz").metadata
    assert meta["engine"] == "duckdb" and "process_events" in meta["clear_part"][0]
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "b.iocz")]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "clear part run by duckdb" in shown and "process_events" in shown and "GROUP BY" in shown


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_sysmon_hashes_are_split_in_the_engine(engine: str, case: Case, keys: Keys, tmp_path: Path) -> None:
    """Sysmon's raw ``Hashes`` field (``SHA1=…,MD5=…,SHA256=…``): split by ``--sysmon-hashes``
    with the same regular expression in Polars and DuckDB."""
    raw = case.frame.with_columns(Hashes=pl.format("MD5=0123456789ABCDEF0123456789ABCDEF,SHA256={}", "sha256"))
    raw.drop("sha256").write_parquet(tmp_path / "raw.parquet")
    out = tmp_path / "r.iocz"
    where = f"utc_time > '{AFTER}'"
    args = ["--engine", engine, "--logs", str(tmp_path / "raw.parquet"), "--sysmon-hashes", "Hashes", "--where", where]
    assert _scan(case, out, *args) == EXIT_OK
    assert decrypted(case, keys, iocz.Result.load(out), tmp_path) == truth(case, grouped=False)


MIXED = ["--logs", str(DATA / "seed_process_logs.csv"), "--logs", str(DATA / "dns_events.parquet")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--connect", "duckdb:///x.duckdb"], "--connect needs --table"),
        (["--table", "t", "--logs", "x.parquet"], "--table goes with --connect"),
        ([], "give the logs: --logs FILES, or --connect URL --table NAME"),
        (["--engine", "sqlite", "--logs", str(DATA / "dns_events.parquet")], "SQLite reads its own tables"),
        (["--engine", "duckdb", *MIXED], "reads Parquet, CSV or NDJSON files of one format"),
    ],
)  # fmt: skip
def test_wrong_engine_options_are_one_line_errors(
    case: Case, args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _scan(case, tmp_path / "r.iocz", *args) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("iocz: error: ") and message in err and err.count("\n") == 1


def test_unknown_table_names_the_tables_there(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "x.duckdb"
    con = ibis.duckdb.connect(db)
    con.create_table("events", pl.DataFrame({"a": [1]}).to_arrow())
    con.disconnect()
    assert _scan(case, tmp_path / "r.iocz", "--connect", f"duckdb:///{db}", "--table", "nope") == EXIT_INVALID
    assert "table 'nope' not found in duckdb:///" in capsys.readouterr().err
