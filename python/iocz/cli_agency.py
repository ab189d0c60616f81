"""The agency's commands: ``iocz keygen``, ``iocz query`` and ``iocz decrypt``; and ``iocz demo``,
the whole round trip of both parties on built-in sample data."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import iocz
from iocz import cli_company as company
from iocz.bundles import Query, Result, manifest_dir
from iocz.cli_errors import EXIT_MISMATCH, EXIT_OK, CliError
from iocz.cli_inputs import import_summary_lines, load_client_key
from iocz.cli_output import print_decrypted, print_query_sizes, print_written_query
from iocz.describe import human_size
from iocz.iocs import load_iocs


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
    ck = load_client_key(args.key, args.force)
    signer = company.load_signer(args)
    report = load_iocs(
        args.iocs,
        format=args.format,
        ioc_type=args.type,
        case_sensitive=args.case_sensitive,
        include_non_detection=args.include_non_detection,
    )
    for line in import_summary_lines(report):
        print(line, file=sys.stderr)
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
    print_query_sizes(q, args.lookup_bits)
    mpath = q.save(
        args.out,
        manifest_dir=manifest_dir(args.key),
        embed_server_key=not args.reference_server_key,
        overwrite=args.overwrite,
    )
    company.sign_query(signer, args.out, q.bundle_fingerprint)
    print_written_query(q, args.out, time.perf_counter() - t, mpath)
    return EXIT_OK


def decrypt(args: argparse.Namespace) -> int:
    """Agency: decrypt a result bundle and print each IOC with its label and count, the rows
    matching any IOC, the scan's data-quality figures and the sets that were never scanned."""
    ck = load_client_key(args.key, args.force)
    company.check_result_signer(args)
    out = Result.load(args.result).decrypt(ck, manifest=args.manifest, key_path=args.key)
    for line in out.unscanned_lines():
        print(f"iocz: {line}", file=sys.stderr)
    print_decrypted(out, args.format)
    return EXIT_OK


def demo(args: argparse.Namespace) -> int:
    """The whole two-party round trip on built-in sample data in a temporary folder, with each
    decrypted count next to the plaintext Polars truth."""
    from iocz.demo import run_demo

    return EXIT_OK if run_demo() else EXIT_MISMATCH
