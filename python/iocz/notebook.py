"""Jupyter / IPython integration, set up by ``import iocz`` inside a running IPython.

* HTML views of the compiled classes (:class:`~iocz.ClientKey`, :class:`~iocz.ServerKey`,
  :class:`~iocz.PublicKey`, :class:`~iocz.EncryptedSet`), which cannot carry Python methods,
  through IPython's display formatters (the Python classes have ``_repr_html_``).
* An error raised by iocz shows as the command line's one line (``iocz: error: …``) instead of
  a traceback; ``%tb`` still prints the traceback. Other errors keep IPython's traceback, and an
  exception handler set by someone else is left in place.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from iocz import _iocz
from iocz.messages import USER_ERRORS, error_line
from iocz.views import html_of

_PACKAGE = str(Path(__file__).resolve().parent)


def _raised_by_iocz(value: BaseException, tb: TracebackType | None) -> bool:
    """An iocz error, or one raised while iocz code was running."""
    if isinstance(value, _iocz.IoczError):
        return True
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_PACKAGE):
            return True
        tb = tb.tb_next
    return False


def _one_line(
    shell: Any, etype: type[BaseException], value: BaseException, tb: TracebackType | None, tb_offset: Any = None
) -> None:
    """IPython custom exception handler: the CLI's line for iocz's errors, a traceback otherwise
    (shown here: IPython ignores what a handler returns)."""
    if _raised_by_iocz(value, tb):
        shell._showtraceback(etype, value, [error_line(value)])
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def register(shell: Any = None) -> bool:
    """Install the views and the one-line errors in ``shell`` (default: the running IPython,
    if any; IPython is never imported here). Returns whether a shell was found."""
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    html = shell.display_formatter.formatters["text/html"]
    for cls in (_iocz.ClientKey, _iocz.ServerKey, _iocz.PublicKey, _iocz.EncryptedSet):
        html.for_type(cls, html_of)
    if not shell.custom_exceptions:
        shell.set_custom_exc(USER_ERRORS, _one_line)
    return True
