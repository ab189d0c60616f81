"""Scan progress: a bar with ETA on terminals and in Jupyter (``tqdm.auto``), silent otherwise."""

from __future__ import annotations

import time

from tqdm.auto import tqdm


class Progress:
    """Partitions done / planned with ETA, plus rows done and bootstraps (PBS) spent."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: tqdm | None = None
        self.rows = 0
        self.rows_planned = 0
        self.pbs = 0
        self.resumed = 0
        self.started = time.monotonic()

    def start(self, *, partitions: int, rows: int) -> None:
        """Begin a scan of ``partitions`` partitions holding ``rows`` rows (all jobs)."""
        self.rows_planned = rows
        if self.enabled:
            self._bar = tqdm(total=partitions, unit="part", desc="iocz scan", dynamic_ncols=True)

    def advance(self, *, rows: int, pbs: int, resumed: bool) -> None:
        """One partition finished (or found in the checkpoint)."""
        self.rows += rows
        self.pbs += pbs
        self.resumed += int(resumed)
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"rows {self.rows:,}/{self.rows_planned:,}, {self.pbs:,} PBS"
                + (f", {self.resumed} resumed" if self.resumed else ""),
                refresh=False,
            )
            self._bar.update(1)

    def close(self) -> None:
        """End the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
