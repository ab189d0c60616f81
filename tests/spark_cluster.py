"""A real Spark standalone cluster on the loopback interface, for the tests and benches.

One master and N workers, each a separate process started with the pyspark package's own
launcher (``bin/spark-class org.apache.spark.deploy.master.Master`` / ``…worker.Worker``): free
ports on 127.0.0.1 only, web UIs on a random loopback port (``--webui-port 0``), bounded JVM
memory, one core per worker. The workers' default ``python3`` is a bare virtual environment
without iocz (as on a worker machine where nobody installed it); a session that runs this
Python with this ``PYTHONPATH`` on the executors (:func:`iocz.spark.session` does) works.
:func:`standalone` tears every process tree down, also when the test fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyspark

SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
#: Memory of each master/worker daemon JVM and of each executor JVM (the FHE work runs in the
#: executors' Python workers, outside the JVM).
DAEMON_MEMORY = "256m"
EXECUTOR_MEMORY = "512m"
#: Seconds a daemon has to start and register.
START_SECONDS = 120.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc), children before their parents."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out[::-1]


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``proc`` and every process below it (its session too), then reap it."""
    for pid in [*_descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


@dataclass
class Cluster:
    """A running standalone cluster: ``url`` (``spark://127.0.0.1:PORT``), its processes, the
    folder of its logs, work directories and ``conf/spark-defaults.conf`` (for drivers started
    with ``SPARK_CONF_DIR`` pointing there, such as ``iocz scan --engine spark``)."""

    url: str
    folder: Path
    env: dict[str, str]
    master: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def conf_dir(self) -> Path:
        """``SPARK_CONF_DIR`` for drivers of this cluster (executor memory that fits a worker)."""
        return self.folder / "conf"

    def config(self) -> dict[str, str]:
        """Spark settings for a session on this cluster (see :func:`iocz.spark.session`)."""
        return {"spark.executor.memory": EXECUTOR_MEMORY, "spark.driver.memory": EXECUTOR_MEMORY}

    def session(self, app: str = "iocz-test") -> Any:
        """An :func:`iocz.spark.session` on this cluster."""
        import iocz

        return iocz.spark.session(self.url, app=app, config=self.config())

    def driver_env(self) -> dict[str, str]:
        """The environment of a driver process (``iocz scan --engine spark``) for this cluster."""
        return {**os.environ, "SPARK_CONF_DIR": str(self.conf_dir), "SPARK_LOCAL_IP": "127.0.0.1"}

    def start_worker(self) -> subprocess.Popen[bytes]:
        """One more worker of one core, registered with the master."""
        i = len(self.workers)
        work = self.folder / f"worker{i}"
        work.mkdir()
        cmd = [
            str(SPARK_CLASS), "org.apache.spark.deploy.worker.Worker", self.url, "--host", "127.0.0.1",
            "--port", str(free_port()), "--webui-port", "0", "--cores", "1", "--memory", EXECUTOR_MEMORY,
            "--work-dir", str(work),
        ]  # fmt: skip
        proc = _start(cmd, self.env, self.folder / f"worker{i}.log")
        self.workers.append(proc)
        _wait_for(proc, self.folder / f"worker{i}.log", "Successfully registered with master")
        return proc

    def kill_worker(self, i: int) -> None:
        """SIGKILL worker ``i`` with its executors and their Python workers."""
        kill_tree(self.workers[i])

    def stop(self) -> None:
        """Kill every process of the cluster."""
        for proc in [*self.workers, self.master]:
            if proc.poll() is None or _descendants(proc.pid):
                kill_tree(proc)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(proc: subprocess.Popen[bytes], log: Path, text: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"Spark daemon did not start ({' '.join(proc.args[:2])}):\n{tail}")  # type: ignore[index]
        time.sleep(0.2)


def bare_python(folder: Path) -> Path:
    """A virtual environment without iocz (nor any other package): its ``bin`` directory."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    return folder / "bin"


@contextmanager
def standalone(folder: Path, workers: int = 2) -> Iterator[Cluster]:
    """A master and ``workers`` one-core workers on 127.0.0.1; every process killed on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conf").mkdir()
    (folder / "conf" / "spark-defaults.conf").write_text(
        f"spark.executor.memory {EXECUTOR_MEMORY}\nspark.driver.memory {EXECUTOR_MEMORY}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK", "PYTHON", "SPARK"))}
    env |= {
        "PATH": f"{bare_python(folder / 'bare-python')}{os.pathsep}{env.get('PATH', '')}",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": DAEMON_MEMORY,
        "SPARK_CONF_DIR": str(folder / "conf"),
        "SPARK_LOG_DIR": str(folder),
        "SPARK_NO_DAEMONIZE": "1",
    }
    port = free_port()
    cmd = [
        str(SPARK_CLASS), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
        "--webui-port", "0",
    ]  # fmt: skip
    cluster = Cluster(f"spark://127.0.0.1:{port}", folder, env, _start(cmd, env, folder / "master.log"))
    try:
        _wait_for(cluster.master, folder / "master.log", "I have been elected leader")
        for _ in range(workers):
            cluster.start_worker()
        yield cluster
    finally:
        cluster.stop()


def python_path() -> str:
    """Where this process imports iocz from (the executors need the same)."""
    import iocz

    return str(Path(iocz.__file__).resolve().parents[1])
