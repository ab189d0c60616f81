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
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

import iocz
from iocz import _iocz
from iocz import cli_company as company
from iocz import logs as iocz_logs
from iocz.bundles import COUNT_WIDTHS, Query, Result, manifest_dir
from iocz.describe import human_size, lookup_text, quality_lines, query_facts, result_facts, scan_fields, text_lines
from iocz.iocs import load_iocs
from iocz.messages import USER_ERRORS, error_line
from iocz.policy import PolicyRefused

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_MISMATCH, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


#: Errors printed as one line with exit code 1.
_REPORTED: tuple[type[Exception], ...] = (CliError, *USER_ERRORS)


def _load_client_key(path: str, force: bool) -> iocz.ClientKey:
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
        return iocz.ClientKey.load(path, force=force)
    except iocz.InvalidInputError as e:
        raise CliError(str(e).replace("load with force=True", "pass --force")) from None


def keygen(args: argparse.Namespace) -> int:
    """Agency: create a key pair in a folder: client.key (secret, written 0600), server.key and
    public.key (for the company)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    t = time.perf_counter()
    ck = iocz.ClientKey.generate()
    ck.save(out / "client.key", overwrite=args.overwrite)
    sk = ck.server_key()
    sk.save(out / "server.key", overwrite=args.overwrite)
    ck.public_key().save(out / "public.key", overwrite=args.overwrite)
    print(f"key {ck.fingerprint} ({iocz.parameter_set()}) in {time.perf_counter() - t:.1f} s")
    for name in ("client.key", "server.key", "public.key"):
        size = (out / name).stat().st_size
        note = "  SECRET: keep it, never send it" if name == "client.key" else ""
        print(f"  {out / name}  {human_size(size)}{note}")
    return EXIT_OK


def query(args: argparse.Namespace) -> int:
    """Agency: import IOC files, encrypt them and write a query bundle for the company; the
    manifest (which slot is which IOC) stays in queries/ next to the client key. Skipped items
    are summarised per reason (--import-log lists each)."""
    ck = _load_client_key(args.key, args.force)
    signer = company.load_signer(args)
    report = load_iocs(
        args.iocs,
        format=args.format,
        ioc_type=args.type,
        case_sensitive=args.case_sensitive,
        include_non_detection=args.include_non_detection,
    )
    for line in report.summary_lines():
        print(line.replace("include_non_detection=True", "--include-non-detection"), file=sys.stderr)
    if args.import_log:
        Path(args.import_log).write_text("".join(line + "\n" for line in report.detail_lines()), encoding="utf-8")
    print(f"imported {report.summary()}" + (f" (every item: {args.import_log})" if args.import_log else ""))
    if report.skipped and args.strict:
        raise CliError(f"{len(report.skipped)} IOC(s) skipped and --strict given")
    if not report.iocs:
        raise CliError("no supported IOC in the input")
    server_key_path = Path(args.server_key) if args.server_key else Path(args.key).parent / "server.key"
    sk = iocz.ServerKey.load(server_key_path) if server_key_path.exists() else None
    t = time.perf_counter()
    q = Query.create(
        ck,
        report,
        server_key=sk,
        domain_match=args.domain_match,
        case_sensitive=args.case_sensitive,
        pad_to=args.pad_to,
        count_bits=args.count_bits,
        kernel=args.kernel,
        lookup_bits=args.lookup_bits,
    )
    _print_query_sizes(q, args.lookup_bits)
    mpath = q.save(
        args.out,
        manifest_dir=manifest_dir(args.key),
        embed_server_key=not args.reference_server_key,
        overwrite=args.overwrite,
    )
    company.sign_query(signer, args.out, q.fingerprint)
    size = human_size(Path(args.out).stat().st_size)
    print(
        f"query {q.fingerprint} written to {args.out} ({size}, {time.perf_counter() - t:.1f} s; "
        f"{q.count_bits}-bit counts)"
    )
    for s in q.sets:
        print(
            f"  {s.ioc_type:<9} {s.set.slots:>6} slots  match={s.match}  lengths={s.set.lengths or '-'}  "
            f"{lookup_text(s.set.lookup)}"
        )
    print(f"manifest (secret, stays here): {mpath}")
    return EXIT_OK


def _print_query_sizes(q: Query, lookup_bits: int) -> None:
    """Before writing: the query's size with and without lookup parts (the agency's choice)."""
    scan_only = sum(s.set.size - (s.set.lookup[2] if s.set.lookup else 0) for s in q.sets)
    lookup = sum(
        s.set.lookup[2] if s.set.lookup else _iocz.lookup_query_bytes(n, lookup_bits)
        for s, n in zip(q.sets, q.ioc_counts(), strict=True)
    )
    print(
        f"query size: kernel=scan {human_size(scan_only)}; kernel=auto|lookup {human_size(scan_only + lookup)} "
        f"(lookup parts {human_size(lookup)}, --lookup-bits {lookup_bits})"
    )


def inspect(args: argparse.Namespace) -> int:
    """Company: validate a query bundle and print what it reveals (IOC types, slots, declared
    lengths) before deciding to scan; for a result bundle, before sending it: its scan metadata,
    data-quality figures and every released entry (set, column, group, counts, width, size),
    each checked."""
    loaded: Query | None = None
    try:
        q = Query.load(args.bundle, server_key=args.server_key)
    except iocz.FormatError as e:
        if "this is a result bundle" not in str(e):
            raise
        facts = result_facts(Result.load(args.bundle), file_size=Path(args.bundle).stat().st_size)
    else:
        facts, loaded = query_facts(q), q
    print("\n".join(text_lines(facts)))
    return company.inspect_company(args, loaded)


def _column_spec(spec: str) -> tuple[str, str]:
    """``TYPE=COLUMN`` (an argparse type: a bad one is a usage error, exit code 2)."""
    type_name, sep, column = spec.partition("=")
    if not sep or not type_name.strip() or not column.strip():
        raise argparse.ArgumentTypeError(f"takes TYPE=COLUMN (e.g. sha256=TargetProcessSHA256), not {spec!r}")
    return type_name.strip(), column.strip()


def _columns(specs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for type_name, column in specs:
        out.setdefault(type_name, []).append(column)
    return out


def _logs(args: argparse.Namespace, spark: Any) -> Any:
    """The logs the scan options name, in the chosen engine."""
    if args.connect:
        if args.logs or args.engine == "spark":
            raise CliError("--connect reads a database table: use it without --logs and without --engine spark")
        logs = iocz_logs.database_table(args.connect, args.table)
    elif not args.logs:
        raise CliError("give the logs: --logs FILES, or --connect URL --table NAME")
    elif args.table:
        raise CliError("--table goes with --connect")
    elif args.engine == "spark":
        logs = iocz_logs.spark_logs(spark, args.logs, args.logs_format)
    elif args.engine == "duckdb":
        logs = iocz_logs.duckdb_logs(args.logs, args.logs_format)
    elif args.engine == "sqlite":
        raise CliError("SQLite reads its own tables: use --connect 'sqlite:///FILE' --table NAME")
    else:
        logs = iocz_logs.polars_logs(args.logs, args.logs_format)
    return iocz_logs.with_split_hashes(logs, args.sysmon_hashes) if args.sysmon_hashes else logs


def scan(args: argparse.Namespace) -> int:
    """Company: scan plaintext logs with a query bundle and write an encrypted result bundle.
    Each column is first checked against its set's type: a column with no value of the type is
    an error (--force scans it anyway); hash values that are not hashes are skipped and counted
    (--strict: an error). The scan is resumable (checkpoints in OUT.partial)."""
    detach = _attach_logging(args.log)
    try:
        return _scan(args)
    finally:
        detach()


class _Terminal(logging.Handler):
    """Messages on the current ``sys.stderr`` (tests and notebooks swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr)


def _attach_logging(log_file: str | None) -> Callable[[], None]:
    """Data quality, policy notes, kernel choices and resumed partitions on the terminal; with
    ``log_file`` every scan message there. Returns what detaches them again."""
    logging.getLogger("iocz").setLevel(logging.INFO)
    terminal = _Terminal()
    terminal.setFormatter(logging.Formatter("%(message)s"))
    attached: list[tuple[logging.Logger, logging.Handler]] = [
        (logging.getLogger(name), terminal) for name in ("iocz.quality", "iocz.policy", "iocz.plan")
    ]
    if log_file:
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        attached.append((logging.getLogger("iocz"), handler))
    for logger, h in attached:
        logger.addHandler(h)

    def detach() -> None:
        for logger, h in attached:
            logger.removeHandler(h)
            h.close()

    return detach


def _scan(args: argparse.Namespace) -> int:
    if Path(args.out).exists() and not args.overwrite:
        raise CliError(f"{args.out} exists (use --overwrite to replace it)")
    control = company.company_scan(args)  # policy, identity, the query's signature: before any work
    q = Query.load(args.query, server_key=args.server_key)
    checkpoint = Path(args.checkpoint) if args.checkpoint else Path(str(args.out) + ".partial")
    options: dict[str, Any] = {
        "where": args.where,
        "group_by": args.group_by,
        "time_column": args.time_column,
        "checkpoint": checkpoint,
        "partition_size": args.partition_size,
        "kernel": args.kernel,
        "bits": args.bits,
        "progress": not args.no_progress,
        "force": args.force,
        "strict": args.strict,
        **control.options(),
    }
    if args.dry_run:
        if args.engine == "spark":
            raise CliError("--dry-run works with the polars and duckdb engines")
        return company.dry_run(_logs(args, None), q, _columns(args.column), options)
    if args.engine == "spark":
        spark = iocz.spark.session(args.master or "local[2]")
        try:
            logs = _logs(args, spark)
            result = iocz.spark.scan(logs, q, _columns(args.column), **options)
        finally:
            spark.stop()
    else:
        result = iocz.scan(_logs(args, None), q, _columns(args.column), **options)
    result.save(args.out, overwrite=args.overwrite)
    control.sign(args.out, result.fingerprint)
    shutil.rmtree(checkpoint, ignore_errors=True)
    meta = result.metadata
    print(f"result for query {q.fingerprint} written to {args.out}: {meta['rows_scanned']:,} rows, {meta['seconds']} s")
    return EXIT_OK


def decrypt(args: argparse.Namespace) -> int:
    """Agency: decrypt a result bundle and print each IOC with its label and count, the rows
    matching any IOC, the scan's data-quality figures and the sets that were never scanned."""
    ck = _load_client_key(args.key, args.force)
    company.check_result_signer(args)
    out = Result.load(args.result).decrypt(ck, manifest=args.manifest, key_path=args.key)
    for line in out.unscanned_lines():
        print(f"iocz: {line}", file=sys.stderr)
    if args.format == "json":
        print(out.to_json())
    elif args.format == "csv":
        # Per-IOC rows, then one row per (set, column, group) total: ioc "*".
        totals = out.totals.select(
            "group",
            "type",
            "column",
            pl.lit("*").alias("ioc"),
            pl.lit("rows matching any IOC").alias("label"),
            pl.col("rows_matching_any").alias("count"),
            "saturated",
        )
        print(pl.concat([out.counts, totals], how="vertical_relaxed").write_csv(), end="")
    else:
        meta = out.metadata
        print(f"query {meta['query']}: " + ", ".join(f"{label} {value}" for label, value in scan_fields(meta)))
        for line in quality_lines(meta).lines:
            print(f"  {line}")
        with pl.Config(tbl_rows=-1, fmt_str_lengths=80, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
            totals, counts = out.totals, out.counts
            if meta.get("group_by") is None:
                totals, counts = totals.drop("group"), counts.drop("group")
            if not (totals["saturated"].any() or counts["saturated"].any()):
                totals, counts = totals.drop("saturated"), counts.drop("saturated")
            else:
                print(f"saturated counts are at least {2 ** meta.get('count_bits', 32) - 1} (the query's count width)")
            print(totals)
            print(counts)
    return EXIT_OK


def demo(args: argparse.Namespace) -> int:
    """The whole two-party round trip on built-in sample data in a temporary folder, with each
    decrypted count next to the plaintext Polars truth."""
    from iocz.demo import run_demo

    return EXIT_OK if run_demo() else EXIT_MISMATCH


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


def _parser() -> argparse.ArgumentParser:
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
        choices=[64, 128, 256],
        help="digest bits compared (fewer: faster, false-match probability ~ candidates/2^bits)",
    )
    p.add_argument(
        "--kernel",
        default="auto",
        choices=list(_iocz.KERNELS),
        help="per-IOC counts: auto (default, the cheaper predicted of those the query allows), scan or lookup",
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


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("iocz: interrupted; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PolicyRefused as e:
        print("\n".join(company.refused_lines(e)), file=sys.stderr)
        return EXIT_INVALID
    except _REPORTED as e:
        print(error_line(e), file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
