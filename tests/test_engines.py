"""Scans through every engine (Polars streaming, Ibis on DuckDB, SQLite and Polars, Delta Lake
and Iceberg tables through Polars) give the plaintext Polars counts on the same real rows;
weights give the counts of repeated rows; bad input is one clear error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ibis
import iocz
import polars as pl
import pytest
from conftest import Keys
from engines_support import AFTER, Case, decrypted, make_case, truth
from iocz.engines.polars_lazy import PolarsSource
from iocz.progress import Progress


@pytest.fixture(scope="module")
def case(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Case:
    return make_case(keys, tmp_path_factory.mktemp("engines"))


def _duckdb(case: Case) -> Any:
    t = ibis.duckdb.connect().read_parquet(case.parquet)
    return t.filter(t.utc_time > AFTER)


def _sqlite(case: Case) -> Any:
    t = ibis.sqlite.connect().create_table("events", case.frame.to_arrow())
    return t.filter(t.utc_time > AFTER)


def _ibis_polars(case: Case) -> Any:
    t = ibis.polars.connect().read_parquet(case.parquet)
    return t.filter(t.utc_time > AFTER)


def _polars(case: Case) -> Any:
    return pl.scan_parquet(case.parquet).filter(pl.col("utc_time") > AFTER)


ENGINES = {"polars": _polars, "duckdb": _duckdb, "sqlite": _sqlite, "ibis-polars": _ibis_polars}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_engine_counts_like_plaintext_polars(engine: str, case: Case, keys: Keys, tmp_path: Path) -> None:
    logs = ENGINES[engine](case)
    result = iocz.scan(logs, case.query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False)
    assert decrypted(case, keys, result, tmp_path) == truth(case, grouped=True)
    meta = result.metadata
    assert meta["engine"] == {"ibis-polars": "polars"}.get(engine, engine)
    assert meta["rows_scanned"] == case.frame.filter(pl.col("utc_time") > AFTER).height
    assert meta["time_range"][0] > AFTER
    if engine in ("duckdb", "sqlite"):  # the generated SQL of the clear part, for the agency to see
        sql = meta["clear_part"][0]
        assert "GROUP BY" in sql and "LOWER" in sql.upper() and AFTER in sql


def test_sql_where_text_and_checkpoints_across_engines(case: Case, keys: Keys, tmp_path: Path) -> None:
    """A SQL ``where`` runs in DuckDB; a checkpoint written by one engine is resumed by another
    (the partitions depend only on the canonical pairs)."""
    ckpt = tmp_path / "ckpt"
    t = ibis.duckdb.connect().read_parquet(case.parquet)
    where = f"utc_time > '{AFTER}'"
    first = iocz.scan(t, case.query, {"sha256": "sha256"}, where=where, bits=64, progress=False, checkpoint=ckpt)
    bar = Progress(enabled=False)
    again = iocz.scan(
        pl.scan_parquet(case.parquet),
        case.query,
        {"sha256": "sha256"},
        where=where,
        bits=64,
        progress=bar,
        checkpoint=ckpt,
    )
    assert bar.resumed == 1 and bar.pbs == bar.release_pbs, "resumed partitions take no PBS, the release some"
    assert decrypted(case, keys, first, tmp_path) == decrypted(case, keys, again, tmp_path) == truth(case, False)
    assert first.metadata["where"] == where and "WHERE" in first.metadata["clear_part"][0]


def test_delta_and_iceberg_tables_through_polars(case: Case, keys: Keys, tmp_path: Path) -> None:
    import deltalake
    from pyiceberg.catalog.sql import SqlCatalog

    deltalake.write_deltalake(tmp_path / "delta", case.frame.to_arrow())
    catalog = SqlCatalog(
        "local", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=(tmp_path / "warehouse").as_uri()
    )
    catalog.create_namespace("siem")
    table = catalog.create_table("siem.process", schema=case.frame.to_arrow().schema)
    table.append(case.frame.to_arrow())
    want = truth(case, grouped=False)
    for logs in (pl.scan_delta(str(tmp_path / "delta")), pl.scan_iceberg(table)):
        result = iocz.scan(
            logs, case.query, {"sha256": "sha256"}, where=f"utc_time > '{AFTER}'", bits=64, progress=False
        )
        assert decrypted(case, keys, result, tmp_path) == want


def test_weights_count_like_repeated_rows(keys: Keys) -> None:
    """The plugin's weights column: pairs (value, n) count as n repeated rows, for one- and
    several-candidate sets, per IOC and rows matching any, and in grouped counts."""
    doms = keys.client.encrypt_set(["evil.com", "bad.org"], type="domain", kernel="scan")
    rows = pl.DataFrame({"q": ["a.evil.com", "a.evil.com", "a.evil.com", "bad.org", None, "good.com", "evil.com"]})
    pairs = rows.group_by("q").len().with_columns(pl.col("len").cast(pl.Int64))
    for match in ("exact", "subdomain"):
        col = pl.col("q").fhe
        plain = rows.select(
            col.count_per_ioc(doms, match=match, bits=64).alias("per_ioc"),
            col.count_in(doms, match=match, bits=64).alias("any"),
        )
        weighted = pairs.select(
            col.count_per_ioc(doms, match=match, bits=64, weights="len").alias("per_ioc"),
            col.count_in(doms, match=match, bits=64, weights=pl.col("len")).alias("any"),
        )
        decrypted = [
            (keys.client.decrypt_counts(per_ioc), keys.client.decrypt_count(n))
            for per_ioc, n in (plain.row(0), weighted.row(0))
        ]
        assert decrypted[0] == decrypted[1]
    plan = iocz._iocz.ColumnPlan(
        pairs["q"], pl.Series([0] * pairs.height, dtype=pl.UInt32), 1, pairs["len"].cast(pl.UInt64), doms.set_id, 64
    )
    [counts] = plan.count(0)
    assert keys.client.decrypt_count(counts.total) == 2  # bad.org and evil.com: rows matching any (exact)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (pl.Series("n", [1, -2]), 'weights column "n" row 1: -2 is negative'),
        (pl.Series("n", [1, None]), 'weights column "n" row 1 is null'),
        (pl.Series("n", [1.0, 2.0]), 'weights column "n" has type f64; expected an integer type'),
    ],
)
def test_bad_weights_are_one_clear_error(keys: Keys, weights: pl.Series, message: str) -> None:
    s = keys.client.encrypt_set(["evil.com"], type="domain", kernel="scan")
    frame = pl.DataFrame({"q": ["evil.com", "a.com"], "n": weights})
    with pytest.raises(pl.exceptions.ComputeError, match=message):
        frame.select(pl.col("q").fhe.count_per_ioc(s, bits=64, weights="n"))


def test_engine_errors_name_what_is_missing(case: Case) -> None:
    t = ibis.duckdb.connect().read_parquet(case.parquet)
    with pytest.raises(
        ValueError, match=r"log column\(s\) not found: nope \(have: host, utc_time, sha256; engine duckdb\)"
    ):
        iocz.scan(t, case.query, {"sha256": "nope"}, progress=False)
    s = ibis.sqlite.connect().create_table("events", case.frame.to_arrow())
    lacking = s.filter(s.host.levenshtein("Pedro01") < 3)  # SQLite has no Levenshtein distance
    with pytest.raises(
        ValueError, match="the sqlite backend cannot run the de-duplication of column 'sha256': .*Levenshtein"
    ):
        iocz.scan(lacking, case.query, {"sha256": "sha256"}, progress=False)
    with pytest.raises(
        ValueError, match=r"^where 'nope > 1' on duckdb: Binder Error: Referenced column \"nope\" not found[^\n]*$"
    ):
        iocz.scan(t, case.query, {"sha256": "sha256"}, where="nope > 1", progress=False)
    with pytest.raises(TypeError, match="iocz.spark.scan"):
        iocz.scan(type("DataFrame", (), {"__module__": "pyspark.sql.dataframe"})(), case.query, {"sha256": "x"})
    with pytest.raises(TypeError, match="Polars LazyFrame or DataFrame or an Ibis table"):
        iocz.scan([1, 2], case.query, {"sha256": "x"})


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("a >", "the filter 'a >': sql parser error"),
        ("nosuch > 1", "the filter 'nosuch > 1': unable to find column \"nosuch\""),
        ("t > 1", "the filter 't > 1': cannot compare string with numeric type"),
    ],
)
def test_a_bad_filter_is_one_line_naming_it(where: str, message: str) -> None:
    lf = pl.LazyFrame({"a": [1, 2], "t": ["x", "y"]})
    with pytest.raises(ValueError, match="^" + re.escape(message)) as raised:
        PolarsSource(lf, where).pairs("a", None, False)
    assert "\n" not in str(raised.value)
