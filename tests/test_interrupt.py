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


def _interrupt_after(seconds: float) -> tuple[threading.Timer, float]:
    """Send SIGINT to this process after ``seconds``; returns the timer (cancel it once the
    work is over, so a late signal never lands in pytest itself) and when it will be sent."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer, time.monotonic() + seconds


def _plan(values: pl.Series, set_id: str, kernel: str) -> iocz._iocz.ColumnPlan:
    """One partition holding every row of ``values`` (one group)."""
    ones = pl.Series([1] * values.len(), dtype=pl.UInt64)
    zeros = ones.cast(pl.UInt32) * 0
    return iocz._iocz.ColumnPlan(values, zeros, 1, ones, set_id, 64, kernel=kernel, partition_size=2**20)


# IOCs per kernel for a count of many seconds on 600 distinct values: the scan kernel's cost
# grows with values x IOCs (3 IOCs: minutes), the lookup kernel's with the IOCs (24: ~10 s here,
# where 3 took 1.4 s and finished before the signal).
IOCS_PER_KERNEL = {"scan": 3, "lookup": 24}


@pytest.mark.parametrize("kernel", ["scan", "lookup"])
def test_ctrl_c_stops_a_count_within_moments(keys: Keys, kernel: str) -> None:
    """A count of many seconds: Ctrl-C after 1 s raises KeyboardInterrupt within a few seconds,
    and the next count runs normally."""
    iocs = [f"{i:064x}" for i in range(1, 1 + IOCS_PER_KERNEL[kernel])]
    s = keys.client.encrypt_set(iocs, type="sha256", kernel=kernel, lookup_bits=11)
    values = pl.Series("h", [f"{i:064x}" for i in range(1000, 1600)])
    plan = _plan(values, s.set_id, kernel)
    timer, sent = _interrupt_after(1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            plan.count(0)
    finally:
        timer.cancel()
    assert time.monotonic() - sent < 5.0, "stopped within a few seconds"
    small = pl.Series("h", [iocs[0], iocs[0], "0" * 64])
    [group] = _plan(small, s.set_id, kernel).count(0)
    counts = keys.client.decrypt_counts(group.per_ioc)
    assert counts[iocs[0]] == 2
    assert sum(counts.values()) == 2
