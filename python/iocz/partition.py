"""The FHE work of one partition: encrypted partial counts of its weighted pairs. Runs in the
scanning process or on a Spark executor (it needs only the loaded query set)."""

from __future__ import annotations

from typing import Any

import polars as pl

from iocz import _iocz
from iocz.bundles import QuerySet
from iocz.checkpoint import PartitionCounts
from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT
from iocz.expr import Bits, KernelName


def group_key(value: Any) -> str | None:
    """A group value as the result names it (text; None for null)."""
    return None if value is None else str(value)


def _group_indices(frame: pl.DataFrame) -> tuple[pl.Series, list[str | None]]:
    """Each pair's group index (UInt32) and the group keys in index order."""
    keys = frame.get_column(PAIR_GROUP).unique().sort(nulls_last=True)
    index = pl.DataFrame({PAIR_GROUP: keys, "__i": pl.int_range(0, keys.len(), eager=True, dtype=pl.UInt32)})
    joined = frame.select(PAIR_GROUP).join(index, on=PAIR_GROUP, how="left", nulls_equal=True, maintain_order="left")
    return joined.get_column("__i"), [group_key(k) for k in keys.to_list()]


def count_partition(
    frame: pl.DataFrame,
    qset: QuerySet,
    grouped: bool,
    bits: Bits,
    kernel: KernelName,
    bins: tuple[int, int] | None = None,
    any_total: bool = True,
) -> PartitionCounts:
    """Encrypted (per-IOC, total) partial counts of the pairs ``frame`` (value, [group,] weight),
    per group key (None without groups). Every comparison runs once for all groups (each group
    only weighs them). ``bins``: a lookup partition is a range of lookup bins over all the pairs.
    ``any_total`` False: rows with several candidates get no rows-matching-any total (empty)."""
    values, weights = frame.get_column(PAIR_VALUE), frame.get_column(PAIR_WEIGHT)
    # Ungrouped = one group: one path for every kernel, stoppable by Ctrl-C in the Rust core.
    if grouped:
        groups, keys = _group_indices(frame)
    else:
        groups, keys = pl.zeros(frame.height, dtype=pl.UInt32, eager=True), [None]
    counts = _iocz.count_grouped(
        values, groups, len(keys), qset.set.set_id, bits, 0, qset.match, kernel, weights, bins, any_total=any_total
    )
    return dict(zip(keys, counts, strict=True))
