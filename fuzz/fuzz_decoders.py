"""Atheris fuzz harness for every decoder of outside input: bundles, sets, keys, ciphertexts,
IOC files (STIX, MISP, CSV, lists) and IOC canonicalisation.

The first input byte picks the target. A decoder may only raise ``ValueError`` (iocz's errors
derive from it); any other exception, a panic (surfacing as ``RuntimeError``) or a crash is a
finding. Short run (CI): ``python fuzz/fuzz_decoders.py -runs=3000 fuzz/corpus``; longer:
``-max_total_time=600``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    import iocz
    from iocz import _iocz
    from iocz.iocs import read_csv, read_list, read_misp, read_stix

KEY = iocz.ClientKey.generate()
TYPES = _iocz.IOC_TYPES  # every type the Rust core knows, in wire order
# The typed decryption of each ciphertext kind; any other kind goes to decrypt_value (refused).
DECRYPT: dict[str, Callable[[iocz.EncryptedValue], object]] = {
    "match": KEY.decrypt_match,
    "count": KEY.decrypt_count,
    "counts": KEY.decrypt_counts,
    "gated-counts": KEY.decrypt_counts,
    "released": KEY.decrypt_released,
}


def _json(text: str) -> object:
    return json.loads(text)  # json.JSONDecodeError is a ValueError


def _target(selector: int, data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    match selector % 10:
        case 0:
            _iocz.decode_bundle(data, ("query", "result", "checkpoint")[len(data) % 3])
        case 1:
            iocz.EncryptedSet.from_bytes(data)
        case 2:
            value = iocz.EncryptedValue.from_bytes(data)
            if value.kind == "released":
                value.released_info()  # parsed and checked whatever the key
            DECRYPT.get(value.kind, KEY.decrypt_value)(value)
        case 3:
            iocz.ServerKey.from_bytes(data)
        case 4:
            iocz.PublicKey.from_bytes(data)
        case 5:
            read_stix(_json(text), "fuzz")
        case 6:
            read_misp(_json(text), "fuzz")
        case 7:
            read_csv(text, "fuzz")
        case 8:
            read_list(text, "fuzz")
        case _:
            _iocz.canonical_iocs([text], TYPES[len(data) % len(TYPES)])


def test_one_input(raw: bytes) -> None:
    if not raw:
        return
    try:
        _target(raw[0], raw[1:])
    except ValueError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
