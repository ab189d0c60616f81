"""What query and result bundles share: the metadata layout's version, the widths a count may
have, the checks of a bundle's metadata, and where the agency keeps query manifests.

The container itself (magic, version, checksums, limits) is read and checked by the Rust core;
these checks come next, before any key, set or count is loaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from iocz import _iocz
from iocz._iocz import FormatError

#: Version of the metadata layout inside bundles (the container has its own version).
#: 2: queries declare ``count_bits``; results hold one released (compressed) entry each.
META_VERSION = 2
#: Widths a query may declare for its released counts (bits); a count that does not fit
#: decrypts as ``2**bits - 1`` and is marked saturated.
COUNT_WIDTHS: tuple[int, ...] = tuple(_iocz.RELEASE_WIDTHS)


def require(meta: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``meta[key]`` if it is of ``kind`` (a bool is not an int), else a ``FormatError``."""
    value = meta.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise FormatError(f"{what}: metadata field {key!r} is missing or invalid")
    return value


def check_meta(meta_text: str, bundle: str, what: str) -> dict[str, Any]:
    """The metadata of a ``bundle`` ("query" or "result") bundle, its format and layout version checked."""
    meta = json.loads(meta_text)
    if not isinstance(meta, dict) or meta.get("format") != bundle:
        raise FormatError(f"{what}: not an iocz {bundle} bundle")
    if meta.get("meta_version") != META_VERSION:
        raise FormatError(
            f"{what}: metadata version {meta.get('meta_version')!r} is not supported (this iocz reads {META_VERSION})"
        )
    return meta


def manifest_dir(client_key_path: str | os.PathLike[str]) -> Path:
    """Where the agency keeps query manifests: ``queries/`` next to its client key."""
    return Path(client_key_path).resolve().parent / "queries"
