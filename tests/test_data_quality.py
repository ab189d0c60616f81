"""Company side, no believable wrong answers: every column is checked against its set's type
in the clear before any FHE work; placeholders in hash columns are skipped and counted."""

from __future__ import annotations

import logging
from pathlib import Path

import iocz
import polars as pl
import pytest
from conftest import Keys
from iocz.engines import PAIR_VALUE, PAIR_WEIGHT
from iocz.engines.polars_lazy import PolarsSource
from iocz.partition import plan_pairs
from iocz.quality import ColumnQuality

SAMPLE = Path(iocz.__file__).parent / "data" / "sample_process_logs.csv"
PLACEHOLDERS = ["-", "", "N/A", "  ", "abc123", None]


@pytest.fixture(scope="module")
def hash_query(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> iocz.Query:
    frame = pl.read_csv(SAMPLE)
    planted = frame["sha256"].value_counts().sort("count", "sha256", descending=True)["sha256"][:2].to_list()
    iocs = [iocz.Ioc("sha256", v) for v in planted] + [iocz.Ioc("domain", "evil.example.com")]
    query = iocz.Query.create(keys.client, iocs, server_key=keys.server)
    folder = tmp_path_factory.mktemp("dq")
    query._manifest_path = query.save(folder / "q.iocz", manifest_dir=folder / "queries")  # type: ignore[attr-defined]
    return query


@pytest.fixture(scope="module")
def typed_sets(keys: Keys) -> dict[str, iocz.QuerySet]:
    """One small scan-kernel set per type the classification test uses."""
    iocs = [
        iocz.Ioc("md5", "0" * 31 + "1"),
        iocz.Ioc("domain", "evil.com"),
        iocz.Ioc("ipv4", "10.0.0.9"),
        iocz.Ioc("ipv6", "::9"),
        iocz.Ioc("substring", "mimikatz"),
    ]
    query = iocz.Query.create(keys.client, iocs, server_key=keys.server, kernel="scan")
    return {s.ioc_type: s for s in query.sets}


def check_column(sets: dict[str, iocz.QuerySet], df: pl.DataFrame, column: str, ioc_type: str) -> ColumnQuality:
    """The figures a scan's plan gives the rows of ``df`` (each row weighs 1)."""
    pairs = df.group_by(pl.col(column).alias(PAIR_VALUE)).agg(pl.len().cast(pl.UInt64).alias(PAIR_WEIGHT))
    plan, _ = plan_pairs(pairs, sets[ioc_type], False, 64, "auto", any_total=None, partition_size=64, count_bits=32)
    return ColumnQuality.of(0, ioc_type, column, plan.quality)


def test_classification_per_type(typed_sets: dict[str, iocz.QuerySet]) -> None:
    df = pl.DataFrame(
        {
            "h": ["d41d8cd98f00b204e9800998ecf8427e", "D41D8CD98F00B204E9800998ECF8427E ", "-", "", "N/A", None],
            "d": ["evil.com", "a.b.evil.com", "1.2.3.4", "d41d8cd98f00b204e9800998ecf8427e", "WIN-PC01", None],
            "ip": ["10.0.0.1", "[::1]", "fe80::1%eth0", "10.0.0.0/8", "evil.com", "1.2.3.4:80"],
        }
    )
    md5 = check_column(typed_sets, df, "h", "md5")
    assert (md5.rows, md5.distinct, md5.missing_rows, md5.bad_rows, md5.bad_distinct) == (4, 4, 2, 2, 2)
    assert md5.skipped and md5.first_bad == "-"
    dom = check_column(typed_sets, df, "d", "domain")
    assert (dom.rows, dom.bad_rows, dom.skipped) == (5, 3, False)  # an IP, a hash, a single label
    assert check_column(typed_sets, df, "ip", "ipv4").bad_rows == 5
    assert check_column(typed_sets, df, "ip", "ipv6").bad_rows == 3
    assert check_column(typed_sets, df, "d", "substring").bad_rows == 0
    assert check_column(typed_sets, df.select(d=pl.col("h")), "d", "domain").no_match_possible


def test_wrong_column_is_an_error_unless_forced(keys: Keys, hash_query: iocz.Query) -> None:
    frame = pl.read_csv(SAMPLE)
    with pytest.raises(ValueError, match=r"column sha256 \(domain set\): 0 of 65 values are domain names — is this"):
        iocz.scan(frame, hash_query, {"sha256": "sha256", "domain": "sha256"}, bits=64, progress=False)
    with pytest.raises(ValueError, match=r"column host .*No value of it can match the sha256 set.*force=True, --force"):
        iocz.scan(frame, hash_query, {"sha256": "host"}, bits=64, progress=False)


def test_placeholders_are_skipped_and_counted(
    keys: Keys, hash_query: iocz.Query, caplog: pytest.LogCaptureFixture
) -> None:
    real = pl.read_csv(SAMPLE).select("host", "sha256")
    noise = pl.DataFrame({"host": ["h-noise"] * len(PLACEHOLDERS), "sha256": PLACEHOLDERS})
    frame = pl.concat([real, noise]).sample(fraction=1.0, shuffle=True, seed=7)
    strict = r"column 'sha256': 3 rows \(3 distinct\) are not sha256 values \(not of the type, e\.g\. '.*'\) and strict"
    with pytest.raises(ValueError, match=strict):
        iocz.scan(frame, hash_query, {"sha256": "sha256"}, strict=True, bits=64, progress=False)
    with caplog.at_level(logging.INFO, logger="iocz.quality"):
        result = iocz.scan(frame, hash_query, {"sha256": "sha256"}, bits=64, progress=False)
    assert "3 rows (3 distinct values) are not and are skipped; 3 empty or null" in caplog.text
    assert "not of the type, e.g. '" in caplog.text
    (dq,) = result.metadata["data_quality"]
    assert dq == {
        "set": 0 if hash_query.sets[0].ioc_type == "sha256" else 1,
        "type": "sha256",
        "column": "sha256",
        "rows": real.height + 3,
        "distinct": real["sha256"].n_unique() + 3,
        "missing_rows": 3,
        "not_of_type_rows": 3,
        "not_of_type_distinct": 3,
        "skipped": True,
    }
    out = result.decrypt(keys.client, manifest=hash_query._manifest_path)  # type: ignore[attr-defined]
    for row in out.counts.iter_rows(named=True):
        assert row["count"] == real.filter(pl.col("sha256") == row["ioc"]).height, row
    iocs = out.counts["ioc"].implode()
    assert out.totals["rows_matching_any"][0] == real.filter(pl.col("sha256").is_in(iocs)).height
    assert [u["type"] for u in out.unscanned] == ["domain"]


def test_string_timestamps_give_a_time_range() -> None:
    df = pl.DataFrame({"ts": ["2024-05-13T10:00:00Z", "2024-05-13 09:00:00.5", "2024-05-14T11:00:00.123+02:00", "?"]})
    assert PolarsSource(df.lazy(), None).stats("ts").time_range == [
        "2024-05-13 09:00:00.500000",
        "2024-05-14 09:00:00.123000",
    ]
    assert PolarsSource(df.with_columns(ts=pl.lit("yesterday")).lazy(), None).stats("ts").time_range is None
