"""iocz: count matches of secret, FHE-encrypted indicators of compromise in plaintext logs.

The IOC holder (the agency) keeps a :class:`ClientKey`; the log holder gets only the
:class:`ServerKey` (evaluation key) and encrypted values, runs ``.fhe`` expressions on its
Polars frames, and returns encrypted counts that only the agency can decrypt.
"""

from iocz import expr as _expr  # registers the `.fhe` expression namespace
from iocz import spark  # noqa: E402  (iocz.spark.scan; pyspark is imported only when used)
from iocz._iocz import (
    ClientKey,
    EncryptedSet,
    EncryptedValue,
    ExposedSecretError,
    FormatError,
    InvalidInputError,
    IoczError,
    KeyNotLoadedError,
    PublicKey,
    ReleasedCounts,
    ServerKey,
    WrongKeyError,
    parameter_set,
    pbs_count,
    reset_pbs_count,
)
from iocz._version import __version__
from iocz.bundles import Decrypted, Query, QuerySet, Result
from iocz.dtype import Encrypted
from iocz.iocs import ImportReport, Ioc, Skipped, load_iocs
from iocz.scan import scan
from iocz.scan_types import DEFAULT_PARTITION
from iocz.sysmon import split_hashes, split_hashes_ibis, split_hashes_spark

__all__ = [
    "__version__",
    "DEFAULT_PARTITION",
    "ClientKey",
    "Decrypted",
    "Encrypted",
    "ImportReport",
    "Ioc",
    "Query",
    "QuerySet",
    "Result",
    "Skipped",
    "load_iocs",
    "scan",
    "EncryptedSet",
    "EncryptedValue",
    "FormatError",
    "ExposedSecretError",
    "InvalidInputError",
    "IoczError",
    "KeyNotLoadedError",
    "PublicKey",
    "ReleasedCounts",
    "ServerKey",
    "WrongKeyError",
    "parameter_set",
    "pbs_count",
    "reset_pbs_count",
    "spark",
    "split_hashes",
    "split_hashes_ibis",
    "split_hashes_spark",
]
from iocz import notebook as _notebook  # noqa: E402  (views and one-line errors in a running IPython)

_notebook.register()
del _expr, _notebook
