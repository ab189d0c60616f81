"""Hostile inputs: one case per kind of bad input, each expecting a clear iocz/Python exception
(never a panic, hang or silent wrong count) within a time bound and with bounded memory.
Plus: panics inside plugins and bindings become errors, and two keys scan in parallel."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import iocz
import polars as pl
import pytest
from conftest import SEED_IOC, Keys
from iocz.expr import _plugin

SHA = "ab" * 32
#: Every case must fail within this many seconds and grow the peak RSS by at most this much.
TIME_BOUND_S = 20
MEMORY_BOUND_MB = 512


def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0x40
    return bytes(b)


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as f:
        f.truncate(size)
    path.chmod(0o600)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _query_bytes(keys: Keys, tmp: Path) -> bytes:
    q = iocz.Query.create(keys.client, [iocz.Ioc("sha256", SHA)], server_key=keys.server)
    q.save(tmp / "good.iocz", manifest_dir=tmp / "queries")
    return (tmp / "good.iocz").read_bytes()


def _count_bytes(keys: Keys) -> bytes:
    df = pl.DataFrame({"h": [SHA]})
    return df.select(pl.col("h").fhe.eq(keys.client.encrypt(SHA), bits=64).fhe.count()).item()


def _released_header(keys: Keys) -> bytes:
    return f"iocz1 released {keys.client.fingerprint}\n".encode()


Case = Callable[[Keys, Keys, Path], object]

CASES: dict[str, tuple[Case, type[BaseException], str]] = {
    # --- key files -------------------------------------------------------------------------
    "client key truncated": (
        lambda k, o, t: iocz.ClientKey.load(_write(t / "c", _client(k, t)[:500])),
        iocz.FormatError,
        "corrupted",
    ),
    "client key header bit-flipped": (
        lambda k, o, t: iocz.ClientKey.load(_write(t / "c", _flip(_client(k, t), 2))),
        iocz.FormatError,
        "not an iocz object",
    ),
    "client key wrong version": (
        lambda k, o, t: iocz.ClientKey.load(_write(t / "c", _client(k, t).replace(b"iocz1", b"iocz9", 1))),
        iocz.FormatError,
        "unsupported version",
    ),
    "client key oversized": (
        lambda k, o, t: iocz.ClientKey.load(_sparse(t / "c", (256 << 20) + 4096)),
        iocz.FormatError,
        "limit",
    ),
    "client key is a public key": (
        lambda k, o, t: iocz.ClientKey.load(_write(t / "c", k.public.to_bytes())),
        iocz.FormatError,
        "expected a client key",
    ),
    "client key group-readable": (
        lambda k, o, t: iocz.ClientKey.load(_loose(k, t)),
        iocz.InvalidInputError,
        "chmod 600",
    ),
    "server key truncated": (
        lambda k, o, t: iocz.ServerKey.from_bytes(k.server.to_bytes()[:4096]),
        iocz.FormatError,
        "corrupted",
    ),
    "server key oversized": (
        lambda k, o, t: iocz.ServerKey.load(_sparse(t / "s", (1 << 30) + 4096)),
        iocz.FormatError,
        "limit",
    ),
    "server key is a client key": (
        lambda k, o, t: iocz.ServerKey.from_bytes(_client(k, t)),
        iocz.FormatError,
        "expected a server key",
    ),
    "public key bit-flipped header": (
        lambda k, o, t: iocz.PublicKey.from_bytes(_flip(k.public.to_bytes(), 6)),
        iocz.FormatError,
        "",
    ),
    "public key empty": (lambda k, o, t: iocz.PublicKey.from_bytes(b""), iocz.FormatError, "not an iocz object"),
    # --- ciphertexts ----------------------------------------------------------------------
    "value truncated": (
        lambda k, o, t: k.client.decrypt_value(k.client.encrypt(SHA).to_bytes()[:300]),
        iocz.FormatError,
        "corrupted",
    ),
    "value from another key": (
        lambda k, o, t: k.client.decrypt_value(o.client.encrypt(SHA)),
        iocz.WrongKeyError,
        "key",
    ),
    "count from another key": (
        lambda k, o, t: o.client.decrypt_count(_count_bytes(k)),
        iocz.WrongKeyError,
        "key",
    ),
    "ciphertext is a key": (
        lambda k, o, t: iocz.EncryptedValue.from_bytes(k.public.to_bytes()),
        iocz.FormatError,
        "expected a ciphertext",
    ),
    "ciphertext garbage": (
        lambda k, o, t: k.client.decrypt_count(b"\x00\xff" * 500),
        iocz.FormatError,
        "not an iocz object",
    ),
    "counts added across keys": (
        lambda k, o, t: iocz._iocz.add_counts([_count_bytes(k), _count_bytes(o)]),
        iocz.WrongKeyError,
        "key",
    ),
    "released counts garbage": (
        lambda k, o, t: iocz.EncryptedValue.from_bytes(_released_header(k) + b"\x00\x01" * 300).released_info(),
        iocz.FormatError,
        "corrupted",
    ),
    "released counts decrypted garbage": (
        lambda k, o, t: k.client.decrypt_released(_released_header(k) + b"\xff" * 5000),
        iocz.FormatError,
        "released",
    ),
    "released counts from another key": (
        lambda k, o, t: k.client.decrypt_released(_released_header(o) + b"\x00" * 64),
        iocz.WrongKeyError,
        "key",
    ),
    "released counts are not a count": (
        lambda k, o, t: iocz._iocz.add_counts([_released_header(k) + b"\x00" * 64]),
        iocz.InvalidInputError,
        "only encrypted counts",
    ),
    "set truncated": (
        lambda k, o, t: iocz.EncryptedSet.from_bytes(k.client.encrypt_set([SHA]).to_bytes()[:-7]),
        iocz.FormatError,
        "",
    ),
    # --- bundles ----------------------------------------------------------------------------
    "query bundle truncated": (
        lambda k, o, t: iocz.Query.load(_write(t / "q", _query_bytes(k, t)[:-100])),
        iocz.FormatError,
        "checksum|truncated",
    ),
    "query bundle bit-flipped": (
        lambda k, o, t: iocz.Query.load(_write(t / "q", _flip(_query_bytes(k, t), 5000))),
        iocz.FormatError,
        "checksum",
    ),
    "query bundle newer version": (
        lambda k, o, t: iocz.Query.load(_write(t / "q", _version(_query_bytes(k, t)))),
        iocz.FormatError,
        "version 7",
    ),
    "query bundle oversized": (
        lambda k, o, t: iocz.Query.load(_sparse(t / "q", (3 << 30) + 4096)),
        iocz.FormatError,
        "limit",
    ),
    "query bundle is a result": (
        lambda k, o, t: iocz.Result.load(_write(t / "q", _query_bytes(k, t))),
        iocz.FormatError,
        "expected a result",
    ),
    "query with zero IOCs": (lambda k, o, t: iocz.Query.create(k.client, []), ValueError, "at least one IOC"),
    "bundle metadata not JSON object": (
        lambda k, o, t: iocz._iocz.encode_bundle("query", "[]", []),
        iocz.InvalidInputError,
        "JSON object",
    ),
    "bundle section name hostile": (
        lambda k, o, t: iocz._iocz.encode_bundle("query", "{}", [("../../etc/passwd", b"")]),
        iocz.InvalidInputError,
        "section name",
    ),
    "result with missing sections": (
        lambda k, o, t: iocz.Result.load(_write(t / "r", _empty_result())),
        iocz.FormatError,
        "sections",
    ),
    # --- IOC values ---------------------------------------------------------------------------
    "sha256 not hex": (lambda k, o, t: k.client.encrypt_set(["zz" * 32]), iocz.InvalidInputError, "IOC 0"),
    "sha256 too short": (lambda k, o, t: k.client.encrypt_set([SHA[:-2]]), iocz.InvalidInputError, "IOC 0"),
    "md5 with sha256 length": (lambda k, o, t: k.client.encrypt_set([SHA], "md5"), iocz.InvalidInputError, ""),
    "domain with space": (lambda k, o, t: k.client.encrypt_set(["evil .com"], "domain"), iocz.InvalidInputError, ""),
    "domain too long": (
        lambda k, o, t: k.client.encrypt_set([("a" * 60 + ".") * 5 + "com"], "domain"),
        iocz.InvalidInputError,
        "",
    ),
    "domain wildcard": (lambda k, o, t: k.client.encrypt_set(["*.evil.com"], "domain"), iocz.InvalidInputError, ""),
    "ipv4 out of range": (lambda k, o, t: k.client.encrypt_set(["10.0.0.256"], "ipv4"), iocz.InvalidInputError, ""),
    "cidr with host bits": (lambda k, o, t: k.client.encrypt_set(["10.0.0.1/8"], "ipv4"), iocz.InvalidInputError, ""),
    "cidr prefix too long": (lambda k, o, t: k.client.encrypt_set(["10.0.0.0/33"], "ipv4"), iocz.InvalidInputError, ""),
    "ipv6 in ipv4 set": (lambda k, o, t: k.client.encrypt_set(["2001:db8::1"], "ipv4"), iocz.InvalidInputError, ""),
    "huge substring IOC": (lambda k, o, t: k.client.encrypt_set(["x" * 5000], "substring"), iocz.InvalidInputError, ""),
    "non-UTF-8 bytes as a domain": (
        lambda k, o, t: k.client.encrypt_set([b"\xff\xfe"], "domain"),
        iocz.InvalidInputError,
        "",
    ),
    "non-UTF-8 IOC file": (
        lambda k, o, t: iocz.load_iocs([_write(t / "i.txt", b"\xff\xfe\xfa")]),
        ValueError,
        "not UTF-8",
    ),
    "more slots than allowed": (
        lambda k, o, t: k.client.encrypt_set([SHA], pad_to=10_000_000),
        iocz.InvalidInputError,
        "",
    ),
    "null IOC": (lambda k, o, t: k.client.encrypt_set([None]), iocz.InvalidInputError, "must be a str"),  # type: ignore[list-item]
    "unknown IOC type": (
        lambda k, o, t: k.client.encrypt_set([SHA], "sha512"),
        iocz.InvalidInputError,
        "unknown IOC type",
    ),
    # --- log columns --------------------------------------------------------------------------
    # A column with no value of the set's type is refused before any FHE work (iocz.quality).
    "malformed hash in logs": (
        lambda k, o, t: _scan(k, {"h": ["nothex"]}),
        ValueError,
        r"column h \(sha256 set\): 0 of 1 values are sha256 values",
    ),
    "malformed hash in logs, strict": (
        lambda k, o, t: _scan(k, {"h": [SHA, "nothex", "-"]}, strict=True),
        ValueError,
        r"column 'h': 2 rows \(2 distinct\) are not sha256 values \(not of the type, e\.g\. '-'\)",
    ),
    "huge string in logs": (
        lambda k, o, t: _scan(k, {"h": ["x" * 40_000]}, "substring", ["abc"]),
        iocz.InvalidInputError,
        "row 0",
    ),
    "unknown log column": (lambda k, o, t: _scan(k, {"x": [SHA]}), ValueError, "not found"),
    "integer log column": (lambda k, o, t: _scan(k, {"h": [1, 2]}), ValueError, "0 of 2 values are sha256"),
    "integer log column, forced": (
        lambda k, o, t: _scan(k, {"h": [1, 2]}, force=True),
        iocz.InvalidInputError,
        "expected String or Binary",
    ),
    "lookup part truncated": (
        lambda k, o, t: iocz.EncryptedSet.from_bytes(_lookup_set(k)[:-100]),
        iocz.FormatError,
        "",
    ),
    "lookup part bigger than its prefix": (
        lambda k, o, t: iocz.EncryptedSet.from_bytes(_lookup_set(k) + b"\x00" * 8),
        iocz.FormatError,
        "",
    ),
    "lookup kernel forced on a set without a lookup part": (
        lambda k, o, t: pl.DataFrame({"h": [SHA]}).select(
            pl.col("h").fhe.count_per_ioc(k.client.encrypt_set([SHA], kernel="scan"), bits=64, kernel="lookup")
        ),
        pl.exceptions.ComputeError,
        "no lookup part",
    ),
    "unknown kernel": (lambda k, o, t: k.client.encrypt_set([SHA], kernel="fast"), iocz.InvalidInputError, "kernel"),
    "lookup bits out of range": (
        lambda k, o, t: k.client.encrypt_set([SHA], lookup_bits=30),
        iocz.InvalidInputError,
        "lookup size",
    ),
}

_LOOKUP_SET: list[bytes] = []


def _lookup_set(keys: Keys) -> bytes:
    """A one-IOC set with a small lookup part (11 position bits), made once."""
    if not _LOOKUP_SET:
        _LOOKUP_SET.append(keys.client.encrypt_set([SHA], kernel="lookup", lookup_bits=11).to_bytes())
    return _LOOKUP_SET[0]


def _client(keys: Keys, tmp: Path) -> bytes:
    path = tmp / "client-src.key"
    if not path.exists():
        keys.client.save(path)
    return path.read_bytes()


def _loose(keys: Keys, tmp: Path) -> Path:
    path = _write(tmp / "loose.key", _client(keys, tmp))
    path.chmod(0o640)
    return path


def _version(data: bytes) -> bytes:
    return data[:12] + b"\x07" + data[13:]


def _empty_result() -> bytes:
    meta = '{"format": "result", "meta_version": 2, "query": "q", "key": "k", "entries": [{"set": 0, "column": "c"}]}'
    return iocz._iocz.encode_bundle("result", meta, []).data


def _scan(
    keys: Keys,
    data: dict[str, list[object]],
    ioc_type: str = "sha256",
    iocs: list[str] | None = None,
    **options: bool,
) -> object:
    query = iocz.Query.create(keys.client, [iocz.Ioc(ioc_type, v) for v in iocs or [SHA]], server_key=keys.server)
    return iocz.scan(pl.DataFrame(data), query, {ioc_type: "h"}, bits=64, progress=False, **options)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(name: str, keys: Keys, other_keys: Keys, tmp_path: Path) -> None:
    case, exception, pattern = CASES[name]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(exception, match=pattern or None) as info:
        case(keys, other_keys, tmp_path)
    assert time.monotonic() - started < TIME_BOUND_S, name
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < MEMORY_BOUND_MB, (name, grown_mb)
    message = str(info.value)
    assert message and "panicked" not in message and "Traceback" not in message
    assert "\n" not in message.strip() or isinstance(info.value, pl.exceptions.PolarsError)


def test_case_count() -> None:
    assert len(CASES) >= 40


def test_panic_in_a_plugin_becomes_a_polars_error() -> None:
    expr = _plugin("fhe_force_panic", [pl.col("a")])
    with pytest.raises(pl.exceptions.ComputeError, match="internal error: forced panic"):
        pl.DataFrame({"a": [1]}).select(expr)


def test_panic_in_a_binding_becomes_an_exception() -> None:
    with pytest.raises(RuntimeError, match="internal error"):
        iocz._iocz._force_panic()


def test_empty_frame_counts_zero(keys: Keys) -> None:
    result = _scan(keys, {"h": pl.Series([], dtype=pl.String)})
    released = keys.client.decrypt_released(result.counts[0].released)  # type: ignore[attr-defined]
    assert (released.total, released.bits) == (0, 32)


def test_two_keys_scan_in_parallel_threads(keys: Keys, other_keys: Keys) -> None:
    frame = pl.DataFrame({"h": [SEED_IOC, SHA, SHA, None, SEED_IOC, SEED_IOC]})

    def run(k: Keys) -> tuple[Keys, object]:
        query = iocz.Query.create(
            k.client, [iocz.Ioc("sha256", SEED_IOC), iocz.Ioc("sha256", SHA)], server_key=k.server
        )
        return k, iocz.scan(frame.lazy(), query, {"sha256": "h"}, bits=64, progress=False)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, [keys, other_keys]))
    for k, result in results:
        entry = result.counts[0]  # type: ignore[attr-defined]
        assert k.client.decrypt_released(entry.released).total == 5
        with pytest.raises(iocz.WrongKeyError):
            (other_keys if k is keys else keys).client.decrypt_released(entry.released)


def test_client_key_never_shows_secret_material(keys: Keys, tmp_path: Path) -> None:
    text = repr(keys.client) + str(keys.client)
    assert "secret" in text and len(text) < 120
    keys.client.save(tmp_path / "k")
    secret = (tmp_path / "k").read_bytes()
    try:
        iocz.ServerKey.from_bytes(secret)
    except iocz.FormatError as e:
        assert len(str(e)) < 200 and secret[40:72].hex() not in str(e)
