"""The lookup kernel through the Python API (``kernel="lookup"``): per-IOC counts equal plaintext
Polars on real rows for every IOC type, with groups, empty and all-null columns; the automatic
choice and its grounds; bins as partitions. Counts use ``bits=64`` (13 tag chunks) to keep the suite's
FHE work small."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import iocz
import polars as pl
import pytest
from conftest import DATA, Keys
from iocz.describe import decrypted_facts, result_facts, text_lines

ABSENT = "5f" * 32


def _per_ioc(keys: Keys, enc: iocz.EncryptedSet, frame: pl.DataFrame, col: str, **kw: object) -> dict[str, int]:
    blob = frame.select(pl.col(col).fhe.count_per_ioc(enc, bits=64, kernel="lookup", **kw)).item()  # type: ignore[arg-type]
    return keys.client.decrypt_counts(blob)


def test_hash_counts_equal_plaintext(keys: Keys, process_logs: pl.DataFrame) -> None:
    freq = process_logs["sha256"].value_counts().sort("count", "sha256", descending=True)["sha256"]
    iocs = [freq[0], freq[len(freq) // 2], freq[-1], ABSENT, freq[0]]  # frequent, mid, rare, absent, duplicate
    enc = keys.client.encrypt_set(iocs, kernel="lookup", lookup_bits=12)
    # 4 distinct IOCs in ⌈1.1 · 4⌉ = 5 bins (or a few more after a failed cuckoo placement).
    assert enc.lookup is not None and 5 <= enc.lookup.entries <= 8 and enc.lookup.kernel == "lookup"
    got = _per_ioc(keys, enc, process_logs, "sha256")
    truth = process_logs.group_by("sha256").len()
    for ioc in set(iocs):
        assert got[ioc] == truth.filter(pl.col("sha256") == ioc)["len"].sum(), ioc


def test_grouped_scan_with_the_lookup_kernel(keys: Keys, process_logs: pl.DataFrame, tmp_path: Path) -> None:
    planted = process_logs["sha256"].value_counts().sort("count", "sha256", descending=True)["sha256"][:2].to_list()
    query = iocz.Query.create(keys.client, [iocz.Ioc("sha256", v) for v in planted + [ABSENT]], kernel="lookup")
    manifest = query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    result = iocz.scan(process_logs, query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False)
    assert [k[2] for k in result.metadata["kernels"]] == ["lookup"]
    out = result.decrypt(keys.client, manifest=manifest)
    truth = process_logs.group_by("host", "sha256").len()
    for row in out.counts.iter_rows(named=True):
        expected = truth.filter((pl.col("host") == row["group"]) & (pl.col("sha256") == row["ioc"]))["len"].sum()
        assert row["count"] == expected, row
    any_truth = process_logs.group_by("host").agg(pl.col("sha256").is_in(planted).sum())
    assert dict(out.totals.select("group", "rows_matching_any").iter_rows()) == dict(any_truth.iter_rows())


def test_subdomain_and_substring_counts(keys: Keys) -> None:
    dns = pl.read_parquet(DATA / "dns_events.parquet", columns=["query"]).head(300)
    parent = "wrccdc.org"
    enc = keys.client.encrypt_set([parent, "never.example"], "domain", kernel="lookup", lookup_bits=11)
    got = _per_ioc(keys, enc, dns, "query", match="subdomain")
    q = dns["query"].str.to_lowercase()
    assert got[parent] == int(((q == parent) | q.str.ends_with("." + parent)).sum())
    assert got["never.example"] == 0
    cmd = pl.read_parquet(DATA / "cmdline_events.parquet", columns=["cmdline"]).head(40)
    enc = keys.client.encrypt_set(["system32", "mimikatz"], "substring", kernel="lookup", lookup_bits=14)
    got = _per_ioc(keys, enc, cmd, "cmdline")
    low = cmd["cmdline"].str.to_lowercase()
    assert got["system32"] == int(low.str.contains("system32", literal=True).sum())
    assert got["mimikatz"] == int(low.str.contains("mimikatz", literal=True).sum())


def test_cidr_counts(keys: Keys) -> None:
    ips = pl.read_parquet(DATA / "dns_events.parquet", columns=["src_ip"]).head(200)
    enc = keys.client.encrypt_set(
        ["10.47.0.0/16", "10.0.0.100", "192.0.2.0/24"], "ipv4", kernel="lookup", lookup_bits=11
    )
    got = _per_ioc(keys, enc, ips, "src_ip")
    addrs = [ipaddress.ip_address(v) for v in ips["src_ip"].to_list()]
    nets = ["10.47.0.0/16", "10.0.0.100", "192.0.2.0/24"]
    for net, c in zip(nets, iocz._iocz.canonical_iocs(nets, "ipv4"), strict=True):
        n = ipaddress.ip_network(net)
        assert got[str(c.text)] == sum(a in n for a in addrs), (net, got)


def test_empty_and_null_columns_count_zero(keys: Keys) -> None:
    enc = keys.client.encrypt_set(["ab" * 32], kernel="lookup", lookup_bits=11)
    for frame in (
        pl.DataFrame({"h": []}, schema={"h": pl.String}),
        pl.DataFrame({"h": [None, None]}, schema={"h": pl.String}),
    ):
        assert _per_ioc(keys, enc, frame, "h") == {"ab" * 32: 0}


def _plan(values: pl.Series, set_id: str, kernel: str = "auto", match: str = "exact") -> iocz._iocz.ColumnPlan:
    """The plan of a column whose rows are all distinct pairs of one group."""
    ones = pl.Series([1] * values.len(), dtype=pl.UInt64)
    return iocz._iocz.ColumnPlan(values, ones.cast(pl.UInt32) * 0, 1, ones, set_id, 64, match, kernel)


def test_automatic_choice_and_its_grounds(keys: Keys) -> None:
    many = pl.Series("h", [f"{i:064x}" for i in range(3000)])
    enc = keys.client.encrypt_set(["ab" * 32], lookup_bits=12)
    plan = _plan(many, enc.set_id)
    c = plan.choice
    # 1 IOC: 2 bins holding every value; 3,000 values need 4 windows of 2,048 cells at 70 % load.
    assert c.kernel == "lookup" and c.lookup_pbs is not None and c.lookup_pbs < c.scan_pbs and c.window_bits == 2
    assert "predicted" in c.reason and c.per_ioc_pbs == c.lookup_pbs
    assert plan.total_pbs is None, "one candidate per row: the total is the per-IOC counts' sum"
    scan_only = keys.client.encrypt_set(["ab" * 32], kernel="scan")
    c = _plan(many, scan_only.set_id).choice
    assert c.kernel == "scan" and "no lookup part" in c.reason and c.per_ioc_pbs == c.scan_pbs
    # Values beyond what the query's lookup size covers fall back to the scan kernel.
    too_many = pl.Series("h", [f"{i:064x}" for i in range(6000)])
    small = keys.client.encrypt_set(["ab" * 32], lookup_bits=11)
    c = _plan(too_many, small.set_id).choice
    assert c.kernel == "scan" and "exceed" in c.reason
    with pytest.raises(ValueError, match="no lookup part"):
        _plan(many, scan_only.set_id, kernel="lookup")


def test_bins_are_partitions_and_resume(keys: Keys, process_logs: pl.DataFrame, tmp_path: Path) -> None:
    """A lookup job is cut into ranges of bins (checkpoint partitions): with one bin per
    partition, a scan whose checkpoint lost some partitions recomputes only those and gives the
    same counts; the released entry says the rows matching any IOC are the agency's sum."""
    freq = process_logs["sha256"].value_counts().sort("count", "sha256", descending=True)["sha256"]
    planted = [freq[0], freq[len(freq) // 3], freq[-1]]
    query = iocz.Query.create(keys.client, [iocz.Ioc("sha256", v) for v in planted + [ABSENT]], kernel="lookup")
    manifest = query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    bins = query.sets[0].set.lookup.entries if query.sets[0].set.lookup else 0
    ckpt = tmp_path / "ckpt"
    original = iocz._iocz.LOOKUP_BINS_PER_PARTITION
    try:
        # One bin per partition for this test (the partition size is read when tasks are cut).
        iocz._iocz.LOOKUP_BINS_PER_PARTITION = 1  # type: ignore[misc]
        first = iocz.scan(process_logs, query, {"sha256": "sha256"}, bits=64, progress=False, checkpoint=ckpt)
        parts = sorted(ckpt.glob("job0-part*.iocz"))
        assert len(parts) == bins >= 5
        for lost in parts[::2]:
            lost.unlink()
        again = iocz.scan(process_logs, query, {"sha256": "sha256"}, bits=64, progress=False, checkpoint=ckpt)
    finally:
        iocz._iocz.LOOKUP_BINS_PER_PARTITION = original  # type: ignore[misc]
    truth = process_logs.group_by("sha256").len()
    for result in (first, again):
        out = result.decrypt(keys.client, manifest=manifest)
        got = dict(out.counts.select("ioc", "count").iter_rows())
        for ioc in planted + [ABSENT]:
            assert got[ioc] == truth.filter(pl.col("sha256") == ioc)["len"].sum(), ioc
        assert out.totals["rows_matching_any"].to_list() == [sum(got.values())]


def test_rows_matching_any_is_counted_only_when_cheap_or_asked(
    keys: Keys, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Substrings (many candidates per row): the rows-matching-any total costs a scan over every
    candidate window. By default it is counted only when cheap; its predicted cost is logged
    and the result says it was not counted; ``any_total=True`` counts it exactly."""
    # Short command lines: the counted total scans every window, so few windows keep it quick.
    cmd = pl.DataFrame({"cmdline": [r"C:\Windows\System32\at.exe", "calc.exe", "ls -la", "vi a.txt", None]})
    frags = ["system32", "exe"]
    query = iocz.Query.create(keys.client, [iocz.Ioc("substring", f) for f in frags], kernel="lookup")
    manifest = query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    low = cmd["cmdline"].str.to_lowercase()
    truth = int((low.str.contains("system32", literal=True) | low.str.contains("exe", literal=True)).sum())
    choice = _plan(cmd["cmdline"], query.sets[0].set.set_id)
    assert choice.total_pbs is not None and choice.total_pbs > 2 * choice.choice.per_ioc_pbs
    with caplog.at_level("INFO", logger="iocz.plan"):
        skipped = iocz.scan(cmd, query, {"substring": "cmdline"}, bits=64, progress=False, any_total=False)
    assert "rows matching any IOC not counted" in caplog.text and f"~{choice.total_pbs} PBS" in caplog.text
    assert skipped.metadata["uncounted_totals"] == [[0, "cmdline", choice.total_pbs]]
    out = skipped.decrypt(keys.client, manifest=manifest)
    assert out.totals["rows_matching_any"].to_list() == [None]
    assert out.counts.filter(pl.col("ioc") == "exe")["count"].item() == int(low.str.contains("exe", literal=True).sum())
    assert any("not counted" in line for line in text_lines(result_facts(skipped)))
    assert any("not counted" in line for line in text_lines(decrypted_facts(out)))
    counted = iocz.scan(cmd, query, {"substring": "cmdline"}, bits=64, progress=False, any_total=True)
    assert counted.metadata["uncounted_totals"] == []
    assert counted.decrypt(keys.client, manifest=manifest).totals["rows_matching_any"].to_list() == [truth]


def test_an_uncounted_total_of_one_ioc_is_its_count(keys: Keys, tmp_path: Path) -> None:
    """One IOC: the rows matching any IOC are that IOC's rows, so the agency has the total even
    when the company did not count it (the issue's trial: one fragment, real command lines)."""
    cmd = pl.read_parquet(DATA / "cmdline_events.parquet", columns=["cmdline"]).head(12)
    query = iocz.Query.create(keys.client, [iocz.Ioc("substring", "system32")], kernel="lookup")
    manifest = query.save(tmp_path / "q.iocz", manifest_dir=tmp_path / "queries")
    result = iocz.scan(cmd, query, {"cmdline": "cmdline"}, bits=64, progress=False, any_total=False)
    assert result.metadata["uncounted_totals"] != []
    out = result.decrypt(keys.client, manifest=manifest)
    truth = int(cmd["cmdline"].str.to_lowercase().str.contains("system32", literal=True).sum())
    assert out.totals["rows_matching_any"].to_list() == [truth] == out.counts["count"].to_list()
