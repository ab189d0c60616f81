"""``iocz.Encrypted``: the Polars dtype of encrypted columns (a Binary extension type).

Its metadata is ``"<kind> <key fingerprint>"``, the same tokens as the readable header every
ciphertext starts with (``iocz1 <kind> <fingerprint>``), so ``df.schema`` shows what a column
holds and under which key. Polars extension types are unstable: this is tested with Polars 2.1.0.
"""

from __future__ import annotations

from typing import Literal, cast, get_args

import polars as pl

#: Registered extension name (stored in Parquet/IPC field metadata).
EXTENSION_NAME = "iocz.encrypted"

Kind = Literal["cell", "match", "count", "counts"]
KINDS: tuple[Kind, ...] = get_args(Kind)


class Encrypted(pl.BaseExtension):
    """Binary column of iocz ciphertexts of one ``kind`` under the key ``key`` (a fingerprint).

    Kinds: ``cell`` (``.fhe.encrypt``), ``match`` (materialised ``.fhe.eq``/``.fhe.is_in``),
    ``count`` and ``counts`` (per-IOC counts). Shown as ``ext[cell:3f2a…]`` in frames.
    """

    def __init__(self, kind: Kind, key: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        super().__init__(EXTENSION_NAME, pl.Binary, f"{kind} {key}")

    def _parts(self) -> tuple[str, str]:
        kind, _, key = (self.ext_metadata() or "").partition(" ")
        return kind, key

    @property
    def kind(self) -> Kind:
        """What each value is: ``cell``, ``match``, ``count`` or ``counts``."""
        return cast(Kind, self._parts()[0])

    @property
    def key(self) -> str:
        """Fingerprint of the key the values are encrypted under."""
        return self._parts()[1]

    def _string_repr(self) -> str:
        return f"{self.kind}:{self.key}"

    def __repr__(self) -> str:
        return f"Encrypted({self.kind!r}, {self.key!r})"


def _register() -> None:
    # In a function: mypy may check this module before polars' decorated function (one import
    # cycle with polars, see iocz.mypy_plugin) and can defer a function body, not module code.
    pl.register_extension_type(EXTENSION_NAME, Encrypted)


_register()
