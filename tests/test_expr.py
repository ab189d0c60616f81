"""The `.fhe` namespace itself: fused sugar after `.alias()`, the bounded fused table, the
`iocz.Encrypted` dtype (schema, group_by/over, Parquet/IPC), and one source of truth with Rust."""

from __future__ import annotations

import ast
from pathlib import Path

import iocz
import polars as pl
import pytest
from conftest import SEED_IOC, Keys
from iocz import _iocz, expr

OTHER = "ab" * 32


def _same(a: pl.Expr, b: pl.Expr) -> bool:
    """Same computation under the same output name."""
    bare = a.meta.undo_aliases().meta.serialize() == b.meta.undo_aliases().meta.serialize()
    return bare and a.meta.output_name() == b.meta.output_name()


def test_equal_expressions_serialize_identically(keys: Keys) -> None:
    ioc = keys.client.encrypt(SEED_IOC)
    assert _same(pl.col("h").fhe.eq(ioc, bits=64), pl.col("h").fhe.eq(ioc, bits=64))
    assert not _same(pl.col("h").fhe.eq(ioc, bits=64), pl.col("h").fhe.eq(ioc))


def test_sugar_is_the_fused_function_also_after_alias(keys: Keys) -> None:
    ioc = keys.client.encrypt(SEED_IOC)
    iocs = keys.client.encrypt_set([SEED_IOC])
    h = pl.col("h").fhe
    assert _same(h.eq(ioc, bits=64).fhe.count(), h.count_eq(ioc, bits=64))
    assert _same(h.eq(ioc).alias("m").fhe.count(), h.count_eq(ioc).alias("m"))
    assert _same(h.is_in(iocs).alias("m").fhe.count(), h.count_in(iocs).alias("m"))
    assert _same(h.is_in(iocs, bits=64).alias("m").fhe.count_per_ioc(), h.count_per_ioc(iocs, bits=64).alias("m"))
    assert _same(pl.col("m").fhe.count(), expr._plugin("fhe_count", [pl.col("m").ext.storage()], scalar=True))
    with pytest.raises(TypeError, match="follows .fhe.is_in"):
        h.eq(ioc).fhe.count_per_ioc()


def test_fused_table_is_bounded(keys: Keys) -> None:
    table = expr._FusedTable(2)
    exprs = [pl.col(f"c{i}") for i in range(3)]
    for e in exprs:
        table.put(e, expr._Fused(e.sum()))
    assert table.get(exprs[0]) is None  # least recently used: dropped
    fused = table.get(exprs[2].alias("x"))
    assert fused is not None and _same(fused.count, exprs[2].sum())


def test_aliased_sugar_counts_and_keeps_the_name(keys: Keys) -> None:
    df = pl.DataFrame({"h": [SEED_IOC, OTHER, SEED_IOC]})
    out = df.select(pl.col("h").fhe.eq(keys.client.encrypt(SEED_IOC), bits=64).alias("m").fhe.count())
    assert out.columns == ["m"]
    assert keys.client.decrypt_count(out.item()) == 2


def test_encrypted_dtype_in_schema_group_by_over_and_files(keys: Keys, tmp_path: Path) -> None:
    fp = keys.client.fingerprint
    cell = iocz.Encrypted("cell", fp)
    assert (cell.kind, cell.key) == ("cell", fp) and repr(cell) == f"Encrypted('cell', '{fp}')"
    df = pl.DataFrame({"g": [1, 1, 2], "h": [SEED_IOC, OTHER, SEED_IOC]}).with_columns(
        pl.col("h").fhe.encrypt(keys.public)
    )
    assert df.schema["h"] == cell
    assert f"ext[cell:{fp}]" in str(df)
    ioc = keys.client.encrypt(SEED_IOC)
    for path, write, read in (
        (tmp_path / "e.parquet", df.write_parquet, pl.read_parquet),
        (tmp_path / "e.arrow", df.write_ipc, pl.read_ipc),
    ):
        write(path)
        back = read(path)
        assert back.schema == df.schema and back.equals(df), path
    grouped = back.group_by("g", maintain_order=True).agg(pl.col("h").fhe.eq(ioc, bits=64).fhe.count())
    assert grouped.schema["h"] == iocz.Encrypted("count", fp)
    assert [keys.client.decrypt_count(c) for c in grouped["h"]] == [1, 1]
    over = back.select(pl.col("h").fhe.eq(ioc, bits=64).fhe.count().over("g"))
    assert over.schema["h"] == iocz.Encrypted("count", fp)
    assert [keys.client.decrypt_count(c) for c in over["h"]] == [1, 1, 1]
    matches = back.select(pl.col("h").fhe.eq(ioc, bits=64))
    assert matches.schema["h"] == iocz.Encrypted("match", fp)
    assert keys.client.decrypt_count(matches.select(pl.col("h").fhe.count()).item()) == 2  # Encrypted input unwrapped


def test_set_outputs_carry_their_kind(keys: Keys) -> None:
    iocs = keys.client.encrypt_set([SEED_IOC])
    df = pl.DataFrame({"h": [SEED_IOC, OTHER]})
    member = pl.col("h").fhe.is_in(iocs, bits=64)
    out = df.select(member.alias("m"), member.fhe.count().alias("n"), member.fhe.count_per_ioc().alias("per"))
    fp = keys.client.fingerprint
    assert dict(out.schema) == {
        "m": iocz.Encrypted("match", fp),
        "n": iocz.Encrypted("count", fp),
        "per": iocz.Encrypted("counts", fp),
    }
    assert keys.client.decrypt_count(out["n"][0]) == 1 and keys.client.decrypt_counts(out["per"][0]) == {SEED_IOC: 1}


def _stub_literal(name: str) -> tuple[str, ...]:
    tree = ast.parse((Path(_iocz.__file__).parent / "_iocz.pyi").read_text())
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id == name and isinstance(node.value, ast.Subscript):
            return tuple(ast.literal_eval(node.value.slice))
    raise AssertionError(f"{name} not in the stub")


def test_stub_literals_equal_what_rust_exports() -> None:
    assert _stub_literal("IocType") == _iocz.IOC_TYPES
    assert _stub_literal("DomainMatch") == _iocz.DOMAIN_MATCHES
