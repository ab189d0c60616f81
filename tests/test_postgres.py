"""PostgreSQL through Ibis on a real, throwaway server (``postgres_server.py``): the clear part
runs as SQL in PostgreSQL, counts equal plaintext Polars per IOC and per host, and connection,
table and column mistakes are one-line errors that never show the password."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import iocz
import pytest
from conftest import Keys
from engines_support import AFTER, Case, decrypted, small_case, truth
from postgres_server import Server, server

TABLE = "process_events"
#: Distinct hash values in the table (little FHE work).
VALUES = 4


@pytest.fixture(scope="module")
def case(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Case:
    return small_case(keys, tmp_path_factory.mktemp("postgres"), VALUES)


@pytest.fixture(scope="module")
def pg(case: Case) -> Iterator[Server]:
    """A server holding the case's rows in table :data:`TABLE`."""
    with server() as s:
        con = s.connect()
        con.create_table(TABLE, case.frame.to_arrow())
        con.disconnect()
        yield s


def _cli(url: str, case: Case, out: Path, *extra: str, table: str = TABLE) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable, "-m", "iocz", "scan", str(case.query.path), "--connect", url, "--table", table,
        "--where", f"utc_time > '{AFTER}'", "--bits", "64", "--no-progress", "--out", str(out), *extra,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_cli_connect_postgres_counts_like_plaintext(pg: Server, case: Case, keys: Keys, tmp_path: Path) -> None:
    run = _cli(pg.url, case, tmp_path / "r.iocz", "--column", "sha256=sha256")
    assert run.returncode == 0, run.stderr
    assert pg.password not in run.stdout + run.stderr
    result = iocz.Result.load(tmp_path / "r.iocz")
    assert decrypted(case, keys, result, tmp_path) == truth(case, grouped=False)
    meta = result.metadata
    assert meta["engine"] == "postgres"
    sql = meta["clear_part"][0]
    assert "GROUP BY" in sql and f'"{TABLE}"' in sql and AFTER in sql, sql
    assert pg.password not in str(meta)


def test_ibis_postgres_table_counts_per_host(pg: Server, case: Case, keys: Keys, tmp_path: Path) -> None:
    table = pg.connect().table(TABLE)
    result = iocz.scan(
        table.filter(table.utc_time > AFTER), case.query, {"sha256": "sha256"}, group_by="host", bits=64,
        progress=False,
    )  # fmt: skip
    assert decrypted(case, keys, result, tmp_path) == truth(case, grouped=True)
    assert result.metadata["engine"] == "postgres" and "GROUP BY" in result.metadata["clear_part"][0]


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ("password", r"^iocz: error: cannot connect to postgres://company:\*\*\*@127\.0\.0\.1:\d+/siem: .*"
         r"password authentication failed for user \"company\"$"),
        ("table", r"^iocz: error: table 'no_such_table' not found in postgres://company:\*\*\*@127\.0\.0\.1:\d+/siem "),
        ("column", r"^iocz: error: log column\(s\) not found: no_such_column \(have: host, utc_time, sha256; "
         r"engine postgres\)$"),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_without_the_password(
    pg: Server, case: Case, tmp_path: Path, mistake: str, message: str
) -> None:
    url = pg.url.replace(pg.password, "Wrong-" + pg.password[::-1]) if mistake == "password" else pg.url
    column = "sha256=no_such_column" if mistake == "column" else "sha256=sha256"
    table = "no_such_table" if mistake == "table" else TABLE
    run = _cli(url, case, tmp_path / "r.iocz", "--column", column, table=table)
    assert run.returncode == 1
    lines = [line for line in run.stderr.strip().splitlines() if not line.startswith("policy: ")]  # notes
    assert len(lines) == 1 and re.match(message, lines[0]), run.stderr
    assert pg.password not in run.stderr + run.stdout
    assert pg.password[::-1] not in run.stderr + run.stdout
