"""A throwaway PostgreSQL server for the tests: Debian's ``postgresql`` package (``initdb``
into a temporary folder, ``pg_ctl`` on a free loopback port, password authentication only),
stopped and deleted on exit (:func:`server`). As root, the server runs as the ``postgres``
user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spark_cluster import free_port

#: The role the tests connect as, and its database.
USER, DATABASE = "company", "siem"


def bin_dir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl`` (on PATH, else Debian's versioned folder)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)")
    return Path(versions[-1]).parent


@dataclass(frozen=True)
class Server:
    """A running server: connect with :attr:`url` (user :data:`USER`, its :attr:`password`)."""

    port: int
    password: str
    folder: Path

    @property
    def url(self) -> str:
        """``postgres://company:PASSWORD@127.0.0.1:PORT/siem``."""
        return f"postgres://{USER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def connect(self) -> Any:
        """An Ibis connection to the database."""
        import ibis

        return ibis.postgres.connect(
            host="127.0.0.1", port=self.port, user=USER, password=self.password, database=DATABASE
        )


def _run_as(user: pwd.struct_passwd | None, cmd: list[str]) -> None:
    def demote() -> None:
        if user is not None:
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)

    subprocess.run(cmd, check=True, capture_output=True, preexec_fn=demote, timeout=120)


@contextmanager
def server() -> Iterator[Server]:
    """Start a fresh server with role :data:`USER` (password) and database :data:`DATABASE`."""
    bins = bin_dir()
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="iocz-pg-"))
    password = secrets.token_urlsafe(16)
    data, pwfile = folder / "data", folder / "pw"
    pwfile.write_text(password + "\n")
    if owner is not None:
        for p in (folder, pwfile):
            os.chown(p, owner.pw_uid, owner.pw_gid)
    port = free_port()
    initdb = [
        str(bins / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
        "--encoding=UTF8", "--locale=C",
    ]  # fmt: skip
    start = [
        str(bins / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60", "start",
        "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c shared_buffers=16MB -c max_connections=20",
    ]  # fmt: skip
    try:
        _run_as(owner, initdb)
        _run_as(owner, start)
        import psycopg

        dsn = f"host=127.0.0.1 port={port} user={USER} password={password} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {DATABASE}")
        yield Server(port, password, folder)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60, preexec_fn=(lambda: os.setuid(owner.pw_uid)) if owner else None,
            )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
