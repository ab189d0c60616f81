"""The ``iocz`` command line. For now: ``iocz demo``, a full two-party round trip on the
sample data shipped inside the package."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import polars as pl

import iocz

SEED_IOC = "027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745"
SEED_COLUMN = "TargetProcessSHA256"


def _step(label: str, started: float) -> float:
    now = time.perf_counter()
    iocz_pbs = iocz.pbs_count()
    print(f"  {label:<52} {now - started:7.2f} s  {iocz_pbs:>6} PBS")
    iocz.reset_pbs_count()
    return now


def demo(_: argparse.Namespace) -> int:
    """Agency and company round trip in a temporary folder; prints counts next to the truth."""
    logs_path = resources.files("iocz") / "data" / "seed_process_logs.csv"
    with resources.as_file(logs_path) as p:
        logs = pl.read_csv(p)
    print(f"iocz {iocz.__version__} demo — parameters {iocz.parameter_set()}")
    with tempfile.TemporaryDirectory(prefix="iocz-demo-") as tmp:
        folder = Path(tmp)
        iocz.reset_pbs_count()
        t = time.perf_counter()
        print("agency:")
        ck = iocz.ClientKey.generate()
        ck.save(folder / "agency.key")
        ck.server_key().save(folder / "server.key")
        ck.public_key().save(folder / "public.key")
        ck.encrypt(SEED_IOC).save(folder / "ioc.bin")
        t = _step(f"keys {ck.fingerprint} + encrypted IOC written", t)
        sizes = {f.name: f.stat().st_size for f in sorted(folder.iterdir())}
        print("  sizes: " + ", ".join(f"{n} {s / 1024:,.1f} KiB" for n, s in sizes.items()))

        print("company (sees only server.key, public.key, ioc.bin):")
        iocz.ServerKey.load(folder / "server.key")
        pk = iocz.PublicKey.load(folder / "public.key")
        ioc = iocz.EncryptedValue.load(folder / "ioc.bin")
        t = _step("keys loaded", t)
        col = pl.col(SEED_COLUMN)
        plain_count = logs.select(col.fhe.eq(ioc).fhe.count()).item()
        t = _step(f"plaintext column ({logs.height} rows) vs encrypted IOC", t)
        enc = logs.with_columns(col.fhe.encrypt(pk))
        enc_count = enc.select(col.fhe.eq(ioc).fhe.count()).item()
        t = _step("encrypted column vs encrypted IOC", t)

        print("agency decrypts:")
        truth = logs.select((col == SEED_IOC).sum()).item()
        got = ck.decrypt(plain_count), ck.decrypt(enc_count)
        for label, n in zip(("plaintext column", "encrypted column"), got):
            print(f"  {label:<18} count = {n}   (plaintext Polars: {truth})")
    ok = all(n == truth for n in got)
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iocz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="run the two-party round trip on built-in sample data")
    p.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
