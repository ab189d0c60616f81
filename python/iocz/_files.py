"""Atomic, permission-aware file writes (bundles, manifests, checkpoints): the Rust writer that
keys and sets use too, so every file iocz writes goes through one implementation."""

from __future__ import annotations

import os
from pathlib import Path

from iocz import _iocz


def write_atomic(path: str | os.PathLike[str], data: bytes, *, secret: bool = False, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, rename
    (or a hard link when not ``overwrite``, so an existing file is never replaced). A crash
    leaves either the old file or the new one, never a mix. ``secret`` files are created
    owner-only (0600) from the start. Raises ``iocz.IoczError`` if ``path`` exists and not
    ``overwrite``."""
    _iocz.write_atomic(path, data, secret=secret, overwrite=overwrite)
    return Path(path)
