"""The two-party workflow through the command line (subprocesses) and the Python API: keygen →
query → scan → decrypt on real rows with planted IOCs, resumable scans, bundle hygiene."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import iocz
import polars as pl
import pytest
from conftest import DATA, SEED_IOC, Keys

ABSENT_SHA256 = "5f" * 32


def iocz_cli(*args: str | Path, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m iocz`` with ``args``."""
    proc = subprocess.run(
        [sys.executable, "-m", "iocz", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"iocz {' '.join(map(str, args))} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass(frozen=True)
class Agency:
    folder: Path
    key: Path


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Agency:
    folder = tmp_path_factory.mktemp("agency") / "keys"
    iocz_cli("keygen", "--out", folder)
    return Agency(folder, folder / "client.key")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real rows in two files of different sources (process hashes, DNS names)."""
    folder = tmp_path_factory.mktemp("logs")
    proc = pl.read_csv(Path(iocz.__file__).parent / "data" / "sample_process_logs.csv")
    proc = proc.select(pl.col("utc_time").str.to_datetime().alias("ts"), "host", "sha256")
    dns = pl.read_parquet(DATA / "dns_events.parquet").head(150)
    dns = dns.select(
        pl.col("ts").str.strip_suffix("Z").str.to_datetime().alias("ts"), pl.col("src_ip").alias("host"), "query"
    )
    proc.write_parquet(folder / "process.parquet")
    dns.write_parquet(folder / "dns.parquet")
    return {"process": folder / "process.parquet", "dns": folder / "dns.parquet", "glob": folder / "*.parquet"}


def _domain_truth(frame: pl.DataFrame, domain: str) -> int:
    q = pl.col("query").str.to_lowercase()
    return frame.select((q == domain).or_(q.str.ends_with("." + domain)).fill_null(False).sum()).item()


def test_cli_round_trip_on_real_rows(agency: Agency, logs: dict[str, Path], tmp_path: Path) -> None:
    frame = pl.concat([pl.read_parquet(logs["process"]), pl.read_parquet(logs["dns"])], how="diagonal_relaxed")
    hashes = frame["sha256"].drop_nulls().value_counts().sort("count", "sha256", descending=True)
    frequent, rare = hashes["sha256"][0], hashes.filter(pl.col("count") == 1)["sha256"][0]
    cutoff = "2018-03-24 17:15:21"
    kept = frame.filter(pl.col("ts") >= pl.lit(cutoff).str.to_datetime())
    names = kept["query"].drop_nulls().str.to_lowercase().value_counts().sort("count", "query", descending=True)
    deep = [n for n in names["query"] if n.count(".") >= 2 and not "ise.wrccdc.org".endswith(n.split(".", 1)[1])]
    parent = deep[0].split(".", 1)[1]  # planted parent domain: matches with its subdomains
    iocs = tmp_path / "iocs.csv"
    iocs.write_text(
        "type,value,label\n"
        f"sha256,{frequent.upper()},frequent\nsha256,{rare},rare\nsha256,{ABSENT_SHA256},absent\n"
        f"sha256,{rare},rare again\n"
        f"domain,{parent},parent domain\ndomain,ISE.wrccdc.org.,exact name\ndomain,evil.example.com,absent\n"
        "mutex,Global\\x,unsupported\n"
    )
    q = iocz_cli(
        "query", "--key", agency.key, "--iocs", iocs, "--domain-match", "subdomain", "--out", tmp_path / "q.iocz"
    )
    assert "7 IOCs" in q.stdout and "1 skipped" in q.stdout
    assert "unsupported IOC type" in q.stderr
    iocz_cli(
        "scan",
        tmp_path / "q.iocz",
        "--logs",
        logs["glob"],
        "--column",
        "sha256=sha256",
        "--column",
        "domain=query",
        "--where",
        f"ts >= '{cutoff}'",
        "--bits",
        "64",
        "--no-progress",
        "--out",
        tmp_path / "r.iocz",
    )
    assert not (tmp_path / "r.iocz.partial").exists()
    out = json.loads(iocz_cli("decrypt", tmp_path / "r.iocz", "--key", agency.key, "--format", "json").stdout)
    assert out["metadata"]["rows_scanned"] == kept.height < frame.height
    got = {(c["type"], c["ioc"]): (c["count"], c["label"]) for c in out["counts"]}
    sha = lambda v: kept.select((pl.col("sha256") == v).sum()).item()  # noqa: E731
    assert got[("sha256", frequent)] == (sha(frequent), "frequent")
    assert got[("sha256", rare)] == (sha(rare), "rare; rare again")
    assert got[("sha256", ABSENT_SHA256)] == (0, "absent")
    for domain in (parent, "ise.wrccdc.org", "evil.example.com"):
        assert got[("domain", domain)][0] == _domain_truth(kept, domain), domain
    assert sha(frequent) > 0 and _domain_truth(kept, parent) > 0
    totals = {t["type"]: t["rows_matching_any"] for t in out["totals"]}
    assert totals["sha256"] == kept.select(pl.col("sha256").is_in([frequent, rare]).sum()).item()
    assert totals["domain"] == _domain_truth(kept, parent) + _domain_truth(kept, "ise.wrccdc.org")
    table = iocz_cli("decrypt", tmp_path / "r.iocz", "--key", agency.key).stdout
    assert "rows scanned" in table and "frequent" in table
    csv = iocz_cli("decrypt", tmp_path / "r.iocz", "--key", agency.key, "--format", "csv").stdout
    assert csv.splitlines()[0] == "group,type,column,ioc,label,count,saturated"
    # The totals come last, one row per (set, column, group), ioc "*".
    csv_totals = pl.read_csv(csv.encode()).filter(pl.col("ioc") == "*")
    assert dict(zip(csv_totals["type"], csv_totals["count"], strict=True)) == totals


@pytest.fixture(scope="module")
def hash_query(agency: Agency, logs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A query of hashes planted from the process rows (small: used by several scans)."""
    folder = tmp_path_factory.mktemp("hash-query")
    proc = pl.read_parquet(logs["process"])
    planted = proc["sha256"].unique().sort()[:8].to_list() + [ABSENT_SHA256]
    (folder / "iocs.txt").write_text("\n".join(planted) + "\n")
    iocz_cli("query", "--key", agency.key, "--iocs", folder / "iocs.txt", "--out", folder / "q.iocz")
    return folder / "q.iocz"


def _scan_args(query: Path, logs: dict[str, Path], out: Path) -> list[str | Path]:
    return [
        "scan",
        query,
        "--logs",
        logs["process"],
        "--column",
        "sha256=sha256",
        "--bits",
        "64",
        "--partition-size",
        "12",
        "--no-progress",
        "--out",
        out,
    ]


def test_interrupted_scan_resumes_to_the_uninterrupted_counts(
    agency: Agency, logs: dict[str, Path], hash_query: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "scan.log"
    out = tmp_path / "r.iocz"
    args = _scan_args(hash_query, logs, out) + ["--log", log_file]
    proc = subprocess.Popen(
        [sys.executable, "-m", "iocz", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    partial = tmp_path / "r.iocz.partial"
    deadline = time.monotonic() + 300
    while not list(partial.glob("job*.iocz")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the scan finished before it could be interrupted"
    done_before = len(list(partial.glob("job*.iocz")))
    assert done_before >= 1 and not out.exists()
    iocz_cli(*args)
    assert not partial.exists()
    lines = log_file.read_text().splitlines()
    assert sum(line.endswith(" resumed") for line in lines) == done_before
    assert any(f"{done_before} of " in line and "resumed from the checkpoint" in line for line in lines)
    iocz_cli(*_scan_args(hash_query, logs, tmp_path / "uninterrupted.iocz"))
    decrypt = lambda r: json.loads(iocz_cli("decrypt", r, "--key", agency.key, "--format", "json").stdout)  # noqa: E731
    resumed, uninterrupted = decrypt(out), decrypt(tmp_path / "uninterrupted.iocz")
    assert resumed["counts"] == uninterrupted["counts"] and resumed["totals"] == uninterrupted["totals"]
    proc_rows = pl.read_parquet(logs["process"])
    for c in resumed["counts"]:
        assert c["count"] == proc_rows.select((pl.col("sha256") == c["ioc"]).sum()).item(), c


def test_python_api_scan_per_group(keys: Keys, tmp_path: Path) -> None:
    frame = pl.read_csv(Path(iocz.__file__).parent / "data" / "sample_process_logs.csv")
    planted = frame["sha256"].value_counts().sort("count", "sha256", descending=True)["sha256"][:3].to_list()
    report = iocz.ImportReport([iocz.Ioc("sha256", v, f"ioc {i}") for i, v in enumerate(planted)])
    query = iocz.Query.create(keys.client, report, server_key=keys.server)
    manifest = query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    assert manifest.stat().st_mode & 0o077 == 0
    loaded = iocz.Query.load(tmp_path / "q.iocz")
    result = iocz.scan(frame.lazy(), loaded, {"sha256": "sha256"}, group_by="host", bits=64, progress=False)
    result.save(tmp_path / "r.iocz")
    out = iocz.Result.load(tmp_path / "r.iocz").decrypt(keys.client, manifest=manifest)
    truth = frame.group_by("host", "sha256").len()
    assert set(out.counts["group"]) == set(frame["host"])
    for row in out.counts.iter_rows(named=True):
        expected = truth.filter((pl.col("host") == row["group"]) & (pl.col("sha256") == row["ioc"]))["len"].sum()
        assert row["count"] == expected, row
    any_truth = frame.group_by("host").agg(pl.col("sha256").is_in(planted).sum())
    assert dict(out.totals.select("group", "rows_matching_any").iter_rows()) == dict(any_truth.iter_rows())


def test_query_bundle_holds_no_client_key(agency: Agency, hash_query: Path) -> None:
    bundle = hash_query.read_bytes()
    secret = agency.key.read_bytes()
    assert b"client-key" not in bundle and b"iocz1 client-key" in secret
    # Every 48-byte window of the client key that looks like key material must be absent: binary
    # secret-key coefficients (bytes 0/1 only, with enough ones) or random-looking bytes (seeds).
    # Parameter records (small integers such as 4, 8, 17) are public and shared with the server key.
    windows = [secret[i : i + 48] for i in range(0, len(secret) - 48, 48)]
    binary = [w for w in windows if set(w) <= {0, 1} and w.count(1) >= 4]
    random_looking = [w for w in windows if len(set(w)) >= 24]
    assert len(binary) > 100
    assert not any(w in bundle for w in binary + random_looking)
    meta = iocz._iocz.read_bundle(hash_query, "query").meta
    assert json.loads(meta)["server_key"] == "embedded"
    shown = iocz_cli("inspect", hash_query).stdout
    assert "sha256" in shown and "slots" in shown


def test_referenced_server_key(agency: Agency, hash_query: Path, tmp_path: Path) -> None:
    (tmp_path / "iocs.txt").write_text(ABSENT_SHA256 + "\n")
    q = tmp_path / "q.iocz"
    iocz_cli("query", "--key", agency.key, "--iocs", tmp_path / "iocs.txt", "--reference-server-key", "--out", q)
    assert q.stat().st_size < hash_query.stat().st_size / 10
    with pytest.raises(iocz.FormatError, match="--server-key"):
        iocz.Query.load(q)
    assert iocz.Query.load(q, server_key=agency.folder / "server.key").sets[0].ioc_type == "sha256"


def _corruptions(data: bytes) -> dict[str, bytes]:
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    version = bytearray(data)
    version[12] = 9
    return {
        "empty": b"",
        "truncated": data[: len(data) // 3],
        "bit-flipped": bytes(flipped),
        "newer-version": bytes(version),
        "trailing-bytes": data + b"\0",
        "not-a-bundle": b"hello world\n" * 10,
    }


def test_corrupted_query_bundles_are_rejected_before_any_work(
    hash_query: Path, logs: dict[str, Path], tmp_path: Path
) -> None:
    for name, data in _corruptions(hash_query.read_bytes()).items():
        bad = tmp_path / f"{name}.iocz"
        bad.write_bytes(data)
        t = time.monotonic()
        proc = iocz_cli(
            "scan",
            bad,
            "--logs",
            logs["process"],
            "--column",
            "sha256=sha256",
            "--out",
            tmp_path / "r.iocz",
            check=False,
        )
        assert proc.returncode == 1, (name, proc.stderr)
        assert proc.stderr.startswith("iocz: error:") and proc.stderr.count("\n") == 1, (name, proc.stderr)
        assert time.monotonic() - t < 60 and not (tmp_path / "r.iocz").exists()


def test_wrong_kind_and_forged_bundles(agency: Agency, hash_query: Path, keys: Keys, tmp_path: Path) -> None:
    with pytest.raises(iocz.FormatError, match="query bundle, expected a result"):
        iocz.Result.load(hash_query)
    bundle = iocz._iocz.read_bundle(hash_query, "query")
    # A well-formed container whose set comes from another key.
    other = keys.client.encrypt_set([ABSENT_SHA256])
    forged = [(n, other.to_bytes() if n == "set/0" else d) for n, d in bundle.sections.items()]
    (tmp_path / "forged.iocz").write_bytes(iocz._iocz.encode_bundle("query", bundle.meta, forged).data)
    with pytest.raises(iocz.FormatError, match="does not match its metadata"):
        iocz.Query.load(tmp_path / "forged.iocz")


def test_client_key_permissions_are_enforced(agency: Agency, hash_query: Path, tmp_path: Path) -> None:
    assert agency.key.stat().st_mode & 0o777 == 0o600
    loose = tmp_path / "client.key"
    loose.write_bytes(agency.key.read_bytes())
    os.chmod(loose, 0o644)
    (tmp_path / "iocs.txt").write_text(ABSENT_SHA256 + "\n")
    proc = iocz_cli("query", "--key", loose, "--iocs", tmp_path / "iocs.txt", "--out", tmp_path / "q.iocz", check=False)
    assert proc.returncode == 1 and "chmod 600" in proc.stderr


def test_help_is_complete() -> None:
    top = iocz_cli("--help").stdout
    for word in ("keygen", "query", "inspect", "scan", "decrypt", "demo", "exit codes", "130"):
        assert word in top
    for command in ("keygen", "query", "inspect", "scan", "decrypt", "demo"):
        assert "usage: iocz " + command in iocz_cli(command, "--help").stdout
    assert iocz_cli("scan", check=False).returncode == 2


def test_checkpoint_of_another_scan_is_refused(keys: Keys, tmp_path: Path) -> None:
    frame = pl.DataFrame({"sha256": [ABSENT_SHA256, None]})
    query = iocz.Query.create(keys.client, [iocz.Ioc("sha256", ABSENT_SHA256)], server_key=keys.server)
    query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    scan = lambda f: iocz.scan(f, query, {"sha256": "sha256"}, checkpoint=tmp_path / "ckpt", bits=64, progress=False)  # noqa: E731
    first = scan(frame)
    assert list((tmp_path / "ckpt").glob("job*.iocz"))
    with pytest.raises(ValueError, match="belongs to a different scan"):
        scan(frame.with_columns(pl.lit(ABSENT_SHA256).alias("sha256")))
    again = scan(frame)  # same scan: served from the checkpoint, no FHE work
    decrypt = lambda r: keys.client.decrypt_released(r.counts[0].released)  # noqa: E731
    for released in (decrypt(again), decrypt(first)):
        assert (released.counts, released.total, released.bits) == ({ABSENT_SHA256: 1}, 1, 32)


def test_count_bits_16_saturates_and_inspect_shows_the_release(keys: Keys, tmp_path: Path) -> None:
    # 70,000 rows of one IOC: more than a 16-bit count holds, so it comes back saturated.
    frame = pl.DataFrame({"sha256": [SEED_IOC] * 70_000 + [ABSENT_SHA256] * 3 + [None]})
    iocs = [iocz.Ioc("sha256", SEED_IOC, "many"), iocz.Ioc("sha256", "ab" * 32, "none")]
    with pytest.raises(ValueError, match="count_bits"):
        iocz.Query.create(keys.client, iocs, server_key=keys.server, count_bits=8)
    query = iocz.Query.create(keys.client, iocs, server_key=keys.server, count_bits=16)
    manifest = query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    loaded = iocz.Query.load(tmp_path / "q.iocz")
    assert loaded.count_bits == 16
    result = iocz.scan(frame, loaded, {"sha256": "sha256"}, bits=64, progress=False)
    result.save(tmp_path / "r.iocz")
    out = iocz.Result.load(tmp_path / "r.iocz").decrypt(keys.client, manifest=manifest)
    got = {r["ioc"]: (r["count"], r["saturated"]) for r in out.counts.iter_rows(named=True)}
    assert got == {SEED_IOC: (65_535, True), "ab" * 32: (0, False)}
    assert out.totals.row(0, named=True)["saturated"] and out.metadata["count_bits"] == 16
    entry = result.counts[0].released
    assert len(entry) < 1024 * (query.sets[0].set.slots + 1), "compressed: under 1 KB per count"
    shown = iocz_cli("inspect", tmp_path / "r.iocz").stdout
    assert "16-bit counts" in shown and "per-bin lookup counts" in shown and "compressed" in shown
