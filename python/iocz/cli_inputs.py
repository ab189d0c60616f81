"""What the agency's commands read, in the command line's words: the client key (its file's
header peeked at first, so that another kind of key is named before any permission check) and
the import report, with the Python spellings in their messages rewritten as the options that
do the same on the command line."""

from __future__ import annotations

from iocz import _iocz
from iocz._iocz import ClientKey, ExposedSecretError
from iocz.cli_errors import CliError
from iocz.iocs import ImportReport


def load_client_key(path: str, force: bool) -> ClientKey:
    """The client key at ``path``; another key kind is named before any permission check."""
    try:
        open(path, "rb").close()
    except OSError as e:
        raise CliError(f"cannot read --key {path}: {e.strerror}") from None
    kind = _iocz.file_kind(path)
    if kind is not None and kind != "a client key":
        raise CliError(f"{path} is {kind}; --key needs the client key (client.key from iocz keygen)")
    try:
        return ClientKey.load(path, force=force)
    except ExposedSecretError:
        raise CliError(
            f"{path} is accessible to group or others: the secret key may have been copied; "
            f"run chmod 600 {path}, or pass --force"
        ) from None


def import_summary_lines(report: ImportReport) -> list[str]:
    """The report's grouped summary, naming ``--include-non-detection``."""
    return [line.replace("include_non_detection=True", "--include-non-detection") for line in report.summary_lines()]
