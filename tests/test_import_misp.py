"""MISP import from hand-written fixtures in every form MISP produces: an event export, REST
``restSearch`` responses for events, attributes and objects, and the CSV export. ``to_ids``
false (in attributes and in objects) is honoured by default and reported; the flag
``include_non_detection`` imports those attributes, each with a note."""

from __future__ import annotations

import json
from pathlib import Path

import iocz
import pytest
from iocz.iocs import NON_DETECTION, read_misp

FIXTURES = Path(__file__).parent / "fixtures"
TO_IDS_FALSE = "not for detection: MISP to_ids is false"

DROPPER_SHA256 = "a934d8d273e44f15ccddbcd7180cf99d0fff719acff064f0b080299f9cd83e41"
LOADER_MD5 = "4a527f83a3a4ca7e1d70adb26a35b72e"
IMPLANT_MD5 = "994e01aa71e3de9e8bbdafb048be4953"
STEALER_MD5 = "7ae571e6d05cef91ef380212b3d2c7a8"
STEALER_SHA256 = "a39b1607a151a58dc88737ae57019b020ba050b0cfd24c1b014306d34507e185"
RAT = ("e756f6aafafdef4debdb5e49bcbd3f11", "359ce0caae50b7d35ab21e93589a87e806b536b9")
RAT_SHA256 = "9950cec246ece55e46c9929ef30136e25c01b015637715c0d4aaf007208ae836"
MINER_SHA256 = "8b133a3868993176b613738816247a7f4d357cae555996519cf5b543e9b3554b"
BEACON = ("41b89d10619cdd3e30fb6c401c17c7d9", "c31f77b1e01a1042a7551db12321d026612748ed")
BEACON_SHA256 = "8a62e967fcd6dfa5d75308c37808b4668a7faf1cdb06e09ac0a7161827603887"


def _pairs(report: iocz.ImportReport) -> set[tuple[str, str]]:
    return {(i.type, i.value) for i in report.iocs}


def _skips(report: iocz.ImportReport) -> set[tuple[str, str]]:
    """(where without the file name, reason) of every skipped item."""
    return {(s.where.split(":", 1)[1], s.reason) for s in report.skipped}


EVENT_IOCS = {
    ("sha256", DROPPER_SHA256),
    ("md5", LOADER_MD5),  # to_ids "1" (string form)
    ("domain", "evil.example"),  # refanged
    ("domain", "c2.example.net"),  # hxxps URL, refanged, its host
    ("ipv4", "203.0.113.45"),  # refanged
    ("md5", IMPLANT_MD5),  # malware-sample filename|md5
    ("md5", STEALER_MD5),  # file object
    ("sha256", STEALER_SHA256),
    ("domain", "cdn.evil.example"),  # domain-ip object
}
EVENT_NON_DETECTION = {
    ("Event.Attribute[2]", TO_IDS_FALSE),  # link to a facebook page
    ("Event.Attribute[3]", TO_IDS_FALSE),  # vendor advisory URL
    ("Event.Attribute[4]", TO_IDS_FALSE),  # facebook.com as lure context
    ("Event.Object[1].Attribute[1]", TO_IDS_FALSE),  # the domain-ip object's ip
    ("Event.Object[2].Attribute[0]", TO_IDS_FALSE),  # url object, to_ids "0"
}
EVENT_OTHER_SKIPS = {
    ("Event.Attribute[8]", "unsupported IOC type 'text'"),
    ("Event.Attribute[10]", "unsupported IOC type 'comment'"),
    ("Event.Attribute[11]", "MISP attribute is marked deleted"),
    ("Event.Object[0].Attribute[0]", "unsupported IOC type 'filename'"),
    ("Event.Object[0].Attribute[3]", "unsupported IOC type 'size-in-bytes'"),
}


def test_event_honours_to_ids_in_attributes_and_objects() -> None:
    report = iocz.load_iocs(FIXTURES / "misp_event_detection.json")
    assert _pairs(report) == EVENT_IOCS
    assert _skips(report) == EVENT_NON_DETECTION | EVENT_OTHER_SKIPS
    assert ("domain", "facebook.com") not in _pairs(report)
    labels = {i.value: i.label for i in report.iocs}
    assert labels[DROPPER_SHA256] == "dropper"  # the attribute's comment
    assert labels[IMPLANT_MD5] == "implant sample"
    assert labels[STEALER_MD5] == "Phishing wave with loader"  # else the event's info
    refanged = {n.where.split(":", 1)[1] for n in report.notes if n.kind == "defanged value refanged"}
    assert refanged == {"Event.Attribute[5]", "Event.Attribute[6]", "Event.Attribute[7]"}


def test_event_include_non_detection_imports_them_with_a_note() -> None:
    report = iocz.load_iocs([FIXTURES / "misp_event_detection.json"], include_non_detection=True)
    assert _pairs(report) == EVENT_IOCS | {
        ("domain", "www.facebook.com"),
        ("domain", "vendor.example"),
        ("domain", "facebook.com"),
        ("ipv4", "198.51.100.77"),
        ("domain", "docs.example.org"),
    }
    assert _skips(report) == EVENT_OTHER_SKIPS  # unsupported and deleted stay skipped
    included = [n for n in report.notes if n.kind.startswith("imported although not for detection")]
    assert {n.where.split(":", 1)[1] for n in included} == {w for w, _ in EVENT_NON_DETECTION}


def test_rest_search_objects_response() -> None:
    report = iocz.load_iocs(FIXTURES / "misp_rest_objects.json")
    assert _pairs(report) == {
        ("md5", RAT[0]),
        ("sha1", RAT[1]),
        ("sha256", RAT_SHA256),
        ("ipv4", "192.0.2.10"),
        ("domain", "update.evil.example"),
    }
    assert _skips(report) == {
        ("response[0].Object.Attribute[3]", "unsupported IOC type 'filename'"),
        ("response[1].Object.Attribute[1]", "unsupported IOC type 'port'"),
        ("response[2].Object.Attribute[1]", TO_IDS_FALSE),
    }
    assert {i.label for i in report.iocs} == {"Operation Fixture RAT"}  # the object's Event.info


def test_rest_search_attributes_response() -> None:
    report = iocz.load_iocs(FIXTURES / "misp_rest_attributes.json")
    assert _pairs(report) == {
        ("sha256", MINER_SHA256),
        ("domain", "pool.miner.example"),
        ("ipv4", "198.51.100.0/24"),
        ("domain", "relay.miner.example"),  # hostname|port
        ("ipv6", "2001:db8::20"),  # ip-dst|port
    }
    assert _skips(report) == {
        ("response.Attribute[4]", "unsupported IOC type 'email-src'"),
        ("response.Attribute[5]", TO_IDS_FALSE),
    }
    labels = {i.value: i.label for i in report.iocs}
    assert labels["pool.miner.example"] == "mining pool"
    assert labels[MINER_SHA256] == "Miner campaign"


def test_rest_search_events_response() -> None:
    report = iocz.load_iocs(FIXTURES / "misp_rest_events.json")
    assert _pairs(report) == {
        ("md5", BEACON[0]),
        ("sha1", BEACON[1]),
        ("sha256", BEACON_SHA256),  # from the object's filename|sha256 (to_ids true)
    }
    assert _skips(report) == {("response[1].Event.Attribute[1]", TO_IDS_FALSE)}
    labels = {i.value: i.label for i in report.iocs}
    assert labels[BEACON[0]] == "Beacon event one"
    assert labels[BEACON[1]] == "Beacon event two"


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"Attribute": {"type": "domain", "value": "single.evil.example", "to_ids": True}}, {"single.evil.example"}),
        (
            [{"type": "domain", "value": "a.evil.example"}, {"type": "hostname", "value": "b.evil.example"}],
            {"a.evil.example", "b.evil.example"},
        ),
        (
            {"Object": {"name": "domain-ip", "Attribute": [{"type": "domain", "value": "o.evil.example"}]}},
            {"o.evil.example"},
        ),
        (
            [{"Event": {"info": "feed", "Attribute": [{"type": "domain", "value": "feed.evil.example"}]}}],
            {"feed.evil.example"},
        ),
        ({"response": [{"Attribute": {"type": "domain", "value": "r.evil.example"}}]}, {"r.evil.example"}),
    ],
)
def test_other_misp_shapes(data: object, expected: set[str]) -> None:
    report = read_misp(data, "x.json")
    assert {i.value for i in report.iocs} == expected
    assert not report.skipped


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"response": []}', "REST search response with no results"),
        ('{"response": {"Attribute": []}}', "0 attribute"),
        ('{"Event": {"info": "empty", "Attribute": [], "Object": []}}', "1 event"),
        ('{"name": "not misp"}', "no MISP event, attribute or object found"),
    ],
)
def test_nothing_found_is_an_error_not_a_silent_zero(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "search.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="search.json") as e:
        iocz.load_iocs(path)
    assert message in str(e.value)


def test_empty_rest_search_fixture() -> None:
    with pytest.raises(ValueError, match=r"misp_rest_empty.json: no IOCs found \(read as MISP JSON: a REST search"):
        iocz.load_iocs(FIXTURES / "misp_rest_empty.json")


def test_misp_csv_export_honours_to_ids() -> None:
    report = iocz.load_iocs(FIXTURES / "misp_export.csv")
    assert _pairs(report) == {("sha256", DROPPER_SHA256), ("domain", "evil.example"), ("md5", STEALER_MD5)}
    assert _skips(report) == {("3", TO_IDS_FALSE), ("6", "unsupported IOC type 'filename'")}
    assert {i.value: i.label for i in report.iocs}[DROPPER_SHA256] == "dropper"  # the comment column
    everything = iocz.load_iocs(FIXTURES / "misp_export.csv", include_non_detection=True)
    assert ("domain", "www.facebook.com") in _pairs(everything)


def test_many_skips_are_grouped_by_reason(tmp_path: Path) -> None:
    attributes = [{"type": "domain", "value": f"context{i}.example", "to_ids": False} for i in range(300)]
    attributes += [{"type": "regkey", "value": f"HKLM\\Software\\k{i}", "to_ids": True} for i in range(40)]
    attributes += [{"type": "sha256", "value": DROPPER_SHA256, "to_ids": True}]
    attributes += [{"type": "mutex", "value": "Global\\m", "to_ids": True}] * 2
    path = tmp_path / "big_event.json"
    path.write_text(json.dumps({"Event": {"info": "big", "Attribute": attributes}}))
    report = iocz.load_iocs(str(path))
    assert len(report.skipped) == 342
    lines = report.summary_lines()
    assert lines[0].startswith(f"skipped 300: {TO_IDS_FALSE} (e.g. big_event.json:Event.Attribute[0]: ")
    assert lines[1].startswith("skipped 40: unsupported IOC type 'regkey'")
    assert lines[2].startswith("skipped 2: unsupported IOC type 'mutex'")
    assert "include_non_detection=True" in lines[3]
    assert len(lines) == 4
    assert len(report.detail_lines()) == 342
    assert all(s.reason.startswith(NON_DETECTION) for s in report.skipped[:300])
