"""The ``iocz`` command's entry point (``[project.scripts]`` and ``python -m iocz``): parse the
arguments, run the command, and turn what goes wrong into one line on stderr and an exit code.

The commands, their options and the top help page (with the exit codes, defined in
:mod:`iocz.cli_errors`): :mod:`iocz.cli_parser`; the agency's commands: :mod:`iocz.cli_agency`;
the company's: :mod:`iocz.cli_inspect_scan` and :mod:`iocz.cli_company`.
"""

from __future__ import annotations

import sys

from iocz.cli_company import refused_lines
from iocz.cli_errors import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_MISMATCH, EXIT_OK, EXIT_USAGE, CliError
from iocz.cli_parser import build_parser
from iocz.messages import USER_ERRORS, error_line
from iocz.policy import PolicyRefused

__all__ = ["EXIT_INTERRUPTED", "EXIT_INVALID", "EXIT_MISMATCH", "EXIT_OK", "EXIT_USAGE", "CliError", "main"]

#: Errors printed as one line with exit code 1.
_REPORTED: tuple[type[Exception], ...] = (CliError, *USER_ERRORS)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("iocz: interrupted; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PolicyRefused as e:
        print("\n".join(refused_lines(e)), file=sys.stderr)
        return EXIT_INVALID
    except _REPORTED as e:
        print(error_line(e), file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
