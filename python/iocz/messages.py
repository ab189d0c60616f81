"""User-facing errors: one line, the same on the command line and in a notebook cell."""

from __future__ import annotations

import polars as pl

from iocz._iocz import IoczError

#: What iocz reports to a person as one line (bad input, wrong key, missing file or extra):
#: ``iocz`` exits with code 1, a notebook cell shows the line instead of a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (IoczError, ValueError, OSError, ImportError, pl.exceptions.PolarsError)


def error_line(e: BaseException) -> str:
    """``iocz: error: MESSAGE``, the message on one line (whitespace runs folded)."""
    message = " ".join(str(e).split()) or type(e).__name__
    return f"iocz: error: {message}"
