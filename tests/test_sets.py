"""Many encrypted IOCs at once: per-IOC and total counts equal plaintext `is_in` counts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import iocz
import polars as pl
import pytest
from conftest import SEED_IOC, Keys


@pytest.fixture(scope="module")
def small_logs(process_logs: pl.DataFrame) -> pl.DataFrame:
    """A few dozen real rows (keeps the FHE work small)."""
    return process_logs.head(40)


def truth_per_ioc(df: pl.DataFrame, iocs: list[str]) -> dict[str, int]:
    return {ioc: df.select((pl.col("sha256") == ioc).sum()).item() for ioc in set(iocs)}


def test_per_ioc_and_total_counts_with_planted_iocs(keys: Keys, small_logs: pl.DataFrame, tmp_path: Path) -> None:
    values = small_logs["sha256"].value_counts(sort=True)["sha256"]
    # a frequent value, a rare one, one never seen, and a duplicate entry
    iocs = [values[0], values[-1], "e" * 64, values[0]]
    enc = keys.client.encrypt_set(iocs)
    assert enc.slots >= 2 * 3 and enc.hashes == 2

    member = pl.col("sha256").fhe.is_in(enc)
    per = small_logs.select(member.fhe.count_per_ioc()).item()
    total = small_logs.select(member.fhe.count()).item()
    expected = truth_per_ioc(small_logs, iocs)
    assert keys.client.decrypt_counts(per) == expected
    assert keys.client.decrypt_count(total) == small_logs.select(pl.col("sha256").is_in(iocs).sum()).item()

    # The public part carries no plaintext IOC; the manifest is written owner-only.
    enc.save(tmp_path / "set.iocz")
    public = (tmp_path / "set.iocz").read_bytes()
    for ioc in iocs:
        assert ioc.encode() not in public and bytes.fromhex(ioc) not in public
    enc.save_manifest(tmp_path / "set.manifest")
    assert stat.S_IMODE(os.stat(tmp_path / "set.manifest").st_mode) == 0o600
    loaded = iocz.EncryptedSet.load(tmp_path / "set.iocz")
    assert (loaded.set_id, loaded.slots) == (enc.set_id, enc.slots)


def test_single_ioc_all_rows_matching_and_per_row(keys: Keys) -> None:
    df = pl.DataFrame({"sha256": [SEED_IOC] * 5 + [None]})
    enc = keys.client.encrypt_set([SEED_IOC])
    assert keys.client.decrypt_count(df.select(pl.col("sha256").fhe.is_in(enc).fhe.count()).item()) == 5
    rows = df.select(pl.col("sha256").fhe.is_in(enc))["sha256"]
    assert [None if b is None else keys.client.decrypt_match(b) for b in rows] == [True] * 5 + [None]


def test_group_by_per_ioc(keys: Keys, small_logs: pl.DataFrame) -> None:
    values = small_logs["sha256"].value_counts(sort=True)["sha256"]
    iocs = [values[0], values[1]]
    enc = keys.client.encrypt_set(iocs)
    got = small_logs.group_by("host").agg(pl.col("sha256").fhe.is_in(enc).fhe.count_per_ioc().alias("c"))
    for host, counts in got.iter_rows():
        assert keys.client.decrypt_counts(counts) == truth_per_ioc(small_logs.filter(pl.col("host") == host), iocs)


@pytest.mark.parametrize("values", [[], [None, None]], ids=["empty", "all-null"])
def test_empty_and_all_null_columns(keys: Keys, values: list[None]) -> None:
    df = pl.DataFrame({"sha256": values}, schema={"sha256": pl.String})
    enc = keys.client.encrypt_set([SEED_IOC])
    assert keys.client.decrypt_count(df.select(pl.col("sha256").fhe.is_in(enc).fhe.count()).item()) == 0
    assert keys.client.decrypt_counts(df.select(pl.col("sha256").fhe.is_in(enc).fhe.count_per_ioc()).item()) == {
        SEED_IOC: 0
    }


def test_set_errors(keys: Keys) -> None:
    with pytest.raises(iocz.InvalidInputError, match="IOC 1"):
        keys.client.encrypt_set([SEED_IOC, "nothex"])
    with pytest.raises(iocz.InvalidInputError, match="at least one"):
        keys.client.encrypt_set([])
    with pytest.raises(TypeError, match="follows .fhe.is_in"):
        pl.col("x").fhe.count_per_ioc()
    enc = keys.client.encrypt_set([SEED_IOC])
    encrypted_col = pl.DataFrame({"h": [SEED_IOC]}).with_columns(pl.col("h").fhe.encrypt(keys.public))
    with pytest.raises(pl.exceptions.ComputeError, match="is encrypted; is_in works on plaintext"):
        encrypted_col.select(pl.col("h").fhe.is_in(enc).fhe.count())
