"""The ``.fhe`` expression namespace: encrypted encryption, comparison and counting."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from polars.plugins import register_plugin_function

from iocz._iocz import EncryptedValue, PublicKey

_LIB = Path(__file__).parent

Bits = Literal[64, 128, 256]
DigitBits = Literal["auto", 2, 4]


class FheMatch(pl.Expr):
    """A per-row encrypted comparison ``column == value``.

    It is an ordinary expression (one encrypted boolean per row when materialised), but
    ``.fhe.count()`` on it is fused: the count is computed from the distinct clear values
    without ever building per-row ciphertexts.
    """

    _iocz_source: pl.Expr
    _iocz_args: tuple[pl.Expr, dict[str, int]]


def _value_literal(value: EncryptedValue | bytes) -> pl.Expr:
    data = value.to_bytes() if isinstance(value, EncryptedValue) else bytes(value)
    return pl.lit(data, dtype=pl.Binary)


def _match_kwargs(bits: int, digit_bits: DigitBits) -> dict[str, int]:
    if bits not in (64, 128, 256):
        raise ValueError(f"bits must be 64, 128 or 256, not {bits!r}")
    if digit_bits not in ("auto", 2, 4):
        raise ValueError(f"digit_bits must be 'auto', 2 or 4, not {digit_bits!r}")
    return {"bits": bits, "digit_bits": 0 if digit_bits == "auto" else int(digit_bits)}


@pl.api.register_expr_namespace("fhe")
class FheExpr:
    """Encrypted operations on a column: ``pl.col(x).fhe.<method>``."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def encrypt(self, key: PublicKey) -> pl.Expr:
        """Encrypt each value (hex SHA-256 string or 32-byte digest) under ``key``.

        Returns a Binary column of compact ciphertexts (about 17 KB each); nulls stay null.
        """
        if not isinstance(key, PublicKey):
            raise TypeError(f"encrypt needs an iocz.PublicKey, not {type(key).__name__}")
        return register_plugin_function(
            plugin_path=_LIB,
            function_name="fhe_encrypt",
            args=[self._expr],
            kwargs={"key": key.fingerprint},
            is_elementwise=True,
            is_deterministic=False,
        )

    def eq(
        self,
        value: EncryptedValue | bytes,
        *,
        bits: Bits = 256,
        digit_bits: DigitBits = "auto",
    ) -> FheMatch:
        """Encrypted ``column == value`` per row (null rows stay null, and never match).

        The column may be plaintext (hex strings or 32-byte digests: it is never encrypted;
        distinct values are compared once) or encrypted with ``.fhe.encrypt``.
        ``bits`` < 256 compares only the lowest bits of the digests: faster, with a
        false-match probability of about ``distinct values / 2**bits`` per query.
        """
        args = [self._expr, _value_literal(value)]
        kwargs = _match_kwargs(bits, digit_bits)
        expr = register_plugin_function(
            plugin_path=_LIB,
            function_name="fhe_eq",
            args=args,
            kwargs=kwargs,
            is_elementwise=True,
        )
        match = FheMatch._from_pyexpr(expr._pyexpr)
        match._iocz_source = self._expr
        match._iocz_args = (args[1], kwargs)
        return match

    def count(self) -> pl.Expr:
        """Encrypted number of matching rows: one encrypted count (per group in
        ``group_by().agg`` / ``over``). Decrypt it with ``ClientKey.decrypt``."""
        source = getattr(self._expr, "_iocz_source", None)
        if source is not None:
            value, kwargs = self._expr._iocz_args  # type: ignore[attr-defined]
            return register_plugin_function(
                plugin_path=_LIB,
                function_name="fhe_count_eq",
                args=[source, value],
                kwargs=kwargs,
                returns_scalar=True,
            )
        return register_plugin_function(
            plugin_path=_LIB,
            function_name="fhe_count",
            args=[self._expr],
            returns_scalar=True,
        )
