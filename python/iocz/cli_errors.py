"""Exit codes of the ``iocz`` command and the error its commands raise for a one-line message."""

from __future__ import annotations

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_MISMATCH, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""
