"""Scan progress: a bar with ETA on terminals and in Jupyter (``tqdm.auto``), silent otherwise.

The ETA comes from the planned bootstraps (PBS) of the remaining work, divided by the measured
rate once some work has been done; before that by an assumed rate (:data:`ASSUMED_PBS_SECONDS`
per PBS per core), so it shows from the start. While a partition runs in this process, the bar
reads the live PBS count every :data:`TICK_SECONDS` (the work releases the GIL), so it moves
during long partitions too. One ETA: tqdm's own estimate (by partitions) is not shown.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from tqdm.auto import tqdm

#: Seconds per planned PBS per core assumed before the first partition is done: tfhe-rs 1.7,
#: pinned KS32 parameters, with the scan's other work (weighted sums, re-randomisation,
#: compression, the lookup's external products) carried by its PBS. Measured 15–20 ms of wall
#: time per counted PBS on 2 cores (benches/plan_accuracy.py), so 30 ms per core.
ASSUMED_PBS_SECONDS = 0.030
#: Seconds between live updates of the bar while a partition runs.
TICK_SECONDS = 2.0
#: The bar without tqdm's partition-based remaining time (the postfix has the ETA).
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} part [{elapsed}, {postfix}]"


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class Progress:
    """Partitions done / planned with ETA, plus rows done and bootstraps (PBS) spent."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: tqdm | None = None
        self.rows = 0
        self.rows_planned = 0
        self.pbs = 0
        self.pbs_planned = 0
        self.planned_done = 0  # planned PBS of the partitions finished or resumed
        self.resumed = 0
        self.release_pbs = 0  # PBS of the last step: adding and releasing the counts
        self.started = time.monotonic()
        self.work_seconds = 0.0  # time spent computing (not resuming) partitions
        self._last = self.started
        self._live: Callable[[], int] | None = None  # PBS of the partition running here
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self, *, partitions: int, rows: int, pbs: int = 0) -> None:
        """Begin a scan of ``partitions`` partitions holding ``rows`` rows and an expected ``pbs``
        bootstraps (all jobs)."""
        self.rows_planned = rows
        self.pbs_planned = pbs
        self._last = time.monotonic()
        if self.enabled:
            self._bar = tqdm(total=partitions, unit="part", desc="iocz scan", dynamic_ncols=True, bar_format=BAR_FORMAT)
            self._bar.set_postfix_str(self.postfix(), refresh=True)
            self._ticker = threading.Thread(target=self._tick, name="iocz-progress", daemon=True)
            self._ticker.start()

    def watch(self, live: Callable[[], int] | None) -> None:
        """While a partition runs in this process, ``live()`` gives its PBS so far (None: none runs)."""
        self._live = live

    def _running(self) -> int:
        live = self._live
        try:
            return live() if live is not None else 0
        except Exception:  # the counter is a diagnostic: never let it break a scan
            return 0

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            bar = self._bar
            if bar is not None and self._live is not None:
                bar.set_postfix_str(self.postfix(), refresh=True)

    def eta_seconds(self) -> float | None:
        """Seconds left by the planned work (None when nothing was planned)."""
        if not self.pbs_planned:
            return None
        running = self._running()
        left = max(0, self.pbs_planned - self.planned_done - running)
        done = self.pbs + running
        seconds = self.work_seconds + (time.monotonic() - self._last if running else 0.0)
        if done and seconds > 0:
            return left * seconds / done
        return left * ASSUMED_PBS_SECONDS / (os.cpu_count() or 1)

    def postfix(self) -> str:
        """The text after the bar: rows, PBS, resumed partitions and the ETA."""
        eta = self.eta_seconds()
        text = f"rows {self.rows:,}/{self.rows_planned:,}, {self.pbs + self._running():,} PBS"
        if self.pbs_planned:
            text += f" of ~{self.pbs_planned:,}"
        if self.resumed:
            text += f", {self.resumed} resumed"
        if eta is not None:
            text += f", ETA {'~' if not self.pbs + self._running() else ''}{_clock(eta)}"
        return text

    def advance(self, *, rows: int, pbs: int, resumed: bool, planned: int = 0) -> None:
        """One partition finished (or found in the checkpoint); ``planned``: its expected PBS."""
        now = time.monotonic()
        if not resumed:
            self.work_seconds += now - self._last
        self._last = now
        self.rows += rows
        self.pbs += pbs
        self.planned_done += planned
        self.resumed += int(resumed)
        if self._bar is not None:
            self._bar.set_postfix_str(self.postfix(), refresh=False)
            self._bar.update(1)

    def released(self, *, pbs: int, planned: int) -> None:
        """The last step (adding the partitions' counts and releasing them) is done."""
        self.release_pbs = pbs
        self.advance(rows=0, pbs=pbs, resumed=False, planned=planned)

    def close(self) -> None:
        """End the bar."""
        self._stop.set()
        self._live = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
