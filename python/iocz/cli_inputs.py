"""What the agency's commands read, in the command line's words: the client key (its file's
header peeked at first, so that another kind of key is named before any permission check) and
the import report, with the Python spellings in their messages rewritten as the options that
do the same on the command line."""

from __future__ import annotations

from iocz._iocz import ClientKey, InvalidInputError
from iocz.cli_errors import CliError
from iocz.iocs import ImportReport


def load_client_key(path: str, force: bool) -> ClientKey:
    """The client key at ``path``; another key kind is named before any permission check."""
    try:
        with open(path, "rb") as f:
            head = f.read(64).split(b"\n", 1)[0].split()
    except OSError as e:
        raise CliError(f"cannot read --key {path}: {e.strerror}") from None
    if len(head) >= 2 and head[0] == b"iocz1" and head[1] != b"client-key":
        kind = head[1].decode(errors="replace").replace("-", " ")
        raise CliError(f"{path} is a {kind}; --key needs the client key (client.key from iocz keygen)")
    try:
        return ClientKey.load(path, force=force)
    except InvalidInputError as e:
        raise CliError(str(e).replace("load with force=True", "pass --force")) from None


def import_summary_lines(report: ImportReport) -> list[str]:
    """The report's grouped summary, naming ``--include-non-detection``."""
    return [line.replace("include_non_detection=True", "--include-non-detection") for line in report.summary_lines()]
