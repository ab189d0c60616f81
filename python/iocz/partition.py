"""A job's plan (:class:`iocz._iocz.ColumnPlan`, built once from its pairs) and the FHE work
of one partition: encrypted partial counts per group key. Runs in the scanning process or on
a Spark executor (which plans its own partition's pairs; it needs only the loaded query set)."""

from __future__ import annotations

from typing import Any

import polars as pl

from iocz import _iocz
from iocz.bundles import QuerySet
from iocz.checkpoint import PartitionCounts
from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT
from iocz.expr import Bits, KernelName

#: A plan's partition size that keeps all of a frame's values in one partition.
WHOLE = 2**62


def group_key(value: Any) -> str | None:
    """A group value as the result names it (text; None for null)."""
    return None if value is None else str(value)


def group_indices(frame: pl.DataFrame, grouped: bool) -> tuple[pl.Series, list[str | None]]:
    """Each pair's group index (UInt32) and the group keys in index order (ungrouped: one
    group, key None)."""
    if not grouped:
        return pl.zeros(frame.height, dtype=pl.UInt32, eager=True), [None]
    keys = frame.get_column(PAIR_GROUP).unique().sort(nulls_last=True)
    index = pl.DataFrame({PAIR_GROUP: keys, "__i": pl.int_range(0, keys.len(), eager=True, dtype=pl.UInt32)})
    joined = frame.select(PAIR_GROUP).join(index, on=PAIR_GROUP, how="left", nulls_equal=True, maintain_order="left")
    return joined.get_column("__i"), [group_key(k) for k in keys.to_list()]


def plan_pairs(
    frame: pl.DataFrame,
    qset: QuerySet,
    grouped: bool,
    bits: Bits,
    kernel: KernelName,
    *,
    any_total: bool | None,
    partition_size: int,
    count_bits: int,
) -> tuple[_iocz.ColumnPlan, list[str | None]]:
    """The plan of the pairs ``frame`` (value, [group,] weight) against ``qset``, and the group
    keys its group indices stand for."""
    groups, keys = group_indices(frame, grouped)
    plan = _iocz.ColumnPlan(
        frame.get_column(PAIR_VALUE),
        groups,
        len(keys),
        frame.get_column(PAIR_WEIGHT),
        qset.set.set_id,
        bits,
        qset.match,
        kernel,
        any_total,
        partition_size,
        count_bits,
        _iocz.LOOKUP_BINS_PER_PARTITION,
    )
    return plan, keys


def count_planned(plan: _iocz.ColumnPlan, part: int, keys: list[str | None]) -> PartitionCounts:
    """Encrypted (per-IOC, total) partial counts of a plan's partition, per group key."""
    return {keys[c.group]: (c.per_ioc, c.total) for c in plan.count(part)}


def count_partition(
    frame: pl.DataFrame,
    qset: QuerySet,
    grouped: bool,
    bits: Bits,
    kernel: KernelName,
    bins: tuple[int, int] | None = None,
    any_total: bool = True,
) -> PartitionCounts:
    """Encrypted (per-IOC, total) partial counts of one partition's pairs ``frame``, per group
    key, on the kernel the scan's plan chose (a Spark executor's work). ``bins``: a lookup
    partition is a range of lookup bins over all the pairs. ``any_total`` False: rows with
    several candidates get no rows-matching-any total (empty)."""
    plan, keys = plan_pairs(
        frame, qset, grouped, bits, kernel, any_total=any_total, partition_size=WHOLE, count_bits=32
    )
    part = next((p.index for p in plan.partitions if p.bins == bins), None)
    if part is None:
        raise ValueError(f"bins {bins} are not a partition of this {kernel} plan")
    return count_planned(plan, part, keys)
