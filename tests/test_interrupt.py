"""Ctrl-C stops FHE work within moments, in every kernel (a real SIGINT to this process)."""

from __future__ import annotations

import os
import signal
import threading
import time

import iocz
import polars as pl
import pytest
from conftest import Keys


def _interrupt_after(seconds: float) -> float:
    """Send SIGINT to this process after ``seconds``; returns when it will be sent."""
    threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT)).start()
    return time.monotonic() + seconds


@pytest.mark.parametrize("kernel", ["scan", "lookup"])
def test_ctrl_c_stops_a_count_within_moments(keys: Keys, kernel: str) -> None:
    """Hundreds of distinct values (minutes of PBS on 2 cores): Ctrl-C after 1.5 s raises
    KeyboardInterrupt within a few seconds, and the next count runs normally."""
    iocs = [f"{i:064x}" for i in range(1, 4)]
    s = keys.client.encrypt_set(iocs, type="sha256", kernel=kernel, lookup_bits=11)
    values = pl.Series("h", [f"{i:064x}" for i in range(1000, 1600)])
    groups = pl.Series([0] * values.len(), dtype=pl.UInt32)
    sent = _interrupt_after(1.5)
    with pytest.raises(KeyboardInterrupt):
        iocz._iocz.count_grouped(values, groups, 1, s.set_id, 64, kernel=kernel)
    assert time.monotonic() - sent < 5.0, "stopped within a few seconds"
    small = pl.Series("h", [iocs[0], iocs[0], "0" * 64])
    per_ioc, _ = iocz._iocz.count_grouped(small, pl.Series([0, 0, 0], dtype=pl.UInt32), 1, s.set_id, 64, kernel=kernel)[
        0
    ]
    counts = keys.client.decrypt(per_ioc)
    assert isinstance(counts, dict)
    assert counts[iocs[0]] == 2
    assert sum(counts.values()) == 2
