"""Atomic, permission-aware file writes (bundles, manifests, checkpoints)."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes, *, secret: bool = False, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, rename.
    A crash leaves either the old file or the new one, never a mix. ``secret`` files are
    created owner-only (0600) from the start. Refuses to replace a file unless ``overwrite``."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists (pass overwrite / --force to replace it)")
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target
