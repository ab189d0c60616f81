"""Property tests (hypothesis, bounded example counts): canonicalisation is idempotent and
case/format-insensitive where documented; encrypted counts equal plaintext Polars counts on
random small frames and IOC sets."""

from __future__ import annotations

import ipaddress

import iocz
import polars as pl
from conftest import Keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

canonical = iocz._iocz.canonical_iocs
CHEAP = settings(max_examples=150, deadline=None)
# Each FHE example builds a set and compares a few values: keep them few.
FHE = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
domains = st.lists(labels, min_size=2, max_size=4).map(".".join)


def _one(value: str, ioc_type: str, case_sensitive: bool = False) -> str:
    [c] = canonical([value], ioc_type, case_sensitive)
    assert c.error is None, c.error
    assert c.text is not None
    return c.text


@CHEAP
@given(st.binary(min_size=32, max_size=32), st.booleans(), st.sampled_from(["", " ", "\t"]))
def test_hash_canonical_is_lower_hex(raw: bytes, upper: bool, pad: str) -> None:
    hexed = raw.hex().upper() if upper else raw.hex()
    text = _one(pad + hexed + pad, "sha256")
    assert text == raw.hex() and _one(text, "sha256") == text


@CHEAP
@given(domains, st.booleans(), st.booleans())
def test_domain_canonical_ignores_case_and_trailing_dot(name: str, upper: bool, dot: bool) -> None:
    given_form = (name.upper() if upper else name) + ("." if dot else "")
    text = _one(given_form, "domain")
    assert text == name and _one(text, "domain") == text


@CHEAP
@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_ipv4_cidr_canonical_round_trip(address: int, prefix: int) -> None:
    net = ipaddress.ip_network((address, prefix), strict=False)
    text = _one(str(net) if prefix < 32 else str(net.network_address), "ipv4")
    assert _one(text, "ipv4") == text
    assert ipaddress.ip_network(text, strict=False) == net


@CHEAP
@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s))
def test_substring_canonical_is_idempotent(fragment: str) -> None:
    [c] = canonical([fragment], "substring")
    if c.error is None:
        assert c.text is not None and _one(c.text, "substring") == c.text


POOL = ["%064x" % (i * 0x9E3779B97F4A7C15) for i in range(1, 7)]


@FHE
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(POOL)), min_size=0, max_size=12),
    st.lists(st.sampled_from(POOL + ["ee" * 32]), min_size=1, max_size=3, unique=True),
)
def test_encrypted_counts_equal_plaintext(keys: Keys, column: list[str | None], iocs: list[str]) -> None:
    frame = pl.DataFrame({"h": pl.Series(column, dtype=pl.String)})
    enc = keys.client.encrypt_set(iocs)
    member = pl.col("h").fhe.is_in(enc, bits=64)
    per_ioc, total = frame.select(member.fhe.count_per_ioc().alias("per_ioc"), member.fhe.count().alias("total")).row(0)
    counts = keys.client.decrypt_counts(per_ioc)
    for ioc in iocs:
        assert counts[ioc] == column.count(ioc)
    assert keys.client.decrypt_count(total) == sum(v in iocs for v in column)
