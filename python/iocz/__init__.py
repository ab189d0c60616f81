"""iocz: count matches of secret, FHE-encrypted indicators of compromise in plaintext logs.

The IOC holder (the agency) keeps a :class:`ClientKey`; the log holder gets only the
:class:`ServerKey` (evaluation key) and encrypted values, runs ``.fhe`` expressions on its
Polars frames, and returns encrypted counts that only the agency can decrypt.
"""

from iocz._iocz import (
    ClientKey,
    EncryptedSet,
    EncryptedValue,
    FormatError,
    InvalidInputError,
    IoczError,
    KeyNotLoadedError,
    PublicKey,
    ServerKey,
    WrongKeyError,
    parameter_set,
    pbs_count,
    reset_pbs_count,
)
from iocz.sysmon import split_hashes
from iocz import namespace as _namespace  # registers the `.fhe` expression namespace

__version__ = "0.1.0"

__all__ = [
    "ClientKey",
    "EncryptedSet",
    "EncryptedValue",
    "FormatError",
    "InvalidInputError",
    "IoczError",
    "KeyNotLoadedError",
    "PublicKey",
    "ServerKey",
    "WrongKeyError",
    "parameter_set",
    "pbs_count",
    "reset_pbs_count",
    "split_hashes",
]
del _namespace
