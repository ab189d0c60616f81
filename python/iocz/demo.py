"""``iocz demo``: the two-party round trip on the sample data shipped in the package, in a
temporary folder, with the decrypted counts printed next to the plaintext truth."""

from __future__ import annotations

import tempfile
import time
from importlib import resources
from pathlib import Path

import polars as pl

import iocz
from iocz.bundles import Query, Result, manifest_dir
from iocz.iocs import load_iocs

COLUMN = "sha256"


def _say(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label:<58} {now - started:6.1f} s  {iocz.pbs_count():>6} PBS")
    iocz.reset_pbs_count()
    return now


def run_demo() -> bool:
    """Run the demo; True when every decrypted count equals the plaintext truth."""
    data = resources.files("iocz") / "data"
    print(f"iocz {iocz.__version__} demo — parameters {iocz.parameter_set()}")
    with (
        resources.as_file(data / "sample_process_logs.csv") as logs_path,
        resources.as_file(data / "sample_iocs.stix.json") as iocs_path,
        tempfile.TemporaryDirectory(prefix="iocz-demo-") as tmp,
    ):
        folder = Path(tmp)
        iocz.reset_pbs_count()
        t0 = t = time.perf_counter()
        print("agency:")
        ck = iocz.ClientKey.generate()
        (folder / "agency").mkdir(mode=0o700)
        ck.save(folder / "agency" / "client.key")
        t = _say(f"key pair {ck.fingerprint} generated", t)
        report = load_iocs([iocs_path])
        for s in report.skipped:
            print(f"  skipped {s.reason}")
        query = Query.create(ck, report)
        query.save(folder / "q.iocz", manifest_dir=manifest_dir(folder / "agency" / "client.key"))
        size = (folder / "q.iocz").stat().st_size / 2**20
        t = _say(f"{report.summary()} → q.iocz ({size:.1f} MiB)", t)

        print("company (sees only q.iocz):")
        logs = pl.scan_csv(logs_path, try_parse_dates=True)
        loaded = Query.load(folder / "q.iocz")
        t = _say("query bundle loaded and validated", t)
        result = iocz.scan(logs, loaded, {"sha256": COLUMN}, progress=False)
        result.save(folder / "r.iocz")
        rows = result.metadata["rows_scanned"]
        size = (folder / "r.iocz").stat().st_size / 2**20
        t = _say(f"{rows} log rows scanned → r.iocz ({size:.1f} MiB of encrypted counts)", t)

        print("agency decrypts:")
        out = Result.load(folder / "r.iocz").decrypt(ck, key_path=folder / "agency" / "client.key")
        t = _say("result decrypted", t)
        frame = logs.collect()
        truth = frame.select(pl.col(COLUMN).is_in(out.counts["ioc"].implode()).sum()).item()
        ok: bool = out.totals["rows_matching_any"][0] == truth
        print(f"  {'IOC':<20} {'label':<36} {'count':>5} {'plaintext':>9}")
        for row in out.counts.sort("count", descending=True).iter_rows(named=True):
            expected = frame.select((pl.col(COLUMN).str.to_lowercase() == row["ioc"]).sum()).item()
            ok &= row["count"] == expected
            print(f"  {row['ioc'][:16] + '…':<20} {row['label'][:36]:<36} {row['count']:>5} {expected:>9}")
        print(f"  {'rows matching any IOC':<57} {out.totals['rows_matching_any'][0]:>5} {truth:>9}")
        print(f"{'OK' if ok else 'MISMATCH'} in {time.perf_counter() - t0:.1f} s")
        return ok
