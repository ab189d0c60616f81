"""The company's commands: ``iocz inspect`` (what a query bundle reveals before scanning, or what
a result bundle holds before sending it) and ``iocz scan`` (the logs from files, a database
table or Spark; the scan's messages on the terminal and in a log file; the resumable scan)."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import iocz
from iocz import _iocz
from iocz import cli_company as company
from iocz import logs as iocz_logs
from iocz.bundles import Query, Result
from iocz.cli_errors import EXIT_OK, CliError
from iocz.describe import query_facts, result_facts, text_lines


def inspect(args: argparse.Namespace) -> int:
    """Company: validate a query bundle and print what it reveals (IOC types, slots, declared
    lengths) before deciding to scan; for a result bundle, before sending it: its scan metadata,
    data-quality figures and every released entry (set, column, group, counts, width, size),
    each checked."""
    loaded: Query | None = None
    if _iocz.file_kind(args.bundle) == "result bundle":
        facts = result_facts(Result.load(args.bundle), file_size=Path(args.bundle).stat().st_size)
    else:
        loaded = Query.load(args.bundle, server_key=args.server_key)
        facts = query_facts(loaded)
    print("\n".join(text_lines(facts)))
    return company.inspect_company(args, loaded)


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
        "any_total": args.any_total,
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
    control.sign(args.out, result.bundle_fingerprint)
    shutil.rmtree(checkpoint, ignore_errors=True)
    meta = result.metadata
    print(
        f"result for query {q.bundle_fingerprint} written to {args.out}: "
        f"{meta['rows_scanned']:,} rows, {meta['seconds']} s"
    )
    return EXIT_OK
