"""iocz — count matches of secret IOCs in plaintext logs with FHE.

The agency (IOC holder) runs ``keygen``, ``query`` and ``decrypt``; the company (log holder)
runs ``scan``. Files travel between them: the query bundle (server key + encrypted IOCs, no
secret) and the result bundle (encrypted counts + scan metadata).

exit codes:
  0    success
  1    invalid input: bad or corrupted file, wrong key, unsupported value (one-line message)
  2    usage error (unknown option, missing argument)
  3    demo: decrypted counts differ from the plaintext truth
  130  interrupted (Ctrl-C); a scan resumes from its checkpoint when rerun with the same command
"""

from __future__ import annotations

import argparse
import glob
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

import iocz
from iocz import _iocz
from iocz.bundles import Query, Result, manifest_dir
from iocz.iocs import load_iocs

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_MISMATCH, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def _load_client_key(path: str, force: bool) -> iocz.ClientKey:
    return iocz.ClientKey.load(path, force=force)


def keygen(args: argparse.Namespace) -> int:
    """Write client.key (0600), server.key and public.key into a folder."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    t = time.perf_counter()
    ck = iocz.ClientKey.generate()
    ck.save(out / "client.key", overwrite=args.force)
    sk = ck.server_key()
    sk.save(out / "server.key", overwrite=args.force)
    ck.public_key().save(out / "public.key", overwrite=args.force)
    print(f"key {ck.fingerprint} ({iocz.parameter_set()}) in {time.perf_counter() - t:.1f} s")
    for name in ("client.key", "server.key", "public.key"):
        size = (out / name).stat().st_size
        note = "  SECRET: keep it, never send it" if name == "client.key" else ""
        print(f"  {out / name}  {size / 2**20:.1f} MiB{note}")
    return EXIT_OK


def query(args: argparse.Namespace) -> int:
    """Import IOC files, encrypt them and write a query bundle (+ the agency's manifest)."""
    ck = _load_client_key(args.key, args.force_key_permissions)
    report = load_iocs(args.iocs, format=args.format, ioc_type=args.type, case_sensitive=args.case_sensitive)
    for skipped in report.skipped:
        print(f"skipped {skipped.where}: {skipped.reason}: {skipped.value[:120]!r}", file=sys.stderr)
    print(f"imported {report.summary()}")
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
    )
    mpath = q.save(
        args.out,
        manifest_dir=manifest_dir(args.key),
        embed_server_key=not args.reference_server_key,
        overwrite=args.force,
    )
    size = Path(args.out).stat().st_size
    print(f"query {q.fingerprint} written to {args.out} ({size / 2**20:.1f} MiB, {time.perf_counter() - t:.1f} s)")
    for s in q.sets:
        print(f"  {s.ioc_type:<9} {s.set.slots:>6} slots  match={s.match}  lengths={s.set.lengths or '-'}")
    print(f"manifest (secret, stays here): {mpath}")
    return EXIT_OK


def inspect(args: argparse.Namespace) -> int:
    """Validate a query bundle and print what it reveals (before deciding to scan)."""
    q = Query.load(args.query, server_key=args.server_key)
    print(
        f"query {q.fingerprint}: key {q.key_fingerprint}, created {q.created or '?'}, "
        f"server key {'embedded' if q.server_key else 'referenced'}"
    )
    for s in q.sets:
        lengths = ", ".join(map(str, s.set.lengths)) or "-"
        print(
            f"  {s.ioc_type:<9} {s.set.slots:>6} slots ({s.set.hashes} hashes)  match={s.match}  "
            f"case_sensitive={s.case_sensitive}  declared lengths: {lengths}"
        )
    return EXIT_OK


def _scan_logs(patterns: list[str], fmt: str) -> pl.LazyFrame:
    frames: list[pl.LazyFrame] = []
    readers: dict[str, Callable[[str], pl.LazyFrame]] = {
        "parquet": pl.scan_parquet,
        "csv": pl.scan_csv,
        "ndjson": pl.scan_ndjson,
        "jsonl": pl.scan_ndjson,
    }
    for pattern in patterns:
        paths = sorted(glob.glob(pattern)) or [pattern]
        if not Path(paths[0]).exists():
            raise CliError(f"no log file matches {pattern!r}")
        kind = fmt if fmt != "auto" else Path(paths[0]).suffix.lower().lstrip(".")
        if kind not in readers:
            raise CliError(f"cannot tell the format of {paths[0]} (use --logs-format parquet|csv|ndjson)")
        # One scan per file: files of different sources may have different columns.
        frames.extend(readers[kind](p) for p in paths)
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


def _columns(specs: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in specs:
        type_name, sep, column = spec.partition("=")
        if not sep or not type_name or not column:
            raise CliError(f"--column takes TYPE=COLUMN (e.g. sha256=TargetProcessSHA256), not {spec!r}")
        out.setdefault(type_name.strip(), []).append(column.strip())
    return out


def scan(args: argparse.Namespace) -> int:
    """Scan logs with a query bundle; write an encrypted result bundle."""
    if args.log:
        handler = logging.FileHandler(args.log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logging.getLogger("iocz").addHandler(handler)
        logging.getLogger("iocz").setLevel(logging.INFO)
    if Path(args.out).exists() and not args.force:
        raise CliError(f"{args.out} exists (use --force to replace it)")
    q = Query.load(args.query, server_key=args.server_key)
    logs = _scan_logs(args.logs, args.logs_format)
    checkpoint = Path(args.checkpoint) if args.checkpoint else Path(str(args.out) + ".partial")
    result = iocz.scan(
        logs,
        q,
        _columns(args.column),
        where=args.where,
        group_by=args.group_by,
        time_column=args.time_column,
        checkpoint=checkpoint,
        partition_size=args.partition_size,
        bits=args.bits,
        progress=not args.no_progress,
    )
    result.save(args.out, overwrite=args.force)
    shutil.rmtree(checkpoint, ignore_errors=True)
    meta = result.metadata
    print(f"result for query {q.fingerprint} written to {args.out}: {meta['rows_scanned']:,} rows, {meta['seconds']} s")
    return EXIT_OK


def decrypt(args: argparse.Namespace) -> int:
    """Decrypt a result bundle and print IOC, label and count."""
    ck = _load_client_key(args.key, args.force_key_permissions)
    out = Result.load(args.result).decrypt(ck, manifest=args.manifest, key_path=args.key)
    if args.format == "json":
        print(out.to_json())
    elif args.format == "csv":
        print(out.counts.write_csv(), end="")
    else:
        meta = out.metadata
        print(
            f"query {meta['query']}: {meta.get('rows_scanned')} rows scanned, time range {meta.get('time_range')}, "
            f"filter {meta.get('where')!r}, iocz {meta.get('iocz_version')}"
        )
        with pl.Config(tbl_rows=-1, fmt_str_lengths=80, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
            totals, counts = out.totals, out.counts
            if meta.get("group_by") is None:
                totals, counts = totals.drop("group"), counts.drop("group")
            print(totals)
            print(counts)
    return EXIT_OK


def demo(args: argparse.Namespace) -> int:
    """The whole round trip on built-in sample data in a temporary folder."""
    from iocz.demo import run_demo

    return EXIT_OK if run_demo() else EXIT_MISMATCH


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iocz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"iocz {iocz.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("keygen", help="agency: create a key pair (client.key 0600, server.key, public.key)")
    p.add_argument("--out", required=True, help="folder for the keys (created 0700)")
    p.add_argument("--force", action="store_true", help="replace existing key files")
    p.set_defaults(func=keygen)

    p = sub.add_parser("query", help="agency: import IOC files and write an encrypted query bundle")
    p.add_argument("--key", required=True, help="client key file (its folder's server.key is embedded)")
    p.add_argument(
        "--iocs",
        required=True,
        nargs="+",
        help="IOC files: STIX 2.1 bundle, MISP event JSON, CSV (type,value[,label]) or a plain list",
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
    p.add_argument("--pad-to", type=int, default=0, help="size each set for at least N IOCs (hides the real count)")
    p.add_argument("--server-key", help="server key to embed (default: server.key next to --key)")
    p.add_argument(
        "--reference-server-key",
        action="store_true",
        help="embed only the server key's fingerprint (the company already holds the key)",
    )
    p.add_argument("--strict", action="store_true", help="fail if any IOC is skipped")
    p.add_argument("--out", required=True, help="query bundle to write")
    p.add_argument("--force", action="store_true", help="replace an existing bundle")
    p.add_argument("--force-key-permissions", action="store_true", help="accept a client key readable by group/others")
    p.set_defaults(func=query)

    p = sub.add_parser("inspect", help="company: validate a query bundle and show what it reveals")
    p.add_argument("query", help="query bundle")
    p.add_argument("--server-key", help="server key file, when the query only references one")
    p.set_defaults(func=inspect)

    p = sub.add_parser("scan", help="company: scan logs with a query bundle, write an encrypted result")
    p.add_argument("query", help="query bundle from the agency")
    p.add_argument(
        "--logs", required=True, action="append", help="log files or glob (Parquet, CSV, NDJSON; repeatable)"
    )
    p.add_argument("--logs-format", default="auto", choices=["auto", "parquet", "csv", "ndjson"])
    p.add_argument(
        "--column",
        required=True,
        action="append",
        help="TYPE=COLUMN, e.g. sha256=TargetProcessSHA256, domain=query, ip=dst_ip (repeatable)",
    )
    p.add_argument("--where", help="SQL condition run in the clear first, e.g. \"p_date > '2024-05-13'\"")
    p.add_argument("--group-by", help="count per value of this column (values go to the agency in the clear)")
    p.add_argument("--time-column", help="column for the reported time range (default: first temporal column)")
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
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--log", help="append progress lines to this file")
    p.add_argument("--out", required=True, help="result bundle to write")
    p.add_argument("--force", action="store_true", help="replace an existing result")
    p.set_defaults(func=scan)

    p = sub.add_parser("decrypt", help="agency: decrypt a result bundle (IOC, label, count)")
    p.add_argument("result", help="result bundle from the company")
    p.add_argument("--key", required=True, help="client key file")
    p.add_argument("--manifest", help="query manifest (default: queries/<query>.json next to --key)")
    p.add_argument("--format", default="table", choices=["table", "json", "csv"])
    p.add_argument("--force-key-permissions", action="store_true", help="accept a client key readable by group/others")
    p.set_defaults(func=decrypt)

    p = sub.add_parser("demo", help="run the whole round trip on built-in sample data")
    p.set_defaults(func=demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("iocz: interrupted; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CliError, iocz.IoczError, ValueError, OSError, pl.exceptions.PolarsError) as e:
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"iocz: error: {message}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
