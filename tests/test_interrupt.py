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


def _plan(values: pl.Series, set_id: str, kernel: str) -> iocz._iocz.ColumnPlan:
    """One partition holding every row of ``values`` (one group)."""
    ones = pl.Series([1] * values.len(), dtype=pl.UInt64)
    zeros = ones.cast(pl.UInt32) * 0
    return iocz._iocz.ColumnPlan(values, zeros, 1, ones, set_id, 64, kernel=kernel, partition_size=2**20)


@pytest.mark.parametrize("kernel", ["scan", "lookup"])
def test_ctrl_c_stops_a_count_within_moments(keys: Keys, kernel: str) -> None:
    """Hundreds of distinct values (minutes of PBS on 2 cores): Ctrl-C after 1.5 s raises
    KeyboardInterrupt within a few seconds, and the next count runs normally."""
    iocs = [f"{i:064x}" for i in range(1, 4)]
    s = keys.client.encrypt_set(iocs, type="sha256", kernel=kernel, lookup_bits=11)
    values = pl.Series("h", [f"{i:064x}" for i in range(1000, 1600)])
    plan = _plan(values, s.set_id, kernel)
    sent = _interrupt_after(1.5)
    with pytest.raises(KeyboardInterrupt):
        plan.count(0)
    assert time.monotonic() - sent < 5.0, "stopped within a few seconds"
    small = pl.Series("h", [iocs[0], iocs[0], "0" * 64])
    [group] = _plan(small, s.set_id, kernel).count(0)
    counts = keys.client.decrypt_counts(group.per_ioc)
    assert counts[iocs[0]] == 2
    assert sum(counts.values()) == 2
