"""Shared fixtures: one key pair per test session (key generation is the slow part)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import iocz
import polars as pl
import pytest

# Real data lives in ../shared/data beside the repository (IOCZ_DATA overrides).
DATA = Path(os.environ.get("IOCZ_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

SEED_IOC = "027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745"


@dataclass(frozen=True)
class Keys:
    client: iocz.ClientKey
    server: iocz.ServerKey
    public: iocz.PublicKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    ck = iocz.ClientKey.generate()
    return Keys(ck, ck.server_key(), ck.public_key())


@pytest.fixture(scope="session")
def other_keys() -> Keys:
    """A second, unrelated key pair (for wrong-key tests)."""
    ck = iocz.ClientKey.generate()
    return Keys(ck, ck.server_key(), ck.public_key())


@pytest.fixture(scope="session")
def seed_logs() -> pl.DataFrame:
    return pl.read_csv(DATA / "seed_process_logs.csv")


@pytest.fixture(scope="session")
def process_logs() -> pl.DataFrame:
    """Real Sysmon process events from the hosts with the fewest distinct hashes (keeps the
    FHE work of the suite small while exercising real values and real repetition)."""
    df = pl.read_parquet(DATA / "sysmon_process_events.parquet")
    small_hosts = (
        df.group_by("host").agg(pl.col("sha256").n_unique().alias("distinct")).sort("distinct", "host").head(8)["host"]
    )
    return df.filter(pl.col("host").is_in(small_hosts.implode())).select("host", "sha256")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark (``local[2]``, loopback only) per test module (a module may start its
    own SparkContext on a cluster: one per process at a time)."""
    pytest.importorskip("pyspark")
    session = iocz.spark.session("local[2]")
    yield session
    session.stop()
