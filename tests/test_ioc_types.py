"""Every IOC type against real logs: encrypted counts equal plaintext Polars on the same rows.

The FHE work is kept small (a handful of IOCs, a dozen distinct values, 64-bit comparisons
where noted); benches/ioc_types.py runs the larger cases.
"""

from __future__ import annotations

import ipaddress

import iocz
import polars as pl
import pytest
from conftest import DATA, Keys


def decrypt_both(keys: Keys, df: pl.DataFrame, member: pl.Expr) -> tuple[int, dict[str, int]]:
    """Decrypted (rows with at least one match, rows per IOC)."""
    got = df.select(member.fhe.count().alias("total"), member.fhe.count_per_ioc().alias("per"))
    return keys.client.decrypt_count(got["total"].item()), keys.client.decrypt_counts(got["per"].item())


# --- domains -------------------------------------------------------------------------------


def suffixes(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


@pytest.fixture(scope="module")
def dns_case() -> tuple[pl.DataFrame, list[str]]:
    """Real DNS rows and real domain IOCs from ioc_network: some IOCs hit exactly, some only
    through subdomains, one never; rows limited to a dozen distinct names."""
    dns = pl.read_parquet(DATA / "dns_events.parquet").select("query")
    names = dns["query"].drop_nulls().unique().sort()
    ioc_domains = (
        pl.scan_parquet(DATA / "ioc_network.parquet")
        .filter(pl.col("ioc_type") == "domain")
        .select(pl.col("value").str.to_lowercase())
        .collect()["value"]
    )
    pairs = (
        pl.DataFrame({"query": names})
        .with_columns(pl.col("query").map_elements(suffixes, return_dtype=pl.List(pl.String)).alias("suffix"))
        .explode("suffix")
    )
    hits = pairs.filter(pl.col("suffix").is_in(ioc_domains.implode()))
    exact = hits.filter(pl.col("query") == pl.col("suffix"))["suffix"].unique().sort().head(2).to_list()
    sub_only = (
        hits.filter(pl.col("query") != pl.col("suffix"), ~pl.col("suffix").is_in(exact))["suffix"]
        .unique()
        .sort()
        .head(2)
        .to_list()
    )
    assert exact and sub_only, "the data has exact and subdomain hits"
    iocs = exact + sub_only + ["never-seen.example"]
    hit_names = hits.filter(pl.col("suffix").is_in(iocs))["query"].unique().sort().head(6)
    others = names.filter(~names.is_in(hits["query"].implode())).head(6)
    rows = dns.filter(pl.col("query").is_in(pl.concat([hit_names, others]).implode()))
    return rows, iocs


def test_domains_exact_and_subdomain_equal_plaintext(keys: Keys, dns_case: tuple[pl.DataFrame, list[str]]) -> None:
    rows, iocs = dns_case
    # Different spellings of the same IOC merge into one canonical slot.
    doms = keys.client.encrypt_set([iocs[0].upper() + "."] + iocs, type="domain")
    assert doms.ioc_type == "domain" and doms.lengths == []
    q = pl.col("query").str.to_lowercase()
    truth_exact = {d: rows.select((q == d).sum()).item() for d in iocs}
    truth_sub = {d: rows.select(((q == d) | q.str.ends_with("." + d)).sum()).item() for d in iocs}
    any_sub = rows.select(pl.any_horizontal([(q == d) | q.str.ends_with("." + d) for d in iocs]).sum()).item()
    assert sum(truth_sub.values()) > any_sub or len(iocs) > 1

    total, per = decrypt_both(keys, rows, pl.col("query").fhe.is_in(doms, bits=64))
    assert per == truth_exact and total == sum(truth_exact.values())
    total, per = decrypt_both(keys, rows, pl.col("query").fhe.is_in(doms, match="subdomain", bits=64))
    assert per == truth_sub and total == any_sub
    assert any(truth_sub[d] > truth_exact[d] for d in iocs), "some IOC is hit only by subdomains"


# --- hashes --------------------------------------------------------------------------------


def test_imphash_equals_plaintext_and_all_zero_is_no_imphash(keys: Keys) -> None:
    events = pl.read_parquet(DATA / "sysmon_hash_events.parquet").select("host", "imphash")
    ioc = (
        pl.read_parquet(DATA / "ioc_hashes.parquet")
        .filter(pl.col("ioc_type") == "imphash")
        .select(pl.col("value").str.to_lowercase())["value"]
    )
    zero = "0" * 32
    hit = events.filter(pl.col("imphash").is_in(ioc.implode()))
    assert hit.height == 75
    picked = hit["imphash"].value_counts(sort=True)["imphash"].head(3).to_list()
    others = events.filter(~pl.col("imphash").is_in(ioc.implode()), pl.col("imphash") != zero)
    rows = pl.concat(
        [
            hit.filter(pl.col("imphash").is_in(picked)),
            events.filter(pl.col("imphash") == zero).head(20),
            others.filter(pl.col("imphash").is_in(others["imphash"].unique().sort().head(5).implode())),
        ]
    )
    iocs = picked + ["ffffffffffffffffffffffffffffffff"]
    enc = keys.client.encrypt_set(iocs, type="imphash")
    total, per = decrypt_both(keys, rows, pl.col("imphash").fhe.is_in(enc))
    assert per == {i: rows.filter(pl.col("imphash") == i).height for i in iocs}
    assert total == rows.filter(pl.col("imphash").is_in(iocs)).height
    with pytest.raises(iocz.InvalidInputError, match="no imphash"):
        keys.client.encrypt_set([zero], type="imphash")


# --- substrings ----------------------------------------------------------------------------


def test_cmdline_substrings_like_any_equal_plaintext(keys: Keys) -> None:
    cmd = pl.read_parquet(DATA / "cmdline_events.parquet").select("cmdline")
    # Short real command lines (bounded FHE work), hits and misses, case-insensitive.
    picked = ['"C:\\windows\\system32\\whoami.exe" /user', '"ipconfig.exe" /all', '"route.exe" print']
    rows = cmd.filter(pl.col("cmdline").is_in(picked))
    assert rows["cmdline"].n_unique() == 3
    frags = ["WHOAMI", "config", "key4.d"]  # one length: 6 characters
    enc = keys.client.encrypt_set(frags, type="substring", case_sensitive=False)
    assert enc.lengths == [6] and not enc.case_sensitive
    low = pl.col("cmdline").str.to_lowercase()
    truth_per = {f.lower(): rows.select(low.str.contains(f.lower(), literal=True).sum()).item() for f in frags}
    truth_any = rows.select(pl.any_horizontal([low.str.contains(f.lower(), literal=True) for f in frags]).sum()).item()
    total, per = decrypt_both(keys, rows, pl.col("cmdline").fhe.is_in(enc, bits=64))
    assert per == truth_per and total == truth_any


# --- IPs -----------------------------------------------------------------------------------


def test_ip_cidrs_including_private_ranges_equal_plaintext(keys: Keys) -> None:
    dns = pl.read_parquet(DATA / "dns_events.parquet").select("src_ip", "dst_ip")
    src = dns["src_ip"].drop_nulls().unique().sort()
    dst = dns["dst_ip"].drop_nulls().unique().sort()
    public = next(a for a in dst if not ipaddress.ip_address(a).is_private)
    cidrs = ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", public]
    nets = keys.client.encrypt_set(cidrs, type="ipv4")
    assert nets.lengths == [8, 12, 16, 32]
    keep = pl.concat([src.head(4), dst.head(4), pl.Series([public])]).unique()
    rows = dns.filter(pl.col("src_ip").is_in(keep.implode()) | pl.col("dst_ip").is_in(keep.implode()))
    networks = [ipaddress.ip_network(c) for c in cidrs]

    def inside(column: str, net: ipaddress.IPv4Network) -> int:
        return sum(1 for a in rows[column] if a is not None and ipaddress.ip_address(a) in net)

    for column in ("src_ip", "dst_ip"):
        total, per = decrypt_both(keys, rows, pl.col(column).fhe.is_in(nets, bits=64))
        assert per == {str(n) if n.prefixlen < 32 else str(n.network_address): inside(column, n) for n in networks}
        assert total == sum(
            1 for a in rows[column] if a is not None and any(ipaddress.ip_address(a) in n for n in networks)
        )


def test_ipv6_and_mapped_addresses(keys: Keys) -> None:
    df = pl.DataFrame({"ip": ["2001:db8::1", "[2001:DB8::2]", "::ffff:10.1.2.3", "fe80::1%eth0", "-", None]})
    nets = keys.client.encrypt_set(["2001:db8::/64", "10.0.0.0/8"], type="ipv6")
    assert nets.lengths == [64, 104]
    total, per = decrypt_both(keys, df, pl.col("ip").fhe.is_in(nets, bits=64))
    assert per == {"2001:db8::/64": 2, "10.0.0.0/8": 1} and total == 3


# --- errors (no FHE work) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iocs", "ioc_type", "message"),
    [
        (["evil..com"], "domain", "IOC 0: invalid domain"),
        (["*.evil.com"], "domain", "wildcards"),
        (["203.0.113.5/24"], "ipv4", "host bits"),
        (["10.0.0.0/33"], "ipv4", "prefix length"),
        (["2001:db8::1"], "ipv4", "not an IPv4"),
        (["999.1.1.1"], "ipv4", "not an IP"),
        (["abc"], "md5", "32 hex digits"),
        ([""], "substring", "empty substring"),
        (["x"], "sha512", "unknown IOC type"),
    ],
)
def test_invalid_iocs_are_refused(keys: Keys, iocs: list[str], ioc_type: str, message: str) -> None:
    with pytest.raises(iocz.InvalidInputError, match=message):
        keys.client.encrypt_set(iocs, type=ioc_type)  # type: ignore[arg-type]


def test_query_time_errors(keys: Keys) -> None:
    md5 = keys.client.encrypt_set(["d41d8cd98f00b204e9800998ecf8427e"], type="md5")
    with pytest.raises(ValueError, match="needs a domain set"):
        pl.col("x").fhe.is_in(md5, match="subdomain")
    df = pl.DataFrame({"h": ["d41d8cd98f00b204e9800998ecf8427e", "zz"]})
    with pytest.raises(pl.exceptions.ComputeError, match='column "h" row 1: expected 32 hex digits'):
        df.select(pl.col("h").fhe.is_in(md5).fhe.count())
    with pytest.raises(pl.exceptions.ComputeError, match="has type i64"):
        pl.DataFrame({"h": [1]}).select(pl.col("h").fhe.is_in(md5).fhe.count())


def test_split_sysmon_hashes() -> None:
    df = pl.DataFrame({"Hashes": ["SHA1=AA" + "0" * 38 + ",MD5=" + "1" * 32 + ",IMPHASH=" + "2" * 32, None]})
    out = df.select(iocz.split_hashes("Hashes").struct.unnest())
    assert out.row(0) == ("aa" + "0" * 38, "1" * 32, None, "2" * 32)
    assert out.row(1) == (None, None, None, None)
