"""The agency's side of the examples: keys, an encrypted query of the sample IOCs, and
decryption of a result. Run by the seed-detection examples (one per engine)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import iocz

#: The sample data shipped in the package: 65 real Sysmon rows and a STIX bundle of IOCs.
DATA = Path(iocz.__file__).parent / "data"
LOGS = DATA / "sample_process_logs.csv"
IOCS = DATA / "sample_iocs.stix.json"
#: The detection's date filter.
AFTER = "2020-01-01"


def make_query(work: Path) -> tuple[iocz.ClientKey, Path, Path]:
    """Agency: a key, and the query bundle of the sample IOCs written to ``work``; returns
    (key, query bundle, manifest). The client key never leaves this function's caller."""
    key = iocz.ClientKey.generate()
    report = iocz.load_iocs(IOCS)
    query = iocz.Query.create(key, report, kernel="lookup", count_bits=16)
    manifest = query.save(work / "q.iocz", manifest_dir=work / "queries")
    return key, work / "q.iocz", manifest


def decrypt(key: iocz.ClientKey, result: iocz.Result, manifest: Path, work: Path) -> dict[tuple[str, str], int]:
    """Agency: the result bundle decrypted, as {(host, IOC): count} (non-zero counts)."""
    result.save(work / "r.iocz", overwrite=True)
    out = iocz.Result.load(work / "r.iocz").decrypt(key, manifest=manifest)
    return {(str(r["group"]), str(r["ioc"])): int(r["count"]) for r in out.counts.iter_rows(named=True) if r["count"]}


def round_trip(work: Path, detect: Callable[[iocz.Query], iocz.Result]) -> dict[tuple[str, str], int]:
    """Both sides: the agency's query, the company's ``detect`` on it (loaded from the bundle
    file, as the company receives it), the agency's decrypted non-zero counts."""
    key, bundle, manifest = make_query(work)
    return decrypt(key, detect(iocz.Query.load(bundle)), manifest, work)


def print_counts(main: Callable[[Path], dict[tuple[str, str], int]]) -> None:
    """Run ``main`` in a temporary folder and print its counts per host and IOC."""
    with tempfile.TemporaryDirectory() as tmp:
        for (host, ioc), n in sorted(main(Path(tmp)).items()):
            print(f"{host:<30} {ioc[:16]}…  {n}")
