"""User code in the README's spellings type-checks under `mypy --strict` with `iocz.mypy_plugin`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_CODE = """
import polars as pl

import iocz

ck = iocz.ClientKey.generate()
pk = ck.public_key()
ioc = ck.encrypt("027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745")
iocs = ck.encrypt_set(["027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745"])
doms = ck.encrypt_set(["evil.com"], type="domain")
df = pl.DataFrame({"h": ["00" * 32], "host": ["a"], "query": ["a.evil.com"]})

out = df.select(pl.col("h").fhe.eq(ioc).fhe.count())
by_host = df.group_by("host").agg(pl.col("h").fhe.eq(ioc, bits=64).alias("m").fhe.count())
enc = df.with_columns(pl.col("h").fhe.encrypt(pk))
res = df.select(pl.col("h").fhe.is_in(iocs).fhe.count())
per = df.select(pl.col("h").fhe.is_in(iocs).fhe.count_per_ioc())
sub = df.select(pl.col("query").fhe.is_in(doms, match="subdomain").fhe.count_per_ioc())
fused: list[pl.Expr] = [
    pl.col("h").fhe.count_eq(ioc, digit_bits=4),
    pl.col("h").fhe.count_in(iocs, bits=128),
    pl.col("h").fhe.count_per_ioc(iocs),
]
dtype: iocz.Encrypted = iocz.Encrypted("cell", ck.fingerprint)
n = ck.decrypt_count(out.item())
"""


def _mypy(folder: Path, plugins: bool) -> subprocess.CompletedProcess[str]:
    (folder / "user.py").write_text(USER_CODE)
    config = "[tool.mypy]\nstrict = true\n" + ('plugins = ["iocz.mypy_plugin"]\n' if plugins else "")
    (folder / "pyproject.toml").write_text(config)
    cmd = [sys.executable, "-m", "mypy", "--cache-dir", str(folder / ".mypy_cache"), "user.py"]
    return subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600)


def test_readme_spellings_pass_mypy_strict_with_the_plugin(tmp_path: Path) -> None:
    for run in ("cold cache", "warm cache"):
        done = _mypy(tmp_path, plugins=True)
        assert done.returncode == 0, f"{run}:\n{done.stdout}{done.stderr}"


def test_without_the_plugin_mypy_does_not_know_fhe(tmp_path: Path) -> None:
    done = _mypy(tmp_path, plugins=False)
    assert done.returncode == 1 and '"Expr" has no attribute "fhe"' in done.stdout, done.stdout
