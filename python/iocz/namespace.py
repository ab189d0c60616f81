"""The ``.fhe`` expression namespace: encrypted encryption, comparison and counting."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from polars.plugins import register_plugin_function

from iocz._iocz import EncryptedSet, EncryptedValue, PublicKey

_LIB = Path(__file__).parent

Bits = Literal[64, 128, 256]
DigitBits = Literal["auto", 2, 4]
DomainMatch = Literal["exact", "subdomain"]


class FheMatch(pl.Expr):
    """A per-row encrypted comparison ``column == value``.

    It is an ordinary expression (one encrypted boolean per row when materialised), but
    ``.fhe.count()`` on it is fused: the count is computed from the distinct clear values
    without ever building per-row ciphertexts.
    """

    _iocz_source: pl.Expr
    _iocz_args: tuple[pl.Expr, dict[str, int]]


class FheIsIn(pl.Expr):
    """A per-row encrypted membership test ``column ∈ set``.

    Materialised, it gives one encrypted boolean per row; ``.fhe.count()`` (rows matching any
    IOC) and ``.fhe.count_per_ioc()`` (rows per IOC) on it are computed from the distinct values
    and the cuckoo slots directly, without per-row ciphertexts.
    """

    _iocz_set_source: pl.Expr
    _iocz_set_kwargs: dict[str, object]


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

    def is_in(
        self,
        iocs: EncryptedSet,
        *,
        match: DomainMatch = "exact",
        bits: Bits = 256,
        digit_bits: DigitBits = "auto",
    ) -> FheIsIn:
        """Encrypted "the row matches an IOC of ``iocs``", for a plaintext column.

        Each value is canonicalised for the set's type and expanded into candidates in the
        clear: itself for hashes and exact domains; with ``match="subdomain"`` (domain sets)
        every parent domain too; one masked prefix per declared CIDR length (IP sets); every
        window of every declared length (substring sets). Each distinct candidate is compared
        only with its 2–3 cuckoo slots. Nulls, empty strings, the all-zero imphash and values
        that are not names/addresses (domain and IP sets) never match; malformed hashes are
        errors. Follow with ``.fhe.count()`` (rows with at least one match) or
        ``.fhe.count_per_ioc()`` (rows containing each IOC). ``bits`` < 256 compares the lowest
        bits only (false-match probability ≤ distinct candidates × 3 / 2**bits).
        """
        if not isinstance(iocs, EncryptedSet):
            raise TypeError(f"is_in needs an iocz.EncryptedSet, not {type(iocs).__name__}")
        if match not in ("exact", "subdomain"):
            raise ValueError(f'match must be "exact" or "subdomain", not {match!r}')
        if match == "subdomain" and iocs.ioc_type != "domain":
            raise ValueError(f'match="subdomain" needs a domain set, not a {iocs.ioc_type} set')
        kwargs: dict[str, object] = {
            "set": iocs.set_id,
            "match": match,
            **_match_kwargs(bits, digit_bits),
        }
        expr = register_plugin_function(
            plugin_path=_LIB,
            function_name="fhe_is_in",
            args=[self._expr],
            kwargs={**kwargs, "per_ioc": False},
            is_elementwise=True,
        )
        member = FheIsIn._from_pyexpr(expr._pyexpr)
        member._iocz_set_source = self._expr
        member._iocz_set_kwargs = kwargs
        return member

    def count_per_ioc(self) -> pl.Expr:
        """After ``.fhe.is_in(iocs)``: encrypted number of rows per IOC, as one value (per group).
        ``ClientKey.decrypt`` turns it into ``{ioc_hex: count}`` with the set's manifest."""
        return self._set_count(per_ioc=True, caller="count_per_ioc")

    def _set_count(self, *, per_ioc: bool, caller: str) -> pl.Expr:
        source = getattr(self._expr, "_iocz_set_source", None)
        if source is None:
            raise TypeError(f".fhe.{caller}() follows .fhe.is_in(iocs)")
        return register_plugin_function(
            plugin_path=_LIB,
            function_name="fhe_is_in_count",
            args=[source],
            kwargs={**self._expr._iocz_set_kwargs, "per_ioc": per_ioc},  # type: ignore[attr-defined]
            returns_scalar=True,
        )

    def count(self) -> pl.Expr:
        """Encrypted number of matching rows: one encrypted count (per group in
        ``group_by().agg`` / ``over``). After ``is_in``: rows matching any IOC. Decrypt it with
        ``ClientKey.decrypt``."""
        if getattr(self._expr, "_iocz_set_source", None) is not None:
            return self._set_count(per_ioc=False, caller="count")
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
