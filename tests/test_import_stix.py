"""STIX import from hand-written fixtures: MISP's own STIX 2.1 export (AND patterns: countable
observable extracted, describing terms dropped with a note, true conjunctions refused with the
reason), revoked / expired indicators, hash algorithm spellings, IN lists, defanged values and
a STIX 2.0 bundle."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import iocz
import pytest
from iocz.iocs import read_stix

FIXTURES = Path(__file__).parent / "fixtures"

DROPPER = ("741bbfe6375f736d064a3e23f004676d", "a934d8d273e44f15ccddbcd7180cf99d0fff719acff064f0b080299f9cd83e41")
LOADER = (
    "4a527f83a3a4ca7e1d70adb26a35b72e",
    "c57e08af28c85e7fe987028f7986f0bb4573f663",
    "d47712cceb4c780603026e6325221c1bcff90679ebc076baa51c71ebe796717c",
)
IMPLANT_SHA256 = "c3863ec1e58a6a4dc8fa26f0148ffca03caf98deea2d3a16a4bb03b80e926ed6"
SECTION_MD5 = "e756f6aafafdef4debdb5e49bcbd3f11"
STEALER_MD5 = "7ae571e6d05cef91ef380212b3d2c7a8"


def _pairs(report: iocz.ImportReport) -> set[tuple[str, str]]:
    return {(i.type, i.value) for i in report.iocs}


def _n(where: str) -> int:
    """The fixture indicator number from its id."""
    return int(where.rsplit("-", 1)[1])


def _skips(report: iocz.ImportReport) -> dict[int, str]:
    return {_n(s.where): s.reason for s in report.skipped}


def _notes(report: iocz.ImportReport, kind_start: str) -> dict[int, str]:
    return {_n(n.where): n.detail for n in report.notes if n.kind.startswith(kind_start) and "indicator--" in n.where}


def test_misp_stix21_export_and_patterns() -> None:
    report = iocz.load_iocs(FIXTURES / "stix21_misp_export.json")
    assert _pairs(report) == {
        ("md5", DROPPER[0]),  # 1 filename|md5 (and 20, the same md5 alone)
        ("ipv4", "203.0.113.10"),  # 2 ip-dst: dst_ref.type dropped
        ("ipv4", "198.51.100.20"),  # 3 ip-src|port: type and port dropped
        ("domain", "panel.evil.example"),  # 4 hostname|port
        ("domain", "dns.evil.example"),  # 5 domain|ip: the domain ...
        ("ipv4", "203.0.113.11"),  # ... and the address it resolves to
        ("md5", LOADER[0]),  # 6 file object: its three hashes
        ("sha1", LOADER[1]),
        ("sha256", LOADER[2]),
        ("sha256", IMPLANT_SHA256),  # 7 file + pe: the file's hash and imphash, not the section's md5
        ("imphash", "f34d5f2d4577ed6d9ceec516c1f5a744"),
        ("imphash", "a1b2c3d4e5f60718293a4b5c6d7e8f90"),  # 8 file:hashes.IMPHASH
        ("md5", STEALER_MD5),  # 9 malware-sample
        ("domain", "cdn.evil.example"),  # 10 url object: the URL's host
        ("substring", "Invoke-Mimikatz"),  # 18 command line with the process name
        ("sha256", DROPPER[1]),  # 19
    }
    assert ("md5", SECTION_MD5) not in _pairs(report)
    assert _skips(report) == {
        11: "AND gives network-traffic:dst_ref.value 2 different values that must all hold on one row",
        12: "AND of a source and a destination address needs both on one row (each IOC is counted alone)",
        13: "AND gives file:hashes.MD5 2 different values that must all hold on one row",
        14: "AND of domain-name and ipv4-addr terms needs both on one row (each IOC is counted alone)",
        15: "x509-certificate:hashes.SHA-1: object path not supported",
        16: "email-message:from_ref.value: object path not supported",
        17: "file hash 'SHA-512' is not supported",
    }
    dropped = _notes(report, "STIX AND: terms that only describe")
    assert dropped == {
        1: "file:name = 'invoice.pdf.exe'",
        2: "network-traffic:dst_ref.type = 'ipv4-addr'",
        3: "network-traffic:src_ref.type = 'ipv4-addr'; network-traffic:src_port = '4444'",
        4: "network-traffic:dst_port = '8443'",
        6: "file:name = 'loader.dll'; file:size = '73802'",
        7: dropped[7],
        9: dropped[9],
        10: "url:x_misp_domain = 'evil.example'; url:x_misp_ip = '203.0.113.12'",
        18: "process:name = 'powershell.exe'",
    }
    assert f"sections[0].hashes.MD5 = '{SECTION_MD5}'" in dropped[7]
    assert "file:content_ref.payload_bin" in dropped[9] and "file:name = 'invoice.zip'" in dropped[9]
    assert set(_notes(report, "STIX AND of identifiers")) == {5, 6, 7}
    observations = [n for n in report.notes if n.kind.startswith("STIX observations not imported")]
    assert [n.detail for n in observations] == ["observed-data 1, domain-name 1"]
    labels = {i.value: i.label for i in report.iocs}
    assert labels[DROPPER[0]] in ("dropper attachment", "Phishing wave with loader")
    assert labels[LOADER[0]] == "file"  # the indicator's name
    assert labels[IMPLANT_SHA256] == "Phishing wave with loader"  # the report (MISP event) naming it


def test_revoked_expired_and_misp_to_ids_false_indicators() -> None:
    report = iocz.load_iocs(FIXTURES / "stix21_detection_flags.json")
    assert _skips(report) == {
        1: "not for detection: STIX indicator is revoked",
        2: "not for detection: STIX indicator has expired (valid_until is past)",
        4: "not for detection: MISP to_ids is false",
        8: "not for detection: STIX indicator is revoked",
        9: "mutex:name: object path not supported",  # revoked, but unsupported is the reason that matters
    }
    assert ("domain", "current.evil.example") in _pairs(report)  # valid_until in 2999
    expired = next(s for s in report.skipped if _n(s.where) == 2)
    assert expired.detail == "valid_until 2024-03-01 00:00:00+00:00"
    everything = iocz.load_iocs(FIXTURES / "stix21_detection_flags.json", include_non_detection=True)
    assert _pairs(everything) - _pairs(report) == {
        ("domain", "revoked.evil.example"),
        ("ipv4", "192.0.2.200"),
        ("domain", "ref.example.org"),
        ("domain", "both.evil.example"),
    }
    assert _notes(everything, "imported although not for detection") == {
        1: "STIX indicator is revoked",
        2: "STIX indicator has expired (valid_until is past) (valid_until 2024-03-01 00:00:00+00:00)",
        4: 'MISP to_ids is false (label misp:to_ids="False")',
        8: "STIX indicator is revoked",
    }


def test_expiry_is_compared_with_now_in_utc() -> None:
    data = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-0000000000aa",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "pattern": "[domain-name:value = 'soon.evil.example']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "valid_until": "2024-06-01T12:00:00Z",
    }
    before = read_stix(data, "x", now=datetime(2024, 6, 1, 11, 59, tzinfo=UTC))
    after = read_stix(data, "x", now=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
    assert _pairs(before) == {("domain", "soon.evil.example")}
    assert not after.iocs and after.skipped[0].reason.endswith("has expired (valid_until is past)")


def test_hash_names_as_stix_defines_them_in_or_patterns_and_in_lists() -> None:
    report = iocz.load_iocs(FIXTURES / "stix21_detection_flags.json")
    by_label: dict[str, set[tuple[str, str]]] = {}
    for i in report.iocs:
        by_label.setdefault(i.label, set()).add((i.type, i.value))
    assert by_label["hash name spellings"] == {
        ("sha256", "9950cec246ece55e46c9929ef30136e25c01b015637715c0d4aaf007208ae836"),  # SHA256
        ("sha1", "1c40b2456e5341197292c9d21a6998b841e994b9"),  # 'sha-1'
        ("md5", "ab4fc8c0800e170782a31ab6b09d0176"),  # 'Md5'
        ("imphash", "b1c2d3e4f5a60718293a4b5c6d7e8f90"),  # imphash
        ("sha256", "8b133a3868993176b613738816247a7f4d357cae555996519cf5b543e9b3554b"),  # 'SHA_256'
    }
    assert by_label["IN list"] == {("domain", "in1.evil.example"), ("domain", "in2.evil.example")}
    assert by_label["defanged"] == {
        ("domain", "evil.example"),  # hxxp://evil[.]example/x
        ("ipv4", "192.0.2.99"),  # 192.0.2[.]99
        ("domain", "evil.com.example"),  # evil(.)com.example
        ("domain", "bad.example"),  # bad[dot]example
    }
    assert len(_notes(report, "defanged value refanged")) == 1  # one indicator ...
    assert sum(n.kind == "defanged value refanged" for n in report.notes) == 4  # ... four values


def test_stix20_bundle() -> None:
    report = iocz.load_iocs(FIXTURES / "stix20_bundle.json")
    assert _pairs(report) == {
        ("sha256", "8a62e967fcd6dfa5d75308c37808b4668a7faf1cdb06e09ac0a7161827603887"),
        ("domain", "stix20.evil.example"),
        ("md5", "ab4fc8c0800e170782a31ab6b09d0176"),
    }
    assert _skips(report) == {4: "not for detection: STIX indicator has expired (valid_until is past)"}
    assert _notes(report, "STIX AND: terms") == {3: "file:name = 'miner.exe'"}


@pytest.mark.parametrize(
    "pattern, reason",
    [
        ("[a:b = 'x'] AND [c:d = 'y']", "AND / FOLLOWEDBY of observations"),
        ("[domain-name:value = 'a.example'] WITHIN 5 SECONDS", "qualified patterns"),
        ("[process:command_line LIKE '%a%' AND process:command_line LIKE '%b%']", "2 different values"),
        ("[domain-name:value != 'a.example']", "negated comparisons cannot be counted"),
        ("[domain-name:value MATCHES 'a']", "operator not supported"),
        (
            "[file:hashes.MD5 = 'ab4fc8c0800e170782a31ab6b09d0176' AND process:name = 'x.exe']",
            "AND of file and process",
        ),
    ],
)
def test_refused_patterns_say_why(pattern: str, reason: str) -> None:
    data = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-0000000000bb",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    report = read_stix(data, "x")
    assert not report.iocs
    assert [reason in s.reason for s in report.skipped] == [True], report.skipped


def test_or_inside_and_keeps_each_alternative() -> None:
    data = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-0000000000cc",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "pattern": (
            f"[file:name = 'x.exe' AND (file:hashes.MD5 = '{DROPPER[0]}' OR file:hashes.'SHA-256' = '{DROPPER[1]}')]"
        ),
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    report = read_stix(data, "x")
    assert _pairs(report) == {("md5", DROPPER[0]), ("sha256", DROPPER[1])}
    assert [n.detail for n in report.notes] == ["file:name = 'x.exe'"] * 2


def test_unsupported_spec_version_and_no_indicators(tmp_path: Path) -> None:
    report = read_stix(
        {"type": "indicator", "spec_version": "2.2", "id": "indicator--x", "pattern": "[a:b = 'c']"}, "x"
    )
    assert report.skipped[0].reason == "STIX spec_version '2.2' is not supported (2.0, 2.1 are)"
    path = tmp_path / "observations.json"
    path.write_text(
        '{"type": "bundle", "id": "bundle--1", "objects": [{"type": "observed-data", "id": "observed-data--1"}]}'
    )
    with pytest.raises(
        ValueError, match=r"observations.json: no IOCs found \(read as STIX: no indicator .*observed-data 1"
    ):
        iocz.load_iocs(path)
