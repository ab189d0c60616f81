"""The ``.fhe`` expression namespace: encryption, encrypted comparison and fused counting.

Fused counts are explicit functions (``count_eq``, ``count_in``, ``count_per_ioc(iocs)``); the
spellings ``.fhe.eq(v).fhe.count()`` and ``.fhe.is_in(s).fhe.count()`` / ``.count_per_ioc()``
are sugar for them. ``eq``/``is_in`` record their fused counterparts in a small bounded table
keyed by the serialized expression (aliases undone), so the sugar survives ``.alias()`` and
needs no state on the expression; an expression not found there (evicted, or a materialised
column) is counted by the generic ``fhe_count`` plugin instead.

Outputs carry the :class:`iocz.Encrypted` dtype (kind and key fingerprint). The Rust plugins
return plain Binary and read plain Binary: the wrapping (``.ext.to``) and unwrapping
(``.ext.storage``) happen here, which also keeps them working inside group_by/over
(pola-rs/polars#27518).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
from polars.plugins import register_plugin_function

from iocz import _iocz
from iocz._iocz import EncryptedSet, EncryptedValue, PublicKey
from iocz.dtype import Encrypted, Kind

if TYPE_CHECKING:
    from iocz._iocz import DomainMatch

_LIB = Path(__file__).parent

Bits = Literal[64, 128, 256]
DigitBits = Literal["auto", 2, 4]
#: Which kernel counts per IOC: cheaper predicted, or forced.
KernelName = Literal["auto", "lookup", "scan"]

#: How many ``eq``/``is_in`` expressions remember their fused count (least recently used dropped).
FUSED_TABLE_SIZE = 1024


def _plugin(
    function: str,
    args: list[pl.Expr],
    kwargs: dict[str, Any] | None = None,
    *,
    scalar: bool = False,
    deterministic: bool = True,
) -> pl.Expr:
    """Call the Rust plugin ``function``: elementwise, or one value per group if ``scalar``."""
    return register_plugin_function(
        plugin_path=_LIB,
        function_name=function,
        args=args,
        kwargs=kwargs,
        is_elementwise=not scalar,
        returns_scalar=scalar,
        is_deterministic=deterministic,
    )


def _typed(expr: pl.Expr, kind: Kind, key: str) -> pl.Expr:
    """``expr`` (Binary from a plugin) as an :class:`Encrypted` column."""
    return expr.ext.to(Encrypted(kind, key))


def _match_kwargs(bits: int, digit_bits: DigitBits) -> dict[str, int]:
    if bits not in _iocz.COMPARE_BITS:
        raise ValueError(f"bits must be one of {_iocz.COMPARE_BITS}, not {bits!r}")
    if digit_bits not in ("auto", 2, 4):
        raise ValueError(f"digit_bits must be 'auto', 2 or 4, not {digit_bits!r}")
    return {"bits": bits, "digit_bits": 0 if digit_bits == "auto" else int(digit_bits)}


def _set_kwargs(
    iocs: EncryptedSet, match: DomainMatch, bits: int, digit_bits: DigitBits, kernel: KernelName = "auto"
) -> dict[str, Any]:
    """Validated kwargs of the set plugins (``fhe_is_in``, ``fhe_is_in_count``), without ``per_ioc``."""
    if kernel not in _iocz.KERNELS:
        raise ValueError(f"kernel must be one of {tuple(_iocz.KERNELS)}, not {kernel!r}")
    if not isinstance(iocs, EncryptedSet):
        raise TypeError(f"is_in needs an iocz.EncryptedSet, not {type(iocs).__name__}")
    if match not in _iocz.DOMAIN_MATCHES:
        raise ValueError(f"match must be one of {_iocz.DOMAIN_MATCHES}, not {match!r}")
    if match == "subdomain" and iocs.ioc_type != "domain":
        raise ValueError(f'match="subdomain" needs a domain set, not a {iocs.ioc_type} set')
    return {"set": iocs.set_id, "match": match, "kernel": kernel, **_match_kwargs(bits, digit_bits)}


def _value(value: EncryptedValue | bytes) -> EncryptedValue:
    return value if isinstance(value, EncryptedValue) else EncryptedValue.from_bytes(bytes(value))


@dataclass(frozen=True)
class _Fused:
    """The fused counts of one ``eq``/``is_in`` expression."""

    count: pl.Expr
    per_ioc: pl.Expr | None = None


class _FusedTable:
    """Bounded, thread-safe map: serialized ``eq``/``is_in`` expression → its fused counts."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, _Fused] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(expr: pl.Expr) -> bytes:
        return hashlib.sha256(expr.meta.undo_aliases().meta.serialize()).digest()

    def put(self, expr: pl.Expr, fused: _Fused) -> pl.Expr:
        """Remember ``fused`` for ``expr``; returns ``expr``."""
        key = self._key(expr)
        with self._lock:
            self._items[key] = fused
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return expr

    def get(self, expr: pl.Expr) -> _Fused | None:
        """The fused counts recorded for ``expr`` (any aliases ignored), or None."""
        key = self._key(expr)
        with self._lock:
            fused = self._items.get(key)
            if fused is not None:
                self._items.move_to_end(key)
        return fused


_FUSED = _FusedTable(FUSED_TABLE_SIZE)


def _named_like(fused: pl.Expr, expr: pl.Expr) -> pl.Expr:
    """``fused`` under the output name of ``expr`` (which may carry an alias)."""
    name = expr.meta.output_name(raise_if_undetermined=False)
    return fused if name is None else fused.alias(name)


@pl.api.register_expr_namespace("fhe")
class FheExpr:
    """Encrypted operations on a column: ``pl.col(x).fhe.<method>``.

    Inputs may be plaintext (String/Binary) or :class:`iocz.Encrypted` columns; outputs are
    :class:`iocz.Encrypted` (except ``count()`` of a materialised column: Binary, as its key
    is known only when it runs).
    """

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr
        self._input = expr.ext.storage()  # Binary storage of Encrypted columns; others as they are

    def encrypt(self, key: PublicKey) -> pl.Expr:
        """Encrypt each value (hex SHA-256 string or 32-byte digest) under ``key``.

        Returns an ``Encrypted("cell", key)`` column (about 17 KB per value); nulls stay null.
        """
        if not isinstance(key, PublicKey):
            raise TypeError(f"encrypt needs an iocz.PublicKey, not {type(key).__name__}")
        out = _plugin("fhe_encrypt", [self._input], {"key": key.fingerprint}, deterministic=False)
        return _typed(out, "cell", key.fingerprint)

    def _eq_parts(
        self, value: EncryptedValue | bytes, bits: Bits, digit_bits: DigitBits
    ) -> tuple[list[pl.Expr], dict[str, int], str]:
        enc = _value(value)
        return (
            [self._input, pl.lit(enc.to_bytes(), dtype=pl.Binary)],
            _match_kwargs(bits, digit_bits),
            enc.key_fingerprint,
        )

    def count_eq(self, value: EncryptedValue | bytes, *, bits: Bits = 256, digit_bits: DigitBits = "auto") -> pl.Expr:
        """Encrypted number of rows equal to ``value``: one ``Encrypted("count")`` per group.

        Fused: distinct values are compared once, no per-row ciphertexts. Same inputs as :meth:`eq`.
        """
        args, kwargs, key = self._eq_parts(value, bits, digit_bits)
        return _typed(_plugin("fhe_count_eq", args, kwargs, scalar=True), "count", key)

    def eq(self, value: EncryptedValue | bytes, *, bits: Bits = 256, digit_bits: DigitBits = "auto") -> pl.Expr:
        """Encrypted ``column == value`` per row (null rows stay null, and never match).

        The column may be plaintext (hex strings or 32-byte digests: it is never encrypted;
        distinct values are compared once) or encrypted with ``.fhe.encrypt``.
        ``bits`` < 256 compares only the lowest bits of the digests: faster, with a
        false-match probability of about ``distinct values / 2**bits`` per query.
        ``.fhe.count()`` on the result is :meth:`count_eq`.
        """
        args, kwargs, key = self._eq_parts(value, bits, digit_bits)
        out = _typed(_plugin("fhe_eq", args, kwargs), "match", key)
        return _FUSED.put(out, _Fused(self.count_eq(value, bits=bits, digit_bits=digit_bits)))

    def _set_count(
        self, iocs: EncryptedSet, kwargs: dict[str, Any], *, per_ioc: bool, weights: str | pl.Expr | None = None
    ) -> pl.Expr:
        args = [self._input]
        if weights is not None:
            args.append(pl.col(weights) if isinstance(weights, str) else weights)
        out = _plugin(
            "fhe_is_in_count", args, {**kwargs, "per_ioc": per_ioc, "weighted": weights is not None}, scalar=True
        )
        return _typed(out, "counts" if per_ioc else "count", iocs.key_fingerprint)

    def count_in(
        self,
        iocs: EncryptedSet,
        *,
        match: DomainMatch = "exact",
        bits: Bits = 256,
        digit_bits: DigitBits = "auto",
        kernel: KernelName = "auto",
        weights: str | pl.Expr | None = None,
    ) -> pl.Expr:
        """Encrypted number of rows matching at least one IOC of ``iocs`` (one count per group).

        Fused: computed from the distinct values and the cuckoo slots. Same inputs as :meth:`is_in`;
        ``kernel`` and ``weights`` as in :meth:`count_per_ioc` (rows with several candidates always
        use the scan).
        """
        kwargs = _set_kwargs(iocs, match, bits, digit_bits, kernel)
        return self._set_count(iocs, kwargs, per_ioc=False, weights=weights)

    def is_in(
        self, iocs: EncryptedSet, *, match: DomainMatch = "exact", bits: Bits = 256, digit_bits: DigitBits = "auto"
    ) -> pl.Expr:
        """Encrypted "the row matches an IOC of ``iocs``", for a plaintext column.

        Each value is canonicalised for the set's type and expanded into candidates in the
        clear: itself for hashes and exact domains; with ``match="subdomain"`` (domain sets)
        every parent domain too; one masked prefix per declared CIDR length (IP sets); every
        window of every declared length (substring sets). Each distinct candidate is compared
        only with its 2–3 cuckoo slots. Nulls, empty strings, the all-zero imphash and values
        that are not names/addresses (domain and IP sets) never match; malformed hashes are
        errors. ``.fhe.count()`` on the result is :meth:`count_in` (rows with at least one
        match), ``.fhe.count_per_ioc()`` is :meth:`count_per_ioc` (rows containing each IOC).
        ``bits`` < 256 compares the lowest bits only (false-match probability ≤ distinct
        candidates × 3 / 2**bits).
        """
        kwargs = _set_kwargs(iocs, match, bits, digit_bits)
        out = _typed(_plugin("fhe_is_in", [self._input], {**kwargs, "per_ioc": False}), "match", iocs.key_fingerprint)
        fused = _Fused(self._set_count(iocs, kwargs, per_ioc=False), self._set_count(iocs, kwargs, per_ioc=True))
        return _FUSED.put(out, fused)

    def count_per_ioc(
        self,
        iocs: EncryptedSet | None = None,
        *,
        match: DomainMatch = "exact",
        bits: Bits = 256,
        digit_bits: DigitBits = "auto",
        kernel: KernelName = "auto",
        weights: str | pl.Expr | None = None,
    ) -> pl.Expr:
        """Encrypted number of rows containing each IOC of ``iocs``, as one ``Encrypted("counts")``
        value per group; ``ClientKey.decrypt_counts`` turns it into ``{ioc: count}`` with the set's manifest.

        ``kernel``: ``"auto"`` runs whichever of the scan kernel (cost per distinct value) and the
        lookup kernel (cost per IOC; needs a set made with ``kernel="auto"`` or ``"lookup"``) is
        predicted cheaper for this column; ``"scan"`` or ``"lookup"`` force one.
        ``weights`` (a column name or integer expression): each row stands for that many rows,
        e.g. the multiplicity of pre-aggregated ``(value, rows)`` pairs; counts equal those of
        the repeated rows (no weights: 1 per row).
        Without ``iocs``, it follows ``.fhe.is_in(iocs, ...)`` and uses that call's options.
        """
        if iocs is not None:
            kwargs = _set_kwargs(iocs, match, bits, digit_bits, kernel)
            return self._set_count(iocs, kwargs, per_ioc=True, weights=weights)
        if weights is not None:
            raise TypeError("weights go with an explicit set: .fhe.count_per_ioc(iocs, weights=...)")
        fused = _FUSED.get(self._expr)
        if fused is None or fused.per_ioc is None:
            raise TypeError(".fhe.count_per_ioc() follows .fhe.is_in(iocs); or pass the set: .fhe.count_per_ioc(iocs)")
        return _named_like(fused.per_ioc, self._expr)

    def count(self) -> pl.Expr:
        """Encrypted number of matching rows: one encrypted count (per group in
        ``group_by().agg`` / ``over``). After ``eq``: :meth:`count_eq`; after ``is_in``:
        :meth:`count_in`; on a materialised column of encrypted booleans: their sum (Binary).
        Decrypt it with ``ClientKey.decrypt_count``."""
        fused = _FUSED.get(self._expr)
        if fused is not None:
            return _named_like(fused.count, self._expr)
        return _plugin("fhe_count", [self._input], scalar=True)
