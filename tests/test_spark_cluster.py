"""Spark on a real standalone cluster (a master and two one-core workers, separate processes on
127.0.0.1, see ``spark_cluster.py``): counts equal plaintext Polars; a worker killed mid-scan
and a driver killed mid-scan cost no count; clear errors for an unreachable master and for
executors whose Python lacks iocz."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import iocz
import iocz.messages
import pytest
from conftest import Keys
from engines_support import AFTER, Case, decrypted, small_case, truth

pytest.importorskip("pyspark")
from spark_cluster import Cluster, free_port, kill_tree, python_path, standalone  # noqa: E402

#: Distinct hash values in the cluster tests' logs (one partition each: several tasks per worker).
VALUES = 6


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with standalone(tmp_path_factory.mktemp("cluster")) as c:
        yield c


@pytest.fixture(scope="module")
def case(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Case:
    return small_case(keys, tmp_path_factory.mktemp("cluster-case"), VALUES)


@pytest.fixture
def session(cluster: Cluster) -> Iterator[Any]:
    """An :func:`iocz.spark.session` on the cluster, two live workers guaranteed."""
    while sum(w.poll() is None for w in cluster.workers) < 2:
        cluster.start_worker()
    spark = cluster.session()
    yield spark
    spark.stop()


def _scan(spark: Any, case: Case, checkpoint: Path, **options: Any) -> iocz.Result:
    df = spark.read.parquet(str(case.parquet))
    return iocz.spark.scan(
        df, case.query, {"sha256": "sha256"}, where=f"utc_time > '{AFTER}'", bits=64, progress=False,
        checkpoint=checkpoint, partition_size=1, **options,
    )  # fmt: skip


def _parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("job*-part*.iocz"))


def test_cluster_scan_counts_like_plaintext_per_host(session: Any, case: Case, keys: Keys, tmp_path: Path) -> None:
    result = _scan(session, case, tmp_path / "c", group_by="host")
    assert decrypted(case, keys, result, tmp_path) == truth(case, grouped=True)
    assert _parts(tmp_path / "c") == [f"job0-part{i}.iocz" for i in range(VALUES)], "every executor reaches it"


def test_worker_killed_mid_scan(session: Any, cluster: Cluster, case: Case, keys: Keys, tmp_path: Path) -> None:
    """SIGKILL one worker's process tree (worker, executor, Python workers) once the first
    partition is checkpointed: the job finishes on the other worker, counts exact."""
    ckpt = tmp_path / "c"
    out: list[Any] = []
    scan = threading.Thread(target=lambda: out.append(_scan(session, case, ckpt)), daemon=True)
    scan.start()
    deadline = time.monotonic() + 600
    while not _parts(ckpt) and scan.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    done = len(_parts(ckpt))
    assert 1 <= done < VALUES, "killed mid-scan"
    cluster.kill_worker(0)
    scan.join(900)
    assert out, "the scan finished"
    assert decrypted(case, keys, out[0], tmp_path) == truth(case, grouped=False)
    assert _parts(ckpt) == [f"job0-part{i}.iocz" for i in range(VALUES)], "each partition once"


def _cli(master: str, case: Case, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "iocz", "scan", str(case.query.path), "--engine", "spark", "--master", master,
        "--logs", str(case.parquet), "--column", "sha256=sha256",
        "--where", f"utc_time > '{AFTER}'", "--bits", "64", "--partition-size", "1", "--no-progress",
        "--checkpoint", str(out) + ".shared", "--log", str(out) + ".log", "--out", str(out),
    ]  # fmt: skip


def test_cli_driver_killed_mid_scan_resumes(cluster: Cluster, case: Case, keys: Keys, tmp_path: Path) -> None:
    """``iocz scan --engine spark --master spark://…`` with a shared checkpoint folder: the driver
    (Python and its JVM) killed once a partition is done; the rerun resumes, counts exact."""
    while sum(w.poll() is None for w in cluster.workers) < 2:
        cluster.start_worker()
    out = tmp_path / "r.iocz"
    shared = Path(str(out) + ".shared")
    env = cluster.driver_env()
    proc = subprocess.Popen(_cli(cluster.url, case, out), env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not _parts(shared) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    kill_tree(proc)
    done = len(_parts(shared))
    assert 1 <= done < VALUES and not out.exists()
    subprocess.run(_cli(cluster.url, case, out), env=env, check=True, timeout=900, stderr=subprocess.DEVNULL)
    # Executors may finish a task after their driver died: at least `done` partitions resumed.
    resumed = Path(str(out) + ".log").read_text().split("partitions resumed from the checkpoint")[-2].split()
    assert resumed[-2:] == ["of", str(VALUES)] and done <= int(resumed[-3]) <= VALUES
    assert decrypted(case, keys, iocz.Result.load(out), tmp_path) == truth(case, grouped=False)


def test_unreachable_master_is_one_line(case: Case, tmp_path: Path) -> None:
    master = f"spark://127.0.0.1:{free_port()}"
    run = subprocess.run(_cli(master, case, tmp_path / "r.iocz"), capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"iocz: error: cannot reach the Spark master {master}: Connection refused (is it running? check --master)"
    ]


def _user_session(cluster: Cluster, **config: str) -> Any:
    """A session made as a new user would, with pyspark's own builder (not iocz.spark.session)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(cluster.url).appName("user")
    settings = {"spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
    for k, v in {**settings, **cluster.config(), **config}.items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


def test_executors_without_iocz_are_one_clear_error(
    cluster: Cluster, case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers' ``python3`` has no iocz: found before the FHE work, with what to do."""
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)  # executors run the workers' python3
    spark = _user_session(cluster)
    try:
        with pytest.raises(ImportError) as e:
            _scan(spark, case, tmp_path / "c")
    finally:
        spark.stop()
    line = iocz.messages.error_line(e.value)
    assert "Spark executors cannot run iocz (ModuleNotFoundError: No module named 'iocz')" in line
    assert "install iocz on every worker, or set PYSPARK_PYTHON" in line and "\n" not in line
    assert not (tmp_path / "c").exists(), "no FHE work started"


def test_user_session_with_iocz_on_the_executors_path(
    cluster: Cluster, case: Case, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented way: PYSPARK_PYTHON names an interpreter with iocz's dependencies, at the
    same path on every worker, and ``spark.executorEnv.PYTHONPATH`` where iocz is installed."""
    while sum(w.poll() is None for w in cluster.workers) < 2:
        cluster.start_worker()
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    spark = _user_session(cluster, **{"spark.executorEnv.PYTHONPATH": python_path()})
    try:
        result = _scan(spark, case, tmp_path / "c")
    finally:
        spark.stop()
    assert decrypted(case, keys, result, tmp_path) == truth(case, grouped=False)
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
