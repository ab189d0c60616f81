"""Spark: a real local Spark (``local[2]``, loopback only) runs the clear part and the FHE
partitions on its executors; counts equal plaintext Polars; a killed scan resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import iocz
import polars as pl
import pytest
from conftest import Keys
from engines_support import AFTER, Case, decrypted, make_case, truth

pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def case(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Case:
    return make_case(keys, tmp_path_factory.mktemp("spark"))


def test_spark_scan_counts_like_plaintext_polars(spark: Any, case: Case, keys: Keys, tmp_path: Path) -> None:
    from pyspark.sql import functions as F

    df = spark.read.parquet(str(case.parquet)).filter(F.col("utc_time") > AFTER)
    result = iocz.spark.scan(
        df, case.query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False, checkpoint=tmp_path / "c"
    )
    assert decrypted(case, keys, result, tmp_path) == truth(case, grouped=True)
    assert result.metadata["engine"] == "spark" and "Aggregate" in result.metadata["clear_part"][0]
    assert list((tmp_path / "c").glob("job0-part*.iocz")), "executors write checkpoint bundles"


def _scan_cmd(case: Case, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "iocz", "scan", str(case.query.path), "--engine", "spark", "--logs", str(case.parquet),
        "--column", "sha256=sha256", "--where", f"utc_time > '{AFTER}'", "--kernel", "scan", "--bits", "64",
        "--partition-size", "4", "--no-progress", "--log", str(out) + ".log", "--out", str(out),
    ]  # fmt: skip


def test_killed_spark_scan_resumes(case: Case, keys: Keys, tmp_path: Path) -> None:
    """Kill the whole Spark scan (driver and JVM) once a partition is checkpointed; the same
    command then resumes and gives the plaintext counts."""
    out = tmp_path / "r.iocz"
    partial = Path(str(out) + ".partial")
    proc = subprocess.Popen(_scan_cmd(case, out), start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not list(partial.glob("job0-part*.iocz")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(partial.glob("job0-part*.iocz")))
    assert done >= 1 and not out.exists()
    subprocess.run(_scan_cmd(case, out), check=True, timeout=900, stderr=subprocess.DEVNULL)
    assert f"{done} of " in Path(str(out) + ".log").read_text().split("resumed from the checkpoint")[-2][-20:]
    result = iocz.Result.load(out)
    assert decrypted(case, keys, result, tmp_path) == truth(case, grouped=False)


def test_spark_without_java_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(OSError, match=r"Spark needs a Java runtime \(17\): .*openjdk-17-jre-headless"):
        iocz.spark.session()


def test_spark_scan_needs_a_query_loaded_from_its_file(spark: Any, case: Case) -> None:
    unsaved = iocz.Query(case.query.sets, case.query.key_fingerprint, case.query.server_key)
    df = spark.createDataFrame(pl.DataFrame({"sha256": ["ab" * 32]}).to_arrow().to_pylist())
    with pytest.raises(ValueError, match=r"needs a query loaded from its bundle file \(iocz.Query.load\)"):
        iocz.spark.scan(df, unsaved, {"sha256": "sha256"}, progress=False)
