"""IOC import from hand-written STIX 2.1, MISP, CSV and plain-list fixtures: every supported
type is imported, every unsupported or malformed item is reported with a reason."""

from __future__ import annotations

from pathlib import Path

import iocz
import pytest
from iocz.iocs import detect_format

FIXTURES = Path(__file__).parent / "fixtures"
S256, S1, M5, IMP = "a" * 63 + "1", "b" * 39 + "2", "c" * 31 + "3", "d" * 31 + "4"


def _pairs(report: iocz.ImportReport) -> set[tuple[str, str]]:
    return {(i.type, i.value) for i in report.iocs}


def test_stix_every_supported_pattern() -> None:
    report = iocz.load_iocs([FIXTURES / "iocs.stix.json"])
    assert _pairs(report) == {
        ("sha256", S256),
        ("sha1", S1),
        ("md5", M5),
        ("imphash", IMP),
        ("domain", "evil.example.com"),
        ("ipv4", "203.0.113.7"),
        ("ipv4", "198.51.100.0/24"),
        ("ipv6", "2001:db8::1"),
        ("domain", "c2.example.net"),
        ("substring", "sekurlsa::logonpasswords"),
    }
    reasons = " | ".join(s.reason for s in report.skipped)
    assert len(report.skipped) == 7, reasons
    for expected in ("AND / FOLLOWEDBY", "operator not supported", "SHA-512", "yara", "object path", "invalid"):
        assert expected in reasons
    # [file:hashes.MD5 = … AND file:name = 'x.exe']: the md5, with the file name dropped (noted)
    assert ("md5", M5, "and") in {(i.type, i.value, i.label) for i in report.iocs}
    assert [(n.where.rsplit("-", 1)[1], n.detail) for n in report.notes if n.kind.startswith("STIX AND")] == [
        ("000000000009", "file:name = 'x.exe'")
    ]
    assert {(S1, "sha1 or md5"), (M5, "sha1 or md5")} <= {(i.value, i.label) for i in report.iocs}
    assert all(s.where.startswith("iocs.stix.json:indicator--") for s in report.skipped)


def test_misp_event_attributes_objects_and_composites() -> None:
    report = iocz.load_iocs([FIXTURES / "iocs.misp.json"])
    assert _pairs(report) == {
        ("md5", M5),
        ("sha1", S1),
        ("sha256", S256),
        ("imphash", IMP),
        ("domain", "evil.example.com"),
        ("domain", "host.evil.example.org"),
        ("ipv4", "203.0.113.7"),
        ("ipv6", "2001:db8::1"),
        ("ipv4", "198.51.100.9"),
        ("domain", "c2.example.net"),
        ("ipv4", "192.0.2.55"),
        ("domain", "dl.example.org"),
        ("sha256", "f" * 64),
    }
    reasons = sorted(s.reason for s in report.skipped)
    assert len(reasons) == 5, reasons
    assert sum("unsupported IOC type" in r for r in reasons) == 4
    assert any("Object[0]" in s.where for s in report.skipped)
    assert {i.label for i in report.iocs if i.value == S256} == {"dropper"}


def test_csv_with_type_value_label() -> None:
    report = iocz.load_iocs([FIXTURES / "iocs.csv"])
    assert _pairs(report) == {
        ("sha256", S256),
        ("md5", M5),
        ("domain", "evil.example.com"),
        ("ipv4", "198.51.100.0/24"),
        ("domain", "c2.example.net"),
        ("substring", "lsadump::sam"),
    }
    assert [s.where for s in report.skipped] == ["iocs.csv:8", "iocs.csv:9"]


def test_plain_list_types_are_guessed() -> None:
    report = iocz.load_iocs([FIXTURES / "iocs.txt"])
    assert _pairs(report) == {
        ("sha256", S256),
        ("sha1", S1),
        ("md5", M5),
        ("ipv4", "203.0.113.7"),
        ("ipv6", "2001:db8::/32"),
        ("domain", "evil.example.com"),
        ("domain", "c2.example.net"),
    }
    assert [s.value for s in report.skipped] == ["this is not an ioc"]


def test_plain_list_with_explicit_type(tmp_path: Path) -> None:
    path = tmp_path / "imphashes.txt"
    path.write_text(f"{IMP}\n{M5}\n")
    report = iocz.load_iocs([path], ioc_type="imphash")
    assert _pairs(report) == {("imphash", IMP), ("imphash", M5)}


def test_format_detection() -> None:
    for name, fmt in [
        ("iocs.stix.json", "stix"),
        ("iocs.misp.json", "misp"),
        ("iocs.csv", "csv"),
        ("iocs.txt", "list"),
    ]:
        path = FIXTURES / name
        assert detect_format(path, path.read_text()) == fmt


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"{not json"])
def test_unreadable_files_are_clear_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.json"):
        iocz.load_iocs([path], format="stix")


def test_csv_without_needed_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("indicator\nabc\n")
    with pytest.raises(ValueError, match="'type' and 'value'"):
        iocz.load_iocs([path])
