"""iocz — count matches of secret IOCs in plaintext logs with FHE.

The agency (IOC holder) runs keygen, query and decrypt; the company (log holder) runs inspect
and scan. Files travel between them: the query bundle (server key + encrypted IOCs, no secret)
and the result bundle (released counts: re-randomised, refreshed, compressed; + scan metadata).
"iocz COMMAND --help" documents each.

exit codes:
  0    success
  1    invalid input: bad or corrupted file, wrong key, unsupported value (one-line message);
       refused by the company policy (one line per broken rule); bad signature; broken ledger
  2    usage error (unknown option, missing argument)
  3    demo: decrypted counts differ from the plaintext truth
  130  interrupted (Ctrl-C); a scan resumes from its checkpoint when rerun with the same command
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import iocz
from iocz import _iocz
from iocz import cli_company as company
from iocz import logs as iocz_logs
from iocz.bundles import COUNT_WIDTHS
from iocz.cli_agency import decrypt, demo, keygen, query
from iocz.cli_inspect_scan import inspect, scan


def _column_spec(spec: str) -> tuple[str, str]:
    """``TYPE=COLUMN`` (an argparse type: a bad one is a usage error, exit code 2)."""
    type_name, sep, column = spec.partition("=")
    if not sep or not type_name.strip() or not column.strip():
        raise argparse.ArgumentTypeError(f"takes TYPE=COLUMN (e.g. sha256=TargetProcessSHA256), not {spec!r}")
    return type_name.strip(), column.strip()


def _command(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
    """A subcommand: ``help`` in the command list, the function's docstring atop its --help page."""
    doc = " ".join((func.__doc__ or "").split())
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=doc or help)
    p.set_defaults(func=func)
    return p


def _overwrite(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--overwrite", action="store_true", help=f"replace {what} (Python: overwrite=True)")


def _key_force(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--force",
        "--force-key-permissions",
        dest="force",
        action="store_true",
        help="accept a client key readable by group/others (Python: ClientKey.load(path, force=True))",
    )


def build_parser() -> argparse.ArgumentParser:
    """Every command and option of ``iocz``; this module's documentation is the top help page."""
    parser = argparse.ArgumentParser(
        prog="iocz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"iocz {iocz.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(sub, "keygen", keygen, "agency: create a key pair (client.key 0600, server.key, public.key)")
    p.add_argument("--out", required=True, help="folder for the keys (created 0700)")
    _overwrite(p, "existing key files")

    p = _command(sub, "query", query, "agency: import IOC files and write an encrypted query bundle")
    p.add_argument("--key", required=True, help="client key file (its folder's server.key is embedded)")
    p.add_argument(
        "--iocs",
        required=True,
        nargs="+",
        help="IOC files: STIX 2.1/2.0 bundle, MISP JSON (event, attributes, objects, restSearch response), "
        "CSV (type,value[,label]; MISP CSV export) or a plain list",
    )
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "stix", "misp", "csv", "list"],
        help="IOC file format (default: detected)",
    )
    p.add_argument(
        "--type",
        help=(
            "IOC type of plain lists / CSVs without a type column "
            "(sha256, sha1, md5, imphash, domain, ip, url, substring)"
        ),
    )
    p.add_argument(
        "--domain-match",
        default="exact",
        choices=_iocz.DOMAIN_MATCHES,
        help="domain IOCs match the name only, or its subdomains too",
    )
    p.add_argument(
        "--case-sensitive",
        action="store_true",
        help="substring IOCs match case-sensitively (default: Unicode lower-case both sides)",
    )
    p.add_argument(
        "--include-non-detection",
        action="store_true",
        help="also import items marked not for detection (MISP to_ids false, revoked or expired STIX indicators)",
    )
    p.add_argument("--import-log", metavar="FILE", help="write every skipped item and note to FILE (one a line)")
    p.add_argument("--pad-to", type=int, default=0, help="size each set for at least N IOCs (hides the real count)")
    p.add_argument(
        "--count-bits",
        type=int,
        default=32,
        choices=COUNT_WIDTHS,
        help="width of the counts the company returns (default 32); a count that does not fit comes back as "
        "2^bits-1, 'at least', never wrapped",
    )
    p.add_argument(
        "--kernel",
        default="auto",
        choices=list(_iocz.KERNELS),
        help="auto (default): add a lookup part and let the company run the cheaper kernel; lookup: ask for the "
        "lookup kernel; scan: no lookup part (smallest query, cost per distinct log value)",
    )
    p.add_argument(
        "--lookup-bits",
        type=int,
        default=_iocz.DEFAULT_LOOKUP_BITS,
        help=f"largest company table the lookup part covers: 3 x 2^N positions (default {_iocz.DEFAULT_LOOKUP_BITS}; "
        "each extra bit adds 3 GGSWs, ~96 KiB, per IOC)",
    )
    p.add_argument("--server-key", help="server key to embed (default: server.key next to --key)")
    p.add_argument(
        "--reference-server-key",
        action="store_true",
        help="embed only the server key's fingerprint (the company already holds the key)",
    )
    p.add_argument("--strict", action="store_true", help="fail if any IOC is skipped")
    p.add_argument("--out", required=True, help="query bundle to write")
    company.add_sign_option(p)
    _overwrite(p, "an existing bundle")
    _key_force(p)

    p = _command(sub, "inspect", inspect, "company: validate a query bundle and show what it reveals")
    p.add_argument("bundle", metavar="BUNDLE", help="query bundle (or result bundle: its metadata and entries)")
    p.add_argument("--server-key", help="server key file, when the query only references one")
    company.add_inspect_options(p)

    p = _command(sub, "scan", scan, "company: scan logs with a query bundle, write an encrypted result")
    p.add_argument("query", help="query bundle from the agency")
    p.add_argument(
        "--logs",
        action="append",
        help="log files or glob (Parquet, CSV, NDJSON; a Delta Lake table folder or an Iceberg metadata "
        "file with the polars engine; repeatable)",
    )
    p.add_argument(
        "--logs-format",
        default="auto",
        choices=["auto", "parquet", "csv", "ndjson", "delta", "iceberg"],
        help="format of the log files (default: from each file's extension, or the table's layout)",
    )
    p.add_argument(
        "--engine",
        default="polars",
        choices=list(iocz_logs.ENGINES),
        help="where the clear part (filter, de-duplication) runs: polars (default, streaming), duckdb "
        "(in-process, through Ibis), spark (local[2] unless --master; the FHE partitions run on its executors)",
    )
    p.add_argument("--connect", metavar="URL", help="scan a database table instead: duckdb:///FILE, sqlite:///FILE")
    p.add_argument("--table", help="the table of --connect to scan")
    p.add_argument("--master", help="Spark master (default local[2]: this machine, loopback only)")
    p.add_argument(
        "--sysmon-hashes",
        metavar="COLUMN",
        help="split Sysmon's Hashes column into sha1, md5, sha256 and imphash columns in the engine first",
    )
    p.add_argument(
        "--column",
        required=True,
        action="append",
        type=_column_spec,
        metavar="TYPE=COLUMN",
        help="log column to match a set against, e.g. sha256=TargetProcessSHA256, domain=query, ip=dst_ip (repeatable)",
    )
    p.add_argument("--where", help="SQL condition run in the clear first, e.g. \"p_date > '2024-05-13'\"")
    p.add_argument("--group-by", help="count per value of this column (values go to the agency in the clear)")
    p.add_argument(
        "--time-column",
        help="column for the reported time range (default: first temporal column, else a string column named "
        "like a time; ISO 8601 and 'YYYY-MM-DD HH:MM:SS' strings are parsed)",
    )
    p.add_argument("--server-key", help="server key file, when the query only references one")
    p.add_argument("--checkpoint", help="resumable progress folder (default: OUT.partial)")
    p.add_argument(
        "--partition-size", type=int, default=iocz.DEFAULT_PARTITION, help="distinct values per checkpointed partition"
    )
    p.add_argument(
        "--bits",
        type=int,
        default=256,
        choices=list(_iocz.COMPARE_BITS),
        help="digest bits compared (fewer: faster, false-match probability ~ candidates/2^bits)",
    )
    p.add_argument(
        "--kernel",
        default="auto",
        choices=list(_iocz.KERNELS),
        help="per-IOC counts: auto (default, the cheaper predicted of those the query allows), scan or lookup",
    )
    totals = p.add_mutually_exclusive_group()
    totals.add_argument(
        "--any-total",
        dest="any_total",
        action="store_const",
        const=True,
        help="always count the rows matching any IOC of types with several candidates per row (subdomains, CIDR, "
        "substrings); by default only when it costs at most twice the per-IOC counts (its cost is shown)",
    )
    totals.add_argument(
        "--no-any-total",
        dest="any_total",
        action="store_const",
        const=False,
        help="never count them (the per-IOC counts only)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="scan a column although none of its values is of the set's type (Python: force=True)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on hash column values that are not hashes (-, N/A, wrong length) instead of skipping them",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--log", help="append progress lines to this file")
    p.add_argument("--out", required=True, help="result bundle to write")
    company.add_scan_options(p)
    _overwrite(p, "an existing result")

    p = _command(sub, "decrypt", decrypt, "agency: decrypt a result bundle (IOC, label, count)")
    p.add_argument("result", help="result bundle from the company")
    p.add_argument("--key", required=True, help="client key file")
    p.add_argument("--manifest", help="query manifest (default: queries/<query>.json next to --key)")
    p.add_argument(
        "--format",
        default="table",
        choices=["table", "json", "csv"],
        help='output format (csv: per-IOC rows, then one row per total with ioc "*")',
    )
    company.add_expect_signer(p)
    _key_force(p)

    _command(sub, "demo", demo, "run the whole round trip on built-in sample data")
    company.add_commands(sub, _command)
    return parser
