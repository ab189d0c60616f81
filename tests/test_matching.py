"""Encrypted counts equal plaintext Polars counts on the same rows."""

from __future__ import annotations

import iocz
import polars as pl
import pytest
from conftest import SEED_IOC, Keys


def plain_count(df: pl.DataFrame, column: str, ioc: str) -> int:
    return df.select((pl.col(column) == ioc).sum()).item()


def test_seed_fixture_counts_two_plaintext_and_encrypted(keys: Keys, seed_logs: pl.DataFrame) -> None:
    ioc = keys.client.encrypt(SEED_IOC)
    col = pl.col("TargetProcessSHA256")
    out = seed_logs.select(col.fhe.eq(ioc).fhe.count())
    assert keys.client.decrypt_count(out.item()) == 2

    enc = seed_logs.with_columns(col.fhe.encrypt(keys.public))
    assert enc.schema["TargetProcessSHA256"] == iocz.Encrypted("cell", keys.client.fingerprint)
    assert enc["TargetProcessSHA256"].ext.storage().bin.size().max() < 64_000  # compact, not 2 MB expanded
    out_enc = enc.select(col.fhe.eq(ioc).fhe.count())
    assert keys.client.decrypt_count(out_enc.item()) == 2


def test_planted_iocs_on_real_rows(keys: Keys, process_logs: pl.DataFrame) -> None:
    counts = process_logs["sha256"].value_counts(sort=True)
    common, rare = counts["sha256"][0], counts["sha256"][-1]
    absent = "f" * 64
    for ioc in (common, rare, absent):
        expected = process_logs.select(pl.col("sha256").is_in([ioc]).sum()).item()
        out = process_logs.select(pl.col("sha256").fhe.eq(keys.client.encrypt(ioc)).fhe.count())
        assert keys.client.decrypt_count(out.item()) == expected, ioc
    assert expected == 0


def test_group_by_and_over_equal_plaintext_groups(keys: Keys, process_logs: pl.DataFrame) -> None:
    ioc_hex = process_logs["sha256"].value_counts(sort=True)["sha256"][0]
    ioc = keys.client.encrypt(ioc_hex)
    enc = process_logs.group_by("host").agg(pl.col("sha256").fhe.eq(ioc).fhe.count().alias("n"))
    got = {h: keys.client.decrypt_count(n) for h, n in enc.iter_rows()}
    truth = dict(process_logs.group_by("host").agg((pl.col("sha256") == ioc_hex).sum()).iter_rows())
    assert got == truth
    assert sum(got.values()) > 0

    small = process_logs.head(12)
    over = small.with_columns(pl.col("sha256").fhe.eq(ioc).fhe.count().over("host").alias("n"))
    for host, n in over.select("host", "n").unique("host").iter_rows():
        assert keys.client.decrypt_count(n) == plain_count(small.filter(pl.col("host") == host), "sha256", ioc_hex)


def test_materialised_matches_then_count(keys: Keys, seed_logs: pl.DataFrame) -> None:
    ioc = keys.client.encrypt(SEED_IOC)
    m = seed_logs.with_columns(pl.col("TargetProcessSHA256").fhe.eq(ioc).alias("m"))
    per_row = [keys.client.decrypt_match(b) for b in m["m"]]
    assert per_row == [True, True, False, False, False]
    assert keys.client.decrypt_count(m.select(pl.col("m").fhe.count()).item()) == 2


def test_nulls_never_match_and_stay_null(keys: Keys) -> None:
    df = pl.DataFrame({"h": [SEED_IOC, None, SEED_IOC.upper(), None]})
    ioc = keys.client.encrypt(SEED_IOC)
    assert keys.client.decrypt_count(df.select(pl.col("h").fhe.eq(ioc).fhe.count()).item()) == 2
    per_row = df.select(pl.col("h").fhe.eq(ioc))["h"]
    assert per_row.null_count() == 2
    enc = df.with_columns(pl.col("h").fhe.encrypt(keys.public))
    assert enc["h"].null_count() == 2
    assert keys.client.decrypt_count(enc.select(pl.col("h").fhe.eq(ioc).fhe.count()).item()) == 2


@pytest.mark.parametrize(
    "frame",
    [
        pl.DataFrame({"h": []}, schema={"h": pl.String}),
        pl.DataFrame({"h": [None, None]}, schema={"h": pl.String}),
    ],
    ids=["empty", "all-null"],
)
def test_empty_and_all_null_count_zero(keys: Keys, frame: pl.DataFrame) -> None:
    ioc = keys.client.encrypt(SEED_IOC)
    assert keys.client.decrypt_count(frame.select(pl.col("h").fhe.eq(ioc).fhe.count()).item()) == 0


def test_binary_digests_are_accepted(keys: Keys) -> None:
    df = pl.DataFrame({"d": [bytes.fromhex(SEED_IOC), bytes(32)]})
    out = df.select(pl.col("d").fhe.eq(keys.client.encrypt(bytes.fromhex(SEED_IOC))).fhe.count())
    assert keys.client.decrypt_count(out.item()) == 1


def test_truncated_comparison_counts_low_bit_collisions(keys: Keys) -> None:
    twin = "0" * 48 + SEED_IOC[48:]  # same lowest 64 bits, different above
    df = pl.DataFrame({"h": [SEED_IOC, twin, "1" * 64]})
    ioc = keys.client.encrypt(SEED_IOC)
    exact = df.select(pl.col("h").fhe.eq(ioc).fhe.count()).item()
    fast = df.select(pl.col("h").fhe.eq(ioc, bits=64).fhe.count()).item()
    assert keys.client.decrypt_count(exact) == 1
    assert keys.client.decrypt_count(fast) == 2
