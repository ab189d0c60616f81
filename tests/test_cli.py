"""Command-line friction: key mix-ups, option names, help pages, sizes, usage errors, import
reports (in-process: no FHE scan)."""

from __future__ import annotations

import os
from pathlib import Path

import iocz
import pytest
from conftest import Keys
from iocz.cli import EXIT_OK, EXIT_USAGE, main
from iocz.cli_parser import build_parser
from iocz.describe import human_size
from iocz.progress import Progress

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def key_folder(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-keys")
    keys.client.save(folder / "client.key")
    keys.server.save(folder / "server.key")
    return folder


def test_server_key_as_key_is_named_before_permissions(key_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert oct(os.stat(key_folder / "server.key").st_mode & 0o777) != "0o600"  # would fail the permission check
    args = ["query", "--key", str(key_folder / "server.key"), "--iocs", str(FIXTURES / "iocs.txt"), "--out", "q"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "is a server key; --key needs the client key" in err and "chmod" not in err


def test_force_is_the_key_permission_override_and_the_old_name_works(
    key_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loose = tmp_path / "client.key"
    loose.write_bytes((key_folder / "client.key").read_bytes())
    (tmp_path / "server.key").symlink_to(key_folder / "server.key")
    os.chmod(loose, 0o644)
    args = ["query", "--key", str(loose), "--iocs", str(FIXTURES / "iocs.txt"), "--out", str(tmp_path / "q.iocz")]
    assert main(args) == 1
    assert "pass --force" in capsys.readouterr().err
    assert main([*args, "--force-key-permissions"]) == EXIT_OK
    assert main([*args, "--force", "--overwrite"]) == EXIT_OK
    assert main([*args, "--force"]) == 1  # the bundle exists: --overwrite replaces it
    assert "cannot write" in capsys.readouterr().err


def test_query_groups_skips_and_logs_every_item(
    key_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = str(FIXTURES / "misp_event_detection.json")
    base = ["query", "--key", str(key_folder / "client.key"), "--iocs", event]
    assert main([*base, "--out", str(tmp_path / "q.iocz"), "--import-log", str(tmp_path / "import.log")]) == EXIT_OK
    out, err = capsys.readouterr()
    report = iocz.load_iocs(event)
    groups = report.skipped_by_reason()
    assert f"skipped {len(groups['not for detection: MISP to_ids is false'])}: not for detection" in err
    assert "--include-non-detection" in err and "include_non_detection=True" not in err
    assert sum(line.startswith("skipped ") for line in err.splitlines()) == len(groups) < len(report.skipped)
    items = (tmp_path / "import.log").read_text().splitlines()
    assert items == report.detail_lines()
    imported = int(out.split("imported ")[1].split()[0])
    assert main([*base, "--out", str(tmp_path / "all.iocz"), "--include-non-detection"]) == EXIT_OK
    assert int(capsys.readouterr().out.split("imported ")[1].split()[0]) > imported


def test_inspect_shows_case_rule_only_for_substring_sets(
    keys: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iocs = [iocz.Ioc("md5", "d41d8cd98f00b204e9800998ecf8427e"), iocz.Ioc("substring", "lsadump::")]
    query = iocz.Query.create(keys.client, iocs, server_key=keys.server)
    query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    assert main(["inspect", str(tmp_path / "q.iocz")]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert "case_sensitive" not in next(line for line in lines if line.strip().startswith("md5"))
    assert "case_sensitive=False" in next(line for line in lines if line.strip().startswith("substring"))


def test_column_without_type_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["scan", "q.iocz", "--logs", "x.parquet", "--column", "query", "--out", "r.iocz"])
    assert exit_.value.code == EXIT_USAGE
    assert "--column: takes TYPE=COLUMN" in capsys.readouterr().err


def test_every_help_page_is_described() -> None:
    parser = build_parser()
    assert "``" not in parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, page in sub.choices.items():  # type: ignore[union-attr]
        assert page.description and len(page.description) > 40, name
        for action in page._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_sizes_use_kib_below_one_mib() -> None:
    assert human_size(40_668) == "39.7 KiB" and human_size(30_212_811) == "28.8 MiB" and human_size(412) == "412 B"


def test_progress_has_an_eta_before_the_first_partition() -> None:
    bar = Progress(enabled=False)
    bar.start(partitions=4, rows=100, pbs=4000)
    assert bar.eta_seconds() and "ETA ~" in bar.postfix()
    bar.work_seconds = 0.0
    bar.advance(rows=25, pbs=1000, resumed=False, planned=1000)
    assert bar.eta_seconds() is not None and "ETA ~" not in bar.postfix() and "ETA " in bar.postfix()
    bar.advance(rows=75, pbs=0, resumed=True, planned=3000)
    assert bar.eta_seconds() == 0
