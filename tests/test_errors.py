"""Bad input gets a clear exception naming what and where, never a wrong number."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import iocz
import polars as pl
import pytest
from conftest import SEED_IOC, Keys


def test_invalid_hex_names_column_and_row(keys: Keys) -> None:
    df = pl.DataFrame({"sha": [SEED_IOC, "abc", "zz" * 32]})
    ioc = keys.client.encrypt(SEED_IOC)
    with pytest.raises(pl.exceptions.ComputeError, match=r'column "sha" row 1: expected 64 hex digits'):
        df.select(pl.col("sha").fhe.eq(ioc).fhe.count())
    with pytest.raises(pl.exceptions.ComputeError, match=r'column "sha" row 1'):
        df.select(pl.col("sha").fhe.encrypt(keys.public))
    with pytest.raises(iocz.InvalidInputError, match="non-hex"):
        keys.client.encrypt("zz" * 32)


def test_wrong_column_type(keys: Keys) -> None:
    df = pl.DataFrame({"n": [1, 2]})
    with pytest.raises(pl.exceptions.ComputeError, match=r"has type i64"):
        df.select(pl.col("n").fhe.eq(keys.client.encrypt(SEED_IOC)).fhe.count())


def test_decrypt_with_wrong_client_key(keys: Keys, other_keys: Keys) -> None:
    df = pl.DataFrame({"h": [SEED_IOC]})
    count = df.select(pl.col("h").fhe.eq(keys.client.encrypt(SEED_IOC)).fhe.count()).item()
    with pytest.raises(iocz.WrongKeyError, match="was made under key"):
        other_keys.client.decrypt_count(count)


def test_encrypted_column_and_value_under_different_keys(keys: Keys, other_keys: Keys) -> None:
    df = pl.DataFrame({"h": [SEED_IOC]}).with_columns(pl.col("h").fhe.encrypt(other_keys.public))
    with pytest.raises(pl.exceptions.ComputeError, match=r'column "h" row 0: .*was made under key'):
        df.select(pl.col("h").fhe.eq(keys.client.encrypt(SEED_IOC)).fhe.count())


def test_value_whose_server_key_is_not_loaded() -> None:
    lonely = iocz.ClientKey.generate()  # no server key built: nothing registered for it
    with pytest.raises(pl.exceptions.ComputeError, match="no server key with fingerprint"):
        pl.DataFrame({"h": [SEED_IOC]}).select(pl.col("h").fhe.eq(lonely.encrypt(SEED_IOC)).fhe.count())


def test_corrupted_bytes_are_refused(keys: Keys, tmp_path: Path) -> None:
    good = keys.client.encrypt(SEED_IOC).to_bytes()
    with pytest.raises(iocz.FormatError):
        keys.client.decrypt_value(good[: len(good) // 2])
    with pytest.raises(iocz.FormatError, match="not an iocz object"):
        keys.client.decrypt_value(b"\x00" * 100)
    (tmp_path / "bad.key").write_bytes(b"iocz1 server-key 0011223344556677\n" + b"\x01" * 1000)
    with pytest.raises(iocz.FormatError, match="server key"):
        iocz.ServerKey.load(tmp_path / "bad.key")
    with pytest.raises(iocz.FormatError, match="expected a client key, found a public key"):
        (tmp_path / "pk").write_bytes(keys.public.to_bytes())
        iocz.ClientKey.load(tmp_path / "pk", force=True)


def test_decrypting_another_kind_is_refused(keys: Keys) -> None:
    value = keys.client.encrypt(SEED_IOC)
    with pytest.raises(iocz.InvalidInputError, match="expected an encrypted count, got an encrypted value"):
        keys.client.decrypt_count(value)
    for decrypt in (keys.client.decrypt_match, keys.client.decrypt_counts, keys.client.decrypt_released):
        with pytest.raises(iocz.InvalidInputError, match="got an encrypted value"):
            decrypt(value)
    assert keys.client.decrypt_value(value) == SEED_IOC


def test_key_files_round_trip_with_owner_only_client_key(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "agency.key"
    keys.client.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(iocz.IoczError, match="cannot write"):
        keys.client.save(path)  # never silently overwritten
    loaded = iocz.ClientKey.load(path)
    os.chmod(path, 0o640)
    with pytest.raises(iocz.ExposedSecretError, match="chmod 600"):
        iocz.ClientKey.load(path)  # someone else may hold a copy
    assert iocz.ClientKey.load(path, force=True).fingerprint == keys.client.fingerprint
    assert loaded.fingerprint == keys.client.fingerprint
    keys.server.save(tmp_path / "server.key")
    keys.public.save(tmp_path / "public.key")
    assert iocz.ServerKey.load(tmp_path / "server.key").fingerprint == keys.client.fingerprint
    assert iocz.PublicKey.load(tmp_path / "public.key").fingerprint == keys.client.fingerprint
    value = keys.client.encrypt(SEED_IOC)
    value.save(tmp_path / "ioc.bin")
    assert loaded.decrypt_value(iocz.EncryptedValue.load(tmp_path / "ioc.bin")) == SEED_IOC


def test_reprs_are_short_and_carry_no_secret(keys: Keys, seed_logs: pl.DataFrame) -> None:
    value = keys.client.encrypt(SEED_IOC)
    count = seed_logs.select(pl.col("TargetProcessSHA256").fhe.eq(value).fhe.count()).item()
    for obj in (keys.client, keys.server, keys.public, value, iocz.EncryptedValue.from_bytes(count)):
        text = repr(obj)
        assert len(text) < 100 and keys.client.fingerprint in text, text
    assert "kind=count" in repr(iocz.EncryptedValue.from_bytes(count))
    assert count.startswith(b"iocz1 count " + keys.client.fingerprint.encode())


def test_panic_becomes_an_exception(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="internal error") as raised:
        iocz._iocz._force_panic()
    # One line with the panic's message; nothing printed (a notebook cell shows stderr).
    assert "\n" not in str(raised.value) and "panic:" in str(raised.value)
    assert "panicked" not in capfd.readouterr().err


def test_two_keys_in_one_process(keys: Keys, other_keys: Keys, seed_logs: pl.DataFrame) -> None:
    col = pl.col("TargetProcessSHA256")
    a = seed_logs.select(col.fhe.eq(keys.client.encrypt(SEED_IOC)).fhe.count()).item()
    b = seed_logs.select(col.fhe.eq(other_keys.client.encrypt(SEED_IOC)).fhe.count()).item()
    assert keys.client.decrypt_count(a) == 2 and other_keys.client.decrypt_count(b) == 2
