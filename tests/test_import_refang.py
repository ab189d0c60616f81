"""Defanged values are refanged (and the report says so), ``load_iocs`` takes one path as a
``str`` or ``os.PathLike``, XML and empty inputs are clear errors, and the report groups skipped
items and notes by reason."""

from __future__ import annotations

from pathlib import Path

import iocz
import pytest
from iocz.iocs import ImportReport, Note, Skipped, refang

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    "defanged, fanged",
    [
        ("hxxp://evil[.]example/x", "http://evil.example/x"),
        ("hxxps://evil[.]example", "https://evil.example"),
        ("HXXPS://evil[.]example", "https://evil.example"),
        ("hxxp[:]//evil[.]example", "http://evil.example"),
        ("hxxps[://]evil[.]example", "https://evil.example"),
        ("fxp://files[.]evil[.]example", "ftp://files.evil.example"),
        ("1.2.3[.]4", "1.2.3.4"),
        ("1[.]2[.]3[.]4", "1.2.3.4"),
        ("evil(.)com", "evil.com"),
        ("evil{.}com", "evil.com"),
        ("evil[dot]com", "evil.com"),
        ("evil(DOT)com", "evil.com"),
        ("evil[ . ]com", "evil.com"),
        ("user[@]evil.com", "user@evil.com"),
        ("user[at]evil.com", "user@evil.com"),
        ("http://evil.example[/]path", "http://evil.example/path"),
        ("plain.example", "plain.example"),
        ("http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8080/"),  # IPv6 brackets untouched
    ],
)
def test_refang(defanged: str, fanged: str) -> None:
    assert refang(defanged) == fanged


def test_defanged_plain_list() -> None:
    report = iocz.load_iocs(FIXTURES / "defanged.txt")
    assert {(i.type, i.value) for i in report.iocs} == {
        ("domain", "evil.example"),
        ("domain", "secure.evil.example"),
        ("domain", "login.example"),
        ("ipv4", "192.0.2.7"),
        ("domain", "evil.org.example"),
        ("domain", "bad.net.example"),
        ("domain", "fanged.example"),
    }
    assert not report.skipped
    refanged = {n.where: n.detail for n in report.notes if n.kind == "defanged value refanged"}
    assert refanged == {
        "defanged.txt:2": "'hxxp://evil[.]example/x' → 'http://evil.example/x'",
        "defanged.txt:3": "'hxxps[:]//secure[.]evil[.]example[/]login' → 'https://secure.evil.example/login'",
        "defanged.txt:4": "'hXXp://user[@]login[.]example/portal' → 'http://user@login.example/portal'",
        "defanged.txt:5": "'192.0.2[.]7' → '192.0.2.7'",
        "defanged.txt:6": "'evil(.)org.example' → 'evil.org.example'",
        "defanged.txt:7": "'bad[dot]net.example' → 'bad.net.example'",
    }
    assert "note 6: defanged value refanged" in "\n".join(report.summary_lines())


def test_defanged_values_with_an_explicit_type(tmp_path: Path) -> None:
    path = tmp_path / "domains.txt"
    path.write_text("evil[.]example\nc2(.)evil[.]example\n")
    report = iocz.load_iocs(path, ioc_type="domain")
    assert {i.value for i in report.iocs} == {"evil.example", "c2.evil.example"}
    assert len(report.notes) == 2


def test_command_line_fragments_are_not_refanged(tmp_path: Path) -> None:
    path = tmp_path / "cmd.csv"
    path.write_text("type,value\nsubstring,copy a[.]b\n")
    report = iocz.load_iocs(path)
    assert [(i.type, i.value) for i in report.iocs] == [("substring", "copy a[.]b")]
    assert not report.notes


def test_one_path_as_str_or_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("one.evil.example\n")
    as_str = iocz.load_iocs(str(path))
    as_path = iocz.load_iocs(path)
    as_list = iocz.load_iocs([path])
    assert [i.value for i in as_str.iocs] == [i.value for i in as_path.iocs] == [i.value for i in as_list.iocs]
    assert [i.value for i in as_str.iocs] == ["one.evil.example"]


@pytest.mark.parametrize("content", ["", "\n# only a comment\n\n"])
def test_empty_list_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match="empty.txt: no IOCs found"):
        iocz.load_iocs(path)


def test_csv_with_a_header_only_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("type,value\n")
    with pytest.raises(ValueError, match="header.csv: no IOCs found"):
        iocz.load_iocs(path)


def test_xml_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "package.xml"
    path.write_text('<?xml version="1.0"?><stix:STIX_Package/>')
    with pytest.raises(ValueError, match=r"package.xml: XML \(STIX 1.x"):
        iocz.load_iocs(path)


def test_summary_and_detail_lines() -> None:
    report = ImportReport(
        skipped=[
            Skipped("a:1", "x", "unsupported IOC type 'mutex'"),
            Skipped("a:2", "y", "unsupported IOC type 'mutex'"),
            Skipped("a:3", "zz", 'invalid domain "zz": empty label'),
            Skipped("a:4", "ww", 'invalid domain "ww": empty label'),
            Skipped("a:5", "v", "not for detection: MISP to_ids is false", "type url"),
        ],
        notes=[Note("a:6", "hxxp://e[.]x", "defanged value refanged", "'hxxp://e[.]x' → 'http://e.x'")],
    )
    assert report.summary_lines() == [
        "skipped 2: unsupported IOC type 'mutex' (e.g. a:1: 'x')",
        "skipped 2: invalid domain \"…\": empty label (e.g. a:3: 'zz')",
        "skipped 1: not for detection: MISP to_ids is false (e.g. a:5: 'v')",
        "  (items not for detection are imported with include_non_detection=True)",
        "note 1: defanged value refanged (e.g. a:6: 'hxxp://e[.]x' → 'http://e.x')",
    ]
    assert report.detail_lines()[4] == "skipped a:5: not for detection: MISP to_ids is false (type url): 'v'"
    assert report.detail_lines()[5] == "note a:6: defanged value refanged: 'hxxp://e[.]x' → 'http://e.x'"
    assert report.summary() == "0 IOCs (none); 5 skipped"
